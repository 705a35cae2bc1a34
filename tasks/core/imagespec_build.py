"""Build and push a pipeline's ImageSpec images that the registry does not have yet.

For each ImageSpec found by :func:`tasks.core.imagespec.discover_image_specs`: ask the registry
(our :class:`~tasks.core.registry.RegistryClient`, not flytekit's ``exist()``, which answers None for
any registry but Docker Hub when it cannot ask the engine) for flytekit's tag; when it is missing,
build flytekit's own docker context (rewritten for the classic builder, see
:mod:`tasks.core.imagespec_dockerfile`) with host networking, then push with the credentials passed
in. A failing build raises :class:`~tasks.core.build_stream.BuildFailed` with the builder's output and
pushes nothing.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import docker

from tasks.core.build_stream import run_build, run_push
from tasks.core.config import PipelineConfig
from tasks.core.errors import PermanentError
from tasks.core.imagespec import DiscoveredImageSpec, check_pinned, discover_image_specs
from tasks.core.imagespec_dockerfile import add_build_files, classic_dockerfile
from tasks.core.records import ImageRef
from tasks.core.registry import ManifestReader
from tasks.core.vocabulary import Event

__all__ = ["BuildSettings", "ImageSpecBuild", "build_image_specs", "image_overrides"]

logger = logging.getLogger(__name__)

#: The host CA bundle package installs trust (PyPI is reached through it here).
DEFAULT_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class BuildSettings:
    """Where the builder gets what the Docker engine cannot pull.

    :param base_image: local image the uv/micromamba helper stages start from.
    :param ca_bundle: CA bundle used by package installs during the build.
    :param python: interpreter of the pipeline's build environment (discovery and the uv wheel download).
    :param cache_dir: where the ``uv`` binary is kept between builds.
    """

    base_image: str
    ca_bundle: Path = DEFAULT_CA_BUNDLE
    python: str = sys.executable
    cache_dir: Path = Path(tempfile.gettempdir()) / "taxiway-imagespec"


@dataclass(frozen=True)
class ImageSpecBuild:
    """An ImageSpec image, pinned: ``image`` is what tasks reference; ``spec_id`` keys ``--image id=uri``."""

    image: ImageRef
    spec_id: str
    tasks: tuple[str, ...]


def build_image_specs(
    root: Path,
    config: PipelineConfig,
    *,
    settings: BuildSettings,
    docker_client: docker.DockerClient,
    registry: ManifestReader,
    auth_config: Mapping[str, str] | None = None,
) -> list[ImageSpecBuild]:
    """Every ImageSpec image of the pipeline, built and pushed unless its tag exists; [] without ``image_specs``.

    :param root: the pipeline directory (its packages are loaded from here).
    :param config: the pipeline's taxiway.yaml.
    :param settings: base image, CA bundle and interpreter of the build environment.
    :param docker_client: the Docker engine that builds and pushes.
    :param registry: reads tags and digests.
    :param auth_config: ``{"username", "password"}`` to push with; never logged.
    :raises InvalidConfig: if an ImageSpec leaves its Python or flytekit version unpinned.
    :raises BuildFailed: with the builder's output (e.g. an unknown package); nothing is pushed.
    """
    if config.image_specs is None:
        return []
    with tempfile.TemporaryDirectory(prefix="imagespec-") as work:
        specs = discover_image_specs(root, config.packages, python=settings.python, contexts=Path(work))
        check_pinned(specs, config.image_specs)
        existing = {spec.image_name: registry.manifest_digest(spec.repository, spec.tag) for spec in specs}
        # Build every missing image before pushing any: one failing ImageSpec leaves the registry untouched.
        for spec in specs:
            if existing[spec.image_name] is None:
                _build(spec, settings=settings, docker_client=docker_client)
        return [
            _reuse(spec, digest) if digest is not None else _push(spec, docker_client, registry, auth_config)
            for spec, digest in ((spec, existing[spec.image_name]) for spec in specs)
        ]


def image_overrides(builds: list[ImageSpecBuild]) -> list[str]:
    """``pyflyte package`` arguments that make serialized tasks reference exactly these images."""
    return [arg for build in builds for arg in ("--image", f"{build.spec_id}={build.image.reference}")]


def _reuse(spec: DiscoveredImageSpec, digest: str) -> ImageSpecBuild:
    logger.info("event=%s image=%s digest=%s", Event.IMAGE_REUSED, spec.image_name, digest)
    return ImageSpecBuild(ImageRef(spec.repository, spec.tag, digest, built=False), spec.spec_id, spec.tasks)


def _build(spec: DiscoveredImageSpec, *, settings: BuildSettings, docker_client: docker.DockerClient) -> str:
    """Build flytekit's context for ``spec`` (rewritten for the classic builder) with host networking."""
    context = Path(spec.context)
    dockerfile = context / "Dockerfile"
    dockerfile.write_text(classic_dockerfile(dockerfile.read_text(), settings.base_image))
    add_build_files(context, ca_bundle=settings.ca_bundle, uv_binary=_uv_binary(settings))
    logger.info("image build started image=%s tasks=%s", spec.image_name, ",".join(spec.tasks))
    return run_build(
        docker_client, path=str(context), tag=spec.image_name, network_mode="host", pull=False, rm=True, forcerm=True
    )


def _push(
    spec: DiscoveredImageSpec,
    docker_client: docker.DockerClient,
    registry: ManifestReader,
    auth: Mapping[str, str] | None,
) -> ImageSpecBuild:
    raced = registry.manifest_digest(spec.repository, spec.tag)
    if raced is not None:  # another run pushed the same spec meanwhile: never overwrite a tag
        return _reuse(spec, raced)
    run_push(docker_client, spec.repository, spec.tag, auth)
    digest = registry.manifest_digest(spec.repository, spec.tag)
    if digest is None:
        raise PermanentError(
            f"pushed {spec.image_name} but the registry does not list it",
            where=spec.repository,
            fix="check the registry's storage and logs; rerun to build again",
        )
    logger.info("event=%s image=%s digest=%s", Event.IMAGE_BUILT, spec.image_name, digest)
    return ImageSpecBuild(ImageRef(spec.repository, spec.tag, digest, built=True), spec.spec_id, spec.tasks)


def _uv_binary(settings: BuildSettings) -> Path:
    """The ``uv`` binary of the version flytekit's Dockerfile names, from PyPI's wheel (cached)."""
    from flytekit.image_spec.default_builder import DEFAULT_UV_IMAGE

    version = DEFAULT_UV_IMAGE.rsplit(":", 1)[1]
    target = settings.cache_dir / f"uv-{version}"
    if target.is_file():
        return target
    wheels = settings.cache_dir / "wheels"
    command = [settings.python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", f"uv=={version}"]
    done = subprocess.run([*command, "-d", str(wheels)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PermanentError(
            f"could not download uv {version} from PyPI: {done.stderr.strip()[-500:]}",
            where="pip download uv",
            fix="check pip's index and CA settings",
        )
    wheel = next(wheels.glob(f"uv-{version}-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        member = next(name for name in archive.namelist() if name.endswith("/scripts/uv"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(member))
    return target
