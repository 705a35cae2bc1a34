"""Block Kit for a run's Slack message and its thread replies: pure functions of the run records.

The run's *main message* shows the run (pipeline, version, domain, execution link, who approved)
and a progress line of its steps; it is posted once and then updated in place. Each step adds a
*thread reply* with what the step did (details, validation metrics, links). Everything a user
could have typed is escaped for mrkdwn and cut to Slack's limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tasks.core.notify_records import Link, MetricCheck, RunFailure, RunInfo, StepReport
from tasks.core.vocabulary import Event, Phase, RunStep

Block = dict[str, Any]

# Slack's limits: header text 150, section text 3000, a field 2000, 10 fields per section.
_HEADER_MAX = 150
_SECTION_MAX = 3000
_FIELD_MAX = 2000
_FIELDS_MAX = 10

_PHASE_EMOJI = {
    Phase.QUEUED: ":white_circle:",
    Phase.RUNNING: ":large_blue_circle:",
    Phase.SUCCEEDED: ":large_green_circle:",
    Phase.FAILED: ":red_circle:",
    Phase.ABORTED: ":black_circle:",
    Phase.TIMED_OUT: ":red_circle:",
}
_MARK_DONE, _MARK_RUNNING, _MARK_FAILED, _MARK_PENDING = (
    ":white_check_mark:",
    ":hourglass_flowing_sand:",
    ":x:",
    ":white_circle:",
)
_OPERATORS = {">=": "≥", "<=": "≤", "!=": "≠"}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def link(target: Link) -> str:
    """A mrkdwn link, or the escaped label alone when there is no URL."""
    label = escape(target.label.replace("|", "/"))
    return f"<{target.url}|{label}>" if target.url.startswith(("http://", "https://")) else label


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": cut(f"*{escape(label)}*\n{value}", _FIELD_MAX)}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, _SECTION_MAX)}}


@dataclass(frozen=True)
class Progress:
    """Where a run stands: the last step done, the step in flight or failed, and the run's phase."""

    done: RunStep | None
    current: RunStep | None
    phase: Phase

    @classmethod
    def of(cls, run: RunInfo, last_done: RunStep | None, report: StepReport | None = None) -> Progress:
        """Progress after ``report`` (or with no new report when None)."""
        if report is None:
            return cls(last_done, None, Phase.RUNNING)
        if report.phase is Phase.SUCCEEDED:
            finished = report.step == run.steps[-1]
            return cls(report.step, None, Phase.SUCCEEDED if finished else Phase.RUNNING)
        run_phase = Phase.RUNNING if not report.phase.is_terminal else Phase.FAILED
        return cls(last_done, report.step, run_phase)

    @classmethod
    def failed(cls, run: RunInfo, last_done: RunStep | None, failure: RunFailure) -> Progress:
        step = failure.step or _next_step(run.steps, last_done)
        return cls(last_done, step, Phase.FAILED)


def _next_step(steps: tuple[RunStep, ...], done: RunStep | None) -> RunStep | None:
    index = steps.index(done) + 1 if done in steps else 0
    return steps[index] if index < len(steps) else None


def progress_line(run: RunInfo, progress: Progress) -> str:
    """``:white_check_mark: started  :hourglass_flowing_sand: built  :white_circle: registered ...``."""
    done_index = run.steps.index(progress.done) if progress.done in run.steps else -1
    marks: list[str] = []
    for index, step in enumerate(run.steps):
        if step == progress.current:
            mark = _MARK_FAILED if progress.phase is Phase.FAILED else _MARK_RUNNING
        elif index <= done_index:
            mark = _MARK_DONE
        else:
            mark = _MARK_PENDING
        marks.append(f"{mark} {step.label}")
    return "  ".join(marks)


def _title(run: RunInfo) -> str:
    return cut(f"{run.workflow} · {run.pipeline} {run.version}", _HEADER_MAX)


def _domain_text(run: RunInfo) -> str:
    if run.source_domain:
        return f"{escape(run.source_domain)} → {escape(run.domain)}"
    return escape(run.domain)


def run_fields(run: RunInfo) -> list[dict[str, str]]:
    """The run's facts as section fields, in the vocabulary's words."""
    fields = [
        _field("pipeline", escape(run.pipeline)),
        _field("version", f"`{escape(run.version)}`"),
        _field("domain", _domain_text(run)),
        _field("execution", link(run.execution)),
    ]
    if run.git_sha:
        fields.append(_field("git SHA", f"`{escape(run.git_sha[:12])}`"))
    if run.approved_by:
        fields.append(_field("approved by", escape(run.approved_by)))
    return fields


def main_message(run: RunInfo, progress: Progress) -> tuple[str, list[Block]]:
    """The run's main message (fallback text, blocks), posted once and updated in place."""
    status = f"{_PHASE_EMOJI[progress.phase]} *{progress.phase.value}*"
    if progress.phase is Phase.FAILED and progress.current is not None:
        status += f" · {progress.current.action} failed"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": _title(run), "emoji": True}},
        _section(status),
        {"type": "section", "fields": run_fields(run)},
        _section(progress_line(run, progress)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Taxiway · updates in the thread"}]},
    ]
    text = f"{run.workflow} {run.pipeline} {run.version} in {run.domain}: {progress.phase.value}"
    return text, blocks


def metric_line(metric: MetricCheck) -> str:
    """``:white_check_mark: `metrics.accuracy` 0.912 ≥ 0.8``."""
    mark = _MARK_DONE if metric.passed else _MARK_FAILED
    operator = escape(_OPERATORS.get(metric.operator, metric.operator))
    return f"{mark} `{escape(metric.name)}` {metric.value:.4g} {operator} {metric.threshold:.4g}"


def _links_block(links: tuple[Link, ...]) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(" · ".join(map(link, links)), 3000)}]}


def step_reply(run: RunInfo, report: StepReport) -> tuple[str, list[Block]]:
    """The thread reply for one step (fallback text, blocks)."""
    heading = f"{_PHASE_EMOJI[report.phase]} *{report.event.value}* · {report.step.label}"
    if report.summary:
        heading += f"\n{escape(report.summary)}"
    blocks: list[Block] = [_section(heading)]
    if report.details:
        fields = [_field(detail.label, escape(detail.value)) for detail in report.details[:_FIELDS_MAX]]
        blocks.append({"type": "section", "fields": fields})
    if report.metrics:
        blocks.append(_section("*validation metrics*\n" + "\n".join(map(metric_line, report.metrics))))
    if report.links:
        blocks.append(_links_block(report.links))
    text = f"{report.event.value}: {run.pipeline} {run.version} {report.step.label} in {run.domain}"
    if report.summary:
        text += f" ({report.summary})"
    return text, blocks


def failure_reply(run: RunInfo, failure: RunFailure, progress: Progress) -> tuple[str, list[Block]]:
    """The thread reply naming the step and node that failed, with the error and its execution."""
    what = f"{progress.current.action} failed" if progress.current else "failed"
    heading = f"{_PHASE_EMOJI[Phase.FAILED]} *{Event.RUN_FAILED.value}* · {what}"
    body = f"{heading}\nnode `{escape(failure.failed_node)}` failed:\n```{escape(cut(failure.error, 2500))}```"
    blocks: list[Block] = [_section(body)]
    links = tuple(item for item in (failure.execution, run.execution) if item is not None)
    if links:
        blocks.append(_links_block(links))
    text = f"{Event.RUN_FAILED.value}: {run.pipeline} {run.version} {what}: node {failure.failed_node}"
    return text, blocks


def standalone(main: tuple[str, list[Block]], reply: tuple[str, list[Block]]) -> tuple[str, list[Block]]:
    """One message holding the run and the step, for an incoming webhook (no threads, no updates)."""
    return reply[0], [*main[1][:-1], {"type": "divider"}, *reply[1]]
