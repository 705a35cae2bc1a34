"""Every node kind and task type in the Docker runtime, launched as a user would: ``pyflyte run --remote``.

One localflyte (``--runtime docker``) and one moto server for the module. Tasks run in the example
pipeline's image (flytekit, kfpytorch, torch 2.13.0 CPU; built from the base image and the local torch
wheel by ``test_example_image``, reused when its content tag exists); the raw container task runs in
the base image. Workflows: ``test_executor_docker_workflows`` (the process-runtime tests' workflows,
composed to keep the number of executions, and so of containers, small) and the PyTorch workflows.

Needs the local stack (Docker engine, base image). With the image built: about 1.5 minutes on an idle
machine, 6 when the cores are shared; building the image first adds minutes, hence ``e2e``.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import docker
import pytest
from flytekit.remote import FlyteRemote
from flytekit.remote.executions import FlyteNodeExecution, FlyteTaskExecution, FlyteWorkflowExecution

from localflyte.executor.runtimes import DockerRuntime
from localflyte.storage import BlobStore
from localflyte.testing import LocalFlyteProcess, MotoServer
from tests.integration.test_example_image import _content_tag, image
from tests.integration.test_localflyte_executor import (
    DOMAIN,
    PROJECT,
    REPO_ROOT,
    config_only_env,
    node_phase,
    phase_name,
    remote_for,
    task_phase,
    write_config,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

__all__ = ["image"]  # the example image's build fixture, used when the image is missing

WORKFLOWS = "tests/integration/test_executor_docker_workflows.py"
LOCALFLYTE_WORKFLOWS = "tests/integration/test_localflyte_workflows.py"
TORCH_WORKFLOWS = "tests/integration/test_executor_nodes_torch_workflows.py"
WAIT = timedelta(minutes=5)
POLL = timedelta(seconds=1)


@pytest.fixture(scope="module")
def training_image(request: pytest.FixtureRequest, docker_client: docker.DockerClient, base_image: str) -> str:
    """The example pipeline's image: the existing one when its content tag is in the engine, else built."""
    tag = _content_tag(base_image)
    try:
        docker_client.images.get(tag)
    except docker.errors.ImageNotFound:
        return str(request.getfixturevalue("image").tag)
    return tag


@pytest.fixture(scope="module")
def docker_localflyte(
    tmp_path_factory: pytest.TempPathFactory, moto: MotoServer, stack_env: dict[str, str]
) -> Iterator[LocalFlyteProcess]:
    # stack_env exports DOCKER_HOST, which the localflyte subprocess inherits.
    process = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=moto.endpoint, runtime="docker")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def config_file(
    tmp_path_factory: pytest.TempPathFactory, docker_localflyte: LocalFlyteProcess, moto: MotoServer
) -> Path:
    return write_config(tmp_path_factory.mktemp("config") / "flyte.yaml", docker_localflyte.endpoint, moto.endpoint)


@pytest.fixture(scope="module")
def remote(docker_localflyte: LocalFlyteProcess, moto: MotoServer) -> FlyteRemote:
    return remote_for(docker_localflyte.endpoint, moto.endpoint)


def start_run(
    config: Path, image: str, workflows: str, workflow: str, *inputs: str, wait: bool = True
) -> tuple[str, subprocess.Popen[str]]:
    """``pyflyte run --remote [--wait]`` in the background; returns the execution name and the process."""
    name = f"d{uuid.uuid4().hex[:12]}"
    wait_options = ("--wait", "--poll-interval", "1") if wait else ()
    argv = [str(Path(sys.executable).with_name("pyflyte")), "--config", str(config), "run", "--remote",
            "--project", PROJECT, "--domain", DOMAIN, *wait_options, "--name", name, "--image", image,
            workflows, workflow, *inputs]  # fmt: skip
    runner = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=config_only_env())  # fmt: skip
    return name, runner


def finish(runner: subprocess.Popen[str], timeout: float = 600) -> str:
    """pyflyte's output once it exits; fails when it is still running after ``timeout`` seconds."""
    try:
        output, _ = runner.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        runner.kill()
        output, _ = runner.communicate()
        pytest.fail(f"pyflyte still running after {timeout}s:\n{output}")
    return output


def wait_for_signal(remote: FlyteRemote, name: str, runner: subprocess.Popen[str], signal_id: str) -> None:
    """Until the execution's gate has created ``signal_id`` (the execution exists once pyflyte launched it)."""
    deadline = time.monotonic() + 300
    # pyflyte without --wait exits once it launched the execution: only a failed pyflyte stops the wait.
    while time.monotonic() < deadline and runner.poll() in (None, 0):
        try:
            if signal_id in {signal.id.signal_id for signal in remote.list_signals(name)}:
                return
        except Exception:  # not launched yet
            pass
        time.sleep(1)
    output = finish(runner, timeout=5) if runner.poll() is not None else "(pyflyte still running)"
    pytest.fail(f"execution {name} never created signal {signal_id!r}:\n{output}")


def node_running(execution: FlyteWorkflowExecution, task_suffix: str) -> FlyteNodeExecution:
    """The top-level node whose task name ends with ``task_suffix``."""
    for node in execution.node_executions.values():
        # An array node lists its sub-task executions differently (not FlyteTaskExecution objects).
        attempts = [t for t in node.task_executions if isinstance(t, FlyteTaskExecution)]
        if attempts and attempts[0].id.task_id.name.endswith(task_suffix):
            return node
    names = {k: [str(t)[:60] for t in n.task_executions] for k, n in execution.node_executions.items()}
    raise AssertionError(f"no node runs a task named *{task_suffix} in {execution.id.name}: {names}")


def containers_of(docker_client: docker.DockerClient, name: str) -> list[str]:
    """localflyte's containers (running or not) of one execution; run ids start with its name."""
    containers = docker_client.containers.list(all=True, filters={"label": DockerRuntime.LABEL})
    return [c.name for c in containers if c.labels.get(DockerRuntime.LABEL, "").startswith(name)]


def test_every_node_kind_in_containers(
    remote: FlyteRemote,
    config_file: Path,
    training_image: str,
    docker_client: docker.DockerClient,
    moto: MotoServer,
) -> None:
    inputs = ("--a", "7", "--b", "5", "--xs", "[1, 2, 3, 4, 5]", "--n", "3", "--ys", "[3, 4]")
    name, runner = start_run(config_file, training_image, WORKFLOWS, "node_kinds", *inputs)
    try:
        wait_for_signal(remote, name, runner, "release")
        assert phase_name(remote.fetch_execution(name=name)) == "RUNNING"  # held at the gate
        remote.approve("release", name)
        output = finish(runner)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert f"Execution {name} has succeeded" in output, output

    execution = remote.sync_execution(remote.fetch_execution(name=name), sync_nodes=True)
    outputs = [execution.outputs[f"o{index}"] for index in range(10)]
    # tour: 7 + 5 = 12 > 10 → double → 24; sub-workflow → 48; launch plan → 96. Map: index 2 fails, ratio 0.8.
    # Dynamic: i² + 1 for i < 3 and their sum. flaky succeeds on attempt 1. The container adds 7 + 5.
    # The array node over the doubling launch plan: one child execution per element.
    assert outputs == [48, 96, [10, 20, None, 40, 50], [1, 2, 5], 8, 1, 7, 12, 12, [6, 8]]

    retried = node_running(execution, "flaky")
    attempts = [(a.id.retry_attempt, task_phase(a.closure.phase)) for a in retried.task_executions]
    assert attempts == [(0, "FAILED"), (1, "SUCCEEDED")]
    assert any(node.metadata.is_array for node in execution.node_executions.values())
    assert any(node.metadata.is_dynamic for node in execution.node_executions.values())

    # The array node over the launch plan lists its children as external resources of its task execution.
    children = {
        resource.workflow_node_metadata.execution_id.name
        for node in execution.node_executions.values()
        if node.metadata.is_array
        for task_execution in remote.client.list_task_executions_paginated(node.id, limit=10)[0]
        for resource in task_execution.closure.metadata.external_resources
        if resource.workflow_node_metadata.execution_id.name
    }
    assert len(children) == 2
    assert {phase_name(remote.fetch_execution(name=child)) for child in children} == {"SUCCEEDED"}
    deck_uri = node_running(execution, "reported").closure.deck_uri
    assert deck_uri.endswith("/deck.html"), deck_uri
    deck = BlobStore(moto.endpoint, "testing", "testing").read(deck_uri).decode()
    assert "reported x=7" in deck
    assert containers_of(docker_client, name) == []


def test_rejected_approval_fails_the_gate(remote: FlyteRemote, config_file: Path, training_image: str) -> None:
    name, runner = start_run(config_file, training_image, WORKFLOWS, "rejected", "--x", "3", wait=False)
    try:
        wait_for_signal(remote, name, runner, "release")
        remote.reject("release", name)
        finish(runner)
    finally:
        if runner.poll() is None:
            runner.kill()
    execution = remote.wait(remote.fetch_execution(name=name), timeout=WAIT, poll_interval=POLL, sync_nodes=True)

    assert phase_name(execution) == "FAILED"
    assert execution.error.code == "ReceivedRejectSignal" and "reject" in execution.error.message
    gates = [node for node in execution.node_executions.values() if not node.task_executions]
    assert [node_phase(node.closure.phase) for node in gates if node.id.node_id != "start-node"] == ["FAILED"]


def test_failures_timeout_and_failure_handler(
    remote: FlyteRemote, config_file: Path, training_image: str, docker_localflyte: LocalFlyteProcess
) -> None:
    name, runner = start_run(config_file, training_image, WORKFLOWS, "failures", "--x", "41")
    output = finish(runner)
    execution = remote.sync_execution(remote.fetch_execution(name=name), sync_nodes=True)

    assert phase_name(execution) == "FAILED", output
    phases = {
        suffix: node_phase(node_running(execution, suffix).closure.phase) for suffix in ("explode", "dawdle", "double")
    }
    # FAIL_AFTER_EXECUTABLE_NODES_COMPLETE: the independent task still ran to success.
    assert phases == {"explode": "FAILED", "dawdle": "TIMED_OUT", "double": "SUCCEEDED"}
    exploded = node_running(execution, "explode")
    assert "the answer is not 41" in remote.client.get_node_execution(exploded.id).closure.error.message
    # The on_failure handler ran in its container and was told which node failed and why.
    [handler_log] = (docker_localflyte.state_dir / "logs" / name).glob("fn0-*.log")
    told = handler_log.read_text()
    assert "failure handler: node=n0 message=" in told or "failure handler: node=n1 message=" in told, told
    assert "the answer is not 41" in told or "timeout" in told, told


def test_terminate_aborts_and_leaves_no_container(
    remote: FlyteRemote, config_file: Path, training_image: str, docker_client: docker.DockerClient
) -> None:
    name, runner = start_run(config_file, training_image, LOCALFLYTE_WORKFLOWS, "lingering",
                             "--pid_file", "/tmp/linger.pid", wait=False)  # fmt: skip
    finish(runner)
    deadline = time.monotonic() + 120
    while not containers_of(docker_client, name) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert containers_of(docker_client, name), f"no container started for {name}"

    execution = remote.fetch_execution(name=name)
    remote.terminate(execution, "no longer needed")
    execution = remote.wait(execution, timeout=timedelta(seconds=90), poll_interval=POLL, sync_nodes=True)

    assert phase_name(execution) == "ABORTED"
    assert execution.closure.abort_metadata.cause == "no longer needed"
    assert containers_of(docker_client, name) == []


def test_pytorch_master_and_two_workers_in_containers(
    remote: FlyteRemote, config_file: Path, training_image: str, docker_client: docker.DockerClient
) -> None:
    name, runner = start_run(config_file, training_image, TORCH_WORKFLOWS, "pytorch_replicas")
    output = finish(runner)
    assert f"Execution {name} has succeeded" in output, output

    execution = remote.fetch_execution(name=name)
    # World size 3 (master + 2 workers), all-reduce of rank + 1 = 1 + 2 + 3, outputs from the master (rank 0).
    assert [execution.outputs[f"o{index}"] for index in range(3)] == [3, 6, 0]
    assert containers_of(docker_client, name) == []
