"""Fixtures of the e2e modules: a run id, a localflyte per module and the environment its tasks see.

Each module gets a localflyte of its own (executor off: entities are registered, nothing runs),
storing in a bucket of its own on the stack's moto, so modules never see each other's entities.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from localflyte.testing import LocalFlyteProcess


@pytest.fixture(scope="module")
def run_id() -> str:
    """Unique to the module's run: image repositories and buckets named after it are new."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def admin(
    tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str], s3_client: Any, run_id: str
) -> Iterator[LocalFlyteProcess]:
    """localflyte of this module, storing in a bucket of its own on the stack's moto."""
    bucket = f"taxiway-e2e-ci-{run_id}"
    s3_client.create_bucket(Bucket=bucket)
    process = LocalFlyteProcess(
        tmp_path_factory.mktemp("localflyte"), s3_endpoint=stack_env["AWS_ENDPOINT_URL"], bucket=bucket
    )
    yield process
    process.stop()


@pytest.fixture(scope="module")
def task_env(stack_env: dict[str, str], admin: LocalFlyteProcess) -> Iterator[None]:
    """What Flyte would inject into the tasks: this module's FlyteAdmin, the stack's S3 and Docker."""
    patch = pytest.MonkeyPatch()
    patch.setenv("FLYTE_PLATFORM_URL", admin.endpoint)
    patch.setenv("FLYTE_PLATFORM_INSECURE", "True")
    yield
    patch.undo()
