"""Create*Event RPCs as propeller sends them, against flyteadmin's execution / node / task managers."""

from __future__ import annotations

import boto3
import grpc
import pytest
from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.event import event_pb2
from flytekit.remote import FlyteRemote

from tests.conformance import executions_support as support
from tests.conformance.executions_support import NodePhase, TaskPhase, WorkflowPhase

pytestmark = pytest.mark.conformance


@pytest.fixture
def remote(remote_for) -> FlyteRemote:
    return remote_for("development")


@pytest.fixture
def execution(remote: FlyteRemote, project: str) -> identifier_pb2.WorkflowExecutionIdentifier:
    lp = support.register_adder(remote, project)
    return remote.execute(lp, inputs={"a": 3}, execution_name=support.name()).id.to_flyte_idl()


def _task_id(project: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.TASK, project=project, domain="development", name=support.add.name, version="v1"
    )


def _node_rpc(client, method: str, request):
    return getattr(client._stub, method)(request, metadata=client._metadata)


def test_events_drive_wait_and_outputs(remote, client, project, execution) -> None:
    """execution_manager.go CreateWorkflowEvent + node/task managers: FlyteRemote.wait sees what events carry."""
    outputs = support.int_map(o0=5)
    support.workflow_event(client, execution, WorkflowPhase.RUNNING)
    support.node_event(client, execution, "n0", NodePhase.RUNNING, input_data=support.int_map(a=3, b=2))
    task_id = _task_id(project)
    support.task_event(client, execution, "n0", task_id, TaskPhase.RUNNING, task_type="python-task")
    support.task_event(client, execution, "n0", task_id, TaskPhase.SUCCEEDED, output_data=outputs)
    support.node_event(client, execution, "n0", NodePhase.SUCCEEDED, output_data=outputs)
    support.workflow_event(client, execution, WorkflowPhase.SUCCEEDED, output_data=outputs)
    finished = remote.wait(remote.fetch_execution(name=execution.name), timeout=30, sync_nodes=True)
    assert finished.is_successful
    assert finished.outputs["o0"] == 5
    assert finished.node_executions["n0"].outputs["o0"] == 5
    assert finished.node_executions["n0"].task_executions[0].outputs["o0"] == 5
    closure = client._stub.GetExecution(
        execution_pb2.WorkflowExecutionGetRequest(id=execution), metadata=client._metadata
    ).closure
    assert closure.HasField("started_at") and closure.duration.ToNanoseconds() >= 0


def test_outputs_by_uri_are_read_from_s3(remote, client, project, execution, moto_server) -> None:
    """transformers/execution.go: output_uri is kept; GetExecutionData reads the LiteralMap it points to."""
    s3 = boto3.client(
        "s3", endpoint_url=moto_server.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
        region_name="us-east-1",
    )  # fmt: skip
    key = f"raw/{execution.name}/outputs.pb"
    s3.put_object(Bucket="taxiway-data", Key=key, Body=support.int_map(o0=9).SerializeToString())
    support.workflow_event(client, execution, WorkflowPhase.RUNNING)
    support.workflow_event(client, execution, WorkflowPhase.SUCCEEDED, output_uri=f"s3://taxiway-data/{key}")
    finished = remote.wait(remote.fetch_execution(name=execution.name), timeout=30)
    assert finished.outputs["o0"] == 9


def test_same_workflow_phase_twice_is_already_exists(client, execution) -> None:
    """execution_manager.go CreateWorkflowEvent: 'This phase %s was already recorded'."""
    support.workflow_event(client, execution, WorkflowPhase.RUNNING)
    with pytest.raises(Exception) as raised:
        support.workflow_event(client, execution, WorkflowPhase.RUNNING)
    code, message = support.status_of(raised.value)
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert message.startswith("This phase RUNNING was already recorded for workflow execution")


def test_terminal_workflow_refuses_events(client, execution) -> None:
    """execution_manager.go: terminal → FAILED_PRECONDITION (EventAlreadyInTerminalState)."""
    support.workflow_event(client, execution, WorkflowPhase.RUNNING)
    error = core_execution_pb2.ExecutionError(
        code="USER:Boom", message="it broke", kind=core_execution_pb2.ExecutionError.USER
    )
    support.workflow_event(client, execution, WorkflowPhase.FAILED, error=error)
    with pytest.raises(Exception) as raised:
        support.workflow_event(client, execution, WorkflowPhase.SUCCEEDED)
    code, message = support.status_of(raised.value)
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert message.startswith("Invalid phase change from FAILED to SUCCEEDED")
    reason = support.status_detail(raised.value, admin_event_pb2.EventFailureReason)
    assert reason.HasField("already_in_terminal_state")


def test_failed_execution_exposes_its_error(remote, client, execution) -> None:
    """transformers/execution.go UpdateExecutionModelState: the event's error becomes the closure error."""
    error = core_execution_pb2.ExecutionError(
        code="USER:Boom", message="it broke", kind=core_execution_pb2.ExecutionError.USER
    )
    support.workflow_event(client, execution, WorkflowPhase.RUNNING)
    support.workflow_event(client, execution, WorkflowPhase.FAILED, error=error)
    finished = remote.wait(remote.fetch_execution(name=execution.name), timeout=30)
    assert not finished.is_successful
    assert finished.error.message == "it broke"


def test_running_cannot_go_back_to_queued(client, execution) -> None:
    """execution_manager.go: RUNNING → QUEUED is refused."""
    support.workflow_event(client, execution, WorkflowPhase.RUNNING)
    with pytest.raises(Exception) as raised:
        support.workflow_event(client, execution, WorkflowPhase.QUEUED)
    assert support.status_of(raised.value)[0] == grpc.StatusCode.FAILED_PRECONDITION


def test_node_phase_twice_is_already_exists(client, execution) -> None:
    """node_execution_manager.go updateNodeExecutionWithEvent: same phase → ALREADY_EXISTS."""
    support.node_event(client, execution, "n0", NodePhase.RUNNING)
    with pytest.raises(Exception) as raised:
        support.node_event(client, execution, "n0", NodePhase.RUNNING)
    assert support.status_of(raised.value)[0] == grpc.StatusCode.ALREADY_EXISTS


def test_sub_workflow_children_are_listed_under_their_parent(client, execution) -> None:
    """node_execution_manager.go ListNodeExecutions: top level by default, children with unique_parent_id."""
    support.node_event(client, execution, "n0", NodePhase.RUNNING, is_parent=True)
    parent = event_pb2.ParentNodeExecutionMetadata(node_id="n0")
    support.node_event(client, execution, "n0-0-n0", NodePhase.RUNNING, parent_node_metadata=parent)
    top = _node_rpc(client, "ListNodeExecutions", node_execution_pb2.NodeExecutionListRequest(
        workflow_execution_id=execution, limit=10))  # fmt: skip
    assert [node.id.node_id for node in top.node_executions] == ["n0"]
    assert top.node_executions[0].metadata.is_parent_node
    children = _node_rpc(client, "ListNodeExecutions", node_execution_pb2.NodeExecutionListRequest(
        workflow_execution_id=execution, limit=10, unique_parent_id="n0"))  # fmt: skip
    assert [node.id.node_id for node in children.node_executions] == ["n0-0-n0"]


def test_dynamic_children_are_listed_for_their_task(client, project, execution) -> None:
    """node_execution_manager.go ListNodeExecutionsForTask: nodes whose parent is a task execution."""
    task_id = _task_id(project)
    support.node_event(client, execution, "n0", NodePhase.RUNNING, is_dynamic=True)
    support.task_event(client, execution, "n0", task_id, TaskPhase.RUNNING)
    attempt = identifier_pb2.TaskExecutionIdentifier(
        task_id=task_id, node_execution_id=identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id="n0")
    )
    support.node_event(client, execution, "dn0", NodePhase.QUEUED,
                       parent_task_metadata=event_pb2.ParentTaskExecutionMetadata(id=attempt))  # fmt: skip
    listed = _node_rpc(client, "ListNodeExecutionsForTask", node_execution_pb2.NodeExecutionForTaskListRequest(
        task_execution_id=attempt, limit=10))  # fmt: skip
    assert [node.id.node_id for node in listed.node_executions] == ["dn0"]
    task = _node_rpc(client, "GetTaskExecution", task_execution_pb2.TaskExecutionGetRequest(id=attempt))
    assert task.is_parent


def test_launch_plan_node_points_at_its_child_execution(remote, client, project, execution) -> None:
    """transformers/node_execution.go UpdateNodeExecutionModel: workflow_node_metadata names the child."""
    lp = remote.fetch_launch_plan(name=support.adder.name, version="v1")
    child = remote.execute(lp, inputs={"a": 1}, execution_name=support.name()).id.to_flyte_idl()
    support.node_event(client, execution, "n0", NodePhase.QUEUED)
    support.node_event(client, execution, "n0", NodePhase.RUNNING,
                       workflow_node_metadata=event_pb2.WorkflowNodeMetadata(execution_id=child))  # fmt: skip
    node = _node_rpc(client, "GetNodeExecution", node_execution_pb2.NodeExecutionGetRequest(
        id=identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id="n0")))  # fmt: skip
    assert node.closure.workflow_node_metadata.executionId.name == child.name


def test_task_retries_and_logs(client, project, execution) -> None:
    """task_execution_manager.go: one task execution per retry attempt, logs merged per attempt."""
    task_id = _task_id(project)
    support.node_event(client, execution, "n0", NodePhase.RUNNING)
    log = core_execution_pb2.TaskLog(name="stdout", uri="http://127.0.0.1/logs/0")
    support.task_event(client, execution, "n0", task_id, TaskPhase.RUNNING, logs=[log])
    failure = core_execution_pb2.ExecutionError(
        code="RetryableFailure", message="flaky", kind=core_execution_pb2.ExecutionError.USER
    )
    support.task_event(client, execution, "n0", task_id, TaskPhase.FAILED, error=failure)
    support.task_event(client, execution, "n0", task_id, TaskPhase.RUNNING, retry_attempt=1)
    node_id = identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id="n0")
    listed = _node_rpc(client, "ListTaskExecutions", task_execution_pb2.TaskExecutionListRequest(
        node_execution_id=node_id, limit=10))  # fmt: skip
    attempts = {task.id.retry_attempt: task for task in listed.task_executions}
    assert sorted(attempts) == [0, 1]
    assert attempts[0].closure.phase == TaskPhase.FAILED
    assert attempts[0].closure.error.message == "flaky"
    assert [entry.uri for entry in attempts[0].closure.logs] == ["http://127.0.0.1/logs/0"]
    assert attempts[1].closure.phase == TaskPhase.RUNNING


def test_task_phase_version_allows_updates(client, project, execution) -> None:
    """task_execution_manager.go: the same phase again needs a higher phase_version."""
    task_id = _task_id(project)
    support.node_event(client, execution, "n0", NodePhase.RUNNING)
    support.task_event(client, execution, "n0", task_id, TaskPhase.RUNNING, reason="starting")
    support.task_event(client, execution, "n0", task_id, TaskPhase.RUNNING, phase_version=1, reason="pulling image")
    with pytest.raises(Exception) as raised:
        support.task_event(client, execution, "n0", task_id, TaskPhase.RUNNING, phase_version=1)
    assert support.status_of(raised.value)[0] == grpc.StatusCode.ALREADY_EXISTS
    attempt = identifier_pb2.TaskExecutionIdentifier(
        task_id=task_id, node_execution_id=identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id="n0")
    )
    task = _node_rpc(client, "GetTaskExecution", task_execution_pb2.TaskExecutionGetRequest(id=attempt))
    assert [reason.message for reason in task.closure.reasons] == ["starting", "pulling image"]


def test_task_event_needs_its_node(client, project, execution) -> None:
    """task_execution_manager.go createTaskExecution: the parent node execution must exist."""
    with pytest.raises(Exception) as raised:
        support.task_event(client, execution, "missing-node", _task_id(project), TaskPhase.RUNNING)
    assert support.status_of(raised.value)[0] == grpc.StatusCode.NOT_FOUND
