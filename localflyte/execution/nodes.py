"""Node executions: CreateNodeEvent, get / list / list-for-task / data.

Port of ``flyteadmin/pkg/manager/impl/node_execution_manager.go`` and
``flyteadmin/pkg/repositories/transformers/node_execution.go``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.admin import node_execution_pb2
from flyteidl.core import catalog_pb2, compiler_pb2, execution_pb2, identifier_pb2
from flyteidl.event import event_pb2

from localflyte.context import AppContext
from localflyte.errors import AdminError, missing_argument, not_found
from localflyte.execution import phases
from localflyte.execution.common import as_text, event_time, missing_entity, timestamp, trim_error_message
from localflyte.execution.outputs import data_response
from localflyte.execution.records import ExecutionTable
from localflyte.filters import next_token, order_by, page, parse_filters
from localflyte.storage import BlobStore
from localflyte.store import Row

Handler = Callable[[Any], Any]
_FILTER_COLUMNS = {
    "node_id": "node_id", "phase": "phase", "created_at": "created_at", "updated_at": "updated_at",
    "node_execution_created_at": "created_at", "node_execution_updated_at": "updated_at",
    "started_at": "started_at", "duration": "duration", "error_kind": "error_kind",
    "error_code": "error_code", "cache_status": "cache_status",
}  # fmt: skip


def require_node_id(identifier: identifier_pb2.NodeExecutionIdentifier) -> None:
    """``validation.ValidateNodeExecutionIdentifier``."""
    if not identifier.HasField("execution_id"):
        raise missing_argument("execution_id")
    if not identifier.node_id:
        raise missing_argument("node_id")


class NodeExecutionManager:
    def __init__(self, context: AppContext, blobs: BlobStore) -> None:
        self._context = context
        self._store = context.store
        self._blobs = blobs
        self._executions = ExecutionTable(context.store)

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "AdminService.CreateNodeEvent": self.create_node_event,
            "AdminService.GetNodeExecution": self.get_node_execution,
            "AdminService.ListNodeExecutions": self.list_node_executions,
            "AdminService.ListNodeExecutionsForTask": self.list_node_executions_for_task,
            "AdminService.GetNodeExecutionData": self.get_node_execution_data,
            "AdminService.GetDynamicNodeWorkflow": self.get_dynamic_node_workflow,
        }

    def row(self, identifier: identifier_pb2.NodeExecutionIdentifier) -> Row:
        execution = identifier.execution_id
        row = self._store.query_one(
            "SELECT * FROM node_executions WHERE project=? AND domain=? AND name=? AND node_id=?",
            (execution.project, execution.domain, execution.name, identifier.node_id),
        )
        if row is None:
            raise missing_entity("node execution", identifier)
        return row

    def create_node_event(self, request: admin_event_pb2.NodeExecutionEventRequest) -> Any:
        """``CreateNodeEvent``: create the node execution on its first event, else apply the transition."""
        if not request.HasField("event"):
            raise missing_argument("event")
        event = request.event
        require_node_id(event.id)
        execution_id = event.id.execution_id
        with self._store.transaction():
            try:
                self._executions.find(execution_id)
            except AdminError as error:
                raise AdminError(
                    error.code,
                    f"Failed to get existing execution id: [{as_text(execution_id)}] with err: {error.message}",
                ) from None
            dynamic_uri = self._offload_dynamic_closure(event)
            try:
                existing: Row | None = self.row(event.id)
            except AdminError:
                existing = None
            if existing is None:
                self._create(event, dynamic_uri)
            else:
                self._update(existing, event, dynamic_uri)
        return admin_event_pb2.NodeExecutionEventResponse()

    def _offload_dynamic_closure(self, event: event_pb2.NodeExecutionEvent) -> str:
        dynamic = event.task_node_metadata.dynamic_workflow
        if not event.HasField("task_node_metadata") or not event.task_node_metadata.HasField("dynamic_workflow"):
            return ""
        execution, workflow = event.id.execution_id, dynamic.id
        location = self._blobs.metadata_location(
            execution.project, execution.domain, execution.name, event.id.node_id,
            f"{workflow.project}_{workflow.domain}_{workflow.name}_{workflow.version}",
        )  # fmt: skip
        self._blobs.put_bytes(location, dynamic.compiled_workflow.SerializeToString())
        return location.uri

    def _create(self, event: event_pb2.NodeExecutionEvent, dynamic_uri: str) -> None:
        parent_task_seq = None
        if event.HasField("parent_task_metadata"):
            parent_task_seq = self._task_seq(event.parent_task_metadata.id)
        parent_seq = None
        if event.HasField("parent_node_metadata"):
            parent = identifier_pb2.NodeExecutionIdentifier(
                execution_id=event.id.execution_id, node_id=event.parent_node_metadata.node_id
            )
            parent_seq = int(self.row(parent)["seq"])
        metadata = node_execution_pb2.NodeExecutionMetaData(
            retry_group=event.retry_group, spec_node_id=event.spec_node_id, is_parent_node=event.is_parent,
            is_dynamic=event.is_dynamic, is_array=event.is_array,
        )  # fmt: skip
        closure = node_execution_pb2.NodeExecutionClosure(created_at=event.occurred_at)
        now = self._context.clock.now()
        created = event_time(event.occurred_at, now)
        columns: dict[str, Any] = {"created_at": created, "started_at": None, "duration": 0.0, "input_uri": ""}
        self._apply(columns, closure, event, dynamic_uri)
        execution = event.id.execution_id
        self._store.insert(
            "INSERT INTO node_executions (project, domain, name, node_id, phase, closure, metadata, input_uri,"
            " parent_seq, parent_task_seq, dynamic_closure_uri, error_kind, error_code, cache_status, created_at,"
            " updated_at, started_at, duration) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (execution.project, execution.domain, execution.name, event.id.node_id, columns["phase"],
             closure.SerializeToString(), metadata.SerializeToString(), columns["input_uri"], parent_seq,
             parent_task_seq, dynamic_uri, columns.get("error_kind"), columns.get("error_code"),
             columns.get("cache_status"), created, columns["updated_at"], columns["started_at"], columns["duration"]),
        )  # fmt: skip

    def _task_seq(self, identifier: identifier_pb2.TaskExecutionIdentifier) -> int:
        node, task = identifier.node_execution_id, identifier.task_id
        row = self._store.query_one(
            "SELECT seq FROM task_executions WHERE project=? AND domain=? AND name=? AND node_id=? AND task_project=?"
            " AND task_domain=? AND task_name=? AND task_version=? AND retry_attempt=?",
            (node.execution_id.project, node.execution_id.domain, node.execution_id.name, node.node_id,
             task.project, task.domain, task.name, task.version, identifier.retry_attempt),
        )  # fmt: skip
        if row is None:
            raise missing_entity("task execution", identifier)
        return int(row["seq"])

    def _update(self, existing: Row, event: event_pb2.NodeExecutionEvent, dynamic_uri: str) -> None:
        new_phase = phases.node_phase_name(event.phase)
        phases.check_node_transition(existing["phase"], new_phase, as_text(event.id))
        if event.HasField("workflow_node_metadata"):
            self._executions.find(event.workflow_node_metadata.execution_id)
        closure = node_execution_pb2.NodeExecutionClosure.FromString(existing["closure"])
        metadata = node_execution_pb2.NodeExecutionMetaData.FromString(existing["metadata"])
        metadata.is_parent_node |= event.is_parent
        metadata.is_dynamic |= event.is_dynamic
        metadata.is_array |= event.is_array
        columns: dict[str, Any] = {
            "started_at": existing["started_at"], "duration": existing["duration"], "input_uri": existing["input_uri"],
            "error_kind": existing["error_kind"], "error_code": existing["error_code"],
            "cache_status": existing["cache_status"],
        }  # fmt: skip
        self._apply(columns, closure, event, dynamic_uri or existing["dynamic_closure_uri"])
        self._store.execute(
            "UPDATE node_executions SET phase=?, closure=?, metadata=?, input_uri=?, dynamic_closure_uri=?,"
            " error_kind=?, error_code=?, cache_status=?, updated_at=?, started_at=?, duration=? WHERE seq=?",
            (columns["phase"], closure.SerializeToString(), metadata.SerializeToString(), columns["input_uri"],
             dynamic_uri or existing["dynamic_closure_uri"], columns.get("error_kind"), columns.get("error_code"),
             columns.get("cache_status"), columns["updated_at"], columns["started_at"], columns["duration"],
             existing["seq"]),
        )  # fmt: skip

    def _apply(
        self,
        columns: dict[str, Any],
        closure: node_execution_pb2.NodeExecutionClosure,
        event: event_pb2.NodeExecutionEvent,
        dynamic_uri: str,
    ) -> None:
        """The shared part of ``CreateNodeExecutionModel`` / ``UpdateNodeExecutionModel``."""
        now = event_time(event.occurred_at, self._context.clock.now())
        reported = event_time(event.reported_at, now) if event.HasField("reported_at") else now
        phase = phases.node_phase_name(event.phase)
        columns.update(phase=phase, updated_at=reported)
        closure.phase = event.phase
        closure.updated_at.CopyFrom(timestamp(reported))
        execution = event.id.execution_id
        if not columns["input_uri"]:
            if event.WhichOneof("input_value") == "input_uri":
                columns["input_uri"] = event.input_uri
            elif event.WhichOneof("input_value") == "input_data":
                columns["input_uri"] = self._blobs.write_literal_map(
                    event.input_data, execution.project, execution.domain, execution.name, event.id.node_id,
                    "offloaded_inputs",
                )  # fmt: skip
        if phase == "RUNNING":
            columns["started_at"] = now
            closure.started_at.CopyFrom(timestamp(now))
            closure.deck_uri = event.deck_uri
        if phase in phases.TERMINAL_NODE_PHASES:
            self._apply_terminal(columns, closure, event, now)
        if event.HasField("workflow_node_metadata") and not closure.HasField("workflow_node_metadata"):
            closure.workflow_node_metadata.executionId.CopyFrom(event.workflow_node_metadata.execution_id)
        if event.HasField("task_node_metadata"):
            task_metadata = node_execution_pb2.TaskNodeMetadata(checkpoint_uri=event.task_node_metadata.checkpoint_uri)
            if event.task_node_metadata.HasField("catalog_key"):
                task_metadata.cache_status = event.task_node_metadata.cache_status
                task_metadata.catalog_key.CopyFrom(event.task_node_metadata.catalog_key)
                columns["cache_status"] = catalog_pb2.CatalogCacheStatus.Name(event.task_node_metadata.cache_status)
            closure.task_node_metadata.CopyFrom(task_metadata)
            if event.task_node_metadata.dynamic_workflow.dynamic_job_spec_uri:
                closure.dynamic_job_spec_uri = event.task_node_metadata.dynamic_workflow.dynamic_job_spec_uri

    def _apply_terminal(
        self,
        columns: dict[str, Any],
        closure: node_execution_pb2.NodeExecutionClosure,
        event: event_pb2.NodeExecutionEvent,
        now: float,
    ) -> None:
        if columns["started_at"] is not None:
            columns["duration"] = now - columns["started_at"]
            closure.duration.FromNanoseconds(int(columns["duration"] * 1e9))
        kind = event.WhichOneof("output_result")
        execution = event.id.execution_id
        if kind == "output_uri":
            closure.output_uri = event.output_uri
        elif kind == "output_data":
            closure.output_uri = self._blobs.write_literal_map(
                event.output_data, execution.project, execution.domain, execution.name, event.id.node_id,
                "offloaded_outputs",
            )  # fmt: skip
        elif kind == "error":
            closure.error.CopyFrom(event.error)
            columns["error_kind"] = execution_pb2.ExecutionError.ErrorKind.Name(event.error.kind)
            columns["error_code"] = event.error.code
        closure.deck_uri = event.deck_uri

    def to_admin(self, row: Row, trim: bool = False) -> node_execution_pb2.NodeExecution:
        """``FromNodeExecutionModel``."""
        closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
        if trim and closure.WhichOneof("output_result") == "error":
            closure.error.message = trim_error_message(closure.error.message)
        metadata = node_execution_pb2.NodeExecutionMetaData.FromString(row["metadata"])
        if not (metadata.is_parent_node or metadata.is_dynamic):
            child = self._store.query_one("SELECT 1 FROM node_executions WHERE parent_seq=? LIMIT 1", (row["seq"],))
            if child is not None:
                metadata.is_parent_node = True
                metadata.is_dynamic = bool(row["dynamic_closure_uri"])
        identifier = identifier_pb2.NodeExecutionIdentifier(
            node_id=row["node_id"],
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project=row["project"], domain=row["domain"], name=row["name"]
            ),
        )
        return node_execution_pb2.NodeExecution(
            id=identifier, input_uri=row["input_uri"], closure=closure, metadata=metadata
        )

    def get_node_execution(self, request: node_execution_pb2.NodeExecutionGetRequest) -> Any:
        require_node_id(request.id)
        return self.to_admin(self.row(request.id))

    def _list(self, base_sql: str, base_parameters: tuple[Any, ...], request: Any) -> Any:
        limit, offset = page(request.limit, request.token)
        where = parse_filters(request.filters, _FILTER_COLUMNS)
        sort = request.sort_by if request.HasField("sort_by") else None
        order = order_by(sort, _FILTER_COLUMNS, "seq ASC")
        rows = self._store.query(
            f"SELECT * FROM node_executions WHERE {base_sql} AND ({where.sql}) ORDER BY {order} LIMIT ? OFFSET ?",
            (*base_parameters, *where.parameters, limit, offset),
        )
        return node_execution_pb2.NodeExecutionList(
            node_executions=[self.to_admin(row, trim=True) for row in rows], token=next_token(offset, limit, rows)
        )

    def list_node_executions(self, request: node_execution_pb2.NodeExecutionListRequest) -> Any:
        """Top-level nodes, or the children of ``unique_parent_id``."""
        execution = request.workflow_execution_id
        if not request.HasField("workflow_execution_id") or not execution.name:
            raise missing_argument("execution_id")
        sql = "project=? AND domain=? AND name=?"
        parameters: tuple[Any, ...] = (execution.project, execution.domain, execution.name)
        if request.unique_parent_id:
            parent = identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id=request.unique_parent_id)
            sql += " AND parent_seq=?"
            parameters += (int(self.row(parent)["seq"]),)
        else:
            sql += " AND parent_seq IS NULL AND parent_task_seq IS NULL"
        return self._list(sql, parameters, request)

    def list_node_executions_for_task(self, request: node_execution_pb2.NodeExecutionForTaskListRequest) -> Any:
        """Nodes launched by a task execution (dynamic and array sub-nodes)."""
        task_execution = request.task_execution_id
        execution = task_execution.node_execution_id.execution_id
        seq = NodeExecutionManager._task_seq(self, task_execution)
        return self._list(
            "project=? AND domain=? AND name=? AND parent_task_seq=?",
            (execution.project, execution.domain, execution.name, seq),
            request,
        )

    def get_node_execution_data(self, request: node_execution_pb2.NodeExecutionGetDataRequest) -> Any:
        require_node_id(request.id)
        row = self.row(request.id)
        closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
        kind = closure.WhichOneof("output_result")
        inline = closure.output_data if kind == "output_data" else None
        output_uri = closure.output_uri if kind == "output_uri" else ""
        inputs, input_blob, outputs, output_blob = data_response(self._blobs, row["input_uri"], output_uri, inline)
        response = node_execution_pb2.NodeExecutionGetDataResponse(
            inputs=input_blob, outputs=output_blob, full_inputs=inputs, full_outputs=outputs
        )
        if row["dynamic_closure_uri"]:
            compiled = compiler_pb2.CompiledWorkflowClosure.FromString(
                self._blobs.get_bytes(row["dynamic_closure_uri"])
            )
            response.dynamic_workflow.id.CopyFrom(compiled.primary.template.id)
            response.dynamic_workflow.compiled_workflow.CopyFrom(compiled)
            response.dynamic_workflow.dynamic_job_spec_uri = closure.dynamic_job_spec_uri
        return response

    def get_dynamic_node_workflow(self, request: Any) -> Any:
        require_node_id(request.id)
        row = self.row(request.id)
        if not row["dynamic_closure_uri"]:
            raise not_found(f"node execution {as_text(request.id)} is not a dynamic node")
        compiled = compiler_pb2.CompiledWorkflowClosure.FromString(self._blobs.get_bytes(row["dynamic_closure_uri"]))
        return node_execution_pb2.DynamicNodeWorkflowResponse(compiled_workflow=compiled)
