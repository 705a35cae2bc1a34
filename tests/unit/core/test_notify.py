"""ReleaseNotifier's delivery logic against an in-memory transport, channels from config, the @task layer."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from tasks.core.config import load_pipeline_config, parse_pipeline_config
from tasks.core.errors import SlackAuthFailed, SlackRateLimited, SlackRejected, SlackUnavailable, TaxiwayError
from tasks.core.notify import DeliveryStatus, ReleaseNotifier, SlackThread, slack_channel
from tasks.core.notify_records import Link, RunFailure, RunInfo, StepReport
from tasks.core.notify_slack import translate
from tasks.core.vocabulary import Event, RunStep
from tasks.notify import TOKEN_ENV, SlackTarget, _secret

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).parent / "fixtures" / "taxiway.yaml"
RUN = RunInfo("ci", "training", "abc123", "development", Link("ci-abc123", "http://console/ci-abc123"))


@dataclass
class MemoryTransport:
    """A Slack transport that keeps messages in memory and fails on demand."""

    supports_threads: bool = True
    fail_with: list[TaxiwayError] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)

    def _maybe_fail(self) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str = "") -> tuple[str, str]:
        self._maybe_fail()
        ts = f"1.{len(self.posts):06d}"
        self.posts.append({"channel": channel, "text": text, "blocks": blocks, "thread_ts": thread_ts, "ts": ts})
        return ("C123", ts) if self.supports_threads else ("", "")

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._maybe_fail()
        self.updates.append({"channel": channel, "ts": ts, "text": text})


def test_one_message_updated_in_place_with_a_reply_per_step() -> None:
    transport = MemoryTransport()
    notifier = ReleaseNotifier(transport, "#taxiway")
    started = notifier.started(RUN)
    assert started.delivered and started.thread == SlackThread("C123", "1.000000", RunStep.STARTED)
    built = notifier.step(started.thread, RUN, StepReport(Event.RELEASE_BUILT))
    registered = notifier.step(built.thread, RUN, StepReport(Event.RELEASE_REGISTERED))
    assert registered.thread.last_step is RunStep.REGISTERED
    assert [post["thread_ts"] for post in transport.posts] == ["", "1.000000", "1.000000", "1.000000"]
    assert transport.posts[0]["channel"] == "#taxiway" and transport.posts[1]["channel"] == "C123"
    assert [(u["channel"], u["ts"]) for u in transport.updates] == [("C123", "1.000000")] * 2


def test_outage_is_not_raised_and_warned_once_per_run(caplog: pytest.LogCaptureFixture) -> None:
    transport = MemoryTransport(fail_with=[SlackUnavailable("answered HTTP 500", where="Slack chat.postMessage")] * 3)
    notifier = ReleaseNotifier(transport, "#taxiway")
    with caplog.at_level(logging.INFO):
        first = notifier.started(RUN)
        second = notifier.step(first.thread, RUN, StepReport(Event.RELEASE_BUILT))
        # A later task gets the thread and must not warn again.
        third = ReleaseNotifier(transport, "#taxiway").step(second.thread, RUN, StepReport(Event.RELEASE_REGISTERED))
    assert [d.status for d in (first, second, third)] == [DeliveryStatus.NOT_DELIVERED] * 3
    assert "HTTP 500" in first.reason and third.thread.warned
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "pipeline=training" in warnings[0].getMessage()
    # Once Slack is back, the run's message is posted (it never was) and the thread continues.
    fourth = notifier.step(third.thread, RUN, StepReport(Event.VALIDATION_SUCCEEDED))
    assert fourth.delivered and fourth.thread.ts


def test_refused_token_mutes_the_rest_of_the_run() -> None:
    transport = MemoryTransport(fail_with=[SlackAuthFailed("refused the bot token: invalid_auth")])
    notifier = ReleaseNotifier(transport, "#taxiway")
    first = notifier.started(RUN)
    assert first.status is DeliveryStatus.NOT_DELIVERED and first.thread.muted
    later = notifier.failed(first.thread, RUN, RunFailure("build_release", "boom"))
    assert later.status is DeliveryStatus.SKIPPED and "invalid_auth" in later.reason
    assert transport.posts == []


def test_reply_failure_keeps_the_posted_message() -> None:
    transport = MemoryTransport()
    transport.fail_with = []
    notifier = ReleaseNotifier(transport, "#taxiway")
    original_post = transport.post
    calls = {"n": 0}

    def post_then_fail(channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str = "") -> tuple[str, str]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SlackRejected("refused the call: invalid_blocks")
        return original_post(channel, text, blocks, thread_ts)

    transport.post = post_then_fail  # type: ignore[method-assign]
    delivery = notifier.started(RUN)
    assert delivery.status is DeliveryStatus.NOT_DELIVERED and delivery.thread.ts == "1.000000"


def test_webhook_posts_one_standalone_message_per_step() -> None:
    transport = MemoryTransport(supports_threads=False)
    notifier = ReleaseNotifier(transport, "#taxiway")
    delivery = notifier.step(notifier.started(RUN).thread, RUN, StepReport(Event.RELEASE_BUILT))
    assert delivery.delivered and not delivery.thread.posted and transport.updates == []
    assert len(transport.posts) == 2 and transport.posts[1]["blocks"][0]["type"] == "header"
    assert any(block["type"] == "divider" for block in transport.posts[1]["blocks"])


def test_without_slack_every_call_is_skipped() -> None:
    delivery = ReleaseNotifier(MemoryTransport(), None).started(RUN)
    assert delivery.status is DeliveryStatus.SKIPPED and not delivery.thread.posted


def test_channel_per_domain_from_config() -> None:
    config = load_pipeline_config(FIXTURE)
    assert slack_channel(config, "development") == "#taxiway"
    assert slack_channel(config, "staging") == "#training-staging"
    target = SlackTarget.for_domain(config, "production")
    assert target == SlackTarget("#training-releases", "slack", "bot-token", False, "http://127.0.0.1:30091/api/")
    bare = parse_pipeline_config(
        "version: 1\npipeline: p\npackages: [p]\ndomains: [{name: development, raw_data_prefix: 's3://bucket/p'}]\n"
    )
    assert slack_channel(bare, "development") is None and SlackTarget.for_domain(bare, "development") == SlackTarget()


def _api_error(status: int, error: str) -> SlackApiError:
    response = SlackResponse(
        client=None, http_verb="POST", api_url="u", req_args={}, data={"ok": False, "error": error}, headers={},
        status_code=status,
    )  # fmt: skip
    return SlackApiError("failed", response)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (_api_error(429, "ratelimited"), SlackRateLimited),
        (_api_error(500, "internal_error"), SlackUnavailable),
        (_api_error(200, "invalid_auth"), SlackAuthFailed),
        (_api_error(200, "not_authed"), SlackAuthFailed),
        (_api_error(200, "channel_not_found"), SlackRejected),
        (ConnectionRefusedError(111, "Connection refused"), SlackUnavailable),
    ],
)
def test_translate_slack_errors(error: Exception, kind: type[TaxiwayError]) -> None:
    translated = translate("chat.postMessage", error)
    assert type(translated) is kind and translated.where == "Slack chat.postMessage"


def test_secret_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    target = SlackTarget("#c", "no-such-group", "no-such-key")
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert _secret(target) == ""
    monkeypatch.setenv(TOKEN_ENV, "xoxb-from-env")
    assert _secret(target) == "xoxb-from-env"
    monkeypatch.setenv("_FSEC_NO-SUCH-GROUP_NO-SUCH-KEY", "xoxb-from-flyte")  # how Flyte injects secrets as env
    assert _secret(target) == "xoxb-from-flyte"
