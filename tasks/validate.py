"""Flyte tasks that validate a release in a domain (logic: :mod:`tasks.core.validate`).

Releases are found by :mod:`tasks.promote_locate`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import flytekit
from flytekit import task
from flytekit.exceptions.user import FlyteRecoverableException
from flytekit.remote import FlyteRemote

from tasks.core import report
from tasks.core.config import PipelineConfig, parse_pipeline_config
from tasks.core.errors import TransientError
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.promote import validation_request
from tasks.core.promote_flyte import FlyteExecutions
from tasks.core.promote_report import validation_summaries
from tasks.core.records import Release
from tasks.core.validate import ValidationReport, run_validation
from tasks.core.vocabulary import Phase

logger = logging.getLogger(__name__)


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
