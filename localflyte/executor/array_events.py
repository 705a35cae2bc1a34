"""An array node's aggregated task execution, as propeller's ArrayNode event version 0 reports it.

Sub-nodes get no node executions of their own: each index is an ``external_resource`` (index, retry
attempt, phase, logs and, for a launch-plan sub-node, its child execution) of one task execution of
the array node (retry 0), whose ``phase_version`` grows with every change.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

from flyteidl.core import execution_pb2, identifier_pb2
from flyteidl.event import event_pb2

from localflyte.executor.events import TaskPhase, task_event
from localflyte.executor.layout import fixed_length_unique_id
from localflyte.executor.nodes import NodeContext

log = logging.getLogger(__name__)

TASK_TYPE = "container_array"
PLUGIN_ID = "k8s-array"
_TASK_ID_MAX_LENGTH = 50  # propeller's task.IDMaxLength


@dataclasses.dataclass
class Progress:
    """The array's aggregated task execution: external resources and the phase version that orders them."""

    context: NodeContext
    task_id: identifier_pb2.Identifier
    resources: dict[tuple[int, int], event_pb2.ExternalResourceInfo] = dataclasses.field(default_factory=dict)
    version: int = 0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def external_id(self, index: int, attempt: int) -> str:
        request = self.context.services.request
        unique = fixed_length_unique_id(
            [request.execution_id.name, self.context.unique_id, "0"], max_length=_TASK_ID_MAX_LENGTH
        )
        return f"{unique}-n{index}-{attempt}"

    def update(
        self,
        index: int,
        attempt: int,
        phase: int,
        logs: list[execution_pb2.TaskLog],
        child: identifier_pb2.WorkflowExecutionIdentifier | None = None,
    ) -> None:
        resource = event_pb2.ExternalResourceInfo(
            external_id=self.external_id(index, attempt),
            index=index,
            retry_attempt=attempt,
            phase=phase,  # type: ignore[arg-type]
        )
        if child is not None:
            resource.workflow_node_metadata.execution_id.CopyFrom(child)
        for entry in logs:
            resource.logs.add(uri=entry.uri, name=f"{entry.name}-{index}", message_format=entry.message_format)
        with self.lock:
            self.resources[(index, attempt)] = resource
            self._emit(TaskPhase.RUNNING, [resource])

    def emit(self, phase: int, output_uri: str = "", error: execution_pb2.ExecutionError | None = None) -> None:
        with self.lock:
            self._emit(phase, [self.resources[key] for key in sorted(self.resources)], output_uri, error)

    def _emit(
        self,
        phase: int,
        resources: list[event_pb2.ExternalResourceInfo],
        output_uri: str = "",
        error: execution_pb2.ExecutionError | None = None,
    ) -> None:
        event = task_event(
            self.context.events, self.task_id, TASK_TYPE, 0, phase, phase_version=self.version,
            output_uri=output_uri, error=error,
        )  # fmt: skip
        if phase != TaskPhase.QUEUED:
            event.ClearField("input_uri")  # propeller attaches the inputs to the first event only
        event.metadata.plugin_identifier = PLUGIN_ID
        event.metadata.external_resources.extend(resources)
        self.version += 1
        self.context.services.sink.task_phase(event)


class SubNodeEvents:
    """The sink sub-nodes report to: their task events become the array's external resources."""

    def __init__(self, progress: Progress, index: int) -> None:
        self._progress = progress
        self._index = index

    def workflow_phase(self, event: event_pb2.WorkflowExecutionEvent) -> None:
        log.warning("array sub-node %s sent a workflow event; ignored", self._index)

    def node_phase(self, event: event_pb2.NodeExecutionEvent) -> None:
        pass  # sub-nodes have no node executions of their own (event version 0)

    def task_phase(self, event: event_pb2.TaskExecutionEvent) -> None:
        self._progress.update(self._index, event.retry_attempt, event.phase, list(event.logs))
