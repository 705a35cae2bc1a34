"""Clients and settings for the release tasks, resolved once at the edge (the ``@task`` layer).

Only this module and the ``@task`` modules read the environment and Flyte secrets; ``tasks/core``
receives what is built here. The settings are the ones Flyte injects into task containers and
``.stack/env`` exports: ``DOCKER_HOST``, ``AWS_ENDPOINT_URL`` (or ``FLYTE_AWS_ENDPOINT``) with
``FLYTE_AWS_ACCESS_KEY_ID`` / ``FLYTE_AWS_SECRET_ACCESS_KEY``, ``FLYTE_PLATFORM_URL``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import boto3
import docker
import flytekit
import requests
from flytekit.exceptions.user import FlyteRecoverableException

from tasks.core.build_stream import BuilderUnavailable
from tasks.core.errors import InvalidConfig, TransientError
from tasks.core.registry import RegistryClient

logger = logging.getLogger(__name__)

#: The optional Flyte secret with the registry's push credentials (``username`` and ``password`` keys).
REGISTRY_SECRET_GROUP = "registry"
#: Overrides the bucket packages are stored in (default: the first domain's raw-data bucket).
PACKAGE_BUCKET_ENV = "TAXIWAY_PACKAGE_BUCKET"
DOCKER_TIMEOUT_S = 900


@contextmanager
def recoverable() -> Iterator[None]:
    """Re-raise Taxiway's transient errors as ``FlyteRecoverableException`` so that ``retries=`` applies."""
    try:
        yield
    except TransientError as err:
        raise FlyteRecoverableException(str(err)) from err


def registry_auth() -> dict[str, str] | None:
    """Push credentials from the optional ``registry`` Flyte secret; None when it is not mounted."""
    secrets = flytekit.current_context().secrets
    try:
        username = secrets.get(REGISTRY_SECRET_GROUP, "username")
        password = secrets.get(REGISTRY_SECRET_GROUP, "password")
    except ValueError:
        # Flyte's message names where it looked, never a value: an unauthenticated registry is fine.
        logger.debug("registry secret %s not mounted; pushing without credentials", REGISTRY_SECRET_GROUP)
        return None
    return {"username": username, "password": password}


def registry_client(auth_config: dict[str, str] | None) -> RegistryClient:
    """A registry client over a fresh HTTP session."""
    return RegistryClient(requests.Session(), auth_config)


def docker_client() -> docker.DockerClient:
    """The Docker engine ``DOCKER_HOST`` names (the local socket by default).

    :raises BuilderUnavailable: if it does not answer.
    """
    try:
        return docker.from_env(timeout=DOCKER_TIMEOUT_S)
    except docker.errors.DockerException as err:
        raise BuilderUnavailable(
            f"Docker engine does not answer: {err}", where=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        ) from err


def s3_client() -> Any:
    """A boto3 S3 client for the blob store Flyte uses (``AWS_ENDPOINT_URL`` or ``FLYTE_AWS_ENDPOINT``)."""
    env = os.environ
    return boto3.client(
        "s3",
        endpoint_url=env.get("AWS_ENDPOINT_URL") or env.get("FLYTE_AWS_ENDPOINT") or None,
        aws_access_key_id=env.get("FLYTE_AWS_ACCESS_KEY_ID") or env.get("AWS_ACCESS_KEY_ID") or None,
        aws_secret_access_key=env.get("FLYTE_AWS_SECRET_ACCESS_KEY") or env.get("AWS_SECRET_ACCESS_KEY") or None,
        region_name=env.get("AWS_DEFAULT_REGION") or "us-east-1",
    )


def package_bucket(raw_data_prefix: str) -> str:
    """Where packages are stored: ``$TAXIWAY_PACKAGE_BUCKET``, else the bucket of ``raw_data_prefix``.

    :raises InvalidConfig: if neither names an S3 bucket.
    """
    bucket = os.environ.get(PACKAGE_BUCKET_ENV, "")
    if bucket:
        return bucket
    parts = urlsplit(raw_data_prefix)
    if parts.scheme != "s3" or not parts.netloc:
        raise InvalidConfig(
            f"cannot tell where to store the release package from raw_data_prefix {raw_data_prefix!r}",
            where="domains[0].raw_data_prefix",
            fix=f"use an s3:// raw_data_prefix for the first domain, or set ${PACKAGE_BUCKET_ENV}",
        )
    return parts.netloc
