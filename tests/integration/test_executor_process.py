"""The executor runs flytekit-serialized workflows with the process runtime against a moto S3."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flyteidl.core import compiler_pb2, identifier_pb2, literals_pb2
from flytekit.configuration import FastSerializationSettings, ImageConfig, SerializationSettings
from flytekit.models.admin.workflow import WorkflowSpec
from flytekit.models.task import TaskSpec
from flytekit.tools.translator import get_serializable

from localflyte.executor.events import RecordingEventSink
from localflyte.executor.graph import WorkflowExecutor
from localflyte.executor.model import ExecutionRequest, ExecutorSettings, WorkflowOutcome
from localflyte.executor.runtimes import ProcessRuntime, Runtime
from localflyte.executor.storage import BlobStore
from localflyte.executor.templates import ClusterEnvironment
from localflyte.executor.testing import compile_closure
from localflyte.testing import MotoServer
from tests.integration import test_executor_workflows as flows

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
BUCKET = "taxiway-data"


def serialize(
    entity: Any,
    image: str = "taxiway/executor-test:unused",
    fast: FastSerializationSettings | None = None,
    project: str = "flytesnacks",
    domain: str = "development",
) -> compiler_pb2.CompiledWorkflowClosure:
    """flytekit's serialization of a workflow (non-fast unless ``fast`` is given), compiled into a closure."""
    settings = SerializationSettings(
        project=project,
        domain=domain,
        version="v1",
        image_config=ImageConfig.auto(img_name=image),
        fast_serialization_settings=fast,
    )
    entities: OrderedDict[Any, Any] = OrderedDict()
    get_serializable(entities, settings, entity)
    tasks = [spec.template.to_flyte_idl() for spec in entities.values() if isinstance(spec, TaskSpec)]
    workflows = [spec.template.to_flyte_idl() for spec in entities.values() if isinstance(spec, WorkflowSpec)]
    primary = identifier_pb2.Identifier(
        resource_type=identifier_pb2.WORKFLOW, project=project, domain=domain, name=entity.name, version="v1"
    )
    return compile_closure(primary, workflows, tasks)


def int_literal(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def str_literal(value: str) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=value)))


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=(BUCKET,))
    yield server
    server.stop()


class Harness:
    """An executor (process runtime unless another is given) recording its events."""

    def __init__(
        self,
        moto: MotoServer,
        workdir: Path,
        runtime: Runtime | None = None,
        image: str = "taxiway/executor-test:unused",
        fast: FastSerializationSettings | None = None,
    ) -> None:
        self.image = image
        self.fast = fast
        cluster = ClusterEnvironment(
            platform_url="127.0.0.1:1",  # no FlyteAdmin is needed by these tasks
            platform_insecure=True,
            s3_endpoint=moto.endpoint,
            s3_access_key="testing",
            s3_secret_key="testing",
        )
        self.settings = ExecutorSettings(cluster=cluster, bucket=BUCKET, log_dir=workdir / "logs")
        self.blobs = BlobStore(moto.endpoint, "testing", "testing")
        self.sink = RecordingEventSink()
        base_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
        self.runtime = runtime or ProcessRuntime(workdir / "runs", base_env=base_env)
        self.executor = WorkflowExecutor(self.settings, self.runtime, self.blobs, self.sink)

    def request(self, name: str, entity: Any, **inputs: literals_pb2.Literal) -> ExecutionRequest:
        return ExecutionRequest(
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project="flytesnacks", domain="development", name=name
            ),
            closure=serialize(entity, image=self.image, fast=self.fast),
            inputs=literals_pb2.LiteralMap(literals=inputs),
            max_parallelism=2,
        )

    def run(self, name: str, entity: Any, **inputs: literals_pb2.Literal) -> WorkflowOutcome:
        return self.executor.execute(self.request(name, entity, **inputs))


@pytest.fixture
def harness(moto: MotoServer, tmp_path: Path) -> Harness:
    return Harness(moto, tmp_path)


def outputs(outcome: WorkflowOutcome) -> dict[str, int]:
    return {name: literal.scalar.primitive.integer for name, literal in outcome.outputs.literals.items()}


def test_arithmetic_runs_branch_subworkflow_and_retry(harness: Harness, tmp_path: Path) -> None:
    marker = tmp_path / "flaky-marker"
    outcome = harness.run(
        "arith", flows.arithmetic, a=int_literal(7), b=int_literal(5), marker=str_literal(str(marker))
    )

    assert outcome.phase_name == "SUCCEEDED", outcome.error
    # 7 + 5 = 12 > 10 → double → 24; sub-workflow doubles → 48; flaky adds 1 on its second attempt.
    assert outputs(outcome) == {"o0": 48, "o1": 49}
    sink = harness.sink
    assert sink.workflow_phases() == ["QUEUED", "RUNNING", "SUCCEEDED"]
    assert sink.node_phases("n0") == ["QUEUED", "RUNNING", "SUCCEEDED"]
    assert sink.node_phases("n1")[-1] == "SUCCEEDED"
    assert sink.node_phases("n1-0-n1-n0")[-1] == "SUCCEEDED"  # the branch took its first case
    assert sink.node_phases("n1-0-n1-n1") == []  # ... and never ran the else case
    assert sink.node_phases("n2-0-n0")[-1] == "SUCCEEDED"  # the task inside the sub-workflow
    assert sink.task_attempts("n3") == [
        (0, "QUEUED"), (0, "RUNNING"), (0, "FAILED"),
        (1, "QUEUED"), (1, "RUNNING"), (1, "SUCCEEDED"),
    ]  # fmt: skip
    nested = [e for e in sink.node_events if e.id.node_id == "n2-0-n0"]
    assert {e.parent_node_metadata.node_id for e in nested} == {"n2"}
    assert all(e.spec_node_id == "n0" for e in nested)
    sub_workflow_node = [e for e in sink.node_events if e.id.node_id == "n2"]
    assert all(e.is_parent for e in sub_workflow_node)
    # What FlyteAdmin would serve for GetExecutionData is where the event says.
    stored = harness.blobs.read_proto(outcome.output_uri, literals_pb2.LiteralMap)
    assert stored == outcome.outputs
    assert marker.read_text() == "0\n1\n"  # both attempts ran, numbered by FLYTE_ATTEMPT_NUMBER


def test_branch_takes_else_for_small_sums(harness: Harness, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    outcome = harness.run(
        "small", flows.arithmetic, a=int_literal(1), b=int_literal(2), marker=str_literal(str(marker))
    )

    assert outputs(outcome) == {"o0": 8, "o1": 9}  # (1 + 2 + 1) * 2, + 1
    assert harness.sink.node_phases("n1-0-n1-n1")[-1] == "SUCCEEDED"
    assert harness.sink.task_attempts("n3")[-1] == (1, "SUCCEEDED")


def test_failing_task_surfaces_its_error(harness: Harness) -> None:
    outcome = harness.run("fails", flows.failing, x=int_literal(41))

    assert outcome.phase_name == "FAILED"
    assert outcome.error is not None
    assert "the answer is not 41" in outcome.error.message
    assert harness.sink.node_phases("n0")[-1] == "FAILED"
    node_error = [e for e in harness.sink.node_events if e.id.node_id == "n0"][-1].error
    assert "the answer is not 41" in node_error.message
    assert harness.sink.task_attempts("n0") == [(0, "QUEUED"), (0, "RUNNING"), (0, "FAILED")]  # USER: no retry


def test_fail_after_executable_nodes_lets_independent_nodes_finish(harness: Harness) -> None:
    outcome = harness.run("fails-later", flows.failing_after_others, x=int_literal(3))

    assert outcome.phase_name == "FAILED"
    assert harness.sink.node_phases("n0")[-1] == "FAILED"
    assert harness.sink.node_phases("n1")[-1] == "SUCCEEDED"


def test_timeout_ends_node_as_timed_out(harness: Harness) -> None:
    outcome = harness.run("slow", flows.too_slow, x=int_literal(1))

    assert outcome.phase_name == "FAILED"
    assert harness.sink.node_phases("n0")[-1] == "TIMED_OUT"
    assert outcome.error is not None and "timeout" in outcome.error.message


def test_sleep_gate_then_task(harness: Harness) -> None:
    outcome = harness.run("naps", flows.napping, x=int_literal(4))

    assert outputs(outcome) == {"o0": 8}
    assert harness.sink.node_phases("n1") == ["QUEUED", "RUNNING", "SUCCEEDED"]


def test_abort_terminates_the_running_task(harness: Harness) -> None:
    request = harness.request("aborted", flows.too_slow, x=int_literal(1))
    result: list[WorkflowOutcome] = []
    runner = threading.Thread(target=lambda: result.append(harness.executor.execute(request)))
    runner.start()
    deadline = threading.Event()
    while not any(e.phase == 2 for e in harness.sink.task_events) and not deadline.wait(0.1):
        pass  # wait for the task to be RUNNING
    assert harness.executor.abort(request.execution_id, "stopped by the test")
    runner.join(timeout=30)

    assert result and result[0].phase_name == "ABORTED"
    assert harness.sink.node_phases("n0")[-1] == "ABORTED"
    assert harness.sink.task_attempts("n0")[-1] == (0, "ABORTED")
