"""Flyte tasks that find the release a promotion, rollback or nightly run works on (logic:
:mod:`tasks.core.promote_releases`): by ``ci-<version>``, else by scanning succeeded ``ci_pipeline`` runs."""

from __future__ import annotations

import logging
from pathlib import Path

from flytekit import task
from flytekit.exceptions.user import FlyteRecoverableException
from flytekit.types.file import FlyteFile

from tasks.core.config import parse_pipeline_config
from tasks.core.errors import SourceNotFound, TransientError
from tasks.core.promote_releases import FoundRelease, find_latest_release, find_release
from tasks.validate import ReleaseContext, meta_remote, remotes

logger = logging.getLogger(__name__)


def release_context(found: FoundRelease | None, pipeline: str, what: str, config: FlyteFile | None) -> ReleaseContext:
    """The context of a found release (with ``config`` instead of its own taxiway.yaml when given).

    :raises SourceNotFound: when nothing was found for ``pipeline``.
    """
    if found is None or found[0].pipeline != pipeline:
        raise SourceNotFound(
            f"{what} of pipeline {pipeline}: no succeeded ci_pipeline execution built it",
            fix="build the release with ci_pipeline first (`taxiway status` lists the versions per domain)",
        )
    release, config_text = found
    source = f"ci-{release.version}:taxiway.yaml"
    if config is not None:
        config_text, source = Path(config.download()).read_text(), str(config.remote_source or config.path)
    parse_pipeline_config(config_text, source)  # fail here, with every problem listed, not mid-promotion
    return ReleaseContext(release, config_text, source)


@task(retries=3, cache=False)
def locate_release(pipeline: str, version: str, config: FlyteFile | None = None) -> ReleaseContext:
    """Find a release by version: the output of the ``ci_pipeline`` execution that built it (Flyte is the record).

    :param pipeline: the pipeline name (checked against the release).
    :param version: the release version, e.g. ``0123456789ab``.
    :param config: a taxiway.yaml to use instead of the one the release was built with.
    """
    try:
        found = find_release(meta_remote(remotes()), version)
    except TransientError as err:
        raise FlyteRecoverableException(str(err)) from err
    return release_context(found, pipeline, f"unknown version {version!r}", config)


@task(retries=3, cache=False)
def locate_pipeline(pipeline: str, config: FlyteFile | None = None) -> ReleaseContext:
    """The pipeline's newest release and taxiway.yaml (for rollback and the nightly choice).

    :param pipeline: the pipeline name.
    :param config: a taxiway.yaml to use instead of the newest release's.
    """
    try:
        found = find_latest_release(meta_remote(remotes()), pipeline)
    except TransientError as err:
        raise FlyteRecoverableException(str(err)) from err
    return release_context(found, pipeline, "no release", config)
