"""``pyflyte run --remote`` against a localflyte with the Docker runtime: each task runs in its image.

Needs the local stack (``scripts/stack up``: Docker engine, base image). The task image is the
base image plus flytekit (``test_executor_docker.task_image``); containers use the host network to
reach localflyte's gRPC API and the S3 server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from localflyte.executor.runtimes import DockerRuntime
from localflyte.testing import LocalFlyteProcess, MotoServer
from tests.integration.test_executor_docker import task_image
from tests.integration.test_localflyte_executor import remote_for, run_remote, write_config

pytestmark = pytest.mark.e2e

__all__ = ["task_image"]  # a fixture, imported for pytest


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=("taxiway-data",))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def docker_localflyte(
    tmp_path_factory: pytest.TempPathFactory, moto: MotoServer, stack_env: dict[str, str]
) -> Iterator[LocalFlyteProcess]:
    # stack_env exports DOCKER_HOST, which the localflyte subprocess inherits.
    process = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=moto.endpoint, runtime="docker")
    yield process
    process.stop()


def test_pyflyte_run_in_containers(
    docker_localflyte: LocalFlyteProcess,
    moto: MotoServer,
    task_image: str,
    docker_client: docker.DockerClient,
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "flyte.yaml", docker_localflyte.endpoint, moto.endpoint)

    name = run_remote(config, "tour", "--a", "7", "--b", "5", image=task_image)

    remote = remote_for(docker_localflyte.endpoint, moto.endpoint)
    execution = remote.sync_execution(remote.fetch_execution(name=name), sync_nodes=True)
    assert execution.outputs["o0"] == 48 and execution.outputs["o1"] == 96
    log_file = docker_localflyte.state_dir / "logs" / name / "n0-0.log"
    assert log_file.is_file()  # the container is gone; its output is kept
    assert not docker_client.containers.list(all=True, filters={"label": DockerRuntime.LABEL})
