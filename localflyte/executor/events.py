"""How the executor reports progress: FlyteAdmin's event protos through an :class:`EventSink`.

The execution side feeds these into the same code path as ``Create{Workflow,Node,Task}Event``, so the
records it keeps are the ones FlyteAdmin would keep for propeller's events. Field choices follow
flytepropeller ``pkg/controller/nodes/transformers.go: ToNodeExecutionEvent`` (event version 1: unique
node ids, ``spec_node_id``, ``parent_node_metadata`` + ``retry_group`` for nested nodes).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from flyteidl.core import execution_pb2, identifier_pb2
from flyteidl.event import event_pb2
from google.protobuf import timestamp_pb2

PRODUCER_ID = "localflyte"
_EVENT_VERSION = 1

WorkflowPhase = execution_pb2.WorkflowExecution.Phase
NodePhase = execution_pb2.NodeExecution.Phase
TaskPhase = execution_pb2.TaskExecution.Phase


class EventSink(Protocol):
    """Receives every event the executor emits, in order per entity. Must be thread-safe."""

    def workflow_phase(self, event: event_pb2.WorkflowExecutionEvent) -> None: ...

    def node_phase(self, event: event_pb2.NodeExecutionEvent) -> None: ...

    def task_phase(self, event: event_pb2.TaskExecutionEvent) -> None: ...


@dataclass
class RecordingEventSink:
    """Keeps every event in memory: for tests, and for logging what an execution did."""

    workflow_events: list[event_pb2.WorkflowExecutionEvent] = field(default_factory=list)
    node_events: list[event_pb2.NodeExecutionEvent] = field(default_factory=list)
    task_events: list[event_pb2.TaskExecutionEvent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def workflow_phase(self, event: event_pb2.WorkflowExecutionEvent) -> None:
        with self._lock:
            self.workflow_events.append(event)

    def node_phase(self, event: event_pb2.NodeExecutionEvent) -> None:
        with self._lock:
            self.node_events.append(event)

    def task_phase(self, event: event_pb2.TaskExecutionEvent) -> None:
        with self._lock:
            self.task_events.append(event)

    def node_phases(self, node_id: str) -> list[str]:
        """Phase names a node went through, by unique node id (e.g. ``n2-0-n0``)."""
        with self._lock:
            return [NodePhase.Name(e.phase) for e in self.node_events if e.id.node_id == node_id]

    def task_attempts(self, node_id: str) -> list[tuple[int, str]]:
        """``(retry_attempt, phase name)`` of a node's task executions, in order."""
        with self._lock:
            return [
                (e.retry_attempt, TaskPhase.Name(e.phase))
                for e in self.task_events
                if e.parent_node_execution_id.node_id == node_id
            ]

    def workflow_phases(self) -> list[str]:
        with self._lock:
            return [WorkflowPhase.Name(e.phase) for e in self.workflow_events]


def now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(datetime.now(UTC))
    return stamp


def workflow_event(
    execution_id: identifier_pb2.WorkflowExecutionIdentifier,
    phase: int,
    output_uri: str = "",
    error: execution_pb2.ExecutionError | None = None,
) -> event_pb2.WorkflowExecutionEvent:
    event = event_pb2.WorkflowExecutionEvent(
        execution_id=execution_id,
        producer_id=PRODUCER_ID,
        phase=phase,  # type: ignore[arg-type]
        occurred_at=now(),
    )
    if error is not None:
        event.error.CopyFrom(error)
    elif output_uri:
        event.output_uri = output_uri
    return event


@dataclass(frozen=True)
class NodeEventContext:
    """What does not change between a node's events: who it is and where its data lives."""

    execution_id: identifier_pb2.WorkflowExecutionIdentifier
    unique_id: str
    spec_node_id: str
    node_name: str
    input_uri: str
    parent_unique_id: str = ""
    parent_attempt: int = 0
    is_parent: bool = False
    is_array: bool = False
    target_entity: identifier_pb2.Identifier | None = None

    @property
    def node_execution_id(self) -> identifier_pb2.NodeExecutionIdentifier:
        return identifier_pb2.NodeExecutionIdentifier(node_id=self.unique_id, execution_id=self.execution_id)


def node_event(
    context: NodeEventContext,
    phase: int,
    output_uri: str = "",
    error: execution_pb2.ExecutionError | None = None,
    task_node_metadata: event_pb2.TaskNodeMetadata | None = None,
    child_execution: identifier_pb2.WorkflowExecutionIdentifier | None = None,
    deck_uri: str = "",
) -> event_pb2.NodeExecutionEvent:
    event = event_pb2.NodeExecutionEvent(
        id=context.node_execution_id,
        producer_id=PRODUCER_ID,
        phase=phase,  # type: ignore[arg-type]
        occurred_at=now(),
        reported_at=now(),
        spec_node_id=context.spec_node_id,
        node_name=context.node_name,
        event_version=_EVENT_VERSION,
        is_parent=context.is_parent,
        is_array=context.is_array,
    )
    if context.input_uri:
        event.input_uri = context.input_uri
    if context.parent_unique_id:
        event.parent_node_metadata.node_id = context.parent_unique_id
        event.retry_group = str(context.parent_attempt)
    if context.target_entity is not None:
        event.target_entity.CopyFrom(context.target_entity)
    if task_node_metadata is not None:
        event.task_node_metadata.CopyFrom(task_node_metadata)
    if child_execution is not None:
        event.workflow_node_metadata.execution_id.CopyFrom(child_execution)
    if deck_uri:
        event.deck_uri = deck_uri
    if error is not None:
        event.error.CopyFrom(error)
    elif output_uri:
        event.output_uri = output_uri
    return event


def task_event(
    context: NodeEventContext,
    task_id: identifier_pb2.Identifier,
    task_type: str,
    attempt: int,
    phase: int,
    phase_version: int = 0,
    logs: Sequence[execution_pb2.TaskLog] = (),
    output_uri: str = "",
    error: execution_pb2.ExecutionError | None = None,
    reason: str = "",
) -> event_pb2.TaskExecutionEvent:
    event = event_pb2.TaskExecutionEvent(
        task_id=task_id,
        parent_node_execution_id=context.node_execution_id,
        retry_attempt=attempt,
        phase=phase,  # type: ignore[arg-type]
        producer_id=PRODUCER_ID,
        logs=list(logs),
        occurred_at=now(),
        reported_at=now(),
        input_uri=context.input_uri,
        phase_version=phase_version,
        task_type=task_type,
        reason=reason,
        event_version=_EVENT_VERSION,
    )
    event.metadata.generated_name = f"{context.execution_id.name}-{context.unique_id}-{attempt}"
    if error is not None:
        event.error.CopyFrom(error)
    elif output_uri:
        event.output_uri = output_uri
    return event


def execution_error(
    code: str, message: str, kind: int = execution_pb2.ExecutionError.SYSTEM
) -> execution_pb2.ExecutionError:
    return execution_pb2.ExecutionError(code=code, message=message, kind=kind)  # type: ignore[arg-type]
