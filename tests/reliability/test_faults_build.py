"""The image registry or the Docker engine down while a release's image is built and pushed.

The stack's registry is shared, so it is never stopped: "down" is a closed port on 127.0.0.1, or a
scripted HTTP stub (:mod:`tests.reliability.http_stub`) that answers like a failing registry. Each test
asserts the final state: what the registry was asked (never a push), what the engine holds, and that
the Docker engine is not even contacted when no build is needed.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
import requests

from tasks.clients import docker_client as engine_from_env
from tasks.core.build import BuilderUnavailable, build_image
from tasks.core.config_models import DockerfileImage
from tasks.core.errors import RegistryUnavailable
from tasks.core.registry import RegistryClient
from tests.reliability.http_stub import Answer, HttpStub, Request

pytestmark = pytest.mark.integration

SHA = "feedc0de" * 5
DIGEST = "sha256:" + "ab" * 32


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def pipeline(tmp_path: Path, stack_env: dict[str, str]) -> Path:
    root = tmp_path / "pipeline"
    (root / "app").mkdir(parents=True)
    (root / "Dockerfile").write_text(
        f"FROM {stack_env['TAXIWAY_BASE_IMAGE']}\nCOPY requirements.txt /app/requirements.txt\nCOPY app/ /app/app/\n"
    )
    (root / "requirements.txt").write_text(f"tiny=={uuid.uuid4().hex}\n")  # a fresh tag every test
    (root / "app" / "flows.py").write_text("x = 1\n")
    return root


def spec_at(registry: str) -> DockerfileImage:
    return DockerfileImage(repository=f"{registry}/taxiway-test/fault-{uuid.uuid4().hex[:8]}", tag_inputs=())


class EngineCalls:
    """A Docker engine factory that records whether it was called (and hands out the real client)."""

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        self.client, self.calls = client, 0

    def __call__(self) -> docker.DockerClient:
        self.calls += 1
        if self.client is None:
            raise AssertionError("the Docker engine must not be contacted")
        return self.client


@pytest.fixture
def stub_factory() -> Iterator[Callable[[Callable[[Request], Answer]], HttpStub]]:
    stubs: list[HttpStub] = []

    def start(script: Callable[[Request], Answer]) -> HttpStub:
        stubs.append(HttpStub(script))
        return stubs[-1]

    yield start
    for stub in stubs:
        stub.stop()


def test_registry_not_listening_is_registry_unavailable_and_touches_no_engine(
    pipeline: Path, docker_client: docker.DockerClient
) -> None:
    address = f"127.0.0.1:{unused_port()}"
    spec, engine = spec_at(address), EngineCalls()
    with pytest.raises(RegistryUnavailable) as caught:
        build_image(pipeline, spec, git_sha=SHA, docker_client=engine, registry=RegistryClient(requests.Session()))
    assert caught.value.retryable and address in str(caught.value), str(caught.value)
    assert engine.calls == 0, "the engine is not even contacted before the registry answers"
    assert docker_client.images.list(name=spec.repository) == [], "nothing was built"


def test_registry_server_errors_are_registry_unavailable_and_nothing_is_pushed(
    pipeline: Path, stub_factory: Callable[[Callable[[Request], Answer]], HttpStub]
) -> None:
    stub = stub_factory(lambda request: Answer(503, body=b'{"errors":[{"code":"UNAVAILABLE"}]}'))
    spec, engine = spec_at(stub.address), EngineCalls()
    with pytest.raises(RegistryUnavailable, match="HTTP 503") as caught:
        build_image(pipeline, spec, git_sha=SHA, docker_client=engine, registry=RegistryClient(requests.Session()))
    assert caught.value.where == stub.address and engine.calls == 0
    assert [(r.method, r.path.split("/manifests/")[0]) for r in stub.requests] == [
        ("HEAD", f"/v2/{spec.repository.split('/', 1)[1]}")
    ]


def test_registry_going_down_after_the_build_pushes_nothing(
    pipeline: Path, docker_client: docker.DockerClient, stub_factory: Callable[[Callable[[Request], Answer]], HttpStub]
) -> None:
    """Tag absent, the engine builds, then the registry fails the pre-push check: no push is attempted."""

    def script(request: Request) -> Answer:
        return Answer(404) if len(stub.requests) == 1 else Answer(503)

    stub = stub_factory(script)
    spec, engine = spec_at(stub.address), EngineCalls(docker_client)
    try:
        with pytest.raises(RegistryUnavailable):
            build_image(pipeline, spec, git_sha=SHA, docker_client=engine, registry=RegistryClient(requests.Session()))
        assert engine.calls == 1
        assert {r.method for r in stub.requests} == {"HEAD"} and len(stub.requests) == 2, "no blob upload, no PUT"
        assert len(docker_client.images.list(name=spec.repository)) == 1, "built locally, only a rerun pushes it"
    finally:
        for image in docker_client.images.list(name=spec.repository):
            docker_client.images.remove(image.id, force=True)


def test_engine_down_reuses_an_existing_image_and_fails_clearly_when_a_build_is_needed(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, stub_factory: Callable[[Callable[[Request], Answer]], HttpStub]
) -> None:
    """A code-only change (tag exists) succeeds with the engine down; a dependency change says what is down."""
    tags: dict[str, str] = {}

    def script(request: Request) -> Answer:
        tag = request.path.rsplit("/", 1)[1]
        return Answer(200, {"Docker-Content-Digest": tags[tag]}) if tag in tags else Answer(404)

    stub = stub_factory(script)
    spec = spec_at(stub.address)
    down = f"tcp://127.0.0.1:{unused_port()}"
    monkeypatch.setenv("DOCKER_HOST", down)  # what tasks.build's factory (tasks.clients.docker_client) reads
    registry = RegistryClient(requests.Session())

    with pytest.raises(BuilderUnavailable) as caught:
        build_image(pipeline, spec, git_sha=SHA, docker_client=engine_from_env, registry=registry)
    assert caught.value.where == down and caught.value.retryable

    tags[stub.requests[-1].path.rsplit("/", 1)[1]] = DIGEST  # the image exists now (built by another run)
    (pipeline / "app" / "flows.py").write_text("x = 2\n")  # a code-only change
    image = build_image(pipeline, spec, git_sha=SHA, docker_client=engine_from_env, registry=registry)
    assert (image.built, image.digest) == (False, DIGEST)
