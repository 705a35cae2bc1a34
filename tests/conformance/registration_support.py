"""Helpers for the registration conformance tests: raw admin calls, status codes, tiny flytekit entities.

Raw protobuf requests go through ``SynchronousFlyteClient``'s own stub, i.e. flytekit's intercepted
channel (its retries and its mapping of status codes to exceptions), exactly as FlyteRemote sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from flyteidl.admin import task_pb2
from flyteidl.core import identifier_pb2, interface_pb2, tasks_pb2, types_pb2
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.exceptions.base import FlyteException


def admin(client: SynchronousFlyteClient) -> Any:
    """The AdminService stub of a flytekit client (raw protobuf requests and responses)."""
    return client._stub


def status_of(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str]:
    """Run a call that must fail; return the gRPC status code and message the server sent."""
    try:
        call()
    except FlyteException as error:
        cause = error.__cause__
        assert isinstance(cause, grpc.RpcError), f"flytekit raised {error!r} without a gRPC cause"
        return cause.code(), cause.details()
    except grpc.RpcError as error:
        return error.code(), error.details()
    raise AssertionError("the call succeeded but was expected to fail")


def identifier(resource_type: int, project: str, name: str, version: str = "v1", domain: str = "development"):
    return identifier_pb2.Identifier(
        resource_type=resource_type, project=project, domain=domain, name=name, version=version
    )


def int_type() -> types_pb2.LiteralType:
    return types_pb2.LiteralType(simple=types_pb2.INTEGER)


def task_spec(image: str = "python:3.11", args: tuple[str, ...] = ("run",)) -> task_pb2.TaskSpec:
    """A minimal container task ``(x: int) -> (o0: int)``."""
    interface = interface_pb2.TypedInterface(
        inputs=interface_pb2.VariableMap(variables={"x": interface_pb2.Variable(type=int_type())}),
        outputs=interface_pb2.VariableMap(variables={"o0": interface_pb2.Variable(type=int_type())}),
    )
    template = tasks_pb2.TaskTemplate(
        type="python-task",
        metadata=tasks_pb2.TaskMetadata(runtime=tasks_pb2.RuntimeMetadata(version="1.16.31", flavor="python")),
        interface=interface,
        container=tasks_pb2.Container(image=image, args=list(args)),
    )
    return task_pb2.TaskSpec(template=template)


def create_task(client: SynchronousFlyteClient, task_id: identifier_pb2.Identifier, **spec: Any) -> None:
    admin(client).CreateTask(task_pb2.TaskCreateRequest(id=task_id, spec=task_spec(**spec)))
