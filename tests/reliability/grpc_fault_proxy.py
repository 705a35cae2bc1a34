"""A gRPC proxy on 127.0.0.1 that forwards raw request bytes to a real server and injects faults.

Every unary-unary method is forwarded without knowing its proto types (a generic handler with no
serializers hands the bytes through), so the proxy stands in front of localflyte's AdminService and
DataProxyService alike. A :class:`FaultPlan` decides, per call, whether to answer with a status code
instead of forwarding: "the next N calls" or "every call of a method after its K-th success".
Streaming methods are not proxied (registration uses none).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc

logger = logging.getLogger(__name__)

CREATE_TASK = "/flyteidl.service.AdminService/CreateTask"
CREATE_LAUNCH_PLAN = "/flyteidl.service.AdminService/CreateLaunchPlan"
UPLOAD_LOCATION = "/flyteidl.service.DataProxyService/CreateUploadLocation"
# Metadata gRPC manages itself; forwarding it would duplicate or contradict the outgoing call's own.
_HOP_BY_HOP = ("user-agent", "grpc-", ":")
_MAX_TIMEOUT_S = 3600.0


@dataclass
class _Rule:
    code: grpc.StatusCode
    remaining: int | None  # None: until cleared
    method: str | None = None  # None: every method
    after: int = 0  # let this many calls of `method` through first


class FaultPlan:
    """Which calls fail, with which status code; thread-safe (the proxy serves calls concurrently)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self.forwarded: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()

    def fail_next(self, count: int, code: grpc.StatusCode, method: str | None = None, after: int = 0) -> None:
        """The next ``count`` calls (of ``method``, or of any method) answer ``code``.

        :param after: with ``method``, let that many more calls of it through first.
        """
        with self._lock:
            start = self.forwarded[method] + after if method else 0
            self._rules.append(_Rule(code, count, method, after=start))

    def fail_after(self, method: str, successes: int, code: grpc.StatusCode) -> None:
        """Every call of ``method`` after its ``successes``-th forwarded one answers ``code``, until :meth:`clear`."""
        with self._lock:
            self._rules.append(_Rule(code, None, method, after=self.forwarded[method] + successes))

    def clear(self) -> None:
        """No more faults: every call is forwarded."""
        with self._lock:
            self._rules.clear()

    def decide(self, method: str) -> grpc.StatusCode | None:
        """The status code to answer ``method`` with, or None to forward it (and count it as forwarded)."""
        with self._lock:
            for rule in self._rules:
                if rule.method not in (None, method) or self.forwarded[method] < rule.after:
                    continue
                if rule.remaining is not None:
                    if rule.remaining <= 0:
                        continue
                    rule.remaining -= 1
                self.injected[method] += 1
                return rule.code
            self.forwarded[method] += 1
            return None


class _ForwardingHandler(grpc.GenericRpcHandler):
    def __init__(self, upstream: grpc.Channel, plan: FaultPlan) -> None:
        self._upstream = upstream
        self._plan = plan

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = handler_call_details.method
        forward = self._upstream.unary_unary(method, request_serializer=None, response_deserializer=None)

        def behavior(request: bytes, context: grpc.ServicerContext) -> Any:
            code = self._plan.decide(method)
            if code is not None:
                logger.info("fault injected method=%s code=%s", method, code.name)
                context.abort(code, f"injected by the fault proxy: {code.name}")
            metadata = [(key, value) for key, value in context.invocation_metadata() if not key.startswith(_HOP_BY_HOP)]
            remaining = context.time_remaining()
            # Without a client deadline gRPC reports an enormous remaining time, which overflows as a timeout.
            timeout = remaining if remaining is not None and remaining < _MAX_TIMEOUT_S else None
            try:
                return forward(request, metadata=metadata, timeout=timeout)
            except grpc.RpcError as err:
                call: Any = err
                context.abort(call.code(), call.details() or "")

        return grpc.unary_unary_rpc_method_handler(behavior)


class FaultProxy:
    """``127.0.0.1:<port>`` forwarding to ``upstream`` (``host:port``, plaintext) under ``plan``."""

    def __init__(self, upstream: str, plan: FaultPlan | None = None) -> None:
        self.plan = plan or FaultPlan()
        self._channel = grpc.insecure_channel(upstream)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        self._server.add_generic_rpc_handlers((_ForwardingHandler(self._channel, self.plan),))
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.endpoint = f"127.0.0.1:{port}"
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=None).wait()
        self._channel.close()
