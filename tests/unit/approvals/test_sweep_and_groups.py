"""The approvals service's expiry sweep, and Slack user groups looked up with ``usergroups.users.list``
(slack-sdk against localslack's server, in a thread)."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient

from approvals.groups import SlackGroups
from approvals.service import ApprovalsApp
from approvals.signature import ReplayGuard, sign
from localslack.cli import parse_usergroups
from localslack.server import LocalSlack, LocalSlackServer, ServerConfig
from localslack.state import Workspace
from tasks.core.config import parse_pipeline_config
from tasks.core.governance_signals import GATE_SIGNAL, ApprovalRequest, open_request
from tests.unit.approvals.test_signature import CONFIG, RecordingSlack
from tests.unit.core.test_governance_policy import MemorySignals
from tests.unit.core.test_governance_requests import Running

pytestmark = pytest.mark.unit

TOKEN = "xoxb-groups"
EXECUTION = "taxiway/development/promote-0123456789ab-production-1"
NOW = 1_900_000_000.0
GROUPED = {
    **CONFIG,
    "domains": [
        {"name": "development", "raw_data_prefix": "s3://bucket/dev"},
        {"name": "production", "raw_data_prefix": "s3://bucket/prod", "requires_approval": True,
         "governance": {"approval": {"required": 1, "slack_groups": ["SREL"]}}},
    ],
}  # fmt: skip


@pytest.fixture
def slack_api(tmp_path: Path) -> Iterator[str]:
    config = ServerConfig(tokens=frozenset({TOKEN}), usergroups=parse_usergroups(["SREL=UDANA,UERIN"]))
    app = LocalSlack(Workspace(tmp_path / "slack"), config)
    server = LocalSlackServer(0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    server.shutdown()
    server.server_close()
    app.workspace.close()


def test_usergroups_users_list_with_slack_sdk_and_the_cache(slack_api: str) -> None:
    now = [0.0]
    groups = SlackGroups(WebClient(token=TOKEN, base_url=slack_api), ttl=60, clock=lambda: now[0])
    assert groups.members("SREL") == frozenset({"UDANA", "UERIN"})
    assert groups.members("SNOPE") == frozenset(), "an unknown group (no_such_subteam) has no members"
    assert SlackGroups(WebClient(token="xoxb-wrong", base_url=slack_api)).members("SREL") == frozenset()


def test_usergroup_flag_is_checked() -> None:
    assert parse_usergroups(["S1=U1, U2", "S2="]) == (("S1", ("U1", "U2")), ("S2", ()))
    with pytest.raises(SystemExit, match="--usergroup expects ID=USER,USER"):
        parse_usergroups(["S1"])


def app_with(tmp_path: Path, slack_api: str, deadline: datetime) -> tuple[ApprovalsApp, MemorySignals, RecordingSlack]:
    signals, slack = MemorySignals(), RecordingSlack()
    request = ApprovalRequest(EXECUTION, "training", "0123456789ab", "production", "UCAROL",
                              "2030-01-01T00:00:00+00:00", deadline.isoformat(), "C1", "111.1")  # fmt: skip
    open_request(signals, request)
    config = parse_pipeline_config(yaml.safe_dump(GROUPED))
    groups = SlackGroups(WebClient(token=TOKEN, base_url=slack_api))
    app = ApprovalsApp("secret", [config], signals, ReplayGuard(tmp_path / "r.sqlite"), slack, groups,
                       clock=lambda: NOW, running=Running(EXECUTION), scopes=[("taxiway", "development")])  # fmt: skip
    return app, signals, slack


def test_a_group_member_approves_from_slack(tmp_path: Path, slack_api: str) -> None:
    service, signals, _ = app_with(tmp_path, slack_api, datetime.fromtimestamp(NOW, UTC) + timedelta(hours=1))
    payload = '{"type": "block_actions", "user": {"id": "UERIN"}, "actions": [{"action_id": "taxiway_approve", ' \
              f'"value": "{EXECUTION}"}}]}}'  # fmt: skip
    body = urllib.parse.urlencode({"payload": payload}).encode()
    headers = {"X-Slack-Request-Timestamp": str(int(NOW)), "X-Slack-Signature": sign("secret", str(int(NOW)), body)}
    assert service.handle(headers, body).body == {"ok": True, "outcome": "Open", "gate_set": True}
    assert '"approved_by": ["slack:UERIN"]' in (signals.values(EXECUTION)[GATE_SIGNAL] or "")


def test_sweep_rejects_expired_approvals_and_updates_slack(tmp_path: Path, slack_api: str) -> None:
    fresh, signals, slack = app_with(tmp_path, slack_api, datetime.fromtimestamp(NOW, UTC) + timedelta(minutes=1))
    assert fresh.sweep() == [] and signals.values(EXECUTION)[GATE_SIGNAL] is None
    expired, signals, slack = app_with(tmp_path, slack_api, datetime.fromtimestamp(NOW, UTC) - timedelta(seconds=1))
    [rejected] = expired.sweep()
    assert rejected.by == "timeout"
    assert (signals.values(EXECUTION)[GATE_SIGNAL] or "").startswith("reject: timeout: 0 of 1 approvals")
    assert len(slack.updates) == 1 and "rejected by timeout" in slack.updates[0][2]
    assert expired.sweep() == [], "an answered gate is not swept again"
