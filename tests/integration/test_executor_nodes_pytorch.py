"""``pytorch`` tasks: replicas as separate processes with the training operator's environment (gloo, CPU)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from flyteidl.core import literals_pb2

from localflyte.testing import MotoServer
from tests.integration import test_executor_nodes_torch_workflows as torch_flows
from tests.integration.test_executor_process import BUCKET, Harness

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=(BUCKET,))
    yield server
    server.stop()


@pytest.fixture
def harness(s3: MotoServer, tmp_path: Path) -> Harness:
    return Harness(s3, tmp_path)


def ints(literals: Mapping[str, literals_pb2.Literal]) -> list[int]:
    """Integer outputs in output order (``o0``, ``o1``, ...)."""
    return [literals[name].scalar.primitive.integer for name in sorted(literals)]


def test_pytorch_master_and_two_workers_all_reduce(harness: Harness, tmp_path: Path) -> None:
    outcome = harness.run("torch-replicas", torch_flows.pytorch_replicas)

    assert outcome.phase_name == "SUCCEEDED", outcome.error
    world_size, total, rank = ints(outcome.outputs.literals)
    assert world_size == 3  # master + 2 workers
    assert total == 1 + 2 + 3  # each rank contributed rank + 1
    assert rank == 0  # the outputs are the master's, not a worker's
    logs = sorted(path.name for path in (tmp_path / "logs" / "torch-replicas").iterdir())
    assert logs == ["n0-0-worker-0.log", "n0-0-worker-1.log", "n0-0.log"]
    assert harness.sink.task_attempts("n0") == [(0, "QUEUED"), (0, "RUNNING"), (0, "SUCCEEDED")]


def test_elastic_single_node_runs_two_local_processes(harness: Harness) -> None:
    outcome = harness.run("torch-elastic", torch_flows.elastic_single_node)

    assert outcome.phase_name == "SUCCEEDED", outcome.error
    world_size, total = ints(outcome.outputs.literals)
    assert world_size == 2
    assert total == 1 + 2


def test_elastic_two_nodes_meet_at_the_rendezvous(harness: Harness) -> None:
    outcome = harness.run("torch-elastic-2", torch_flows.elastic_two_nodes)

    assert outcome.phase_name == "SUCCEEDED", outcome.error
    world_size, total = ints(outcome.outputs.literals)
    assert world_size == 2
    assert total == 1 + 2
