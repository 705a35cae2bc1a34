"""Task executions (one per retry attempt): CreateTaskEvent, get / list / data.

Port of ``flyteadmin/pkg/manager/impl/task_execution_manager.go`` and
``flyteadmin/pkg/repositories/transformers/task_execution.go`` (log merging, reasons, phase versions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.admin import task_execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.event import event_pb2

from localflyte.context import AppContext
from localflyte.errors import missing_argument, not_found
from localflyte.execution import phases
from localflyte.execution.common import as_text, event_time, missing_entity, timestamp
from localflyte.execution.nodes import NodeExecutionManager, require_node_id
from localflyte.execution.outputs import data_response
from localflyte.execution.records import ExecutionTable
from localflyte.filters import next_token, order_by, page, parse_filters
from localflyte.storage import BlobStore
from localflyte.store import Row

Handler = Callable[[Any], Any]
_KEY = "project=? AND domain=? AND name=? AND node_id=?"
_FILTER_COLUMNS = {
    "phase": "phase", "retry_attempt": "retry_attempt", "created_at": "created_at", "updated_at": "updated_at",
    "started_at": "started_at", "duration": "duration", "task_name": "task_name", "task_version": "task_version",
}  # fmt: skip


def merge_logs(existing: list[Any], latest: list[Any]) -> list[Any]:
    """``mergeLogs``: the latest logs, plus earlier ones not replaced by URI or by name."""
    if not latest:
        return existing
    uris = {log.uri for log in latest}
    names = {log.name for log in latest if log.name}
    return [*latest, *(log for log in existing if log.uri not in uris and log.name not in names)]


def filter_logs(logs: list[Any], phase: str) -> list[Any]:
    """``filterLogsByPhase``: hide-once-finished and show-while-pending flags."""
    kept = []
    for log in logs:
        if phase in phases.TERMINAL_TASK_PHASES and log.HideOnceFinished:
            continue
        if phase in ("QUEUED", "INITIALIZING") and not log.ShowWhilePending:
            continue
        kept.append(log)
    return kept


class TaskExecutionManager:
    def __init__(self, context: AppContext, blobs: BlobStore, nodes: NodeExecutionManager) -> None:
        self._context = context
        self._store = context.store
        self._blobs = blobs
        self._nodes = nodes
        self._executions = ExecutionTable(context.store)

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "AdminService.CreateTaskEvent": self.create_task_event,
            "AdminService.GetTaskExecution": self.get_task_execution,
            "AdminService.ListTaskExecutions": self.list_task_executions,
            "AdminService.GetTaskExecutionData": self.get_task_execution_data,
        }

    def _key(self, identifier: identifier_pb2.TaskExecutionIdentifier) -> tuple[Any, ...]:
        node, task = identifier.node_execution_id, identifier.task_id
        execution = node.execution_id
        return (execution.project, execution.domain, execution.name, node.node_id, task.project, task.domain,
                task.name, task.version, identifier.retry_attempt)  # fmt: skip

    def row(self, identifier: identifier_pb2.TaskExecutionIdentifier) -> Row:
        row = self._store.query_one(
            f"SELECT * FROM task_executions WHERE {_KEY} AND task_project=? AND task_domain=? AND task_name=?"
            " AND task_version=? AND retry_attempt=?",
            self._key(identifier),
        )
        if row is None:
            raise missing_entity("task execution", identifier)
        return row

    def create_task_event(self, request: admin_event_pb2.TaskExecutionEventRequest) -> Any:
        """``CreateTaskExecutionEvent``."""
        if not request.HasField("event"):
            raise missing_argument("event")
        event = request.event
        if not event.HasField("occurred_at"):
            raise missing_argument("occurred_at")
        require_node_id(event.parent_node_execution_id)
        if not event.HasField("task_id"):
            raise missing_argument("task_id")
        identifier = identifier_pb2.TaskExecutionIdentifier(
            task_id=event.task_id, node_execution_id=event.parent_node_execution_id, retry_attempt=event.retry_attempt
        )
        with self._store.transaction():
            self._executions.find(event.parent_node_execution_id.execution_id)
            try:
                existing: Row | None = self.row(identifier)
            except Exception:  # NOT_FOUND means first event for this attempt
                existing = None
            if existing is None:
                self._create(identifier, event)
            else:
                phases.check_task_transition(
                    existing["phase"], existing["phase_version"], phases.task_phase_name(event.phase),
                    event.phase_version, as_text(identifier),
                )  # fmt: skip
                self._update(existing, event)
        return admin_event_pb2.TaskExecutionEventResponse()

    def _create(self, identifier: identifier_pb2.TaskExecutionIdentifier, event: event_pb2.TaskExecutionEvent) -> None:
        try:
            self._nodes.row(event.parent_node_execution_id)
        except Exception:  # reported with flyteadmin's wording below
            raise not_found(
                f"failed to get existing node execution id: [{as_text(event.parent_node_execution_id)}]"
            ) from None
        metadata = event.metadata
        resources = sorted(metadata.external_resources, key=lambda item: (item.index, item.retry_attempt))
        del metadata.external_resources[:]
        metadata.external_resources.extend(resources)
        closure = task_execution_pb2.TaskExecutionClosure(
            created_at=event.occurred_at, logs=event.logs, task_type=event.task_type, event_version=event.event_version
        )
        if event.HasField("custom_info"):
            closure.custom_info.CopyFrom(event.custom_info)
        if event.HasField("metadata"):
            closure.metadata.CopyFrom(metadata)
        columns: dict[str, Any] = {"started_at": None, "duration": 0.0, "input_uri": ""}
        self._apply(columns, closure, event, previous_phase="")
        self._store.insert(
            "INSERT INTO task_executions (project, domain, name, node_id, task_project, task_domain, task_name,"
            " task_version, retry_attempt, phase, phase_version, closure, input_uri, created_at, updated_at,"
            " started_at, duration) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*self._key(identifier), columns["phase"], event.phase_version, closure.SerializeToString(),
             columns["input_uri"], event_time(event.occurred_at, self._context.clock.now()), columns["updated_at"],
             columns["started_at"], columns["duration"]),
        )  # fmt: skip

    def _update(self, existing: Row, event: event_pb2.TaskExecutionEvent) -> None:
        closure = task_execution_pb2.TaskExecutionClosure.FromString(existing["closure"])
        merged = filter_logs(merge_logs(list(closure.logs), list(event.logs)), phases.task_phase_name(event.phase))
        del closure.logs[:]
        closure.logs.extend(merged)
        if event.HasField("custom_info"):
            closure.custom_info.update(dict(event.custom_info.items()))
        if event.HasField("metadata"):
            self._merge_metadata(closure, event.metadata)
        closure.event_version = max(closure.event_version, event.event_version)
        columns: dict[str, Any] = {
            "started_at": existing["started_at"], "duration": existing["duration"], "input_uri": existing["input_uri"]
        }  # fmt: skip
        self._apply(columns, closure, event, previous_phase=existing["phase"])
        self._store.execute(
            "UPDATE task_executions SET phase=?, phase_version=?, closure=?, input_uri=?, updated_at=?, started_at=?,"
            " duration=? WHERE seq=?",
            (columns["phase"], event.phase_version, closure.SerializeToString(), columns["input_uri"],
             columns["updated_at"], columns["started_at"], columns["duration"], existing["seq"]),
        )  # fmt: skip

    @staticmethod
    def _merge_metadata(
        closure: task_execution_pb2.TaskExecutionClosure, latest: event_pb2.TaskExecutionMetadata
    ) -> None:
        """``mergeMetadata``: external resources keyed by (index, retry attempt)."""
        metadata = closure.metadata
        if latest.generated_name:
            metadata.generated_name = latest.generated_name
        if latest.plugin_identifier:
            metadata.plugin_identifier = latest.plugin_identifier
        by_key = {(item.index, item.retry_attempt): item for item in metadata.external_resources}
        for item in latest.external_resources:
            by_key[(item.index, item.retry_attempt)] = item
        merged = [by_key[key] for key in sorted(by_key)]
        del metadata.external_resources[:]
        metadata.external_resources.extend(merged)

    def _apply(
        self,
        columns: dict[str, Any],
        closure: task_execution_pb2.TaskExecutionClosure,
        event: event_pb2.TaskExecutionEvent,
        previous_phase: str,
    ) -> None:
        now = event_time(event.occurred_at, self._context.clock.now())
        reported = event_time(event.reported_at, now) if event.HasField("reported_at") else now
        phase = phases.task_phase_name(event.phase)
        columns.update(phase=phase, updated_at=reported)
        closure.phase = event.phase
        closure.updated_at.CopyFrom(timestamp(reported))
        execution = event.parent_node_execution_id.execution_id
        if not columns["input_uri"]:
            if event.WhichOneof("input_value") == "input_uri":
                columns["input_uri"] = event.input_uri
            elif event.WhichOneof("input_value") == "input_data":
                columns["input_uri"] = self._blobs.write_literal_map(
                    event.input_data, execution.project, execution.domain, execution.name,
                    event.parent_node_execution_id.node_id, "offloaded_inputs",
                )  # fmt: skip
        if event.reasons:
            for reason in event.reasons:
                closure.reasons.add(occurred_at=reason.occurred_at, message=reason.reason)
            closure.reason = event.reasons[-1].reason
        elif event.reason and closure.reason != event.reason:
            closure.reasons.add(occurred_at=event.occurred_at, message=event.reason)
            closure.reason = event.reason
        if phase == "RUNNING" and previous_phase != "RUNNING" and columns["started_at"] is None:
            columns["started_at"] = now
            closure.started_at.CopyFrom(timestamp(now))
        if phase in phases.TERMINAL_TASK_PHASES:
            self._apply_terminal(columns, closure, event, now)

    def _apply_terminal(
        self,
        columns: dict[str, Any],
        closure: task_execution_pb2.TaskExecutionClosure,
        event: event_pb2.TaskExecutionEvent,
        now: float,
    ) -> None:
        if columns["started_at"] is not None:
            columns["duration"] = now - columns["started_at"]
            closure.duration.FromNanoseconds(int(columns["duration"] * 1e9))
        kind = event.WhichOneof("output_result")
        node = event.parent_node_execution_id
        task = event.task_id
        if kind == "output_uri":
            closure.output_uri = event.output_uri
        elif kind == "output_data":
            closure.output_uri = self._blobs.write_literal_map(
                event.output_data, node.execution_id.project, node.execution_id.domain, node.execution_id.name,
                node.node_id, task.project, task.domain, task.name, task.version, str(event.retry_attempt),
                "offloaded_outputs",
            )  # fmt: skip
        elif kind == "error":
            closure.error.CopyFrom(event.error)

    def to_admin(self, row: Row) -> task_execution_pb2.TaskExecution:
        """``FromTaskExecutionModel``: is_parent when it launched node executions."""
        identifier = identifier_pb2.TaskExecutionIdentifier(
            task_id=identifier_pb2.Identifier(
                resource_type=identifier_pb2.TASK, project=row["task_project"], domain=row["task_domain"],
                name=row["task_name"], version=row["task_version"],
            ),
            node_execution_id=identifier_pb2.NodeExecutionIdentifier(
                node_id=row["node_id"],
                execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                    project=row["project"], domain=row["domain"], name=row["name"]
                ),
            ),
            retry_attempt=row["retry_attempt"],
        )  # fmt: skip
        child = self._store.query_one("SELECT 1 FROM node_executions WHERE parent_task_seq=? LIMIT 1", (row["seq"],))
        return task_execution_pb2.TaskExecution(
            id=identifier,
            input_uri=row["input_uri"],
            closure=task_execution_pb2.TaskExecutionClosure.FromString(row["closure"]),
            is_parent=child is not None,
        )

    def get_task_execution(self, request: task_execution_pb2.TaskExecutionGetRequest) -> Any:
        require_node_id(request.id.node_execution_id)
        return self.to_admin(self.row(request.id))

    def list_task_executions(self, request: task_execution_pb2.TaskExecutionListRequest) -> Any:
        require_node_id(request.node_execution_id)
        limit, offset = page(request.limit, request.token)
        where = parse_filters(request.filters, _FILTER_COLUMNS)
        order = order_by(request.sort_by if request.HasField("sort_by") else None, _FILTER_COLUMNS, "seq ASC")
        node = request.node_execution_id
        rows = self._store.query(
            f"SELECT * FROM task_executions WHERE {_KEY} AND ({where.sql}) ORDER BY {order} LIMIT ? OFFSET ?",
            (node.execution_id.project, node.execution_id.domain, node.execution_id.name, node.node_id,
             *where.parameters, limit, offset),
        )  # fmt: skip
        return task_execution_pb2.TaskExecutionList(
            task_executions=[self.to_admin(row) for row in rows], token=next_token(offset, limit, rows)
        )

    def get_task_execution_data(self, request: task_execution_pb2.TaskExecutionGetDataRequest) -> Any:
        row = self.row(request.id)
        closure = task_execution_pb2.TaskExecutionClosure.FromString(row["closure"])
        kind = closure.WhichOneof("output_result")
        inline = closure.output_data if kind == "output_data" else None
        output_uri = closure.output_uri if kind == "output_uri" else ""
        inputs, input_blob, outputs, output_blob = data_response(self._blobs, row["input_uri"], output_uri, inline)
        return task_execution_pb2.TaskExecutionGetDataResponse(
            inputs=input_blob, outputs=output_blob, full_inputs=inputs, full_outputs=outputs
        )
