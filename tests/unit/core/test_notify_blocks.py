"""Block Kit of a run's main message and thread replies, asserted on structure."""

from __future__ import annotations

import json

import pytest

from tasks.core.notify_blocks import Progress, escape, failure_reply, main_message, progress_line, step_reply
from tasks.core.notify_records import (
    PROMOTE_STEPS,
    Detail,
    Link,
    MetricCheck,
    RunFailure,
    RunInfo,
    StepReport,
)
from tasks.core.vocabulary import Event, Phase, RunStep

pytestmark = pytest.mark.unit

CI_RUN = RunInfo(
    workflow="ci",
    pipeline="training",
    version="1a2b3c4d5e6f",
    domain="development",
    execution=Link("ci-1a2b3c4d5e6f", "http://127.0.0.1:30080/console/projects/training/executions/ci-1a2b"),
    git_sha="1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d",
)


def _texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_main_message_carries_the_vocabulary_and_the_execution_link() -> None:
    text, blocks = main_message(CI_RUN, Progress.of(CI_RUN, None, StepReport(Event.RUN_STARTED)))
    assert [block["type"] for block in blocks] == ["header", "section", "section", "section", "context"]
    assert blocks[0]["text"] == {"type": "plain_text", "text": "ci · training 1a2b3c4d5e6f", "emoji": True}
    fields = [field["text"] for field in blocks[2]["fields"]]
    assert fields[:4] == [
        "*pipeline*\ntraining",
        "*version*\n`1a2b3c4d5e6f`",
        "*domain*\ndevelopment",
        f"*execution*\n<{CI_RUN.execution.url}|ci-1a2b3c4d5e6f>",
    ]
    assert "*git SHA*\n`1a2b3c4d5e6f`" in fields
    assert "RUNNING" in blocks[1]["text"]["text"] and text.endswith("RUNNING")


def test_promotion_shows_both_domains_and_the_approver() -> None:
    run = RunInfo(
        "promote", "training", "v1", "staging", Link("p", ""), source_domain="development", steps=PROMOTE_STEPS
    )
    _, blocks = main_message(run.with_approval("alice <admin>"), Progress.of(run, None))
    fields = [field["text"] for field in blocks[2]["fields"]]
    assert "*domain*\ndevelopment → staging" in fields
    assert "*approved by*\nalice &lt;admin&gt;" in fields
    assert "*execution*\np" in fields  # no URL: the label alone


@pytest.mark.parametrize(
    ("last_done", "event", "marks", "phase"),
    [
        (None, Event.RUN_STARTED, ["✓", "○", "○", "○"], Phase.RUNNING),
        (RunStep.REGISTERED, Event.VALIDATION_STARTED, ["✓", "✓", "✓", "…"], Phase.RUNNING),
        (RunStep.REGISTERED, Event.VALIDATION_FAILED, ["✓", "✓", "✓", "✗"], Phase.FAILED),
        (RunStep.REGISTERED, Event.VALIDATION_SUCCEEDED, ["✓", "✓", "✓", "✓"], Phase.SUCCEEDED),
    ],
)
def test_progress_line(last_done: RunStep | None, event: Event, marks: list[str], phase: Phase) -> None:
    progress = Progress.of(CI_RUN, last_done, StepReport(event))
    symbols = {":white_check_mark:": "✓", ":white_circle:": "○", ":hourglass_flowing_sand:": "…", ":x:": "✗"}
    line = progress_line(CI_RUN, progress)
    assert [symbols[part.split(" ")[0]] for part in line.split("  ")] == marks
    assert progress.phase is phase


def test_step_reply_has_details_metrics_and_links() -> None:
    report = StepReport(
        Event.VALIDATION_FAILED,
        summary="accuracy below 0.8 <oops>",
        details=(Detail("case", "accuracy-gate"),),
        metrics=(
            MetricCheck("metrics.accuracy", 0.71, ">=", 0.8, False),
            MetricCheck("metrics.loss", 0.3, "<", 0.5, True),
        ),
        links=(Link("validation execution", "http://console/v1"),),
    )
    text, blocks = step_reply(CI_RUN, report)
    assert blocks[0]["text"]["text"].startswith(
        ":red_circle: *ValidationFailed* · validated\naccuracy below 0.8 &lt;oops&gt;"
    )
    assert blocks[1]["fields"] == [{"type": "mrkdwn", "text": "*case*\naccuracy-gate"}]
    metric_lines = blocks[2]["text"]["text"].splitlines()
    assert metric_lines == [
        "*validation metrics*",
        ":x: `metrics.accuracy` 0.71 ≥ 0.8",
        ":white_check_mark: `metrics.loss` 0.3 &lt; 0.5",
    ]
    assert blocks[3] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "<http://console/v1|validation execution>"}],
    }
    assert text.startswith("ValidationFailed: training 1a2b3c4d5e6f validated")


def test_failure_reply_names_the_step_and_node() -> None:
    failure = RunFailure("register_release", "INVALID_ARGUMENT: <bad>", execution=Link("node", "http://console/n"))
    progress = Progress.failed(CI_RUN, RunStep.BUILT, failure)
    assert progress.current is RunStep.REGISTERED and progress.phase is Phase.FAILED
    text, blocks = failure_reply(CI_RUN, failure, progress)
    body = blocks[0]["text"]["text"]
    assert "*RunFailed* · register failed" in body and "`register_release`" in body and "&lt;bad&gt;" in body
    assert "<http://console/n|node>" in blocks[1]["elements"][0]["text"]
    assert "register failed" in text and "register_release" in text
    _, main = main_message(CI_RUN, progress)
    assert main[1]["text"]["text"] == ":red_circle: *FAILED* · register failed"


def test_long_and_hostile_values_stay_within_slacks_limits() -> None:
    run = RunInfo("ci", "p" * 200, "v", "development", Link("x|y", "http://u"))
    _, blocks = main_message(run, Progress.of(run, None))
    assert len(blocks[0]["text"]["text"]) == 150 and blocks[0]["text"]["text"].endswith("…")
    assert "<http://u|x/y>" in _texts(blocks)
    report = StepReport(Event.RELEASE_BUILT, details=tuple(Detail(f"d{i}", "v") for i in range(15)))
    assert len(step_reply(run, report)[1][1]["fields"]) == 10
    assert escape("a & <b>") == "a &amp; &lt;b&gt;"


def test_a_step_report_needs_a_step_event() -> None:
    with pytest.raises(ValueError, match="RunFailure"):
        StepReport(Event.RUN_FAILED)
