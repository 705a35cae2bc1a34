"""Array, dynamic and failure nodes through a real localflyte: ``pyflyte run --remote`` and ``FlyteRemote``.

What matters here is what FlyteAdmin clients see: ``sync_execution(sync_nodes=True)`` must walk the
array node (``is_array``, one task execution with external resources) and the dynamic node (its
compiled workflow from ``GetNodeExecutionData`` and its child nodes) without errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flytekit.remote import FlyteRemote

from localflyte.testing import LocalFlyteProcess, MotoServer
from tests.integration.test_localflyte_executor import phase_name, pyflyte, remote_for, write_config

pytestmark = pytest.mark.integration

WORKFLOWS = "tests/integration/test_executor_nodes_workflows.py"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=("taxiway-data",))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def localflyte(tmp_path_factory: pytest.TempPathFactory, s3: MotoServer) -> Iterator[LocalFlyteProcess]:
    process = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=s3.endpoint, runtime="process")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory, localflyte: LocalFlyteProcess, s3: MotoServer) -> Path:
    return write_config(tmp_path_factory.mktemp("config") / "flyte.yaml", localflyte.endpoint, s3.endpoint)


@pytest.fixture(scope="module")
def remote(localflyte: LocalFlyteProcess, s3: MotoServer) -> FlyteRemote:
    return remote_for(localflyte.endpoint, s3.endpoint)


def run(config: Path, workflow: str, *inputs: str) -> tuple[str, str]:
    """``pyflyte run --remote --wait``; returns the execution name and pyflyte's output."""
    name = f"n{uuid.uuid4().hex[:12]}"
    done = pyflyte(config, "run", "--remote", "--project", "flytesnacks", "--domain", "development", "--wait",
                   "--poll-interval", "1", "--name", name, WORKFLOWS, workflow, *inputs)  # fmt: skip
    return name, done.stdout + done.stderr


def test_map_task_through_flyteremote(remote: FlyteRemote, config_file: Path) -> None:
    name, output = run(config_file, "tolerant_map", "--xs", "[1, 2, 3, 4, 5]")
    assert f"Execution {name} has succeeded" in output, output

    execution = remote.sync_execution(remote.fetch_execution(name=name), sync_nodes=True)
    assert execution.outputs["o0"] == [10, 20, None, 40, 50]
    array = execution.node_executions["n0"]
    assert array.metadata.is_array
    [task_execution] = array.task_executions
    resources = task_execution.closure.metadata.external_resources
    assert sorted(r.index for r in resources) == [0, 1, 2, 3, 4]


def test_dynamic_through_flyteremote(remote: FlyteRemote, config_file: Path) -> None:
    name, output = run(config_file, "dynamic_fan_out", "--n", "3")
    assert f"Execution {name} has succeeded" in output, output

    execution = remote.sync_execution(remote.fetch_execution(name=name), sync_nodes=True)
    assert execution.outputs["o0"] == [1, 2, 5] and execution.outputs["o1"] == 8
    dynamic = execution.node_executions["n0"]
    assert dynamic.metadata.is_dynamic and dynamic.metadata.is_parent_node
    children = {child.metadata.spec_node_id for child in dynamic.subworkflow_node_executions.values()}
    assert {"dn0", "dn1", "dn2", "dn3", "dn4", "dn5"} <= children


def test_failure_node_through_flyteremote(remote: FlyteRemote, config_file: Path, tmp_path: Path) -> None:
    marker = tmp_path / "seen"
    name, output = run(config_file, "fails_with_handler", "--marker", str(marker))

    execution = remote.fetch_execution(name=name)
    assert phase_name(execution) == "FAILED", output
    assert "deliberate failure" in execution.closure.error.message
    assert marker.read_text().startswith("n0\n")
