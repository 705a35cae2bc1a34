"""localflyte runs what is registered: real gRPC, real ``pyflyte``, real ``FlyteRemote``, process runtime.

One localflyte (``--runtime process``) and one moto server for the module. Workflows come from
``test_localflyte_workflows.py``: ``pyflyte run --remote`` registers and runs some; the rest are
registered once with ``pyflyte register`` and launched through ``FlyteRemote``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flyteidl.core import catalog_pb2, execution_pb2
from flytekit.configuration import Config, DataConfig, PlatformConfig, S3Config
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.models.core.identifier import Identifier, ResourceType
from flytekit.remote import FlyteRemote
from flytekit.remote.executions import FlyteWorkflowExecution

from localflyte.testing import LocalFlyteProcess, MotoServer
from tests.conformance import executions_support as support

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = "tests/integration/test_localflyte_workflows.py"
MODULE = "tests.integration.test_localflyte_workflows"
PROJECT = "flytesnacks"
DOMAIN = "development"
VERSION = "v1"
WAIT = timedelta(minutes=3)
POLL = timedelta(seconds=0.5)


def write_config(path: Path, endpoint: str, s3_endpoint: str) -> Path:
    """A flytekit/pyflyte config file for a localflyte and its S3."""
    path.write_text(
        f"admin:\n  endpoint: dns:///{endpoint}\n  insecure: true\n"
        f"storage:\n  type: s3\n  connection:\n    endpoint: {s3_endpoint}\n    access-key: testing\n"
        "    secret-key: testing\n    auth-type: accesskey\n    region: us-east-1\n    disable-ssl: true\n"
    )
    return path


def config_only_env() -> dict[str, str]:
    """This process's environment without flytekit's overrides (e.g. ``FLYTE_PLATFORM_URL`` from the local
    stack's ``.stack/env``), which would win over ``--config`` and point pyflyte at another FlyteAdmin."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("FLYTE_", "FLYTECTL_"))}


def pyflyte(config: Path, *arguments: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("pyflyte")), "--config", str(config), *arguments],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False, env=config_only_env(),
    )  # fmt: skip


def remote_for(endpoint: str, s3_endpoint: str) -> FlyteRemote:
    """A FlyteRemote for one localflyte, built from explicit settings (immune to ``FLYTE_*`` variables)."""
    config = Config(
        platform=PlatformConfig(endpoint=endpoint, insecure=True),
        data_config=DataConfig(s3=S3Config(endpoint=s3_endpoint, access_key_id="testing", secret_access_key="testing")),
    )
    return FlyteRemote(config, default_project=PROJECT, default_domain=DOMAIN)


def run_remote(config: Path, workflow: str, *inputs: str, image: str = "") -> str:
    """``pyflyte run --remote --wait``; returns the execution name. Fails with pyflyte's output."""
    name = f"r{uuid.uuid4().hex[:12]}"
    image_option = ("--image", image) if image else ()
    done = pyflyte(config, "run", "--remote", "--project", PROJECT, "--domain", DOMAIN, "--wait",
                   "--poll-interval", "1", "--name", name, *image_option, WORKFLOWS, workflow, *inputs)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Execution {name} has succeeded" in done.stdout, done.stdout
    return name


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory, localflyte: LocalFlyteProcess, moto: MotoServer) -> Path:
    return write_config(tmp_path_factory.mktemp("config") / "flyte.yaml", localflyte.endpoint, moto.endpoint)


@pytest.fixture(scope="module")
def remote(localflyte: LocalFlyteProcess, moto: MotoServer) -> FlyteRemote:
    return remote_for(localflyte.endpoint, moto.endpoint)


@pytest.fixture(scope="module")
def registered(config_file: Path) -> str:
    """Every entity of the workflows module, fast-registered once as version ``v1``."""
    # --copy auto: only the modules loaded (the repository's ignore files leave tests/ out of --copy all).
    done = pyflyte(config_file, "register", "--project", PROJECT, "--domain", DOMAIN, "--version", VERSION,
                   "--copy", "auto", "--image", "localflyte-process-runtime:unused", WORKFLOWS)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return VERSION


def launch(remote: FlyteRemote, name: str, wait: bool = True, **inputs: Any) -> FlyteWorkflowExecution:
    plan = remote.fetch_launch_plan(name=name if "." in name or name.startswith("localflyte_") else f"{MODULE}.{name}",
                                    version=VERSION)  # fmt: skip
    execution = remote.execute(plan, inputs=inputs, execution_name=f"x{uuid.uuid4().hex[:12]}")
    if wait:
        execution = remote.wait(execution, timeout=WAIT, poll_interval=POLL, sync_nodes=True)
    return execution


def phase_name(execution: FlyteWorkflowExecution) -> str:
    return WorkflowExecutionPhase.enum_to_string(execution.closure.phase)


def node_phase(phase: int) -> str:
    return execution_pb2.NodeExecution.Phase.Name(phase)  # type: ignore[arg-type]


def task_phase(phase: int) -> str:
    return execution_pb2.TaskExecution.Phase.Name(phase)  # type: ignore[arg-type]


def test_pyflyte_run_task_branch_subworkflow_and_launch_plan_node(remote: FlyteRemote, config_file: Path) -> None:
    name = run_remote(config_file, "tour", "--a", "7", "--b", "5")

    execution = remote.sync_execution(remote.fetch_execution(name=name), sync_nodes=True)
    # 7 + 5 = 12 > 10 → double → 24; sub-workflow doubles → 48; the launch plan node doubles → 96.
    assert execution.outputs["o0"] == 48 and execution.outputs["o1"] == 96
    lp_node = execution.node_executions["n3"]
    child_id = lp_node.closure.workflow_node_metadata.execution_id
    child = remote.fetch_execution(name=child_id.name)
    assert (child.id.project, child.id.domain) == (PROJECT, DOMAIN)  # the parent's project/domain
    assert child.spec.metadata.parent_node_execution.node_id == "n3"
    assert phase_name(child) == "SUCCEEDED" and child.outputs["o0"] == 96
    # Task log links: a file and localflyte's HTTP endpoint, which serves the kept output.
    logs = execution.node_executions["n0"].task_executions[0].closure.logs
    http_links = [link.uri for link in logs if link.uri.startswith("http://127.0.0.1:")]
    assert [link.uri.startswith("file://") for link in logs].count(True) == 1 and len(http_links) == 1
    with urllib.request.urlopen(http_links[0], timeout=10) as response:
        assert response.status == 200


def test_gate_waits_for_signal_and_approval(remote: FlyteRemote, config_file: Path) -> None:
    name = f"g{uuid.uuid4().hex[:12]}"
    runner = subprocess.Popen(
        [str(Path(sys.executable).with_name("pyflyte")), "--config", str(config_file), "run", "--remote",
         "--project", PROJECT, "--domain", DOMAIN, "--wait", "--poll-interval", "1", "--name", name,
         WORKFLOWS, "gated", "--x", "4"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=config_only_env(),
    )  # fmt: skip
    try:
        signals: list[str] = []
        deadline = time.monotonic() + 120
        while len(signals) < 2 and time.monotonic() < deadline and runner.poll() is None:
            time.sleep(0.5)
            try:
                signals = sorted(signal.id.signal_id for signal in remote.list_signals(name))
            except Exception:  # the execution does not exist until pyflyte has registered and launched it
                signals = []
        assert signals == ["bonus", "release"]
        time.sleep(1.0)
        assert phase_name(remote.fetch_execution(name=name)) == "RUNNING"  # still waiting at its gates

        remote.set_signal("bonus", name, 5)
        remote.approve("release", name)
        output, _ = runner.communicate(timeout=120)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0, output
    execution = remote.sync_execution(remote.fetch_execution(name=name), sync_nodes=True)
    assert execution.outputs["o0"] == 2 * 4 + 5


def test_cache_hits_within_project_and_domain_without_running_the_task(remote: FlyteRemote, registered: str) -> None:
    first = launch(remote, "cached", x=9)
    second = launch(remote, "cached", x=9)
    other_input = launch(remote, "cached", x=10)

    assert first.outputs["o0"] == second.outputs["o0"] == 81 and other_input.outputs["o0"] == 100
    statuses = [
        catalog_pb2.CatalogCacheStatus.Name(e.node_executions["n0"].closure.task_node_metadata.cache_status)
        for e in (first, second, other_input)
    ]
    assert statuses == ["CACHE_POPULATED", "CACHE_HIT", "CACHE_POPULATED"]
    assert len(first.node_executions["n0"].task_executions) == 1
    assert second.node_executions["n0"].task_executions == []  # no process was started


def test_raising_task_surfaces_message_and_phase(remote: FlyteRemote, registered: str) -> None:
    execution = launch(remote, "failing", x=41)

    assert phase_name(execution) == "FAILED"
    assert "the answer is not 41" in execution.error.message
    node = execution.node_executions["n0"]
    assert node_phase(node.closure.phase) == "FAILED"
    # Lists trim error messages as FlyteAdmin does; GetNodeExecution has all of it.
    assert "the answer is not 41" in remote.client.get_node_execution(node.id).closure.error.message
    assert node.closure.error.kind == execution_pb2.ExecutionError.USER


def test_recoverable_error_is_retried(remote: FlyteRemote, registered: str) -> None:
    execution = launch(remote, "retried")

    assert phase_name(execution) == "SUCCEEDED"
    assert execution.outputs["o0"] == 1  # the second attempt's number
    attempts = execution.node_executions["n0"].task_executions
    assert [(a.id.retry_attempt, task_phase(a.closure.phase)) for a in attempts] == [(0, "FAILED"), (1, "SUCCEEDED")]


def test_timeout_ends_node_timed_out(remote: FlyteRemote, registered: str) -> None:
    execution = launch(remote, "too_slow", x=1)

    node = execution.node_executions["n0"]
    assert node_phase(node.closure.phase) == "TIMED_OUT"
    assert phase_name(execution) == "FAILED"
    assert "timeout" in execution.error.message


def _alive(pid: int) -> bool:
    """A process that still exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_terminate_aborts_and_leaves_no_process(remote: FlyteRemote, registered: str, tmp_path: Path) -> None:
    pid_file = tmp_path / "linger.pid"
    execution = launch(remote, "lingering", wait=False, pid_file=str(pid_file))
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    pid = int(pid_file.read_text())
    assert _alive(pid)

    remote.terminate(execution, "no longer needed")
    execution = remote.wait(execution, timeout=timedelta(seconds=60), poll_interval=POLL, sync_nodes=True)

    assert phase_name(execution) == "ABORTED"
    assert execution.closure.abort_metadata.cause == "no longer needed"
    assert not _alive(pid)


def tick(localflyte: LocalFlyteProcess, seconds: int) -> list[dict[str, Any]]:
    port = localflyte.endpoint.rsplit(":", 1)[1]
    done = subprocess.run([sys.executable, "-m", "localflyte", "tick", "--port", port, "--seconds", str(seconds)],
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    fired: list[dict[str, Any]] = json.loads(done.stdout)["fired"]
    return [entry for entry in fired if entry["launch_plan"] == "localflyte_nightly"]


def test_scheduled_launch_plan_fires_after_activation_not_after_deactivation(
    remote: FlyteRemote, registered: str, localflyte: LocalFlyteProcess
) -> None:
    plan_id = Identifier(ResourceType.LAUNCH_PLAN, PROJECT, DOMAIN, "localflyte_nightly", VERSION)
    remote.client.update_launch_plan(plan_id, "ACTIVE")
    try:
        fired = tick(localflyte, 86400)
    finally:
        remote.client.update_launch_plan(plan_id, "INACTIVE")
    assert len(fired) == 1
    execution = remote.wait(remote.fetch_execution(name=fired[0]["name"]), timeout=WAIT, poll_interval=POLL)
    scheduled_at = datetime.fromisoformat(fired[0]["scheduled_at"])
    assert scheduled_at.tzinfo == UTC or scheduled_at.utcoffset() == timedelta(0)
    assert datetime.fromisoformat(execution.outputs["o0"]) == scheduled_at  # the kickoff time input

    assert tick(localflyte, 86400) == []


def test_restart_fails_executions_left_running(tmp_path: Path, moto: MotoServer) -> None:
    """A localflyte that died mid-run does not resume: its RUNNING executions end FAILED, saying why."""
    state_dir = tmp_path / "state"
    first = LocalFlyteProcess(state_dir, s3_endpoint=moto.endpoint, runtime="none")
    try:
        remote = remote_for(first.endpoint, moto.endpoint)
        plan = support.register_adder(remote, PROJECT)
        execution = remote.execute(plan, inputs={"a": 1}, execution_name="left-running")
        # What the previous executor had reported before it died.
        support.workflow_event(remote.client, execution.id.to_flyte_idl(), support.WorkflowPhase.RUNNING)
    finally:
        first.stop()
    second = LocalFlyteProcess(state_dir, s3_endpoint=moto.endpoint, runtime="process")
    try:
        remote = remote_for(second.endpoint, moto.endpoint)
        execution = remote.fetch_execution(name="left-running")
        assert phase_name(execution) == "FAILED"
        assert execution.error.code == "LocalflyteRestarted"
        assert "does not resume" in execution.error.message
    finally:
        second.stop()
