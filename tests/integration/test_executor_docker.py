"""The executor runs fast-registered tasks in their container image with the Docker runtime.

Builds a small image (the stack's base image + flytekit) once, uploads a code bundle the way fast
registration does, and lets ``pyflyte-fast-execute`` download it inside the container.
"""

from __future__ import annotations

import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from flytekit.configuration import FastSerializationSettings

from localflyte.executor.runtimes import DockerRuntime
from localflyte.executor.storage import BlobStore
from localflyte.testing import MotoServer
from tests.integration import test_executor_workflows as flows
from tests.integration.test_executor_process import BUCKET, REPO_ROOT, Harness, int_literal, str_literal

pytestmark = pytest.mark.integration

FLYTEKIT_VERSION = "1.16.31"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BUNDLED = ("tests/__init__.py", "tests/integration/__init__.py", "tests/integration/test_executor_workflows.py")


@pytest.fixture(scope="module")
def task_image(docker_client: docker.DockerClient, base_image: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``<base image>`` + a venv with flytekit on PATH; built once (the tag names what is in it)."""
    tag = f"taxiway/executor-test:flytekit-{FLYTEKIT_VERSION}"
    try:
        docker_client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    context = tmp_path_factory.mktemp("image")
    (context / "ca-certificates.crt").write_bytes(HOST_CA_BUNDLE.read_bytes())
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\n"
        "COPY ca-certificates.crt /etc/ssl/certs/host-ca-certificates.crt\n"
        "RUN python3 -m venv /opt/venv && PIP_CERT=/etc/ssl/certs/host-ca-certificates.crt "
        f"/opt/venv/bin/pip install --no-cache-dir flytekit=={FLYTEKIT_VERSION}\n"
        "ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
        "WORKDIR /root\n"
    )
    docker_client.images.build(path=str(context), tag=tag, network_mode="host", rm=True)
    return tag


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=(BUCKET,))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def code_bundle(moto: MotoServer) -> str:
    """The workflows module as a fast-registration tarball on S3."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for relative in BUNDLED:
            archive.add(REPO_ROOT / relative, arcname=relative)
    uri = f"s3://{BUCKET}/uploads/flytesnacks/development/{uuid.uuid4().hex}/fast.tar.gz"
    BlobStore(moto.endpoint, "testing", "testing").write(uri, buffer.getvalue())
    return uri


@pytest.fixture
def harness(moto: MotoServer, tmp_path: Path, task_image: str, code_bundle: str) -> Harness:
    fast = FastSerializationSettings(enabled=True, destination_dir="/root", distribution_location=code_bundle)
    return Harness(moto, tmp_path, runtime=DockerRuntime(), image=task_image, fast=fast)


def test_workflow_runs_in_containers(harness: Harness, docker_client: docker.DockerClient) -> None:
    outcome = harness.run("in-docker", flows.arithmetic, a=int_literal(7), b=int_literal(5), marker=str_literal("/m"))

    assert outcome.phase_name == "SUCCEEDED", outcome.error
    assert {k: v.scalar.primitive.integer for k, v in outcome.outputs.literals.items()} == {"o0": 48, "o1": 49}
    assert harness.sink.task_attempts("n3")[-1] == (1, "SUCCEEDED")  # retried in a fresh container
    assert (harness.settings.log_dir / "in-docker" / "n0-0.log").is_file()
    assert not docker_client.containers.list(all=True, filters={"label": DockerRuntime.LABEL})


def test_failing_task_in_container_surfaces_its_error(harness: Harness) -> None:
    outcome = harness.run("fails-in-docker", flows.failing, x=int_literal(41))

    assert outcome.phase_name == "FAILED"
    assert outcome.error is not None and "the answer is not 41" in outcome.error.message
    # The container is gone, its output is not: the traceback is in the kept log.
    assert "the answer is not 41" in (harness.settings.log_dir / "fails-in-docker" / "n0-0.log").read_text()
