"""Build and push a pipeline's image, unless the registry already has its content-hash tag.

The tag is a content hash of the image's inputs (:mod:`tasks.core.build_tag`). When the registry has
``repository:tag``, nothing is built: a code-only change needs no docker at all (the engine's client is
created only when a build follows, so a down engine does not fail a reuse). Otherwise the image is
built with the docker SDK's low-level API (its log streamed to the task log line by line), labelled
with the git SHA and the content hash, and pushed with the credentials passed in. Tags are never
overwritten: the registry is asked again right before the push, and a tag that appeared meanwhile
(another run built the same inputs) is used as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeAlias

import docker

from tasks.core.build_stream import BuilderUnavailable, BuildFailed, run_build, run_push
from tasks.core.build_tag import ImageInputs, image_inputs
from tasks.core.config import PipelineConfig
from tasks.core.config_models import DockerfileImage
from tasks.core.errors import PermanentError
from tasks.core.records import ImageRef
from tasks.core.registry import ManifestReader
from tasks.core.versions import validate_git_sha
from tasks.core.vocabulary import Event

__all__ = [
    "LABEL_CONTENT_HASH",
    "LABEL_REVISION",
    "BuildFailed",
    "BuilderUnavailable",
    "DockerSource",
    "build_image",
    "build_images",
]

logger = logging.getLogger(__name__)

#: OCI annotation key for the commit an image was built from.
LABEL_REVISION = "org.opencontainers.image.revision"
#: The full content hash the tag was cut from.
LABEL_CONTENT_HASH = "dev.taxiway.content-hash"

#: A Docker client, or a factory called only when a build follows (creating a client talks to the engine).
DockerSource: TypeAlias = docker.DockerClient | Callable[[], docker.DockerClient]


def build_images(
    root: Path,
    config: PipelineConfig,
    *,
    git_sha: str,
    docker_client: DockerSource,
    registry: ManifestReader,
    auth_config: Mapping[str, str] | None = None,
) -> list[ImageRef]:
    """The pipeline's images (built, or reused when their tag exists); empty without an ``image`` section.

    :param root: the pipeline directory (where taxiway.yaml is); image paths are relative to it.
    :param config: the pipeline's taxiway.yaml.
    :param git_sha: the release commit, recorded as the image's revision label.
    :param docker_client: the Docker engine that builds and pushes, or a factory for it (called only to build).
    :param registry: reads tags and digests from the registry.
    :param auth_config: ``{"username", "password"}`` to push with (from a Flyte secret); never logged.
    """
    if config.image is None:
        return []
    return [
        build_image(
            root, config.image, git_sha=git_sha, docker_client=docker_client, registry=registry, auth_config=auth_config
        )
    ]


def build_image(
    root: Path,
    spec: DockerfileImage,
    *,
    git_sha: str,
    docker_client: DockerSource,
    registry: ManifestReader,
    auth_config: Mapping[str, str] | None = None,
) -> ImageRef:
    """Build and push ``spec``'s image unless the registry already has its content-hash tag.

    :returns: the image pinned by the registry's digest; ``built`` tells whether this call pushed it.
    :raises SourceNotFound: if the Dockerfile, the context or a tag input is missing (naming the path).
    :raises RegistryUnavailable: if the registry does not answer (naming its host:port).
    :raises BuildFailed: if ``docker build`` fails, with the last lines of the build log.
    :raises BuilderUnavailable: if the Docker engine does not answer.
    """
    sha = validate_git_sha(git_sha)
    inputs = image_inputs(root, spec)
    repository, tag = spec.repository, inputs.tag
    existing = registry.manifest_digest(repository, tag)
    if existing is not None:
        logger.info("event=%s image=%s:%s digest=%s", Event.IMAGE_REUSED, repository, tag, existing)
        return ImageRef(repository=repository, tag=tag, digest=existing, built=False)

    logger.info("image build started image=%s:%s sha=%s bases=%s", repository, tag, sha, ",".join(inputs.base_images))
    engine = docker_client() if callable(docker_client) else docker_client
    image_id = run_build(engine, **_build_kwargs(inputs, f"{repository}:{tag}", sha))
    # Another run may have pushed the same inputs while this one built: never overwrite a tag.
    raced = registry.manifest_digest(repository, tag)
    if raced is not None:
        logger.info("event=%s image=%s:%s digest=%s (pushed meanwhile)", Event.IMAGE_REUSED, repository, tag, raced)
        return ImageRef(repository=repository, tag=tag, digest=raced, built=False)

    pushed = run_push(engine, repository, tag, auth_config)
    digest = registry.manifest_digest(repository, tag)
    if digest is None:
        raise PermanentError(
            f"pushed {repository}:{tag} but the registry does not list it",
            where=repository,
            fix="check the registry's storage and logs; rerun to build again",
        )
    if pushed and pushed != digest:
        logger.warning("push digest %s differs from the registry's %s image=%s:%s", pushed, digest, repository, tag)
    logger.info("event=%s image=%s:%s id=%s digest=%s", Event.IMAGE_BUILT, repository, tag, image_id, digest)
    return ImageRef(repository=repository, tag=tag, digest=digest, built=True)


def _build_kwargs(inputs: ImageInputs, reference: str, git_sha: str) -> dict[str, object]:
    """Arguments of ``APIClient.build``: host networking (no bridge exists here), labels, no pulls."""
    dockerfile = (
        str(inputs.dockerfile.relative_to(inputs.context))
        if inputs.dockerfile.is_relative_to(inputs.context)
        else str(inputs.dockerfile)  # outside the context: the SDK sends it along under another name
    )
    return {
        "path": str(inputs.context),
        "dockerfile": dockerfile,
        "tag": reference,
        "buildargs": dict(inputs.build_args),
        "labels": {LABEL_REVISION: git_sha, LABEL_CONTENT_HASH: inputs.content_hash},
        "network_mode": "host",
        "pull": False,
        "rm": True,
        "forcerm": True,
    }
