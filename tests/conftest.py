"""Shared fixtures: the local stack's settings (``.stack/env``) and clients for its parts.

``scripts/stack up`` writes ``.stack/env``; these fixtures read it so that every test talks to
the same endpoints the rest of the project uses. Nothing here is skipped: a test that needs the
stack fails with the command that fixes it.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import docker
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK_DIR = Path(os.environ.get("TAXIWAY_STACK_DIR", REPO_ROOT / ".stack"))
STACK_UP_HINT = "run scripts/stack up"


def load_stack_env(path: Path) -> dict[str, str]:
    """Parse the ``export NAME=VALUE`` lines of a ``.stack/env`` file (comments and blanks ignored)."""
    env: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line.removeprefix("export "))
        if len(words) != 1 or "=" not in words[0]:
            raise ValueError(f"{path}:{number}: expected 'export NAME=VALUE', got {raw!r}; {STACK_UP_HINT}")
        name, value = words[0].split("=", 1)
        env[name] = value
    return env


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where ``scripts/stack`` lives)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def stack_dir() -> Path:
    """The local stack's state directory (``.stack``, or ``$TAXIWAY_STACK_DIR``)."""
    return STACK_DIR


@pytest.fixture(scope="session")
def stack_env() -> Iterator[dict[str, str]]:
    """The settings ``scripts/stack up`` wrote to ``.stack/env``, also exported to ``os.environ``."""
    path = STACK_DIR / "env"
    if not path.is_file():
        pytest.fail(f"{path} not found: the local stack is not up; {STACK_UP_HINT}", pytrace=False)
    env = load_stack_env(path)
    patch = pytest.MonkeyPatch()
    for name, value in env.items():
        patch.setenv(name, value)
    yield env
    patch.undo()


@pytest.fixture(scope="session")
def docker_client(stack_env: dict[str, str]) -> Iterator[docker.DockerClient]:
    """A docker SDK client for the stack's engine (``DOCKER_HOST`` from ``.stack/env``)."""
    base_url = stack_env["DOCKER_HOST"]
    client = docker.DockerClient(base_url=base_url, timeout=300)
    try:
        client.ping()
    except docker.errors.DockerException as err:
        pytest.fail(f"Docker engine at {base_url} does not answer ({err}); {STACK_UP_HINT}", pytrace=False)
    yield client
    client.close()


@pytest.fixture(scope="session")
def s3_client(stack_env: dict[str, str]) -> Any:
    """A boto3 S3 client for the stack's moto server."""
    return boto3.client(
        "s3",
        endpoint_url=stack_env["AWS_ENDPOINT_URL"],
        aws_access_key_id=stack_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack_env["AWS_SECRET_ACCESS_KEY"],
        region_name=stack_env["AWS_DEFAULT_REGION"],
    )


@pytest.fixture(scope="session")
def registry(stack_env: dict[str, str]) -> str:
    """The local image registry as ``host:port`` (push to ``<registry>/<repo>:<tag>``)."""
    return stack_env["TAXIWAY_REGISTRY"]
