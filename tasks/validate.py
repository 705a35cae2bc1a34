"""Flyte tasks that find a release and validate it in a domain (logic: :mod:`tasks.core.validate`)."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import flytekit
from flytekit import task
from flytekit.exceptions.user import FlyteEntityNotExistException, FlyteRecoverableException
from flytekit.models.admin.common import Sort
from flytekit.remote import FlyteRemote
from flytekit.types.file import FlyteFile

from tasks.core import report
from tasks.core.config import PipelineConfig, parse_pipeline_config
from tasks.core.errors import SourceNotFound, TransientError
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.promote import validation_request
from tasks.core.promote_flyte import FlyteExecutions
from tasks.core.promote_outputs import literal_to_python
from tasks.core.promote_report import validation_summaries
from tasks.core.records import Release
from tasks.core.validate import ValidationReport, run_validation
from tasks.core.vocabulary import Phase

logger = logging.getLogger(__name__)

#: ``ci_pipeline`` executions are named ``ci-<version>`` (see meta_workflows/ci.py).
CI_EXECUTION_PREFIX = "ci-"
CI_WORKFLOW = "meta_workflows.ci.ci_pipeline"
#: ``ci_pipeline``'s source node; executions from before its nodes were named call it ``n0``.
CI_SOURCE_NODE = "fetch-source"
CI_SOURCE_NODE_BEFORE_NAMES = "n0"


@dataclass(frozen=True)
class ReleaseContext:
    """A release and the taxiway.yaml (text) whose domains and validation cases apply to it."""

    release: Release
    config_yaml: str
    config_source: str

    def config(self) -> PipelineConfig:
        return parse_pipeline_config(self.config_yaml, self.config_source)


def remotes() -> FlyteRemotes:
    """One FlyteRemote per domain, from the settings Flyte injects into the task's environment."""
    return FlyteRemotes(FlyteSettings.from_env(os.environ))


def meta_remote(all_remotes: FlyteRemotes) -> FlyteRemote:
    """The remote of the project and domain this task's execution runs in (where the meta-workflows live)."""
    execution = flytekit.current_context().execution_id
    return all_remotes.for_domain(execution.project, execution.domain)


def find_release(remote: FlyteRemote, version: str) -> tuple[Release, str] | None:
    """The Release output of execution ``ci-<version>`` and its taxiway.yaml text, or None."""
    try:
        execution = remote.fetch_execution(name=f"{CI_EXECUTION_PREFIX}{version}")
    except FlyteEntityNotExistException:
        return None
    execution = remote.sync_execution(execution, sync_nodes=True)
    if not execution.is_successful:
        return None
    release = execution.outputs.get("o0", as_type=Release)
    # The source node (fetch_source) returned the Checkout: its uploaded pipeline directory holds taxiway.yaml.
    # Read structurally so this module does not import the @task module that defines Checkout.
    nodes = execution.node_executions
    source_node = nodes.get(CI_SOURCE_NODE) or nodes[CI_SOURCE_NODE_BEFORE_NAMES]
    checkout = literal_to_python(source_node.outputs.literals["o0"].to_flyte_idl())
    directory = checkout["directory"]
    uri = f"{directory['path'] if isinstance(directory, dict) else directory}/{checkout['config_path']}"
    with tempfile.TemporaryDirectory(prefix="taxiway-config-") as workdir:
        local = Path(workdir) / "taxiway.yaml"
        remote.file_access.get_data(uri, str(local))
        config_text = local.read_text()
    return release, config_text


def find_latest_release(remote: FlyteRemote, pipeline: str) -> tuple[Release, str] | None:
    """The newest succeeded ``ci_pipeline`` execution's release of ``pipeline`` and its taxiway.yaml."""
    from flytekit.models.filters import Filter

    executions, _ = remote.client.list_executions_paginated(
        remote.default_project, remote.default_domain, limit=50,
        filters=[Filter.from_python_std(f"eq(workflow.name,{CI_WORKFLOW})"), Filter.from_python_std("eq(phase,SUCCEEDED)")],  # noqa: E501
        sort_by=Sort("created_at", Sort.Direction.DESCENDING),
    )  # fmt: skip
    for execution in executions:
        name = execution.id.name
        if name.startswith(CI_EXECUTION_PREFIX):
            found = find_release(remote, name.removeprefix(CI_EXECUTION_PREFIX))
            if found is not None and found[0].pipeline == pipeline:
                return found
    return None


def _context(found: tuple[Release, str] | None, pipeline: str, what: str, config: FlyteFile | None) -> ReleaseContext:
    if found is None or found[0].pipeline != pipeline:
        raise SourceNotFound(
            f"{what} of pipeline {pipeline}: no succeeded ci_pipeline execution (ci-<version>) for it",
            fix="build the release with ci_pipeline first (`taxiway status` lists the versions per domain)",
        )
    release, config_text = found
    source = f"ci-{release.version}:taxiway.yaml"
    if config is not None:
        config_text, source = Path(config.download()).read_text(), str(config.remote_source or config.path)
    parse_pipeline_config(config_text, source)  # fail here, with every problem listed, not mid-promotion
    return ReleaseContext(release, config_text, source)


@task(retries=3, cache=False)
def locate_pipeline(pipeline: str, config: FlyteFile | None = None) -> ReleaseContext:
    """The pipeline's newest release and taxiway.yaml (for rollback and the nightly choice).

    :param pipeline: the pipeline name.
    :param config: a taxiway.yaml to use instead of the one the release was built with.
    """
    try:
        found = find_latest_release(meta_remote(remotes()), pipeline)
    except TransientError as err:
        raise FlyteRecoverableException(str(err)) from err
    return _context(found, pipeline, "no release", config)


@task(retries=3, cache=False)
def locate_release(pipeline: str, version: str, config: FlyteFile | None = None) -> ReleaseContext:
    """Find a release by version: the output of its ``ci-<version>`` execution (Flyte is the record).

    :param pipeline: the pipeline name (checked against the release).
    :param version: the release version, e.g. ``0123456789ab``.
    :param config: a taxiway.yaml to use instead of the one the release was built with.
    """
    try:
        found = find_release(meta_remote(remotes()), version)
    except TransientError as err:
        raise FlyteRecoverableException(str(err)) from err
    return _context(found, pipeline, f"unknown version {version!r}", config)


@task(retries=3, cache=False, enable_deck=True)
def validate_release(context: ReleaseContext, domain: str) -> ValidationReport:
    """Run the release's validation cases in ``domain`` (re-runs reuse the executions) and report.

    :param context: the release and its taxiway.yaml.
    :param domain: where to validate, e.g. ``development``.
    """
    return _validate(context, domain)


@task(retries=3, cache=False, enable_deck=True)
def validate_in_first_domain(context: ReleaseContext, enabled: bool = True) -> ValidationReport | None:
    """Run the release's validation cases in the first domain of the promotion order (``ci_pipeline``'s
    validation); the same executions, names and checks as :func:`validate_release` there, so a promotion
    out of that domain finds this evidence. Returns None, doing nothing, when ``enabled`` is False.

    :param context: the release and its taxiway.yaml.
    :param enabled: False skips validation (e.g. a FlyteAdmin that registers but does not execute).
    """
    domain = context.config().domains[0].name
    if not enabled:
        logger.info("validation skipped release=%s domain=%s (enabled=False)", context.release.version, domain)
        return None
    return _validate(context, domain)


def _validate(context: ReleaseContext, domain: str) -> ValidationReport:
    config, release = context.config(), context.release
    all_remotes = remotes()
    executions = FlyteExecutions(lambda name: all_remotes.for_domain(config.project, name))
    try:
        validation = run_validation(validation_request(config, release.version, domain), executions)
    except TransientError as err:
        raise FlyteRecoverableException(str(err)) from err
    phase = Phase.SUCCEEDED if validation.passed else Phase.FAILED
    page = report.report_page(f"validation {config.pipeline} {release.version} in {domain}", phase,
                              report.validation_results(validation_summaries(validation)))  # fmt: skip
    flytekit.Deck("validation", page)
    return validation
