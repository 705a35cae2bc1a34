"""The in-process seam between the control plane and an executor (propeller's place).

An executor ``subscribe``s an :class:`ExecutionListener` to hear about new executions and abort
requests, and reports progress through :class:`ExecutionSink`'s ``record_*_event`` methods, which
run the very code behind the ``Create*Event`` RPCs (same validation, same phase rules).
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.core import identifier_pb2
from flyteidl.event import event_pb2

from localflyte.execution.records import ExecutionRecord

log = logging.getLogger(__name__)


class ExecutionListener(Protocol):
    """What an executor implements; calls arrive on gRPC threads, after the change is committed."""

    def execution_created(self, record: ExecutionRecord) -> None:
        """A new execution was stored (already QUEUED): start running it."""

    def abort_requested(self, record: ExecutionRecord) -> None:
        """TerminateExecution put it in ABORTING: stop its work, then record the ABORTED event."""


class EventHandlers(Protocol):
    def create_workflow_event(
        self, request: admin_event_pb2.WorkflowExecutionEventRequest
    ) -> admin_event_pb2.WorkflowExecutionEventResponse: ...

    def create_node_event(
        self, request: admin_event_pb2.NodeExecutionEventRequest
    ) -> admin_event_pb2.NodeExecutionEventResponse: ...

    def create_task_event(
        self, request: admin_event_pb2.TaskExecutionEventRequest
    ) -> admin_event_pb2.TaskExecutionEventResponse: ...

    def fetch(self, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> ExecutionRecord: ...


class ExecutionSink:
    """Listener registry plus event recording for in-process executors."""

    def __init__(self) -> None:
        self._listeners: list[ExecutionListener] = []
        self._lock = threading.Lock()
        self._handlers: EventHandlers | None = None

    def bind(self, handlers: EventHandlers) -> None:
        self._handlers = handlers

    @property
    def handlers(self) -> EventHandlers:
        if self._handlers is None:
            raise RuntimeError("ExecutionSink used before the execution managers were built")
        return self._handlers

    def subscribe(self, listener: ExecutionListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: ExecutionListener) -> None:
        with self._lock:
            self._listeners.remove(listener)

    @property
    def has_listeners(self) -> bool:
        with self._lock:
            return bool(self._listeners)

    def notify_created(self, record: ExecutionRecord) -> None:
        for listener in self._snapshot():
            try:
                listener.execution_created(record)
            except Exception:  # a broken executor must not fail CreateExecution
                log.exception("listener failed on execution_created name=%s", record.name)

    def notify_abort(self, record: ExecutionRecord) -> None:
        for listener in self._snapshot():
            try:
                listener.abort_requested(record)
            except Exception:  # TerminateExecution has already been recorded
                log.exception("listener failed on abort_requested name=%s", record.name)

    def _snapshot(self) -> list[ExecutionListener]:
        with self._lock:
            return list(self._listeners)

    def record_workflow_event(self, event: event_pb2.WorkflowExecutionEvent, request_id: str = "") -> None:
        """Same path as ``AdminService.CreateWorkflowEvent``; raises AdminError on a refused transition."""
        self.handlers.create_workflow_event(
            admin_event_pb2.WorkflowExecutionEventRequest(request_id=request_id, event=event)
        )

    def record_node_event(self, event: event_pb2.NodeExecutionEvent, request_id: str = "") -> None:
        self.handlers.create_node_event(admin_event_pb2.NodeExecutionEventRequest(request_id=request_id, event=event))

    def record_task_event(self, event: event_pb2.TaskExecutionEvent, request_id: str = "") -> None:
        self.handlers.create_task_event(admin_event_pb2.TaskExecutionEventRequest(request_id=request_id, event=event))

    def fetch(self, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> ExecutionRecord:
        """The stored execution (spec, resolved config, inputs URI) the executor runs."""
        return self.handlers.fetch(identifier)

    # The executor's ``EventSink`` protocol (localflyte/executor/events.py) names them this way.
    def workflow_phase(self, event: event_pb2.WorkflowExecutionEvent) -> None:
        self.record_workflow_event(event)

    def node_phase(self, event: event_pb2.NodeExecutionEvent) -> None:
        self.record_node_event(event)

    def task_phase(self, event: event_pb2.TaskExecutionEvent) -> None:
        self.record_task_event(event)


# The executor's name for the same object.
EventRecorder = ExecutionSink
