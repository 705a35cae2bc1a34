"""A synthetic pipeline directory with a taxiway.yaml and an image section, as Taxiway's CI sees it.

The pipeline image (``Dockerfile``) holds only dependencies: the code ships by fast registration, so
its tag (a hash of the Dockerfile, ``requirements.txt`` and the base image) survives code changes.
With a wheelhouse (:mod:`benchmarks.wheelhouse`) the image is a real pipeline image: a venv with
flytekit and its dependencies, installed offline, in which Taxiway's package step serializes.
Without one it is the base image plus a file (enough for the image-build count of P3).

``Dockerfile.rebuild`` is what a team without Taxiway does in CI: the same image with the code baked
in, built from scratch on every commit (a CI runner has no layer cache: ``--no-cache``), pushed, then
``pyflyte register --copy none``.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import docker
import requests

from benchmarks.synthetic import PipelineShape, write_pipeline
from benchmarks.wheelhouse import pipeline_requirements
from tasks.core.build import build_images
from tasks.core.build_stream import run_build, run_push
from tasks.core.config import PipelineConfig, load_pipeline_config
from tasks.core.records import ImageRef
from tasks.core.registry import RegistryClient

REGISTRY = "127.0.0.1:30000"
BASE_IMAGE = "taxiway/base:bookworm-py311"
PACKAGE = "synth"
GIT_SHA = "0123456789ab" + "c" * 28

_CONFIG = """\
version: 1
pipeline: synth
packages: [synth]
image:
  repository: {repository}
  dockerfile: Dockerfile
  context: .
  tag_inputs: [requirements.txt]
  build_args:
    BASE_IMAGE: {base}
domains:
  - name: development
    raw_data_prefix: s3://taxiway-data/development/synth
  - name: staging
    raw_data_prefix: s3://taxiway-data/staging/synth
"""

_LIGHT_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY requirements.txt /opt/synth/requirements.txt
"""

_DEPENDENCIES_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY requirements.txt /tmp/requirements.txt
COPY .wheels/ /tmp/wheels/
RUN python3 -m venv /opt/venv \\
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels -r /tmp/requirements.txt
ENV PATH=/opt/venv/bin:${PATH} VIRTUAL_ENV=/opt/venv PYTHONDONTWRITEBYTECODE=1
WORKDIR /root
"""

#: The same image with the code baked in (``/root/synth``, where ``pyflyte register --copy none`` expects it).
_REBUILD_SUFFIX = """\
COPY synth/ /root/synth/
"""

#: What fast registration leaves out of the code bundle (flytekit reads ``.flyteignore``): the build inputs.
_FLYTEIGNORE = """\
.wheels/
Dockerfile*
requirements.txt
"""


def docker_client() -> docker.DockerClient:
    """The local engine (``DOCKER_HOST`` when set, else the unix socket)."""
    try:
        return docker.from_env(timeout=600)
    except docker.errors.DockerException:
        return docker.DockerClient(base_url="unix:///var/run/docker.sock", timeout=600)


@dataclass
class SyntheticPipeline:
    """A pipeline directory, also the source root: ``taxiway.yaml``, Dockerfiles and the package ``synth``."""

    root: Path
    shape: PipelineShape
    repository: str

    @classmethod
    def create(cls, root: Path, shape: PipelineShape, wheelhouse: Path | None = None) -> SyntheticPipeline:
        """A pipeline in ``root``; with ``wheelhouse``, its image has flytekit (see the module docstring)."""
        # A repository of its own, so that a previous run's tags never make the first build a reuse.
        repository = f"{REGISTRY}/taxiway-bench/synth-{uuid.uuid4().hex[:8]}"
        root.mkdir(parents=True, exist_ok=True)
        (root / "taxiway.yaml").write_text(_CONFIG.format(repository=repository, base=BASE_IMAGE))
        if wheelhouse is None:
            dockerfile = _LIGHT_DOCKERFILE
            (root / "requirements.txt").write_text("flytekit==1.16.31\n")
        else:
            dockerfile = _DEPENDENCIES_DOCKERFILE
            (root / "requirements.txt").write_text(pipeline_requirements())
            shutil.copytree(wheelhouse, root / ".wheels", ignore=shutil.ignore_patterns(".complete"))
        (root / "Dockerfile").write_text(dockerfile)
        (root / ".flyteignore").write_text(_FLYTEIGNORE)
        (root / "Dockerfile.rebuild").write_text(dockerfile + _REBUILD_SUFFIX)
        pipeline = cls(root, shape, repository)
        pipeline.commit(0)
        return pipeline

    @property
    def source(self) -> Path:
        """The source root (where ``pyflyte`` finds ``synth``): the pipeline directory, as in a real repository."""
        return self.root

    @property
    def config(self) -> PipelineConfig:
        return load_pipeline_config(self.root / "taxiway.yaml")

    def commit(self, revision: int) -> None:
        """A code-only change: new function bodies, same structure, same dependencies."""
        write_pipeline(self.source, self.shape, PACKAGE, revision)

    def build_images(self, client: docker.DockerClient, session: requests.Session) -> list[ImageRef]:
        """Taxiway's build step: build and push unless the registry has the content-hash tag."""
        return build_images(
            self.root, self.config, git_sha=GIT_SHA, docker_client=client, registry=RegistryClient(session)
        )

    def rebuild_image(self, client: docker.DockerClient, tag: str) -> str:
        """The baseline: ``docker build --no-cache`` of the image with the code baked in, then push; its reference."""
        repository = f"{self.repository}-rebuild"
        run_build(
            client, path=str(self.root), dockerfile="Dockerfile.rebuild", tag=f"{repository}:{tag}",
            network_mode="host", pull=False, rm=True, forcerm=True, nocache=True,
            buildargs={"BASE_IMAGE": BASE_IMAGE},
        )  # fmt: skip
        run_push(client, repository, tag)
        return f"{repository}:{tag}"
