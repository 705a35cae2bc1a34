"""Helpers for the execution conformance tests: a registered workflow and propeller-style events."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.core import execution_pb2, identifier_pb2, literals_pb2
from flyteidl.event import event_pb2
from flytekit import LaunchPlan, task, workflow
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.remote import FlyteRemote
from flytekit.remote.entities import FlyteLaunchPlan
from google.protobuf import timestamp_pb2

WorkflowPhase = execution_pb2.WorkflowExecution
NodePhase = execution_pb2.NodeExecution
TaskPhase = execution_pb2.TaskExecution


@task
def add(a: int, b: int) -> int:
    """Never runs here: registration only needs its interface."""
    return a + b


@workflow
def adder(a: int, b: int = 2) -> int:
    """Two inputs, one with a default, so input validation has something to check."""
    return add(a=a, b=b)


fixed_adder = LaunchPlan.get_or_create(adder, name="fixed_adder", fixed_inputs={"b": 5})


def settings(project: str, domain: str = "development") -> SerializationSettings:
    return SerializationSettings(
        image_config=ImageConfig.auto_default_image(), project=project, domain=domain, version="v1"
    )


def register_adder(remote: FlyteRemote, project: str, domain: str = "development") -> FlyteLaunchPlan:
    """Registers task, workflow and default launch plan (``adder``); returns the launch plan."""
    remote.register_workflow(adder, serialization_settings=settings(project, domain), version="v1")
    return remote.fetch_launch_plan(project=project, domain=domain, name=adder.name, version="v1")


def literal_int(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def int_map(**values: int) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap(literals={name: literal_int(value) for name, value in values.items()})


def name() -> str:
    return f"e{uuid.uuid4().hex[:12]}"


def now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


def workflow_event(
    client: Any, execution: identifier_pb2.WorkflowExecutionIdentifier, phase: int, **fields: Any
) -> None:
    """Send CreateWorkflowEvent as propeller does."""
    event = event_pb2.WorkflowExecutionEvent(
        execution_id=execution, phase=phase, producer_id="propeller", occurred_at=now(), **fields
    )
    client._stub.CreateWorkflowEvent(
        admin_event_pb2.WorkflowExecutionEventRequest(request_id=name(), event=event), metadata=client._metadata
    )


def node_event(
    client: Any, execution: identifier_pb2.WorkflowExecutionIdentifier, node_id: str, phase: int, **fields: Any
) -> None:
    event = event_pb2.NodeExecutionEvent(
        id=identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id=node_id),
        phase=phase, producer_id="propeller", occurred_at=now(), **fields,
    )  # fmt: skip
    client._stub.CreateNodeEvent(
        admin_event_pb2.NodeExecutionEventRequest(request_id=name(), event=event), metadata=client._metadata
    )


def task_event(
    client: Any,
    execution: identifier_pb2.WorkflowExecutionIdentifier,
    node_id: str,
    task_id: identifier_pb2.Identifier,
    phase: int,
    **fields: Any,
) -> None:
    event = event_pb2.TaskExecutionEvent(
        task_id=task_id,
        parent_node_execution_id=identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id=node_id),
        phase=phase, producer_id="propeller", occurred_at=now(), **fields,
    )  # fmt: skip
    client._stub.CreateTaskEvent(
        admin_event_pb2.TaskExecutionEventRequest(request_id=name(), event=event), metadata=client._metadata
    )


def status_of(error: BaseException) -> tuple[grpc.StatusCode, str]:
    """The gRPC code and message behind a flytekit exception (its ``__cause__``)."""
    cause = error if isinstance(error, grpc.Call) else error.__cause__
    assert isinstance(cause, grpc.Call), f"expected a gRPC error behind {error!r}"
    return cause.code(), cause.details() or ""


def status_detail(error: BaseException, detail_type: type[Any]) -> Any:
    """The status detail FlyteAdmin attached to the error, unpacked as ``detail_type``."""
    from grpc_status import rpc_status

    cause = error if isinstance(error, grpc.Call) else error.__cause__
    status = rpc_status.from_call(cause)  # type: ignore[arg-type]
    assert status is not None and status.details, f"no status details on {error!r}"
    detail = detail_type()
    assert status.details[0].Unpack(detail), f"detail is not a {detail_type.__name__}"
    return detail
