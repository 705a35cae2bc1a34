"""Flyte tasks that report promotions, rollbacks and nightly runs to Slack (logic: :mod:`tasks.core.promote_report`).

Each run posts one Slack message to its target domain's channel, updated in place and threaded
(started → approved → registered → validated → promoted, or failed). The ``*_failed`` tasks are the
meta-workflows' ``on_failure`` handlers: they take the workflow's inputs plus the ``FlyteError`` and
post a failure message naming the failed node and linking the execution. None of these tasks fails
because of Slack (see :mod:`tasks.notify`), and a failure handler never raises at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from flytekit import task
from flytekit.types.error import FlyteError
from flytekit.types.file import FlyteFile

from tasks.core.config import PipelineConfig, parse_pipeline_config
from tasks.core.notify import SlackThread
from tasks.core.notify_records import Link, RunInfo, StepReport
from tasks.core.promote import Approval, PromotionRecord
from tasks.core.promote_releases import find_latest_release, find_release
from tasks.core.promote_report import (
    NIGHTLY_STEPS,
    approval_report,
    promotion_reports,
    promotion_run,
    rollback_report,
    rollback_run,
    run_failure,
)
from tasks.core.promote_rollback import RollbackRecord
from tasks.core.vocabulary import Event, RunStep
from tasks.notify import DEFAULT_TOKEN_SECRET, SlackTarget, execution_link, notifier
from tasks.promote import PromotionCheck
from tasks.validate import ReleaseContext, meta_remote, remotes

logger = logging.getLogger(__name__)

#: The node names of ``promote_pipeline`` (``with_overrides(node_name=...)``) and the step each belongs to.
PROMOTE_NODES: dict[str, RunStep] = {
    "locate-release": RunStep.STARTED,
    "report-started": RunStep.STARTED,
    "check-promotion-gate": RunStep.PROMOTED,  # a refusal is PromotionRefused, a promotion step
    "request-approval": RunStep.APPROVED,
    "await-approval": RunStep.APPROVED,
    "report-approval": RunStep.APPROVED,
    "apply-promotion": RunStep.PROMOTED,
    "report-promotion": RunStep.PROMOTED,
}
ROLLBACK_NODES: dict[str, RunStep] = {
    "locate-pipeline": RunStep.STARTED,
    "report-started": RunStep.STARTED,
    "rollback": RunStep.ROLLED_BACK,
    "report-rollback": RunStep.ROLLED_BACK,
}
NIGHTLY_NODES: dict[str, RunStep] = {
    "locate-pipeline": RunStep.STARTED,
    "choose-nightly": RunStep.STARTED,
    "report-choice": RunStep.STARTED,
    "promote-if-chosen": RunStep.PROMOTED,
}


@dataclass(frozen=True)
class RunReport:
    """A run's Slack target, the run itself and its Slack thread, passed from one report to the next.

    :param target: the channel and secret name for the run's domain.
    :param run: the run being reported.
    :param thread: where its message is, after the last notification.
    """

    target: SlackTarget
    run: RunInfo
    thread: SlackThread


def _post(report: RunReport, *steps: StepReport) -> RunReport:
    thread, slack = report.thread, notifier(report.target)
    for step in steps:
        thread = slack.step(thread, report.run, step).thread
    return replace(report, thread=thread)


def _from_domain(config: PipelineConfig, to_domain: str) -> str:
    previous = config.previous_domain(to_domain)
    return previous.name if previous is not None else ""


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def report_promotion_started(context: ReleaseContext, to_domain: str) -> RunReport:
    """Post the promotion's Slack message in ``to_domain``'s channel (pipeline, version, domains, execution).

    :param context: the release and its taxiway.yaml.
    :param to_domain: the domain being promoted into.
    """
    config, release = context.config(), context.release
    run = promotion_run(config.pipeline, release.version, _from_domain(config, to_domain), to_domain,
                        execution_link(), release.git_sha)  # fmt: skip
    target = SlackTarget.for_domain(config, to_domain)
    delivery = notifier(target).started(run)
    return RunReport(target, run, delivery.thread)


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def report_approval(report: RunReport, check: PromotionCheck, approval: Approval) -> RunReport:
    """Report who approved (or that no approval was needed); the message shows the approver from now on.

    :param report: the run's report so far.
    :param check: the promotion the gate let through.
    :param approval: the approval record.
    """
    approved = replace(report, run=report.run.with_approval(approval.approved_by))
    return _post(approved, approval_report(approval, check.requires_approval))


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def report_promotion(report: RunReport, record: PromotionRecord) -> RunReport:
    """Report registration, validation (metrics against thresholds) and the promotion's outcome.

    :param report: the run's report so far.
    :param record: what the promotion did.
    """
    return _post(report, *promotion_reports(record))


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def report_rollback_started(context: ReleaseContext, domain: str, to_version: str = "") -> RunReport:
    """Post the rollback's Slack message in ``domain``'s channel.

    :param context: any release of the pipeline (for its taxiway.yaml).
    :param domain: the domain being rolled back.
    :param to_version: the release asked for ("" for the previous validated one).
    """
    config = context.config()
    run = rollback_run(config.pipeline, domain, to_version, execution_link())
    target = SlackTarget.for_domain(config, domain)
    return RunReport(target, run, notifier(target).started(run).thread)


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def report_rollback(report: RunReport, record: RollbackRecord) -> RunReport:
    """Report the rollback's outcome: from and to versions, launch plans re-activated and deactivated.

    :param report: the run's report so far.
    :param record: what the rollback did.
    """
    return _post(replace(report, run=replace(report.run, version=record.to_version)), rollback_report(record))


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def report_nightly_choice(context: ReleaseContext, to_domain: str, version: str) -> RunReport:
    """Post the nightly run's message: the release it promotes (its promotion reports in its own thread), or none.

    :param context: the pipeline's newest release and taxiway.yaml.
    :param to_domain: the domain the nightly promotes into.
    :param version: the chosen release, "" when there is nothing to promote.
    """
    config = context.config()
    run = RunInfo("nightly", config.pipeline, version or "(none)", to_domain, execution_link(),
                  source_domain=_from_domain(config, to_domain), steps=NIGHTLY_STEPS)  # fmt: skip
    target = SlackTarget.for_domain(config, to_domain)
    slack = notifier(target)
    thread = slack.started(run).thread
    if not version:
        summary = f"nothing to promote into {to_domain}: no newer release validated before it (or the domain waits)"
        return RunReport(target, run, slack.step(thread, run, StepReport(Event.RUN_STARTED, summary)).thread)
    started = StepReport(Event.PROMOTION_STARTED, f"promoting {version} into {to_domain} (promote_pipeline)")
    return RunReport(target, run, slack.step(thread, run, started).thread)


def _config(config: FlyteFile | None, pipeline: str, version: str = "") -> PipelineConfig:
    """taxiway.yaml: the one given, else the release's (``version``) or the newest release's."""
    if config is not None:
        return parse_pipeline_config(Path(config.download()).read_text(), str(config.remote_source or config.path))
    remote = meta_remote(remotes())
    found = find_release(remote, version) if version else find_latest_release(remote, pipeline)
    if found is None:
        raise LookupError(f"no succeeded ci_pipeline execution of {pipeline} {version} to read taxiway.yaml from")
    return parse_pipeline_config(found[1], f"ci-{found[0].version}:taxiway.yaml")


def _report_failure(
    config_of: Callable[[], PipelineConfig], run_of: Callable[[PipelineConfig, Link], RunInfo], domain: str,
    nodes: dict[str, RunStep], err: FlyteError | None,
) -> None:  # fmt: skip
    """Post the failure; anything going wrong here is logged (the workflow fails with its own error anyway)."""
    failed_node, message = (err.failed_node_id, err.message) if err is not None else ("", "")
    try:
        link = execution_link()
        config = config_of()
        run = run_of(config, link)
        failure = run_failure(failed_node, message, nodes, link)
        delivery = notifier(SlackTarget.for_domain(config, domain)).failed(SlackThread(), run, failure)
        logger.info("%s reported failed_node=%s status=%s", Event.RUN_FAILED, failed_node, delivery.status)
    except Exception as error:  # a failure handler must not add a second error to the execution
        logger.warning("the failure of node %s was not reported to Slack: %s: %s", failed_node,
                       type(error).__name__, error)  # fmt: skip


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def promotion_failed(
    pipeline: str, version: str, to_domain: str, override_reason: str = "", config: FlyteFile | None = None,
    err: FlyteError | None = None,
) -> None:  # fmt: skip
    """``promote_pipeline``'s failure handler: post a failure message naming the failed step and node.

    :param pipeline: the workflow's input.
    :param version: the workflow's input.
    :param to_domain: the workflow's input.
    :param override_reason: the workflow's input.
    :param config: the workflow's input.
    :param err: the error of the node that failed (Flyte binds it).
    """

    def run_of(taxiway: PipelineConfig, link: Link) -> RunInfo:
        return promotion_run(pipeline, version, _from_domain(taxiway, to_domain), to_domain, link)

    _report_failure(lambda: _config(config, pipeline, version), run_of, to_domain, PROMOTE_NODES, err)


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def rollback_failed(
    pipeline: str, domain: str, to_version: str = "", config: FlyteFile | None = None, err: FlyteError | None = None
) -> None:
    """``rollback_pipeline``'s failure handler: post a failure message naming the failed step and node.

    :param pipeline: the workflow's input.
    :param domain: the workflow's input.
    :param to_version: the workflow's input.
    :param config: the workflow's input.
    :param err: the error of the node that failed (Flyte binds it).
    """
    run_of = lambda _taxiway, link: rollback_run(pipeline, domain, to_version, link)  # noqa: E731
    _report_failure(lambda: _config(config, pipeline), run_of, domain, ROLLBACK_NODES, err)


@task(secret_requests=[DEFAULT_TOKEN_SECRET], cache=False)
def nightly_failed(
    pipeline: str, to_domain: str = "staging", config: FlyteFile | None = None, err: FlyteError | None = None
) -> None:
    """``nightly_promotion``'s failure handler: post a failure message naming the failed step and node.

    :param pipeline: the workflow's input.
    :param to_domain: the workflow's input.
    :param config: the workflow's input.
    :param err: the error of the node that failed (Flyte binds it).
    """

    def run_of(taxiway: PipelineConfig, link: Link) -> RunInfo:
        source = _from_domain(taxiway, to_domain)
        return RunInfo("nightly", pipeline, "(nightly)", to_domain, link, source_domain=source, steps=NIGHTLY_STEPS)

    _report_failure(lambda: _config(config, pipeline), run_of, to_domain, NIGHTLY_NODES, err)
