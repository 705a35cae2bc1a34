"""Promotion end to end, remotely, with real executions: development → staging → production (approved from
Slack and the CLI) and the nightly launch plan fired by localflyte's clock promoting a newer release.

Real parts: a localflyte of this module that runs executions (process runtime: every task, the meta-workflows'
and the example's torch training alike, runs on the host), its own moto, a localslack with a user group, the
approvals service as a subprocess, and the stack's Docker engine and registry (the example's image is built
once under a repository of this test, then its content-hash tag is reused). Taxiway's meta-workflows and launch
plans are registered with ``pyflyte register`` and launched through FlyteRemote under their deterministic names,
as ``taxiway promote`` and the Flyte UI do; nothing is called in-process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from flytekit.configuration import Config, DataConfig, PlatformConfig, S3Config
from flytekit.models.project import Project
from flytekit.remote import FlyteRemote
from flytekit.remote.executions import FlyteWorkflowExecution

from approvals.signature import sign
from localflyte.testing import LocalFlyteProcess, MotoServer, free_port_pair
from localslack.testing import LocalSlackProcess, free_port
from tasks.core.governance_signals import REQUEST_SIGNAL, FlyteSignals, read_request
from tasks.core.governance_slack import APPROVE_ACTION
from tasks.core.promote import PromotionRecord
from tasks.core.promote_names import promotion_execution_name
from tasks.core.vocabulary import Phase
from taxiway.cli import cli
from tests.integration.test_localflyte_executor import phase_name, pyflyte, write_config

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "training"
META_PROJECT, META_DOMAIN, META_VERSION = "taxiway", "development", "m1"
PROJECT, PIPELINE = "training", "training"
TOKEN, SECRET, CHANNEL = "xoxb-promotion-e2e", "promotion-e2e-signing-secret", "training-releases"
GROUP, GROUP_MEMBER = "SRELEASE", "UDANA"
RUN_TIMEOUT = 1500.0
DONE = ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")
PRODUCTION_POLICY = {
    "required": 2,
    "approvers": [{"name": "alice", "slack": "UALICE"}, {"name": "bob", "flyte": "bob"}],
    "slack_groups": [GROUP],
}


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "E2E Author", "GIT_AUTHOR_EMAIL": "e2e-author@example.com", "HOME": str(repo.parent),
           "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.com", "PATH": "/usr/bin:/bin"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlackProcess]:
    with LocalSlackProcess(tmp_path_factory.mktemp("slack"), tokens=(TOKEN,), usergroups={GROUP: (GROUP_MEMBER,)}) as s:
        yield s


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str], slack: LocalSlackProcess) -> Path:
    """A git copy of the example: production needs 2 approvals; its nightly retraining is small."""
    root = tmp_path_factory.mktemp("promotion-e2e") / "training-repo"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".wheels"))
    config_path = root / "taxiway.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["image"]["repository"] = f"{stack_env['TAXIWAY_REGISTRY']}/taxiway-test/promotion-e2e-training"
    config["notifications"]["slack"]["api_url"] = slack.api_url
    production = next(domain for domain in config["domains"] if domain["name"] == "production")
    production |= {"requires_approval": True, "approval_timeout": "20m", "governance": {"approval": PRODUCTION_POLICY}}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    # The example's own 02:00 schedule fires with the nightly promotion's tick: keep that retraining small.
    plans = root / "training" / "launch_plans.py"
    plans.write_text(plans.read_text().replace('{"n_samples": 20000, "epochs": 60}', '{"n_samples": 200, "epochs": 1}'))
    git(root, "init", "--quiet", "--initial-branch", "main")
    commit_all(root, "the example pipeline")
    return root


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=("taxiway-data",))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def localflyte(
    tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str], moto: MotoServer, slack: LocalSlackProcess
) -> Iterator[LocalFlyteProcess]:
    """localflyte (process runtime) whose tasks see this module's FlyteAdmin, S3 and Slack (its environment)."""
    port = free_port_pair()
    patch = pytest.MonkeyPatch()
    for name, value in {"FLYTE_PLATFORM_URL": f"127.0.0.1:{port}", "FLYTE_PLATFORM_INSECURE": "True",
                        "AWS_ENDPOINT_URL": moto.endpoint, "FLYTE_AWS_ENDPOINT": moto.endpoint,
                        "TAXIWAY_SLACK_TOKEN": TOKEN, "SLACK_BASE_URL": slack.api_url}.items():  # fmt: skip
        patch.setenv(name, value)
    process = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), moto.endpoint, runtime="process", port=port)
    yield process
    process.stop()
    patch.undo()


@pytest.fixture(scope="module")
def remote(localflyte: LocalFlyteProcess, moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> FlyteRemote:
    """Taxiway's meta-workflows and launch plans registered in taxiway/development, as the platform team does."""
    config = Config(
        platform=PlatformConfig(endpoint=localflyte.endpoint, insecure=True),
        data_config=DataConfig(
            s3=S3Config(endpoint=moto.endpoint, access_key_id="testing", secret_access_key="testing")
        ),
    )
    flyte = FlyteRemote(config, default_project=META_PROJECT, default_domain=META_DOMAIN)
    for project in (META_PROJECT, PROJECT):
        flyte.client.register_project(Project(id=project, name=project, description="promotion e2e"))
    file = write_config(tmp_path_factory.mktemp("flyte") / "flyte.yaml", localflyte.endpoint, moto.endpoint)
    done = pyflyte(file, "register", "--project", META_PROJECT, "--domain", META_DOMAIN, "--version", META_VERSION,
                   "--copy", "auto", "--image", "localflyte-process-runtime:unused", "meta_workflows", "launchplans",
                   timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return flyte


@pytest.fixture(scope="module")
def approvals(
    tmp_path_factory: pytest.TempPathFactory, localflyte: LocalFlyteProcess, slack: LocalSlackProcess, repo: Path
) -> Iterator[str]:
    """``python -m approvals serve`` for the test pipeline, sweeping for expired approvals every second."""
    state = tmp_path_factory.mktemp("approvals")
    port = free_port()
    env = {**os.environ, "FLYTE_PLATFORM_URL": localflyte.endpoint, "FLYTE_PLATFORM_INSECURE": "true",
           "SLACK_SIGNING_SECRET": SECRET, "TAXIWAY_SLACK_TOKEN": TOKEN}  # fmt: skip
    log = (state / "approvals.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "approvals", "serve", "--port", str(port), "--state-dir", str(state), "--config",
         str(repo / "taxiway.yaml"), "--slack-api-url", slack.api_url, "--meta-project", META_PROJECT,
         "--meta-domain", META_DOMAIN, "--sweep-seconds", "1"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None and time.monotonic() < deadline, (state / "approvals.log").read_text()
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def wait(remote: FlyteRemote, name: str, timeout: float = RUN_TIMEOUT) -> FlyteWorkflowExecution:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = remote.fetch_execution(name=name)
        if phase_name(execution) in DONE:
            return execution
        time.sleep(2)
    raise AssertionError(f"{name} did not finish within {timeout}s")


def launch(remote: FlyteRemote, plan: str, name: str, **inputs: Any) -> str:
    launch_plan = remote.fetch_launch_plan(META_PROJECT, META_DOMAIN, plan, META_VERSION)
    remote.execute(launch_plan, inputs=inputs, execution_name=name, wait=False)
    return name


def succeeded(remote: FlyteRemote, name: str) -> FlyteWorkflowExecution:
    execution = wait(remote, name)
    error = execution.closure.error.message if execution.closure.error else ""
    assert phase_name(execution) == "SUCCEEDED", f"{name}: {error}"
    return remote.sync_execution(execution)


def build_release(remote: FlyteRemote, repo: Path, prefix: str = "ci-") -> str:
    """``ci-<version>`` (or ``<prefix><version>``) from the repository's main branch, validated in development."""
    version = git(repo, "rev-parse", "HEAD")[:12]
    launch(remote, "taxiway.ci_from_git", f"{prefix}{version}", git_url=f"file://{repo}", git_ref="main")
    succeeded(remote, f"{prefix}{version}")
    return version


def active(remote: FlyteRemote, domain: str) -> dict[str, str]:
    plans, _ = remote.client.list_active_launch_plans_paginated(PROJECT, domain, limit=100)
    return {plan.id.name: plan.id.version for plan in plans}


def record_of(execution: FlyteWorkflowExecution) -> PromotionRecord:
    record = execution.outputs.get("o0", as_type=PromotionRecord)
    assert isinstance(record, PromotionRecord)
    return record


def click_button(url: str, execution: str, user: str) -> dict[str, Any]:
    """POST a signed Slack ``block_actions`` request for the message's Approve button, as Slack does."""
    payload = {"type": "block_actions", "user": {"id": user}, "trigger_id": uuid.uuid4().hex,
               "actions": [{"action_id": APPROVE_ACTION, "value": execution}]}  # fmt: skip
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sign(SECRET, timestamp, body),
               "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
    request = urllib.request.Request(f"{url}/slack/interactions", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def taxiway(localflyte: LocalFlyteProcess, moto: MotoServer, repo: Path, *args: str) -> str:
    env = {"FLYTE_PLATFORM_URL": localflyte.endpoint, "FLYTE_PLATFORM_INSECURE": "True",
           "FLYTE_AWS_ENDPOINT": moto.endpoint}  # fmt: skip
    result = CliRunner().invoke(cli, [*args, "--config", str(repo / "taxiway.yaml"), "--meta-project", META_PROJECT],
                                env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def first(remote: FlyteRemote, repo: Path) -> str:
    return build_release(remote, repo)


@pytest.fixture(scope="module")
def staged(remote: FlyteRemote, first: str) -> PromotionRecord:
    name = launch(remote, "taxiway.promote", promotion_execution_name(PIPELINE, first, "staging"),
                  pipeline=PIPELINE, version=first, to_domain="staging")  # fmt: skip
    return record_of(succeeded(remote, name))


def test_promote_to_staging_validates_there_and_activates(
    remote: FlyteRemote, first: str, staged: PromotionRecord
) -> None:
    assert (staged.version, staged.from_domain, staged.to_domain, staged.phase) == (first, "development", "staging",
                                                                                    Phase.SUCCEEDED)  # fmt: skip
    assert staged.validation is not None and staged.validation.passed
    [case] = staged.validation.cases
    execution = remote.fetch_execution(PROJECT, "staging", case.execution_id.rpartition("/")[2])
    assert phase_name(execution) == "SUCCEEDED" and execution.spec.launch_plan.version == first
    assert active(remote, "staging") == {name: first for name in staged.activated}
    assert "nightly_retraining_lp" in staged.activated
    assert active(remote, "production") == {}


def deck_pages(remote: FlyteRemote, name: str) -> list[str]:
    """The Deck HTML of every node of meta execution ``name`` that rendered one (read back through its deck_uri)."""
    execution = remote.sync_execution(remote.fetch_execution(name=name), sync_nodes=True)
    pages = []
    with tempfile.TemporaryDirectory(prefix="e2e-deck-") as workdir:
        for node_id, node in execution.node_executions.items():
            if node.closure.deck_uri:
                local = Path(workdir) / f"{node_id}.html"
                remote.file_access.get_data(node.closure.deck_uri, str(local))
                pages.append(local.read_text())
    return pages


def test_ci_and_promotion_runs_report_in_slack_threads_and_render_decks(
    remote: FlyteRemote, slack: LocalSlackProcess, first: str, staged: PromotionRecord
) -> None:
    for what, name in (("ci", f"ci-{first}"), ("promotion", promotion_execution_name(PIPELINE, first, "staging"))):
        html = "\n".join(deck_pages(remote, name))
        assert "<table" in html, f"the {what} run rendered no Deck table"
        assert "<svg" in html, f"the {what} run's Deck has no metrics plot"
        assert first in html, f"the {what} run's Deck does not name the release"
    messages = slack.messages()
    mains = [
        m
        for m in messages
        if m["thread_ts"] is None and f"· {PIPELINE} {first}" in json.dumps(m["blocks"], ensure_ascii=False)
    ]
    headers = sorted(json.dumps(m["blocks"], ensure_ascii=False).partition(" · ")[0].rpartition('"')[2] for m in mains)
    assert "ci" in headers and any(header.startswith("promot") for header in headers), headers
    for main in mains:
        replies = [m for m in messages if m["thread_ts"] == main["ts"]]
        assert len(replies) >= 2, f"one thread per run with its steps, got {len(replies)} replies under {main['ts']}"


def test_production_waits_for_two_approvals_from_slack_and_cli(
    remote: FlyteRemote, localflyte: LocalFlyteProcess, moto: MotoServer, slack: LocalSlackProcess, approvals: str,
    repo: Path, first: str, staged: PromotionRecord,
) -> None:  # fmt: skip
    name = launch(remote, "taxiway.promote", promotion_execution_name(PIPELINE, first, "production"),
                  pipeline=PIPELINE, version=first, to_domain="production")  # fmt: skip
    full = f"{META_PROJECT}/{META_DOMAIN}/{name}"
    signals = FlyteSignals(remote)
    deadline = time.monotonic() + 600
    while REQUEST_SIGNAL not in signals.values(full):
        assert time.monotonic() < deadline and phase_name(remote.fetch_execution(name=name)) not in DONE
        time.sleep(2)
    request, answered, _ = read_request(signals, full)
    assert request is not None and answered is None and request.author == "e2e-author@example.com"
    message = next(m for m in slack.messages(CHANNEL) if m["ts"] == request.slack_ts)
    buttons = [element for block in message["blocks"] if block["type"] == "actions" for element in block["elements"]]
    assert {button["value"] for button in buttons} == {full}, "the buttons identify the promotion"
    assert "PENDING APPROVAL" in taxiway(localflyte, moto, repo, "status")

    # One approval from the CLI keeps the gate closed.
    assert "waiting for 1 more approval" in taxiway(localflyte, moto, repo, "approve", full, "--as", "bob")
    time.sleep(3)
    assert phase_name(remote.fetch_execution(name=name)) == "RUNNING" and active(remote, "production") == {}
    # A member of the Slack user group (looked up with usergroups.users.list) clicks Approve: the gate opens.
    assert click_button(approvals, full, GROUP_MEMBER) == {"ok": True, "outcome": "Open", "gate_set": True}
    record = record_of(succeeded(remote, name))
    assert record.phase is Phase.SUCCEEDED and record.to_domain == "production"
    assert {vote.person for vote in record.approvals} == {f"slack:{GROUP_MEMBER}", "bob"}
    assert active(remote, "production") == {plan: first for plan in record.activated}
    updated = next(m for m in slack.messages(CHANNEL) if m["ts"] == request.slack_ts)
    assert "approved by" in json.dumps(updated["blocks"]) and "actions" not in json.dumps(updated["blocks"])


def test_nightly_fired_by_the_clock_promotes_the_newer_release(
    remote: FlyteRemote, localflyte: LocalFlyteProcess, moto: MotoServer, repo: Path, first: str,
    staged: PromotionRecord,
) -> None:  # fmt: skip
    module = repo / "training" / "data.py"
    module.write_text(module.read_text() + "\n# a code-only change for the nightly promotion\n")
    commit_all(repo, "code only")
    # Built under another name than ci-<version>: the nightly finds it by scanning ci_pipeline executions.
    second = build_release(remote, repo, prefix="build-")
    nightly = remote.fetch_launch_plan(META_PROJECT, META_DOMAIN, "taxiway.nightly_staging", META_VERSION)
    remote.client.update_launch_plan(nightly.id, "ACTIVE")
    port = localflyte.endpoint.rsplit(":")[1]
    ticked = subprocess.run([sys.executable, "-m", "localflyte", "tick", "--port", port, "--seconds", "86400"],
                            capture_output=True, text=True, check=True, cwd=REPO_ROOT)  # fmt: skip
    fired = [run for run in json.loads(ticked.stdout.strip().splitlines()[-1])["fired"]
             if run["launch_plan"] == "taxiway.nightly_staging"]  # fmt: skip
    assert len(fired) == 1, ticked.stdout
    execution = succeeded(remote, fired[0]["name"])
    assert execution.outputs["o0"] == second
    assert set(active(remote, "staging").values()) == {second}
    assert set(active(remote, "production").values()) == {first}, "production keeps its approved release"
    status = taxiway(localflyte, moto, repo, "status")
    lines = {line.split()[0]: line for line in status.splitlines() if line and not line.startswith(" ")}
    assert second in lines["staging"] and "validation=PASSED" in lines["staging"]
    assert first in lines["production"] and "PENDING APPROVAL" not in status
