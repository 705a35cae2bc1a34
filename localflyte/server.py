"""The gRPC server: FlyteAdmin's services from the flyteidl protos, backed by localflyte's components.

A component is any object with ``handlers() -> {"<Service>.<Rpc>": callable(request) -> response}``.
RPCs that no component implements answer ``UNIMPLEMENTED`` (the generated servicers' default).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent import futures
from typing import Any, Protocol

import grpc
from flyteidl.service import (
    admin_pb2_grpc,
    auth_pb2_grpc,
    dataproxy_pb2_grpc,
    identity_pb2_grpc,
    signal_pb2_grpc,
)
from google.protobuf import any_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

from localflyte.errors import AdminError

log = logging.getLogger(__name__)

Handler = Callable[[Any], Any]

# 4 MiB is gRPC's default; FlyteAdmin raises its own limit, and large workflow closures need it.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

_SERVICES: dict[str, tuple[type, Callable[[Any, grpc.Server], None]]] = {
    "AdminService": (admin_pb2_grpc.AdminServiceServicer, admin_pb2_grpc.add_AdminServiceServicer_to_server),
    "DataProxyService": (
        dataproxy_pb2_grpc.DataProxyServiceServicer,
        dataproxy_pb2_grpc.add_DataProxyServiceServicer_to_server,
    ),
    "SignalService": (signal_pb2_grpc.SignalServiceServicer, signal_pb2_grpc.add_SignalServiceServicer_to_server),
    "AuthMetadataService": (
        auth_pb2_grpc.AuthMetadataServiceServicer,
        auth_pb2_grpc.add_AuthMetadataServiceServicer_to_server,
    ),
    "IdentityService": (
        identity_pb2_grpc.IdentityServiceServicer,
        identity_pb2_grpc.add_IdentityServiceServicer_to_server,
    ),
}


class Component(Protocol):
    def handlers(self) -> Mapping[str, Handler]: ...


def _unary(rpc: str, handler: Handler) -> Callable[[Any, Any, grpc.ServicerContext], Any]:
    def method(_self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return handler(request)
        except AdminError as error:
            log.info("rpc=%s code=%s message=%s", rpc, error.code.name, error.message.splitlines()[0])
            _abort(context, error)
        except Exception as error:
            log.exception("rpc=%s failed", rpc)
            context.abort(grpc.StatusCode.INTERNAL, f"localflyte internal error in {rpc}: {error}")

    method.__name__ = rpc.split(".", 1)[1]
    return method


def _abort(context: grpc.ServicerContext, error: AdminError) -> None:
    if error.details is None:
        context.abort(error.code, error.message)
    detail = any_pb2.Any()
    detail.Pack(error.details)
    status = status_pb2.Status(code=error.code.value[0], message=error.message, details=[detail])
    context.abort_with_status(rpc_status.to_status(status))


def _collect(components: Iterable[Component]) -> dict[str, dict[str, Handler]]:
    by_service: dict[str, dict[str, Handler]] = {name: {} for name in _SERVICES}
    for component in components:
        for rpc, handler in component.handlers().items():
            service, method = rpc.split(".", 1)
            if service not in by_service:
                raise ValueError(f"{component!r} serves {rpc}: unknown service {service}")
            if method in by_service[service]:
                raise ValueError(f"{rpc} is served twice (second by {component!r})")
            by_service[service][method] = handler
    return by_service


def build_server(components: Iterable[Component], port: int, max_workers: int = 32) -> grpc.Server:
    """A started-but-not-yet-serving gRPC server bound to 127.0.0.1:port (port 0 picks a free one)."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="localflyte-rpc"),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    for service, handlers in _collect(components).items():
        base, add = _SERVICES[service]
        methods = {method: _unary(f"{service}.{method}", handler) for method, handler in handlers.items()}
        servicer = type(f"Local{base.__name__}", (base,), methods)()
        add(servicer, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    if bound == 0:
        raise OSError(f"localflyte could not bind 127.0.0.1:{port}: is another server using it?")
    server.bound_port = bound  # type: ignore[attr-defined]
    return server
