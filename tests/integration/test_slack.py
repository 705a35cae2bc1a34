"""Slack notifications end to end: a real slack-sdk client against localslack in a subprocess.

Covers the issue's "must show" items that do not need a meta-workflow: one threaded message per run
updated in place, 429 then success delivered once, 500 forever / a bad token never raising and
warning once, the token absent from every log and recorded payload, and channel_not_found.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from localslack.testing import LocalSlackProcess
from tasks.core.notify import DeliveryStatus, ReleaseNotifier
from tasks.core.notify_records import Detail, Link, MetricCheck, RunFailure, RunInfo, StepReport
from tasks.core.notify_slack import WebApiTransport, WebhookTransport, web_client, webhook_client
from tasks.core.vocabulary import Event, RunStep
from tasks.notify import TOKEN_ENV, SlackTarget, notify_run_started

pytestmark = pytest.mark.integration

SENTINEL = "xoxb-SENTINEL-9f8e7d6c5b4a"
CHANNEL = "training-releases"
HOOK = "T0/B0/hook"
CONSOLE = "http://127.0.0.1:30080/console/projects/training/domains/development/executions"
RUN = RunInfo("ci", "training", "abc123def456", "development", Link("ci-abc123def456", f"{CONSOLE}/ci-abc123def456"))


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlackProcess]:
    state_dir = tmp_path_factory.mktemp("localslack")
    hooks = ((HOOK, CHANNEL),)
    with LocalSlackProcess(state_dir, tokens=(SENTINEL,), channels=(CHANNEL,), webhooks=hooks) as process:
        yield process


@pytest.fixture(autouse=True)
def clean(slack: LocalSlackProcess) -> None:
    slack.clear()


def notifier(slack: LocalSlackProcess, token: str = SENTINEL, channel: str = f"#{CHANNEL}") -> ReleaseNotifier:
    client = web_client(token, slack.api_url, max_retries=2, backoff_seconds=0.05)
    return ReleaseNotifier(WebApiTransport(client), channel)


def assert_no_token(slack: LocalSlackProcess, caplog: pytest.LogCaptureFixture, *extra: object) -> None:
    assert SENTINEL not in caplog.text
    assert all(SENTINEL not in str(record.args) for record in caplog.records)
    assert SENTINEL not in json.dumps([slack.messages(), slack.calls()])
    assert SENTINEL not in slack.log.read_text() + (slack.state_dir / "messages.jsonl").read_text()
    assert all(SENTINEL not in repr(item) for item in extra)


def test_one_message_per_run_updated_in_place_and_threaded(slack: LocalSlackProcess) -> None:
    n = notifier(slack)
    delivery = n.started(RUN)
    for report in (
        StepReport(Event.IMAGE_REUSED, "image reused: tag exists", (Detail("image", "127.0.0.1:30000/t:abc"),)),
        StepReport(Event.RELEASE_REGISTERED, "12 entities", links=(Link("register", f"{CONSOLE}/reg-1"),)),
        StepReport(
            Event.VALIDATION_SUCCEEDED,
            metrics=(MetricCheck("metrics.accuracy", 0.93, ">=", 0.8, True),),
            links=(Link("accuracy-gate", f"{CONSOLE}/val-1"),),
        ),
    ):
        delivery = n.step(delivery.thread, RUN, report)
        assert delivery.delivered, delivery.reason
    main, *replies = slack.messages(CHANNEL)
    assert main["thread_ts"] is None and main["updates"] == 3
    assert [reply["thread_ts"] for reply in replies] == [main["ts"]] * 4
    assert main["ts"] == delivery.thread.ts and main["channel"] == delivery.thread.channel
    assert delivery.thread.last_step is RunStep.VALIDATED
    header = main["blocks"][0]["text"]["text"]
    assert header == "ci · training abc123def456"
    fields = json.dumps(main["blocks"][2]["fields"])
    assert f"<{CONSOLE}/ci-abc123def456|ci-abc123def456>" in fields and "development" in fields
    assert "SUCCEEDED" in main["blocks"][1]["text"]["text"]
    assert [json.dumps(h["blocks"]).count(":white_check_mark:") for h in main["history"]] == [1, 2, 3]
    texts = [reply["blocks"][0]["text"]["text"] for reply in replies]
    assert [text.split("*")[1] for text in texts] == [
        "RunStarted",
        "ImageReused",
        "ReleaseRegistered",
        "ValidationSucceeded",
    ]
    assert "`metrics.accuracy` 0.93 ≥ 0.8" in json.dumps(replies[-1]["blocks"], ensure_ascii=False)
    # The main post, its three updates and four replies (one per step): nothing posted twice.
    assert len(slack.calls("chat.postMessage")) == 1 + 4 and len(slack.calls("chat.update")) == 3


def test_rate_limited_then_success_is_delivered_once(slack: LocalSlackProcess) -> None:
    slack.arm_fault("chat.postMessage", "rate_limited", count=1, retry_after=0)
    delivery = notifier(slack).started(RUN)
    assert delivery.delivered
    assert [call["status"] for call in slack.calls("chat.postMessage")] == [429, 200, 200]
    assert len([m for m in slack.messages() if m["thread_ts"] is None]) == 1


def test_rate_limited_forever_is_not_delivered(slack: LocalSlackProcess) -> None:
    slack.arm_fault("chat.postMessage", "rate_limited", count=None, retry_after=0)
    delivery = notifier(slack).started(RUN)
    assert delivery.status is DeliveryStatus.NOT_DELIVERED and "HTTP 429" in delivery.reason
    assert [call["status"] for call in slack.calls("chat.postMessage")] == [429] * 4  # 1 try + 3 retries


def test_server_errors_forever_never_raise_and_warn_once(
    slack: LocalSlackProcess, caplog: pytest.LogCaptureFixture
) -> None:
    slack.arm_fault("*", "server_error", count=None)
    n = notifier(slack)
    with caplog.at_level(logging.DEBUG):
        first = n.started(RUN)
        second = n.step(first.thread, RUN, StepReport(Event.RELEASE_BUILT))
        third = n.failed(second.thread, RUN, RunFailure("register_release", "AdminUnavailable"))
    assert {d.status for d in (first, second, third)} == {DeliveryStatus.NOT_DELIVERED}
    assert "HTTP 500" in first.reason
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].name == "tasks.core.notify"
    assert len(slack.calls("chat.postMessage")) == 3 * 3  # each call tried once and retried twice
    assert slack.messages() == []
    assert_no_token(slack, caplog, first, second, third)


def test_invalid_token_never_raises_warns_once_and_mutes(
    slack: LocalSlackProcess, caplog: pytest.LogCaptureFixture
) -> None:
    with LocalSlackProcess(slack.state_dir / "other", tokens=("xoxb-someone-else",)) as strict:
        n = ReleaseNotifier(WebApiTransport(web_client(SENTINEL, strict.api_url)), "#any")
        with caplog.at_level(logging.DEBUG):
            first = n.started(RUN)
            later = n.step(first.thread, RUN, StepReport(Event.RELEASE_BUILT))
        assert first.status is DeliveryStatus.NOT_DELIVERED and "invalid_auth" in first.reason
        assert later.status is DeliveryStatus.SKIPPED
        assert [call["error"] for call in strict.calls()] == ["invalid_auth"]
        assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
        assert SENTINEL not in strict.log.read_text()
    assert_no_token(slack, caplog, first, later)


@pytest.mark.parametrize("injected", [False, True])
def test_channel_not_found_is_reported_not_raised(slack: LocalSlackProcess, injected: bool) -> None:
    if injected:
        slack.arm_fault("chat.postMessage", "channel_not_found")
    channel = f"#{CHANNEL}" if injected else "#no-such-channel"
    delivery = notifier(slack, channel=channel).started(RUN)
    assert delivery.status is DeliveryStatus.NOT_DELIVERED and "channel_not_found" in delivery.reason
    assert "invite the bot" in delivery.reason
    assert len(slack.calls("chat.postMessage")) == 1  # not retried: it cannot succeed


def test_incoming_webhook_posts_one_message_per_step(
    slack: LocalSlackProcess, caplog: pytest.LogCaptureFixture
) -> None:
    hook = webhook_client(slack.webhook_url(HOOK), backoff_seconds=0.05)
    n = ReleaseNotifier(WebhookTransport(hook), "#ignored-by-webhooks")
    slack.arm_fault("webhook", "server_error", count=1)
    with caplog.at_level(logging.DEBUG):
        first = n.started(RUN)
        second = n.step(first.thread, RUN, StepReport(Event.RELEASE_BUILT))
    # The webhook URL is a secret: slack-sdk logs it, our logger redacts it.
    assert "<redacted>" in caplog.text and HOOK not in caplog.text
    assert first.delivered and second.delivered
    messages = slack.messages()
    assert [(m["via"], m["channel_name"]) for m in messages] == [("webhook", CHANNEL)] * 2
    assert messages[1]["text"].startswith("ReleaseBuilt") and messages[1]["blocks"][0]["type"] == "header"
    assert [call["status"] for call in slack.calls("webhook")] == [500, 200, 200]


def test_task_reads_the_token_from_the_environment(
    slack: LocalSlackProcess, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(TOKEN_ENV, SENTINEL)
    target = SlackTarget(f"#{CHANNEL}", "slack", "not-mounted-here", api_url=slack.api_url)
    with caplog.at_level(logging.DEBUG):
        delivery = notify_run_started(target=target, run=RUN)
    assert delivery.delivered and delivery.thread.ts == slack.messages(CHANNEL)[0]["ts"]
    assert_no_token(slack, caplog, delivery)
