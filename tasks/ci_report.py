"""Flyte tasks that report a ``ci_pipeline`` run to Slack and in its Deck (logic: :mod:`tasks.core.report_ci`).

The run posts one Slack message in its first domain's channel, updated in place and threaded
(started → built → registered → validated, or failed). :func:`finish_ci` attaches the validation to
the release, renders the run's Deck and fails the run when validation did not pass, after reporting
it. :func:`ci_failed` is the ``on_failure`` handler: it posts a failure message naming the failed node
and its step. None of these tasks fails because of Slack (see :mod:`tasks.notify`).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

import flytekit
from flytekit import task
from flytekit.types.directory import FlyteDirectory
from flytekit.types.error import FlyteError
from flytekit.types.file import FlyteFile

from tasks.core import source as core_source
from tasks.core import versions
from tasks.core.config import PipelineConfig, parse_pipeline_config
from tasks.core.notify import SlackThread
from tasks.core.notify_records import StepReport
from tasks.core.promote_report import run_failure
from tasks.core.records import Release
from tasks.core.report_ci import (
    CI_NODES,
    ci_deck,
    ci_run,
    release_reports,
    reported_in_thread,
    validation_failure,
    validation_outcome,
)
from tasks.core.source_archive import unpack_source_archive
from tasks.core.validate import ValidationReport
from tasks.core.vocabulary import Event
from tasks.notify import DEFAULT_TOKEN_SECRET, SlackTarget, execution_link, notifier
from tasks.promote_report import RunReport
from tasks.source import Checkout
from tasks.validate import ReleaseContext

logger = logging.getLogger(__name__)


def _config_text(checkout: Checkout) -> tuple[str, str]:
    path = Path(checkout.directory.download()) / checkout.config_path
    return path.read_text(), f"ci-{checkout.version}:{checkout.config_path}"


def _config(checkout: Checkout) -> PipelineConfig:
    return parse_pipeline_config(*_config_text(checkout))


def post_steps(report: RunReport, *steps: StepReport) -> RunReport:
    """Report ``steps`` in order in the run's thread; the report with the thread after the last one."""
    thread, slack = report.thread, notifier(report.target)
    for step in steps:
        thread = slack.step(thread, report.run, step).thread
    return replace(report, thread=thread)


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def report_ci_started(checkout: Checkout, validate: bool = True) -> RunReport:
    """Post the ci run's Slack message in the first domain's channel (pipeline, version, commit, execution).

    :param checkout: the release's source, version and taxiway.yaml.
    :param validate: whether the run validates (its progress line then ends at ``validated``).
    """
    config = _config(checkout)
    domain = config.domains[0].name
    run = ci_run(config.pipeline, checkout.version, domain, execution_link(), checkout.source.git_sha, validate)
    target = SlackTarget.for_domain(config, domain)
    return RunReport(target, run, notifier(target).started(run).thread)


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def report_ci_release(report: RunReport, release: Release) -> RunReport:
    """Report what was built or skipped, the package, and the registration into the first domain.

    :param report: the run's report so far.
    :param release: the release record.
    """
    return post_steps(report, *release_reports(release))


@task(cache=False)
def ci_release_context(checkout: Checkout, release: Release) -> ReleaseContext:
    """The release with the taxiway.yaml it was built from: what validation reads its cases from.

    :param checkout: the release's source (holds taxiway.yaml).
    :param release: the release record.
    """
    text, source = _config_text(checkout)
    parse_pipeline_config(text, source)  # fail here, with every problem listed, not mid-validation
    return ReleaseContext(release, text, source)


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False, enable_deck=True)
def finish_ci(report: RunReport, release: Release, validation: ValidationReport | None = None) -> Release:
    """Record the validation in the release, report it and render the run's Deck; a validation that did
    not pass then fails the run with ValidationFailed (listing why each case failed).

    :param report: the run's report so far.
    :param release: the release record.
    :param validation: the validation in the first domain; None when the run skipped it.
    """
    final = replace(release, validation=validation)
    outcome = validation_outcome(validation)
    if outcome is not None:
        post_steps(report, outcome)
    flytekit.Deck("ci", ci_deck(report.run, final, validation))
    if validation is not None and not validation.passed:
        raise validation_failure(final, validation)
    logger.info(
        "%s pipeline=%s version=%s validation=%s",
        Event.RUN_SUCCEEDED, final.pipeline, final.version, validation.verdict if validation else "skipped",
    )  # fmt: skip
    return final


def _resolve_config(
    source: FlyteDirectory | None, git_url: str, git_ref: str, git_sha: str, pipeline_dir: str, pr_number: int,
    config_path: str, source_archive: FlyteFile | None = None,
) -> tuple[PipelineConfig, str, str]:  # fmt: skip
    """taxiway.yaml, the version and the commit, resolved again from the workflow's inputs."""
    with tempfile.TemporaryDirectory(prefix="taxiway-ci-failed-") as workdir:
        upload = Path(source.download()) if source is not None else None
        if source_archive is not None:
            upload, recorded_sha = unpack_source_archive(Path(source_archive.download()), Path(workdir) / "archive")
            git_sha = git_sha or recorded_sha
        ref = core_source.resolve_source(
            Path(workdir), upload=upload, git_url=git_url, git_ref=git_ref, git_sha=git_sha, pr_number=pr_number
        )  # fmt: skip
        root = core_source.pipeline_root(ref, pipeline_dir)
        path = core_source.resolve_inside(root, config_path, what="config_path")
        config = parse_pipeline_config(path.read_text(), str(path))
    return config, versions.release_version(ref.git_sha, ref.pr_number), ref.git_sha


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def ci_failed(
    source: FlyteDirectory | None = None, git_url: str = "", git_ref: str = "", git_sha: str = "",
    pipeline_dir: str = ".", pr_number: int = 0, config_path: str = "taxiway.yaml", validate: bool = True,
    source_archive: FlyteFile | None = None, err: FlyteError | None = None,
) -> None:  # fmt: skip
    """``ci_pipeline``'s failure handler: post a failure message naming the failed step and node.

    A failed validation was reported in the run's own thread already and is not posted twice. Without
    its taxiway.yaml (the source step itself failed) there is no channel to post to: that is logged.

    :param source: the workflow's input.
    :param git_url: the workflow's input.
    :param git_ref: the workflow's input.
    :param git_sha: the workflow's input.
    :param pipeline_dir: the workflow's input.
    :param pr_number: the workflow's input.
    :param config_path: the workflow's input.
    :param validate: the workflow's input.
    :param source_archive: the workflow's input.
    :param err: the error of the node that failed (Flyte binds it).
    """
    failed_node, message = (err.failed_node_id, err.message) if err is not None else ("", "")
    try:
        link = execution_link()
        failure = run_failure(failed_node, message, CI_NODES, link)
        if reported_in_thread(failure):
            logger.info("%s already reported in the run's thread failed_node=%s", Event.RUN_FAILED, failure.failed_node)
            return
        config, version, sha = _resolve_config(
            source, git_url, git_ref, git_sha, pipeline_dir, pr_number, config_path, source_archive
        )
        domain = config.domains[0].name
        run = ci_run(config.pipeline, version, domain, link, sha, validate)
        delivery = notifier(SlackTarget.for_domain(config, domain)).failed(SlackThread(), run, failure)
        logger.info("%s reported failed_node=%s status=%s", Event.RUN_FAILED, failure.failed_node, delivery.status)
    except Exception as error:  # a failure handler must not add a second error to the execution
        logger.warning("the failure of node %s was not reported to Slack: %s: %s", failed_node,
                       type(error).__name__, error)  # fmt: skip
