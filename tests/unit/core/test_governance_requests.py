"""The approval request's life: opened once (with its Slack buttons), listed while pending, expired when late."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tasks.core.config_governance import ApprovalPolicySpec
from tasks.core.errors import SlackRateLimited
from tasks.core.governance_policy import Pending, Rejected
from tasks.core.governance_requests import expire, pending_approvals, request_approval
from tasks.core.governance_signals import GATE_SIGNAL, ApprovalRequest, read_request, submit
from tasks.core.governance_slack import APPROVE_ACTION, REJECT_ACTION
from tests.unit.core.test_governance_policy import EXECUTION, POLICY, T0, MemorySignals, d, request

pytestmark = pytest.mark.unit


class RecordingSlack:
    """A :class:`SlackTransport` that keeps what was posted and updated; ``fail`` makes posting fail."""

    supports_threads = True

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.posted: list[tuple[str, str, list[dict[str, Any]]]] = []
        self.updated: list[tuple[str, str, str, list[dict[str, Any]]]] = []

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str = "") -> tuple[str, str]:
        if self.fail:
            raise SlackRateLimited("chat.postMessage answered ratelimited")
        self.posted.append((channel, text, blocks))
        return "C0RELEASES", f"1700000000.00000{len(self.posted)}"

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self.updated.append((channel, ts, text, blocks))


class Running:
    def __init__(self, *executions: str) -> None:
        self.executions = list(executions)

    def running(self, project: str, domain: str) -> list[str]:
        return [item for item in self.executions if item.startswith(f"{project}/{domain}/")]


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    return {e["action_id"]: e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]}


def test_request_posts_the_buttons_once_and_records_the_message() -> None:
    signals, slack = MemorySignals(), RecordingSlack()
    opened = request_approval(signals, slack, "#releases", request())
    assert (opened.slack_channel, opened.slack_ts) == ("C0RELEASES", "1700000000.000001")
    [(channel, _, blocks)] = slack.posted
    assert channel == "#releases"
    assert buttons(blocks) == {APPROVE_ACTION: EXECUTION, REJECT_ACTION: EXECUTION}
    assert read_request(signals, EXECUTION)[0] == opened and signals.values(EXECUTION)[GATE_SIGNAL] is None
    # A retried task neither posts again nor moves the deadline.
    again = request_approval(signals, slack, "#releases", request(deadline=T0 + timedelta(hours=5)))
    assert again == opened and len(slack.posted) == 1


@pytest.mark.parametrize("slack", [None, RecordingSlack(fail=True)])
def test_request_without_slack_is_still_recorded(slack: RecordingSlack | None) -> None:
    signals = MemorySignals()
    opened = request_approval(signals, slack, "#releases", request())
    assert opened.slack_ts == "" and read_request(signals, EXECUTION)[0] == opened


def policy_of(item: ApprovalRequest) -> ApprovalPolicySpec | None:
    return POLICY if item.pipeline == "training" else None


def test_pending_lists_open_gates_only() -> None:
    signals, other = MemorySignals(), "taxiway/development/ci-0123456789ab"
    request_approval(signals, None, "", request(author="carol"))
    submit(signals, EXECUTION, d("slack:UBOB"), POLICY, T0)
    [pending] = pending_approvals(Running(EXECUTION, other), signals, "taxiway", "development", policy_of, T0)
    assert pending.request.execution == EXECUTION and pending.outcome == Pending(1, ("bob",))
    assert pending_approvals(Running(EXECUTION), signals, "taxiway", "staging", policy_of, T0) == []
    submit(signals, EXECUTION, d("slack:UALICE", minute=1), POLICY, T0)  # met: the gate is answered
    assert pending_approvals(Running(EXECUTION), signals, "taxiway", "development", policy_of, T0) == []


def test_expire_rejects_by_timeout_only_past_the_deadline_and_shows_it_in_slack() -> None:
    signals, slack = MemorySignals(), RecordingSlack()
    opened = request_approval(signals, slack, "#releases", request(deadline=T0 + timedelta(minutes=10)))
    submit(signals, EXECUTION, d("slack:UBOB"), POLICY, T0)
    [early] = pending_approvals(Running(EXECUTION), signals, "taxiway", "development", policy_of, T0)
    assert expire(signals, early, slack) is None and signals.values(EXECUTION)[GATE_SIGNAL] is None
    late = T0 + timedelta(minutes=11)
    [due] = pending_approvals(Running(EXECUTION), signals, "taxiway", "development", policy_of, late)
    rejected = expire(signals, due, slack)
    assert isinstance(rejected, Rejected) and rejected.by == "timeout" and "1 of 2 approvals" in rejected.why
    assert (signals.values(EXECUTION)[GATE_SIGNAL] or "").startswith("reject: timeout: 1 of 2 approvals")
    [(channel, ts, text, blocks)] = slack.updated
    assert (channel, ts) == (opened.slack_channel, opened.slack_ts) and "rejected by timeout" in text
    assert buttons(blocks) == {} and "bob approved" in json.dumps(blocks)
    assert pending_approvals(Running(EXECUTION), signals, "taxiway", "development", policy_of, late) == []
