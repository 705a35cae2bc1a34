"""Array (map task), dynamic and failure nodes, run by the executor with the process runtime and a moto S3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flyteidl.core import literals_pb2

from localflyte.executor.events import TaskPhase
from localflyte.testing import MotoServer
from tests.integration import test_executor_nodes_workflows as flows
from tests.integration.test_executor_process import BUCKET, Harness, int_literal, str_literal

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=(BUCKET,))
    yield server
    server.stop()


@pytest.fixture
def harness(s3: MotoServer, tmp_path: Path) -> Harness:
    return Harness(s3, tmp_path)


def int_list(values: list[int]) -> literals_pb2.Literal:
    return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[int_literal(v) for v in values]))


def ints_or_none(literal: literals_pb2.Literal) -> list[int | None]:
    return [
        None if item.scalar.HasField("none_type") else item.scalar.primitive.integer
        for item in literal.collection.literals
    ]


def test_map_task_tolerates_one_failed_index_with_ratio_08(harness: Harness) -> None:
    outcome = harness.run("map-ok", flows.tolerant_map, xs=int_list([1, 2, 3, 4, 5]))

    assert outcome.phase_name == "SUCCEEDED", outcome.error
    assert ints_or_none(outcome.outputs.literals["o0"]) == [10, 20, None, 40, 50]
    assert harness.sink.node_phases("n0") == ["QUEUED", "RUNNING", "SUCCEEDED"]
    assert all(e.is_array for e in harness.sink.node_events if e.id.node_id == "n0")
    # Sub-nodes are external resources of the array node's one task execution, as propeller reports them.
    array_events = [e for e in harness.sink.task_events if e.parent_node_execution_id.node_id == "n0"]
    assert {e.retry_attempt for e in array_events} == {0}
    assert [e.phase_version for e in array_events] == list(range(len(array_events)))
    final = array_events[-1]
    assert final.phase == TaskPhase.SUCCEEDED and final.task_type == "container_array"
    phases = {r.index: TaskPhase.Name(r.phase) for r in final.metadata.external_resources}
    assert phases == {0: "SUCCEEDED", 1: "SUCCEEDED", 2: "FAILED", 3: "SUCCEEDED", 4: "SUCCEEDED"}
    assert harness.blobs.read_proto(final.output_uri, literals_pb2.LiteralMap) == outcome.outputs
    assert not [e for e in harness.sink.node_events if e.parent_node_metadata.node_id == "n0"]


def test_map_task_fails_with_ratio_1(harness: Harness) -> None:
    outcome = harness.run("map-strict", flows.strict_map, xs=int_list([1, 2, 3, 4, 5]))

    assert outcome.phase_name == "FAILED"
    assert outcome.error is not None
    assert "of 5 sub-nodes succeeded; 5 must succeed" in outcome.error.message
    assert "[2]: " in outcome.error.message and "x=3 fails on purpose" in outcome.error.message
    assert harness.sink.node_phases("n0")[-1] == "FAILED"
    final = [e for e in harness.sink.task_events if e.parent_node_execution_id.node_id == "n0"][-1]
    assert final.phase == TaskPhase.FAILED
    phases = {r.index: TaskPhase.Name(r.phase) for r in final.metadata.external_resources}
    assert phases[2] == "FAILED"


def test_dynamic_runs_the_nodes_it_returns(harness: Harness) -> None:
    outcome = harness.run("dyn", flows.dynamic_fan_out, n=int_literal(3))

    assert outcome.phase_name == "SUCCEEDED", outcome.error
    values = [item.scalar.primitive.integer for item in outcome.outputs.literals["o0"].collection.literals]
    assert values == [1, 2, 5]  # i*i + 1 for i in 0..2
    assert outcome.outputs.literals["o1"].scalar.primitive.integer == 8
    sink = harness.sink
    assert sink.node_phases("n0") == ["QUEUED", "RUNNING", "DYNAMIC_RUNNING", "SUCCEEDED"]
    dynamic_event = next(e for e in sink.node_events if e.id.node_id == "n0" and e.phase == 9)
    assert dynamic_event.is_dynamic and dynamic_event.is_parent
    compiled = dynamic_event.task_node_metadata.dynamic_workflow.compiled_workflow
    assert len([n for n in compiled.primary.template.nodes if n.id.startswith("dn")]) == 6
    children = [e for e in sink.node_events if e.parent_node_metadata.node_id == "n0" and e.phase == 3]
    task_children = {e.spec_node_id for e in children if e.spec_node_id.startswith("dn")}
    assert len(task_children) == 6  # three squares and three adds ran as children of the dynamic node
    assert all(e.id.node_id.startswith("n0-0-") for e in children)
    assert sink.node_phases("n1")[-1] == "SUCCEEDED"  # the downstream task read the dynamic outputs


def test_dynamic_with_zero_nodes_binds_its_outputs(harness: Harness) -> None:
    outcome = harness.run("dyn-empty", flows.dynamic_fan_out, n=int_literal(0))

    assert outcome.phase_name == "SUCCEEDED", outcome.error
    assert outcome.outputs.literals["o1"].scalar.primitive.integer == 0


def test_on_failure_handler_runs_and_sees_the_error(harness: Harness, tmp_path: Path) -> None:
    marker = tmp_path / "failure-seen"
    outcome = harness.run("handled", flows.fails_with_handler, marker=str_literal(str(marker)))

    assert outcome.phase_name == "FAILED"
    assert outcome.error is not None and "deliberate failure" in outcome.error.message
    failed_node, message = marker.read_text().split("\n", 1)
    assert failed_node == "n0"
    assert "deliberate failure" in message
    assert harness.sink.node_phases("fn0") == ["QUEUED", "RUNNING", "SUCCEEDED"]
    assert harness.sink.workflow_phases() == ["QUEUED", "RUNNING", "FAILING", "FAILED"]
