"""A rollout as the Deck and Slack show it: pure functions from the :class:`RolloutRecord` to report records.

``ROLLED_OUT`` and ``NO_OP`` are a ``SUCCEEDED`` run; ``KEPT_PREVIOUS`` (smoke test or load failed,
the previous model still serves) is ``FAILED`` with the reason, reported as ``RolloutFailed``.
"""

from __future__ import annotations

from tasks.core import report
from tasks.core.notify_records import ROLLOUT_STEPS, Detail, Link, RolloutSummary, RunInfo, SmokeCheck, StepReport
from tasks.core.rollout_records import RolloutOutcome, RolloutRecord
from tasks.core.rollout_source import ValidatedModel
from tasks.core.vocabulary import Event, Phase, RunStep

#: The node names of ``release_model`` (``with_overrides(node_name=...)``) and the step each belongs to.
RELEASE_MODEL_NODES: dict[str, RunStep] = {
    "locate-release": RunStep.STARTED,
    "locate-model": RunStep.STARTED,
    "roll-out": RunStep.ROLLED_OUT,
    "report-rollout": RunStep.ROLLED_OUT,
}


def rollout_run(pipeline: str, version: str, domain: str, execution: Link, git_sha: str = "") -> RunInfo:
    """The ``rollout`` run reported in Slack and the Deck (``domain`` is where the model was validated)."""
    return RunInfo("rollout", pipeline, version, domain, execution, git_sha, steps=ROLLOUT_STEPS)


def rollout_phase(record: RolloutRecord) -> Phase:
    """SUCCEEDED when the version serves (rolled out now or before), FAILED when the previous one was kept."""
    return Phase.FAILED if record.outcome is RolloutOutcome.KEPT_PREVIOUS else Phase.SUCCEEDED


def rollout_summary(record: RolloutRecord, model_name: str) -> RolloutSummary:
    """The Deck's rollout section: target, stored model, smoke checks, whether the previous model was kept."""
    smoke = tuple(
        SmokeCheck(result.name, result.passed, result.error or "; ".join(result.checks)) for result in record.smoke
    )
    kept = record.outcome is RolloutOutcome.KEPT_PREVIOUS
    return RolloutSummary(record.target, model_name, record.model_uri, rollout_phase(record), smoke, kept,
                          record.previous_version)  # fmt: skip


def rollout_step(record: RolloutRecord, model: ValidatedModel) -> StepReport:
    """The rolled-out step for Slack's thread: outcome, reason, serving version and where the model came from."""
    event = Event.ROLLOUT_FAILED if record.outcome is RolloutOutcome.KEPT_PREVIOUS else Event.ROLLOUT_SUCCEEDED
    headline = {
        RolloutOutcome.ROLLED_OUT: f"{record.version} now serves on {record.target}",
        RolloutOutcome.NO_OP: f"{record.version} already served on {record.target}: nothing changed",
        RolloutOutcome.KEPT_PREVIOUS: f"{record.previous_version or 'nothing'} keeps serving on {record.target}",
    }[record.outcome]
    details = (
        Detail("outcome", record.outcome.value),
        Detail("serving", record.serving_version or "—"),
        Detail("previous", record.previous_version or "—"),
        Detail("model", record.model_uri),
        Detail("sha256", record.checksum),
        Detail("validation", f"{model.case} in {model.domain}"),
    )
    links = (Link(model.execution_id, model.console_url),) if model.console_url else ()
    return StepReport(event, f"{headline}; {record.reason}" if record.reason else headline, details, links=links)


def rollout_deck(run: RunInfo, record: RolloutRecord, model: ValidatedModel, model_name: str) -> str:
    """The rollout's Deck page: the release, the rollout (target, smoke checks), the model's provenance, the step."""
    provenance = report.table(
        ("", "value"),
        [
            ("validation case", f"{model.case} in {model.domain}"),
            ("execution", Link(model.execution_id, model.console_url) if model.console_url else model.execution_id),
            ("source", model.model_uri),
            ("stored as", record.model_uri),
            ("sha256", record.checksum),
            *((f"metric {name}", f"{value:g}") for name, value in sorted(model.metrics.items())),
        ],
        "summary",
    )
    sections = (
        report.release_summary(run),
        report.rollout_result(rollout_summary(record, model_name)),
        f'<section data-section="model"><h2>Model</h2>{provenance}</section>',
        report.steps_table([rollout_step(record, model)]),
    )
    title = f"rollout {record.pipeline} {record.version} from {model.domain}"
    return report.report_page(title, rollout_phase(record), *sections)
