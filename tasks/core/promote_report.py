"""How a promotion, rollback or nightly run is reported: Slack step reports and Deck HTML from its records.

Pure functions from the records of :mod:`tasks.core.promote` (``PromotionRecord``), :mod:`tasks.core.validate`
(``ValidationReport``) and :mod:`tasks.core.promote_rollback` (``RollbackRecord``) to the run records of
:mod:`tasks.core.notify_records` that :class:`~tasks.core.notify.ReleaseNotifier` and
:mod:`tasks.core.report` render. No Flyte runtime and no Slack client here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tasks.core import report
from tasks.core.notify_records import (
    PROMOTE_STEPS,
    Detail,
    LaunchPlanChange,
    Link,
    MetricCheck,
    PromotionDiff,
    RunFailure,
    RunInfo,
    StepReport,
    ValidationSummary,
)
from tasks.core.promote import Approval, PromotionRecord
from tasks.core.promote_rollback import RollbackRecord
from tasks.core.validate import CaseResult, ValidationReport
from tasks.core.vocabulary import Event, Phase, RunStep, Verdict

ROLLBACK_STEPS: tuple[RunStep, ...] = (RunStep.STARTED, RunStep.ROLLED_BACK)
NIGHTLY_STEPS: tuple[RunStep, ...] = (RunStep.STARTED, RunStep.PROMOTED)

#: ``metrics.accuracy >= 0.8``: the numeric comparisons that become a metric row and a bar in the plot.
_COMPARISON = re.compile(r"\s*(?P<subject>[\w.\[\]-]+)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<threshold>\S+)\s*")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def metric_checks(case: CaseResult) -> tuple[MetricCheck, ...]:
    """The case's numeric expectations as metrics against thresholds (``exists``, strings and the like are left out)."""
    metrics: list[MetricCheck] = []
    for check in case.checks:
        match = _COMPARISON.fullmatch(check.expectation)
        value = _number(check.value)
        threshold = _number(match["threshold"]) if match else None
        if match is None or value is None or threshold is None:
            continue
        metrics.append(MetricCheck(match["subject"], value, match["op"], threshold, check.passed))
    return tuple(metrics)


def validation_summaries(validation: ValidationReport) -> tuple[ValidationSummary, ...]:
    """One summary per validation case: phase, verdict, metrics, execution link and duration."""
    return tuple(
        ValidationSummary(
            case.case,
            validation.domain,
            case.phase,
            case.verdict if case.phase.is_terminal else None,
            metric_checks(case),
            Link(case.execution_id, case.console_url),
            case.duration_seconds,
        )
        for case in validation.cases
    )


def promotion_diff(record: PromotionRecord) -> PromotionDiff:
    """The launch plans whose active version the promotion changed (nothing changes when it failed)."""
    before: dict[str, str] = {}
    for entry in record.deactivated:
        name, _, version = entry.rpartition("@")
        before[name] = version
    changes = [LaunchPlanChange(name, before.get(name, ""), record.version) for name in record.activated]
    changes += [
        LaunchPlanChange(name, version, "(deactivated)")
        for name, version in sorted(before.items())
        if name not in record.activated
    ]
    return PromotionDiff(record.from_domain, record.to_domain, record.version, record.previous_version,
                         tuple(changes), record.approved_by)  # fmt: skip


def promotion_run(
    pipeline: str, version: str, from_domain: str, to_domain: str, execution: Link, git_sha: str = ""
) -> RunInfo:
    """The ``promote`` run reported in Slack and the Deck."""
    return RunInfo("promote", pipeline, version, to_domain, execution, git_sha, from_domain, PROMOTE_STEPS)


def approval_report(approval: Approval, requires_approval: bool) -> StepReport:
    """The approval step: who approved, or that the domain needs no approval."""
    if not requires_approval or not approval.approved_by:
        return StepReport(Event.APPROVAL_GRANTED, summary="no approval required in this domain")
    details = tuple(Detail(vote.person or vote.identity, f"{vote.verdict} at {vote.at}") for vote in approval.decisions)
    return StepReport(Event.APPROVAL_GRANTED, f"approved by {approval.approved_by} at {approval.approved_at}", details)


def validation_report(validation: ValidationReport) -> StepReport:
    """The validation step: verdict, one detail per case, every metric against its threshold, execution links."""
    event = Event.VALIDATION_SUCCEEDED if validation.passed else Event.VALIDATION_FAILED
    summaries = validation_summaries(validation)
    passed = sum(1 for case in validation.cases if case.verdict is Verdict.PASSED)
    details = tuple(
        Detail(case.case, f"{case.phase.value} · {case.verdict.value}" + (f" · {case.error}" if case.error else ""))
        for case in validation.cases
    )
    return StepReport(
        event,
        f"validation in {validation.domain}: {passed}/{len(validation.cases)} cases passed",
        details,
        tuple(metric for summary in summaries for metric in summary.metrics),
        tuple(summary.execution for summary in summaries if summary.execution is not None),
    )


def promotion_reports(record: PromotionRecord) -> list[StepReport]:
    """The steps a promotion record reports, in order: registered, validated, promoted (or failed)."""
    reports: list[StepReport] = []
    if record.registration is not None:
        registration = record.registration
        reports.append(
            StepReport(
                Event.RELEASE_REGISTERED,
                f"registered {registration.project}/{registration.domain} version {registration.version}: "
                f"{registration.created_count} created, "
                f"{len(registration.entities) - registration.created_count} already existed",
            )
        )
    if record.validation is not None:
        reports.append(validation_report(record.validation))
    if record.phase is Phase.SUCCEEDED:
        diff = promotion_diff(record)
        details = tuple(Detail(change.name, f"{change.before or '—'} → {change.after}") for change in diff.changes)
        summary = f"{record.version} is active in {record.to_domain}" + (
            f" (was {record.previous_version})" if record.previous_version else ""
        )
        reports.append(StepReport(Event.PROMOTION_SUCCEEDED, summary, details))
    else:
        reports.append(StepReport(Event.PROMOTION_FAILED, record.reason or f"promotion {record.phase.value}"))
    return reports


def promotion_deck(run: RunInfo, record: PromotionRecord) -> str:
    """The promotion's Deck page: release, registrations, validation (table and plot), diff, approvals."""
    sections = [report.release_summary(run)]
    if record.registration is not None:
        sections.append(report.registrations_table([record.registration]))
    if record.validation is not None:
        sections.append(report.validation_results(validation_summaries(record.validation)))
    sections.append(report.promotion_diff(promotion_diff(record)))
    sections.append(report.approvals_table(record.approved_by, record.approved_at, record.approvals))
    sections.append(report.steps_table(promotion_reports(record)))
    title = f"promotion {record.pipeline} {record.version} {record.from_domain} → {record.to_domain}"
    return report.report_page(title, record.phase, *sections)


def rollback_run(pipeline: str, domain: str, version: str, execution: Link) -> RunInfo:
    """The ``rollback`` run reported in Slack and the Deck (``version`` is the one rolled back to, or "")."""
    return RunInfo("rollback", pipeline, version or "(previous)", domain, execution, steps=ROLLBACK_STEPS)


def rollback_report(record: RollbackRecord) -> StepReport:
    """The rollback step: from and to versions, launch plans re-activated and deactivated."""
    event = Event.ROLLBACK_SUCCEEDED if record.phase is Phase.SUCCEEDED else Event.ROLLBACK_FAILED
    details = (
        Detail("from", record.from_version or "—"),
        Detail("to", record.to_version or "—"),
        Detail("activated", ", ".join(record.activated) or "—"),
        Detail("deactivated", ", ".join(record.deactivated) or "—"),
    )
    summary = record.reason or f"{record.domain} rolled back from {record.from_version} to {record.to_version}"
    return StepReport(event, summary, details)


def rollback_deck(run: RunInfo, record: RollbackRecord) -> str:
    """The rollback's Deck page: the run and the launch-plan changes."""
    before = {entry.rpartition("@")[0]: entry.rpartition("@")[2] for entry in record.deactivated}
    changes = tuple(LaunchPlanChange(name, before.get(name, ""), record.to_version) for name in record.activated)
    diff = PromotionDiff(record.domain, record.domain, record.to_version, record.from_version, changes)
    return report.report_page(
        f"rollback {record.pipeline} {record.domain}", record.phase,
        report.release_summary(run), report.promotion_diff(diff), report.steps_table([rollback_report(record)]),
    )  # fmt: skip


#: How flytekit's local execution names the failed task in its message (its FlyteError names the failure node).
_LOCAL_TASK = re.compile(r"while executing '(?P<task>[\w.]+)'")


def run_failure(
    failed_node_id: str, message: str, steps_by_node: Mapping[str, RunStep], execution: Link | None
) -> RunFailure:
    """The failure of a run from the ``FlyteError`` its ``on_failure`` handler received.

    ``failed_node_id`` may carry a parent prefix (``n1-0-check-promotion-gate``); the step is that of the
    longest known node name it ends with. A local (in-process) run names the failure node itself (``fn0``):
    then the task named in the message is reported, with the step of the node whose name starts its name.
    """
    node, step = failed_node_id, _step_of(failed_node_id, steps_by_node)
    local = _LOCAL_TASK.search(message or "")
    if step is None and local is not None:
        node = local["task"]
        short = node.rpartition(".")[2].replace("_", "-")
        known = [name for name in steps_by_node if short.startswith(name)]
        step = steps_by_node[max(known, key=len)] if known else None
    return RunFailure(node or "unknown node", message or "no error message", step, execution)


def _step_of(failed_node_id: str, steps_by_node: Mapping[str, RunStep]) -> RunStep | None:
    for node in sorted(steps_by_node, key=len, reverse=True):
        if failed_node_id == node or failed_node_id.endswith(f"-{node}"):
            return steps_by_node[node]
    return None
