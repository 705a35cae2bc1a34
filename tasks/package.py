"""Flyte task that serializes the release's entities once (logic: :mod:`tasks.core.package`).

Serialization runs inside the pipeline's own image (it has the pipeline's dependencies), as
``pyflyte package --fast`` does; the archive is stored content-addressed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flytekit import task

from tasks.build import BuildResult
from tasks.clients import docker_client, package_bucket, recoverable, registry_auth, s3_client
from tasks.core import package as core_package
from tasks.core.config import load_pipeline_config
from tasks.core.records import PackageRef
from tasks.source import Checkout

logger = logging.getLogger(__name__)


@task(retries=2, cache=False)
def package_release(checkout: Checkout, build: BuildResult) -> PackageRef:
    """Serialize the pipeline's tasks, workflows and launch plans with its code bundle, inside its image.

    The package is stored under its content hash in ``$TAXIWAY_PACKAGE_BUCKET``, or else in the bucket
    of the first domain's raw data prefix.

    :param checkout: the pipeline's source at the release commit.
    :param build: the images the entities reference.
    :returns: the stored package and its content hash.
    """
    root = Path(checkout.directory.download())
    config = load_pipeline_config(root / checkout.config_path)
    bucket = package_bucket(config.domains[0].raw_data_prefix)
    with recoverable():
        package = core_package.package_release(
            root, config, build.images, docker_client=docker_client(), s3_client=s3_client(), bucket=bucket,
            auth_config=registry_auth(),
        )  # fmt: skip
    logger.info("package stored version=%s uri=%s entities=%d", checkout.version, package.uri, package.entity_count)
    return package
