"""The approvals service as Slack would drive it: a real localflyte (process runtime) running a gate, a real
localslack, and ``python -m approvals serve`` as a subprocess receiving signed ``block_actions`` requests.

What runs here is the promotion's approval gate (``wait_for_input("approval", str)``) in a small workflow,
not the whole ``promote_pipeline`` (which needs a built release); the approval request signal that the
promotion writes before its gate is written by the test with the same function.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flytekit.remote import FlyteRemote

from approvals.signature import sign
from localflyte.testing import LocalFlyteProcess, MotoServer
from localslack.testing import LocalSlackProcess, free_port
from tasks.core.governance_signals import ApprovalRequest, FlyteSignals, open_request, read_request
from tasks.core.governance_slack import APPROVE_ACTION, REJECT_ACTION, approval_blocks, approval_text
from tasks.core.notify_slack import WebApiTransport, web_client
from tests.integration.test_localflyte_executor import config_only_env, phase_name, pyflyte, remote_for, write_config

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = "tests/integration/test_governance_workflows.py"
MODULE = "tests.integration.test_governance_workflows"
PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "v1"
SECRET = "test-signing-secret"
TOKEN = "xoxb-approvals-test"
CHANNEL = "#releases"
CONFIG = {
    "version": 1, "pipeline": "training", "project": "training", "packages": ["training"],
    "domains": [
        {"name": "staging", "raw_data_prefix": "s3://taxiway-data/staging"},
        {"name": "production", "raw_data_prefix": "s3://taxiway-data/production", "requires_approval": True,
         "governance": {"approval": {"required": 2, "approvers": [
             {"name": "alice", "slack": "UALICE"}, {"name": "bob", "slack": "UBOB"},
             {"name": "carol", "slack": "UCAROL", "email": "carol@example.com"}]}}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def remote(localflyte: LocalFlyteProcess, moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> FlyteRemote:
    config = write_config(tmp_path_factory.mktemp("config") / "flyte.yaml", localflyte.endpoint, moto.endpoint)
    done = pyflyte(config, "register", "--project", PROJECT, "--domain", DOMAIN, "--version", VERSION,
                   "--copy", "auto", "--image", "localflyte-process-runtime:unused", WORKFLOWS)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return remote_for(localflyte.endpoint, moto.endpoint)


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlackProcess]:
    with LocalSlackProcess(tmp_path_factory.mktemp("slack"), tokens=(TOKEN,)) as process:
        yield process


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, localflyte: LocalFlyteProcess, slack: LocalSlackProcess
) -> Iterator[str]:
    state = tmp_path_factory.mktemp("approvals")
    config = state / "taxiway.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    port = free_port()
    env = {**config_only_env(), "FLYTE_PLATFORM_URL": localflyte.endpoint, "FLYTE_PLATFORM_INSECURE": "true",
           "SLACK_SIGNING_SECRET": SECRET, "TAXIWAY_SLACK_TOKEN": TOKEN}  # fmt: skip
    log = (state / "approvals.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "approvals", "serve", "--port", str(port), "--state-dir", str(state),
         "--config", str(config), "--slack-api-url", slack.api_url],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, (state / "approvals.log").read_text()
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def start_gate(remote: FlyteRemote, slack: LocalSlackProcess, workflow: str = "approval_gate") -> str:
    """Launch the gate workflow, post the approval message and write the approval request, as a promotion does."""
    plan = remote.fetch_launch_plan(name=f"{MODULE}.{workflow}", version=VERSION)
    execution = remote.execute(plan, inputs={}, execution_name=f"a{uuid.uuid4().hex[:12]}")
    full = f"{PROJECT}/{DOMAIN}/{execution.id.name}"
    now = datetime.now(UTC)
    request = ApprovalRequest(full, "training", "0123456789ab", "production", "carol@example.com",
                              now.isoformat(), (now + timedelta(minutes=10)).isoformat())  # fmt: skip
    channel, ts = WebApiTransport(web_client(TOKEN, slack.api_url)).post(
        CHANNEL, approval_text(request), approval_blocks(request)
    )
    open_request(FlyteSignals(remote), replace(request, slack_channel=channel, slack_ts=ts))
    return full


Clicked = tuple[int, dict[str, Any], bytes, dict[str, str]]


def click(url: str, execution: str, user: str, action: str = APPROVE_ACTION, *, secret: str = SECRET,
          at: float | None = None, body: bytes | None = None) -> Clicked:  # fmt: skip
    """POST a Slack ``block_actions`` request, signed as Slack signs it."""
    # Slack gives every click its own trigger_id, so two clicks never share a signature.
    payload = {"type": "block_actions", "user": {"id": user}, "trigger_id": uuid.uuid4().hex,
               "actions": [{"action_id": action, "value": execution}]}  # fmt: skip
    body = body or urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(at if at is not None else time.time()))
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sign(secret, timestamp, body),
               "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
    return (*post(url, body, headers), body, headers)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{url}/slack/interactions", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def wait_done(remote: FlyteRemote, execution: str, timeout: float = 120) -> str:
    name = execution.rsplit("/", 1)[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        phase = phase_name(remote.fetch_execution(project=PROJECT, domain=DOMAIN, name=name))
        if phase in ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"):
            return phase
        time.sleep(0.5)
    raise AssertionError(f"{execution} did not finish within {timeout}s")


def gate_value(remote: FlyteRemote, execution: str) -> str | None:
    return FlyteSignals(remote).values(execution).get("approval")


def test_two_of_three_from_slack(remote: FlyteRemote, slack: LocalSlackProcess, service: str) -> None:
    execution = start_gate(remote, slack)
    status, body, first, headers = click(service, execution, "UALICE")
    assert (status, body["outcome"]) == (200, "Pending")
    assert post(service, first, headers)[0] == 401  # replayed: refused
    assert click(service, execution, "UALICE")[1]["outcome"] == "Pending"  # alice again counts once
    assert click(service, execution, "UCAROL")[1]["outcome"] == "Pending"  # the author
    assert click(service, execution, "UBOB", secret="forged")[0] == 401
    assert click(service, execution, "UBOB", at=time.time() - 600)[0] == 401  # stale
    time.sleep(2)
    name = execution.rsplit("/", 1)[1]
    assert phase_name(remote.fetch_execution(project=PROJECT, domain=DOMAIN, name=name)) == "RUNNING"
    assert gate_value(remote, execution) is None

    assert click(service, execution, "UBOB")[1] == {"ok": True, "outcome": "Open", "gate_set": True}
    assert wait_done(remote, execution) == "SUCCEEDED"
    done = remote.fetch_execution(project=PROJECT, domain=DOMAIN, name=name)
    answer = json.loads(remote.sync_execution(done).outputs["o0"])
    assert answer["approved_by"] == ["alice", "bob"]
    assert {item["person"] for item in answer["decisions"]} == {"alice", "bob", "carol"}
    message = next(m for m in slack.messages() if execution in json.dumps(m))
    latest = json.dumps(message)
    assert "approved by alice, bob" in latest


def test_reject_ends_it(remote: FlyteRemote, slack: LocalSlackProcess, service: str) -> None:
    execution = start_gate(remote, slack)
    assert click(service, execution, "UALICE")[1]["outcome"] == "Pending"
    assert click(service, execution, "UBOB", REJECT_ACTION)[1]["outcome"] == "Rejected"
    assert wait_done(remote, execution) == "FAILED"  # nothing after the gate ran
    assert (gate_value(remote, execution) or "").startswith("reject: bob:")
    late = click(service, execution, "UCAROL")[1]
    assert late["ok"] is False and "already decided" in late["error"]


def test_unknown_approver_changes_nothing(remote: FlyteRemote, slack: LocalSlackProcess, service: str) -> None:
    execution = start_gate(remote, slack)
    reply = click(service, execution, "UMALLORY")[1]
    assert reply["ok"] is False and "may not approve" in reply["error"]
    assert read_request(FlyteSignals(remote), execution)[2] == []
    remote.terminate(remote.fetch_execution(project=PROJECT, domain=DOMAIN, name=execution.rsplit("/", 1)[1]),
                     "test done")  # fmt: skip


def test_timeout_rejects(remote: FlyteRemote, slack: LocalSlackProcess, service: str) -> None:
    execution = start_gate(remote, slack, "approval_gate_short")
    assert wait_done(remote, execution) in ("FAILED", "TIMED_OUT")
    assert gate_value(remote, execution) is None
