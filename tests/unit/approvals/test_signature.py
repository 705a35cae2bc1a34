"""Slack request verification and the approvals app: good, bad signature, stale, replayed, policy path."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from approvals.service import ApprovalsApp
from approvals.signature import ReplayGuard, RequestRefused, sign, verify
from tasks.core.config import parse_pipeline_config
from tasks.core.governance_signals import GATE_SIGNAL, ApprovalRequest, open_request, read_request
from tasks.core.governance_slack import APPROVE_ACTION, REJECT_ACTION
from tests.unit.core.test_governance_policy import MemorySignals

pytestmark = pytest.mark.unit

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_900_000_000.0
BODY = b"payload=%7B%7D"


def test_good_signature_passes() -> None:
    verify(SECRET, str(int(NOW)), sign(SECRET, str(int(NOW)), BODY), BODY, NOW + 10)


@pytest.mark.parametrize(
    ("timestamp", "signature", "now", "message"),
    [
        (str(int(NOW)), sign("another-secret", str(int(NOW)), BODY), NOW, "bad signature"),
        (str(int(NOW)), sign(SECRET, str(int(NOW)), BODY + b"x"), NOW, "bad signature"),
        (str(int(NOW)), "v0=" + "0" * 64, NOW, "bad signature"),
        (str(int(NOW)), sign(SECRET, str(int(NOW)), BODY), NOW + 301, "stale request"),
        (str(int(NOW)), sign(SECRET, str(int(NOW)), BODY), NOW - 301, "stale request"),
        ("", sign(SECRET, str(int(NOW)), BODY), NOW, "missing"),
        ("soon", "v0=abc", NOW, "not a number"),
    ],
)
def test_bad_requests_are_refused(timestamp: str, signature: str, now: float, message: str) -> None:
    with pytest.raises(RequestRefused, match=message):
        verify(SECRET, timestamp, signature, BODY, now)


def test_replay_is_refused_and_forgotten_when_stale(tmp_path: Path) -> None:
    guard = ReplayGuard(tmp_path / "replay.sqlite")
    guard.first_use("v0=aa", str(int(NOW)), NOW)
    with pytest.raises(RequestRefused, match="replayed"):
        guard.first_use("v0=aa", str(int(NOW)), NOW + 1)
    guard.close()
    reopened = ReplayGuard(tmp_path / "replay.sqlite")  # survives a restart
    with pytest.raises(RequestRefused, match="replayed"):
        reopened.first_use("v0=aa", str(int(NOW)), NOW + 2)
    reopened.first_use("v0=aa", str(int(NOW + 700)), NOW + 700)  # pruned: stale requests fail verify anyway


CONFIG = {
    "version": 1,
    "pipeline": "training",
    "project": "training",
    "packages": ["training"],
    "domains": [
        {"name": "development", "raw_data_prefix": "s3://bucket/dev"},
        {"name": "production", "raw_data_prefix": "s3://bucket/prod", "requires_approval": True,
         "governance": {"approval": {"required": 2, "approvers": [
             {"name": "alice", "slack": "UALICE"}, {"name": "bob", "slack": "UBOB"},
             {"name": "carol", "slack": "UCAROL"}]}}},
    ],
}  # fmt: skip
EXECUTION = "taxiway/development/promote-x"


class RecordingSlack:
    supports_threads = True

    def __init__(self) -> None:
        self.updates: list[tuple[str, str, str, list[dict[str, Any]]]] = []

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str = "") -> tuple[str, str]:
        raise AssertionError("the approvals service only updates")

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self.updates.append((channel, ts, text, blocks))


def click(user: str, action: str = APPROVE_ACTION) -> bytes:
    payload = {"type": "block_actions", "user": {"id": user}, "actions": [{"action_id": action, "value": EXECUTION}]}
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def headers(body: bytes, at: float = NOW) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": str(int(at)), "X-Slack-Signature": sign(SECRET, str(int(at)), body)}


@pytest.fixture
def app(tmp_path: Path) -> tuple[ApprovalsApp, MemorySignals, RecordingSlack]:
    signals, slack = MemorySignals(), RecordingSlack()
    deadline = datetime.fromtimestamp(NOW, UTC) + timedelta(hours=1)
    request = ApprovalRequest(EXECUTION, "training", "0123456789ab", "production", "UCAROL",
                              "2030-01-01T00:00:00+00:00", deadline.isoformat(), "C1", "111.1")  # fmt: skip
    open_request(signals, request)
    config = parse_pipeline_config(yaml.safe_dump(CONFIG))
    return ApprovalsApp(SECRET, [config], signals, ReplayGuard(tmp_path / "r.sqlite"), slack, clock=lambda: NOW), \
        signals, slack  # fmt: skip


def test_app_drives_a_two_of_three_policy(app: tuple[ApprovalsApp, MemorySignals, RecordingSlack]) -> None:
    service, signals, slack = app
    body = click("UALICE")
    assert service.handle(headers(body), body).body["outcome"] == "Pending"
    assert service.handle(headers(body), body).status == 401  # replay
    author = click("UCAROL")  # the release author
    assert service.handle(headers(author), author).body["outcome"] == "Pending"
    forged = click("UBOB")
    bad = {**headers(forged), "X-Slack-Signature": sign("x", str(int(NOW)), forged)}
    assert service.handle(bad, forged).status == 401
    assert signals.values(EXECUTION)[GATE_SIGNAL] is None and len(read_request(signals, EXECUTION)[2]) == 2
    reply = service.handle(headers(forged), forged)
    assert reply.body == {"ok": True, "outcome": "Open", "gate_set": True}
    assert json.loads(signals.values(EXECUTION)[GATE_SIGNAL] or "")["approved_by"] == ["alice", "bob"]
    assert len(slack.updates) == 3 and "approved by alice, bob" in slack.updates[-1][2]
    assert not [block for block in slack.updates[-1][3] if block["type"] == "actions"]  # buttons gone


def test_app_reject_ends_it(app: tuple[ApprovalsApp, MemorySignals, RecordingSlack]) -> None:
    service, signals, _ = app
    body = click("UBOB", REJECT_ACTION)
    assert service.handle(headers(body), body).body["outcome"] == "Rejected"
    assert (signals.values(EXECUTION)[GATE_SIGNAL] or "").startswith("reject: bob:")
    stale = click("UALICE")
    assert service.handle(headers(stale, NOW - 400), stale).status == 401
