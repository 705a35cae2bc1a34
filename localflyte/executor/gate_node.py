"""Gate nodes that wait for a human or a system: ``approve`` and ``signal``, through SignalService.

Like flytepropeller's ``pkg/controller/nodes/gate/handler.go``: the gate creates its signal
(``GetOrCreateSignal``, boolean for approvals) so that ``FlyteRemote.approve`` / ``set_signal`` can
set it, then polls it. An approval passes the gate's inputs through as its outputs; a signal's value
becomes the output named by ``output_variable_name``. The node's timeout (``metadata.timeout``,
flytekit's ``timeout=``) ends it TIMED_OUT. An approval set to ``False`` (``FlyteRemote.reject``) fails
the gate with propeller's USER error ``ReceivedRejectSignal``; a non-boolean value fails it as propeller
does (``RuntimeExecutionError``). ``sleep`` gates stay with the default handler.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from flyteidl.core import execution_pb2, identifier_pb2, literals_pb2, types_pb2

from localflyte.executor.model import NodeOutcome, NodePhase
from localflyte.executor.nodes import USER, NodeContext, NodeHandler, aborted, failed

UNKNOWN = execution_pb2.ExecutionError.UNKNOWN

log = logging.getLogger(__name__)

BOOLEAN = types_pb2.LiteralType(simple=types_pb2.SimpleType.BOOLEAN)


class Signals(Protocol):
    """The control plane's signal store (localflyte's SignalManager behind it)."""

    def get_or_create(self, identifier: identifier_pb2.SignalIdentifier, literal_type: types_pb2.LiteralType) -> None:
        """Make the signal exist so that clients can set it."""

    def value(self, identifier: identifier_pb2.SignalIdentifier) -> literals_pb2.Literal | None:
        """The value once set, else None."""


def gate_handler(signals: Signals, sleep_gates: NodeHandler, poll_seconds: float = 0.2) -> NodeHandler:
    """A handler for ``gate_node`` nodes; ``sleep`` gates go to ``sleep_gates``."""

    def handle(context: NodeContext) -> NodeOutcome:
        gate = context.node.gate_node
        kind = gate.WhichOneof("condition")
        if kind == "approve":
            return _wait(context, signals, gate.approve.signal_id, BOOLEAN, "", poll_seconds)
        if kind == "signal":
            signal = gate.signal
            return _wait(context, signals, signal.signal_id, signal.type, signal.output_variable_name, poll_seconds)
        return sleep_gates(context)

    return handle


def _wait(
    context: NodeContext,
    signals: Signals,
    signal_id: str,
    literal_type: types_pb2.LiteralType,
    output_name: str,
    poll_seconds: float,
) -> NodeOutcome:
    identifier = identifier_pb2.SignalIdentifier(
        signal_id=signal_id, execution_id=context.services.request.execution_id
    )
    signals.get_or_create(identifier, literal_type)
    timeout = context.node.metadata.timeout.ToTimedelta().total_seconds()
    deadline = time.monotonic() + timeout if timeout > 0 else None
    log.info("gate node=%s waits for signal=%s timeout=%ss", context.unique_id, signal_id, timeout or "none")
    while True:
        value = signals.value(identifier)
        if value is not None:
            return _passed(context, signal_id, value, output_name)
        if deadline is not None and time.monotonic() >= deadline:
            message = f"gate {signal_id!r} was not satisfied within its timeout of {timeout:g}s"
            return failed("TimeoutExpired", message, USER, phase=NodePhase.TIMED_OUT)
        if context.token.wait(poll_seconds):
            return aborted(context.token.reason)


def _passed(context: NodeContext, signal_id: str, value: literals_pb2.Literal, output_name: str) -> NodeOutcome:
    if not output_name:  # an approval
        if value.scalar.primitive.WhichOneof("value") != "boolean":
            message = f"gate {signal_id!r} received a non-boolean approve signal value [{value}]"
            return failed("RuntimeExecutionError", message, UNKNOWN)
        if not value.scalar.primitive.boolean:
            # propeller's words, so that clients matching on them see the same.
            return failed("ReceivedRejectSignal", "received a reject signal to disapprove the node input values", USER)
        return NodeOutcome(phase=NodePhase.SUCCEEDED, outputs=context.inputs)
    return NodeOutcome(phase=NodePhase.SUCCEEDED, outputs=literals_pb2.LiteralMap(literals={output_name: value}))
