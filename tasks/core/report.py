"""Deck HTML for a meta-workflow run: pure functions from typed records to escaped HTML sections.

Each function returns one ``<section>``; :func:`report_page` joins them with a small stylesheet.
The ``@task`` layer hands the result to ``flytekit.Deck``. Every piece of text is escaped with
:func:`html.escape`, URLs included, so a crafted name or error message cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Protocol

from tasks.core.notify_records import (
    Link,
    PromotionDiff,
    RolloutSummary,
    RunInfo,
    StepReport,
    ValidationSummary,
)
from tasks.core.records import DomainRegistration, ImageRef, Release
from tasks.core.report_svg import metrics_svg
from tasks.core.vocabulary import Phase, Verdict

STYLE = """<style>
.taxiway section{margin:0 0 1.5em 0;font-family:sans-serif}
.taxiway table{border-collapse:collapse;margin:.4em 0}
.taxiway th,.taxiway td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}
.taxiway th{background:#f5f5f5}
.taxiway .PASSED,.taxiway .SUCCEEDED,.taxiway .built{color:#2e7d32}
.taxiway .FAILED,.taxiway .TIMED_OUT,.taxiway .ABORTED{color:#c62828}
</style>"""

Cell = str | Link | None
_WEB = ("http://", "https://")


def _cell(value: Cell) -> str:
    if value is None:
        return "—"
    if isinstance(value, Link):
        label = escape(value.label)
        # Only web links become anchors: a javascript: or data: URL stays inert text.
        return f'<a href="{escape(value.url)}">{label}</a>' if value.url.startswith(_WEB) else label
    return escape(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Cell]], css_class: str = "") -> str:
    """An HTML table; every cell is escaped (a :class:`Link` becomes an escaped ``<a>``)."""
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    klass = f' class="{escape(css_class)}"' if css_class else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(key: str, title: str, *content: str) -> str:
    return f'<section data-section="{escape(key)}"><h2>{escape(title)}</h2>{"".join(content)}</section>'


def _status(text: str) -> str:
    return f'<span class="{escape(text)}">{escape(text)}</span>'


def release_summary(run: RunInfo, release: Release | None = None) -> str:
    """The release summary: pipeline, version, commit, domains and the run's execution."""
    rows: list[tuple[str, Cell]] = [
        ("pipeline", run.pipeline),
        ("version", run.version),
        ("domain", f"{run.source_domain} → {run.domain}" if run.source_domain else run.domain),
        ("execution", run.execution),
        ("git SHA", (release.git_sha if release else run.git_sha) or None),
    ]
    if release is not None:
        rows += [
            ("project", release.project),
            ("pull request", str(release.pr_number) if release.is_pr else None),
            ("author", release.author or None),
            ("package", release.package.uri),
            ("package content hash", release.package.content_hash),
            ("entities in package", str(release.package.entity_count)),
        ]
    if run.approved_by:
        rows.append(("approved by", run.approved_by))
    return _section("release", f"Release {run.pipeline} {run.version}", table(("", "value"), rows, "summary"))


def steps_table(reports: Sequence[StepReport]) -> str:
    """What each step reported, in order (event, step, phase, summary)."""
    rows = [(report.event.value, report.step.label, report.phase.value, report.summary) for report in reports]
    return _section("steps", "Steps", table(("event", "step", "phase", "summary"), rows, "steps"))


def build_table(images: Sequence[ImageRef]) -> str:
    """What was built and what was skipped because its content-hash tag already existed."""
    rows = [
        (image.repository, image.tag, image.digest, "built" if image.built else "skipped (tag exists)")
        for image in images
    ]
    built = sum(1 for image in images if image.built)
    summary = f"<p>{built} built, {len(images) - built} skipped</p>"
    return _section("build", "Built or skipped", summary, table(("image", "tag", "digest", "result"), rows, "build"))


def registrations_table(registrations: Sequence[DomainRegistration]) -> str:
    """Entities registered per domain: created by this run, or already there (idempotent)."""
    parts: list[str] = []
    for registration in registrations:
        rows = [
            (entity.resource_type, entity.name, "created" if entity.created else "already existed")
            for entity in registration.entities
        ]
        heading = (
            f"<h3>{escape(registration.project)}/{escape(registration.domain)} "
            f"version {escape(registration.version)}: {registration.created_count} created, "
            f"{len(registration.entities) - registration.created_count} already existed</h3>"
        )
        parts.append(heading + table(("type", "name", "result"), rows, "registration"))
    return _section("registrations", "Entities registered per domain", *parts)


def validation_results(results: Sequence[ValidationSummary]) -> str:
    """Validation cases (phase, verdict, execution) and their metrics as a table and an SVG plot."""
    cases = table(
        ("case", "domain", "phase", "verdict", "duration", "execution"),
        [
            (
                result.case,
                result.domain,
                result.phase.value,
                result.verdict.value if result.verdict else None,
                f"{result.duration_seconds:.0f}s",
                result.execution,
            )
            for result in results
        ],
        "validation",
    )
    parts = [cases]
    for result in results:
        if not result.metrics:
            continue
        rows = [
            (metric.name, f"{metric.value:.6g}", metric.operator, f"{metric.threshold:.6g}", _verdict(metric.passed))
            for metric in result.metrics
        ]
        parts.append(f"<h3>{escape(result.case)} in {escape(result.domain)}</h3>")
        parts.append(table(("metric", "value", "check", "threshold", "result"), rows, "metrics"))
        parts.append(metrics_svg(result.metrics))
    return _section("validation", "Validation", *parts)


def validation_skipped(reason: str) -> str:
    """The validation section of a run that did not validate, saying why."""
    return _section("validation", "Validation", f"<p>{escape(reason)}</p>")


def _verdict(passed: bool) -> str:
    return (Verdict.PASSED if passed else Verdict.FAILED).value


def promotion_diff(diff: PromotionDiff) -> str:
    """What the promotion changes in the target domain: active launch-plan versions before and after."""
    summary = table(
        ("", "value"),
        [
            ("from", diff.source_domain),
            ("to", diff.target_domain),
            ("version", diff.version),
            ("previously active", diff.previous_version or None),
            ("approved by", diff.approved_by or None),
        ],
        "summary",
    )
    rows = [(change.name, change.before or None, change.after) for change in diff.changes]
    changes = table(("launch plan", "active before", "active after"), rows, "diff")
    return _section("promotion", f"Promotion {diff.source_domain} → {diff.target_domain}", summary, changes)


class Vote(Protocol):
    """One approval decision (``tasks.core.promote.ApprovalVote``), as the Deck shows it."""

    # Read-only members, so that frozen dataclasses satisfy the protocol.
    @property
    def person(self) -> str: ...
    @property
    def identity(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def at(self) -> str: ...
    @property
    def comment(self) -> str: ...


def approvals_table(approved_by: str, approved_at: str, votes: Sequence[Vote] = ()) -> str:
    """Who approved the promotion and when, with every recorded decision (approvals and rejections)."""
    summary = table(
        ("", "value"),
        [("approved by", approved_by or "no approval required"), ("approved at", approved_at or None)],
        "summary",
    )
    rows = [(vote.person or None, vote.identity, vote.verdict, vote.at, vote.comment or None) for vote in votes]
    decisions = table(("person", "identity", "decision", "at", "comment"), rows, "approvals") if rows else ""
    return _section("approvals", "Approvals", summary, decisions)


def rollout_result(rollout: RolloutSummary) -> str:
    """The rollout: target, model, smoke checks and whether it was rolled back."""
    summary = table(
        ("", "value"),
        [
            ("target", rollout.target),
            ("model", rollout.model_name),
            ("model uri", rollout.model_uri),
            ("phase", rollout.phase.value),
            ("rolled back", "yes" if rollout.rolled_back else "no"),
            ("previous model", rollout.previous_model or None),
        ],
        "summary",
    )
    smoke = table(
        ("smoke check", "result", "detail"),
        [(check.name, _verdict(check.passed), check.detail or None) for check in rollout.smoke],
        "smoke",
    )
    return _section("rollout", f"Rollout {rollout.model_name}", summary, smoke)


def report_page(title: str, phase: Phase, *sections: str) -> str:
    """A whole Deck page: title, run phase and the sections, with the stylesheet."""
    return (
        f'{STYLE}<div class="taxiway"><h1>{escape(title)}</h1>'
        f"<p>phase: {_status(phase.value)}</p>{''.join(sections)}</div>"
    )
