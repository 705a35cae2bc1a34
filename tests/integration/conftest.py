"""Fixtures for integration tests: what ``scripts/stack up`` provides, and per-module localflyte + S3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localflyte.testing import LocalFlyteProcess, MotoServer


@pytest.fixture(scope="session")
def base_image(stack_env: dict[str, str]) -> str:
    """The local Python 3.11 base image (``taxiway/base:bookworm-py311``), present in the engine."""
    return stack_env["TAXIWAY_BASE_IMAGE"]


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A moto S3 server of the test module's own."""
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=("taxiway-data",))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def localflyte(tmp_path_factory: pytest.TempPathFactory, moto: MotoServer) -> Iterator[LocalFlyteProcess]:
    """A localflyte of the test module's own that really runs executions (process runtime)."""
    process = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=moto.endpoint, runtime="process")
    yield process
    process.stop()
