"""One localflyte (process runtime) and one moto server for the conformance suite, over real gRPC."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.configuration import Config, DataConfig, PlatformConfig, S3Config
from flytekit.models.project import Project
from flytekit.remote import FlyteRemote

from localflyte.testing import LocalFlyteProcess, MotoServer


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=("taxiway-data",))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def localflyte(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[LocalFlyteProcess]:
    process = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=moto_server.endpoint)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def flyte_config(localflyte: LocalFlyteProcess, moto_server: MotoServer) -> Config:
    return Config(
        platform=PlatformConfig(endpoint=localflyte.endpoint, insecure=True),
        data_config=DataConfig(
            s3=S3Config(endpoint=moto_server.endpoint, access_key_id="testing", secret_access_key="testing")
        ),
    )


@pytest.fixture(scope="session")
def client(flyte_config: Config) -> SynchronousFlyteClient:
    return SynchronousFlyteClient(flyte_config.platform)


@pytest.fixture
def project(client: SynchronousFlyteClient) -> str:
    """A fresh project per test, so tests never see each other's entities."""
    project_id = f"p{uuid.uuid4().hex[:12]}"
    client.register_project(Project(id=project_id, name=project_id, description="conformance"))
    return project_id


@pytest.fixture
def remote_for(flyte_config: Config, project: str) -> Callable[[str], FlyteRemote]:
    """One FlyteRemote per domain, as Taxiway uses them (fast_package uploads under the default domain)."""

    def make(domain: str = "development") -> FlyteRemote:
        return FlyteRemote(flyte_config, default_project=project, default_domain=domain)

    return make


def restart(process: LocalFlyteProcess) -> LocalFlyteProcess:
    """Stop a localflyte and start a new one on the same state dir (durability tests)."""
    process.stop()
    return LocalFlyteProcess(Path(process.state_dir), s3_endpoint=process.s3_endpoint)
