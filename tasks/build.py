"""Flyte task that builds (or reuses) the pipeline's image (logic: :mod:`tasks.core.build`).

The tag is a content hash of the Dockerfile, the ``tag_inputs`` files and the build args: when the
registry already has it, nothing is built. Registry credentials come from Flyte secrets, so the caller
needs no push rights.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flytekit import task

from tasks.clients import docker_client, recoverable, registry_auth, registry_client
from tasks.core import build as core_build
from tasks.core.build_context import prepare_build_root
from tasks.core.build_tag import image_inputs
from tasks.core.config import load_pipeline_config
from tasks.core.records import ImageRef
from tasks.source import Checkout

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    """The release's images, each pinned by digest and marked built (this run) or reused.

    :param images: empty when taxiway.yaml has no ``image`` section (the pipeline uses a ready image).
    """

    images: list[ImageRef] = field(default_factory=list)


@task(retries=2, cache=False)
def build_images(checkout: Checkout) -> BuildResult:
    """Build and push the pipeline's image unless its content-hash tag already exists.

    The build runs in a copy of the source prepared by ``image.prepare`` (e.g. a wheelhouse), never in
    the directory that is packaged, so the code bundle stays as small as the commit.

    The Docker client is created only when a build follows: a code-only change whose image exists
    succeeds with the engine down.

    :param checkout: the pipeline's source at the release commit.
    :returns: the image (built or reused), pinned by digest.
    """
    root = Path(checkout.directory.download())
    config = load_pipeline_config(root / checkout.config_path)
    auth = registry_auth()
    registry = registry_client(auth)
    with recoverable(), tempfile.TemporaryDirectory(prefix="taxiway-build-") as workdir:
        build_root = root
        spec = config.image
        # Preparing may download hundreds of MB: only when the tag is missing and a build follows.
        if spec is not None and spec.prepare and not registry.tag_exists(spec.repository, image_inputs(root, spec).tag):
            build_root = prepare_build_root(root, spec, Path(workdir))
        images = core_build.build_images(
            build_root, config, git_sha=checkout.source.git_sha, docker_client=docker_client,
            registry=registry, auth_config=auth,
        )  # fmt: skip
    logger.info("images ready version=%s built=%d", checkout.version, sum(image.built for image in images))
    return BuildResult(images=list(images))
