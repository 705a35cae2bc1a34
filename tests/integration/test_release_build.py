"""Building release images against the stack's real Docker engine and registry (tiny images, seconds each).

Every test pushes to its own repository (``taxiway-test/release-<random>``), so a first build is a real
build; the torch example image is built in ``test_release_package.py`` (``e2e``).
"""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from tasks.core.build import LABEL_CONTENT_HASH, LABEL_REVISION, BuildFailed, build_image
from tasks.core.config_models import DockerfileImage
from tasks.core.errors import RegistryUnavailable, SourceNotFound
from tasks.core.registry import RegistryClient

pytestmark = pytest.mark.integration

SHA = "feedc0de" * 5
DOCKERFILE = """\
ARG BASE_IMAGE=taxiway/base:bookworm-py311
FROM ${BASE_IMAGE}
COPY requirements.txt /app/requirements.txt
COPY app/ /app/app/
RUN echo "installing $(cat /app/requirements.txt)"
"""


@pytest.fixture
def pipeline(tmp_path: Path, base_image: str) -> Path:
    root = tmp_path / "pipeline"
    (root / "app").mkdir(parents=True)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "requirements.txt").write_text(f"tiny=={uuid.uuid4().hex}\n")  # a fresh layer, never a cache hit
    (root / "app" / "flows.py").write_text("x = 1\n")
    return root


@pytest.fixture
def spec(registry: str, base_image: str) -> DockerfileImage:
    return DockerfileImage(
        repository=f"{registry}/taxiway-test/release-{uuid.uuid4().hex[:8]}",
        tag_inputs=("requirements.txt",),
        build_args={"BASE_IMAGE": base_image},
    )


@pytest.fixture
def registry_client() -> RegistryClient:
    return RegistryClient(requests.Session())


def engine_activity(client: docker.DockerClient, since: float, repository: str) -> list[dict[str, Any]]:
    """Engine events about ``repository`` since ``since`` (a build tags it, a push pushes it).

    Other tests share the engine, so events are filtered to the repository under test.
    """
    until = time.time() + 1
    events = client.events(since=int(since), until=int(until), decode=True, filters={"type": ["container", "image"]})
    return [event for event in events if repository in str(event.get("Actor", {}))]


def test_image_is_built_once_then_reused(
    docker_client: docker.DockerClient, registry_client: RegistryClient, pipeline: Path, spec: DockerfileImage
) -> None:
    first = build_image(pipeline, spec, git_sha=SHA, docker_client=docker_client, registry=registry_client)
    assert first.built
    assert first.digest == registry_client.manifest_digest(spec.repository, first.tag)
    labels = docker_client.images.get(first.reference).labels
    assert labels[LABEL_REVISION] == SHA and labels[LABEL_CONTENT_HASH].startswith(first.tag)

    image_id = docker_client.images.get(first.reference).id
    time.sleep(1.1)  # docker events have one-second resolution
    started = time.time()
    second = build_image(pipeline, spec, git_sha="0" * 40, docker_client=docker_client, registry=registry_client)
    assert second == first.__class__(spec.repository, first.tag, first.digest, built=False)
    assert engine_activity(docker_client, started, spec.repository) == []
    assert docker_client.images.get(first.reference).id == image_id


def test_code_change_reuses_and_dockerfile_change_rebuilds(
    docker_client: docker.DockerClient, registry_client: RegistryClient, pipeline: Path, spec: DockerfileImage
) -> None:
    first = build_image(pipeline, spec, git_sha=SHA, docker_client=docker_client, registry=registry_client)
    (pipeline / "app" / "flows.py").write_text("x = 2\n")
    assert not build_image(pipeline, spec, git_sha=SHA, docker_client=docker_client, registry=registry_client).built
    (pipeline / "Dockerfile").write_text(DOCKERFILE + "ENV TINY_CHANGE=1\n")
    rebuilt = build_image(pipeline, spec, git_sha=SHA, docker_client=docker_client, registry=registry_client)
    assert rebuilt.built and rebuilt.tag != first.tag and rebuilt.digest != first.digest
    assert registry_client.manifest_digest(spec.repository, first.tag) == first.digest, "old tag left untouched"


def test_missing_dockerfile_is_a_clear_error(
    docker_client: docker.DockerClient, registry_client: RegistryClient, pipeline: Path, spec: DockerfileImage
) -> None:
    (pipeline / "Dockerfile").unlink()
    with pytest.raises(SourceNotFound) as caught:
        build_image(pipeline, spec, git_sha=SHA, docker_client=docker_client, registry=registry_client)
    assert str(pipeline / "Dockerfile") in str(caught.value) and "image.dockerfile" in str(caught.value)


def test_unreachable_registry_builds_nothing(
    docker_client: docker.DockerClient, registry_client: RegistryClient, pipeline: Path, spec: DockerfileImage
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = spec.model_copy(update={"repository": f"127.0.0.1:{port}/taxiway-test/unreachable"})
    started = time.time()
    with pytest.raises(RegistryUnavailable) as caught:
        build_image(pipeline, closed, git_sha=SHA, docker_client=docker_client, registry=registry_client)
    assert f"127.0.0.1:{port}" in str(caught.value) and caught.value.retryable
    assert engine_activity(docker_client, started, closed.repository) == []
    assert docker_client.images.list(name=closed.repository) == [], "nothing was built for it"


def test_build_failure_carries_the_build_log(
    docker_client: docker.DockerClient, registry_client: RegistryClient, pipeline: Path, spec: DockerfileImage
) -> None:
    (pipeline / "Dockerfile").write_text(DOCKERFILE + 'RUN echo "about to fail" && exit 3\n')
    with pytest.raises(BuildFailed) as caught:
        build_image(pipeline, spec, git_sha=SHA, docker_client=docker_client, registry=registry_client)
    message = str(caught.value)
    assert "returned a non-zero code: 3" in message and "about to fail" in message and "installing tiny==" in message
    assert registry_client.manifest_digest(spec.repository, caught.value.where.rsplit(":", 1)[1]) is None  # type: ignore[union-attr]
