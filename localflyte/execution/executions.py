"""Workflow executions: create / relaunch / recover / get / list / update / terminate / data / events.

Port of ``flyteadmin/pkg/manager/impl/execution_manager.go`` and
``flyteadmin/pkg/repositories/transformers/execution.go`` (see each method's docstring).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, metrics_pb2
from flyteidl.event import event_pb2

from localflyte.context import AppContext
from localflyte.errors import invalid_argument
from localflyte.execution import phases
from localflyte.execution.common import as_text, event_time, require_execution_id, timestamp, trim_error_message
from localflyte.execution.launch import Launcher, read_user_inputs
from localflyte.execution.outputs import data_response
from localflyte.execution.records import ExecutionRecord, ExecutionTable
from localflyte.execution.sink import ExecutionSink
from localflyte.filters import next_token, order_by, page, parse_filters
from localflyte.storage import BlobStore

log = logging.getLogger(__name__)

Handler = Callable[[Any], Any]
PRODUCER = "localflyte"
# flyteadmin's execution filter fields (models.ExecutionColumns plus joined entities) → our columns.
_FILTER_COLUMNS = {
    "project": "project", "domain": "domain", "name": "name", "phase": "phase", "state": "state",
    "mode": "mode", "user": "user", "cluster": "cluster", "error_kind": "error_kind",
    "error_code": "error_code", "launch_entity": "launch_entity", "created_at": "created_at",
    "execution_created_at": "created_at", "updated_at": "updated_at", "execution_updated_at": "updated_at",
    "started_at": "started_at", "duration": "duration", "launch_plan.name": "launch_plan_name",
    "workflow.name": "workflow_name", "task.name": "task_name",
}  # fmt: skip
_SORT_COLUMNS = {key: value for key, value in _FILTER_COLUMNS.items() if "." not in key}


class ExecutionManager:
    """The execution half of AdminService."""

    def __init__(
        self, context: AppContext, blobs: BlobStore, sink: ExecutionSink, registration: Callable[[str], Any]
    ) -> None:
        self._context = context
        self._blobs = blobs
        self.sink = sink
        self.table = ExecutionTable(context.store)
        self._launcher = Launcher(context, blobs, registration)

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "AdminService.CreateExecution": self.create_execution,
            "AdminService.RelaunchExecution": self.relaunch_execution,
            "AdminService.RecoverExecution": self.recover_execution,
            "AdminService.GetExecution": self.get_execution,
            "AdminService.UpdateExecution": self.update_execution,
            "AdminService.GetExecutionData": self.get_execution_data,
            "AdminService.ListExecutions": self.list_executions,
            "AdminService.TerminateExecution": self.terminate_execution,
            "AdminService.CreateWorkflowEvent": self.create_workflow_event,
            "AdminService.GetExecutionMetrics": self.get_execution_metrics,
        }

    def fetch(self, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> ExecutionRecord:
        return self.table.find(identifier)

    def _launch(self, request: execution_pb2.ExecutionCreateRequest, source: ExecutionRecord | None = None) -> Any:
        record = self._launcher.prepare(request)
        if source is not None:
            record = record.with_changes(source_execution_seq=source.seq)
        with self._context.store.transaction():
            record = self.table.insert(record)
        log.info("execution created project=%s domain=%s name=%s", record.project, record.domain, record.name)
        # The workflow engine accepted it: propeller's first event is QUEUED.
        self.create_workflow_event(
            admin_event_pb2.WorkflowExecutionEventRequest(
                event=event_pb2.WorkflowExecutionEvent(
                    execution_id=record.identifier,
                    producer_id=PRODUCER,
                    phase=core_execution_pb2.WorkflowExecution.QUEUED,
                    occurred_at=timestamp(self._context.clock.now()),
                )
            )
        )
        self.sink.notify_created(self.table.find(record.identifier))
        return execution_pb2.ExecutionCreateResponse(id=record.identifier)

    def create_execution(self, request: execution_pb2.ExecutionCreateRequest) -> Any:
        """``CreateExecution`` → ``launchExecution`` / ``launchSingleTaskExecution``."""
        return self._launch(request)

    def _relaunch_request(self, source: ExecutionRecord, name: str, mode: int) -> execution_pb2.ExecutionCreateRequest:
        spec = source.to_admin().spec
        spec.metadata.mode = mode  # type: ignore[assignment]
        spec.metadata.reference_execution.CopyFrom(source.identifier)
        return execution_pb2.ExecutionCreateRequest(
            project=source.project, domain=source.domain, name=name, spec=spec,
            inputs=read_user_inputs(self._blobs, source),
        )  # fmt: skip

    def relaunch_execution(self, request: execution_pb2.ExecutionRelaunchRequest) -> Any:
        """``RelaunchExecution``: same spec and user inputs, mode RELAUNCH, optional overwrite_cache."""
        source = self.table.find(request.id)
        create = self._relaunch_request(source, request.name, execution_pb2.ExecutionMetadata.RELAUNCH)
        create.spec.overwrite_cache = request.overwrite_cache
        return self._launch(create, source)

    def recover_execution(self, request: execution_pb2.ExecutionRecoverRequest) -> Any:
        """``RecoverExecution``: mode RECOVERED, referencing the failed execution."""
        source = self.table.find(request.id)
        create = self._relaunch_request(source, request.name, execution_pb2.ExecutionMetadata.RECOVERED)
        if request.HasField("metadata") and request.metadata.HasField("parent_node_execution"):
            create.spec.metadata.parent_node_execution.CopyFrom(request.metadata.parent_node_execution)
        return self._launch(create, source)

    def get_execution(self, request: execution_pb2.WorkflowExecutionGetRequest) -> Any:
        require_execution_id(request.id, request.HasField("id"))
        return self.table.find(request.id).to_admin()

    def update_execution(self, request: execution_pb2.ExecutionUpdateRequest) -> Any:
        """``UpdateExecution``: archive or re-activate (``UpdateExecutionModelStateChangeDetails``)."""
        require_execution_id(request.id, request.HasField("id"))
        with self._context.store.transaction():
            record = self.table.find(request.id)
            closure = record.closure_proto()
            closure.state_change_details.state = request.state
            closure.state_change_details.occurred_at.CopyFrom(timestamp(self._context.clock.now()))
            closure.state_change_details.principal = ""
            self.table.update(record.with_changes(state=int(request.state), closure=closure.SerializeToString()))
        return execution_pb2.ExecutionUpdateResponse()

    def get_execution_data(self, request: execution_pb2.WorkflowExecutionGetDataRequest) -> Any:
        """``GetExecutionData``: inputs from the offloaded URI, outputs from the closure."""
        record = self.table.find(request.id)
        closure = record.closure_proto()
        output_kind = closure.WhichOneof("output_result")
        output_uri = closure.outputs.uri if output_kind == "outputs" else ""
        inline = closure.output_data if output_kind == "output_data" else None
        inputs, input_blob, full_outputs, output_blob = data_response(
            self._blobs, record.inputs_uri, output_uri, inline
        )
        return execution_pb2.WorkflowExecutionGetDataResponse(
            inputs=input_blob, outputs=output_blob, full_inputs=inputs, full_outputs=full_outputs
        )

    def list_executions(self, request: Any) -> Any:
        """``ListExecutions``: project/domain required; archived ones hidden unless ``state`` is filtered."""
        if not request.id.project:
            raise invalid_argument("missing project")
        if not request.id.domain:
            raise invalid_argument("missing domain")
        limit, offset = page(request.limit, request.token)
        where = parse_filters(request.filters, _FILTER_COLUMNS)
        sql = f"project = ? AND domain = ? AND ({where.sql})"
        parameters: tuple[Any, ...] = (request.id.project, request.id.domain, *where.parameters)
        if request.id.name:
            sql += " AND name = ?"
            parameters += (request.id.name,)
        if "state" not in request.filters:
            sql += " AND state = 0"
        order = order_by(
            request.sort_by if request.HasField("sort_by") else None, _SORT_COLUMNS, "created_at DESC, seq DESC"
        )
        records = self.table.select(sql, parameters, order, limit, offset)
        executions = []
        for record in records:
            execution = record.to_admin()
            execution.spec.ClearField("inputs")
            execution.closure.ClearField("computed_inputs")
            if execution.closure.WhichOneof("output_result") == "error":
                execution.closure.error.message = trim_error_message(execution.closure.error.message)
            executions.append(execution)
        return execution_pb2.ExecutionList(executions=executions, token=next_token(offset, limit, records))

    def terminate_execution(self, request: execution_pb2.ExecutionTerminateRequest) -> Any:
        """``TerminateExecution``: record ABORTING and the cause; the engine then reports ABORTED."""
        require_execution_id(request.id, request.HasField("id"))
        with self._context.store.transaction():
            record = self.table.find(request.id)
            if record.phase in phases.TERMINAL_WORKFLOW_PHASES:
                raise phases.TerminalStateError("Cannot abort an already terminated workflow execution", record.phase)
            closure = record.closure_proto()
            closure.abort_metadata.cause = request.cause
            closure.abort_metadata.principal = ""
            closure.phase = core_execution_pb2.WorkflowExecution.ABORTING
            record = record.with_changes(
                phase="ABORTING", abort_cause=request.cause, closure=closure.SerializeToString()
            )
            self.table.update(record)
        if self.sink.has_listeners:
            self.sink.notify_abort(record)
        else:
            # No executor owns it: nothing runs, so the abort completes at once, as propeller would report.
            self.create_workflow_event(
                admin_event_pb2.WorkflowExecutionEventRequest(
                    event=event_pb2.WorkflowExecutionEvent(
                        execution_id=record.identifier, producer_id=PRODUCER,
                        phase=core_execution_pb2.WorkflowExecution.ABORTED,
                        occurred_at=timestamp(self._context.clock.now()),
                    )
                )
            )  # fmt: skip
        return execution_pb2.ExecutionTerminateResponse()

    def get_execution_metrics(self, request: Any) -> Any:
        """``GetExecutionMetrics``: an (empty) span for the execution; metrics are not collected here."""
        record = self.table.find(request.id)
        span = metrics_pb2.Span(workflow_id=record.identifier)
        closure = record.closure_proto()
        span.start_time.CopyFrom(closure.started_at if closure.HasField("started_at") else closure.created_at)
        span.end_time.CopyFrom(closure.updated_at)
        return execution_pb2.WorkflowExecutionGetMetricsResponse(span=span)

    def create_workflow_event(self, request: admin_event_pb2.WorkflowExecutionEventRequest) -> Any:
        """``CreateWorkflowEvent`` + ``transformers.UpdateExecutionModelState``."""
        if not request.HasField("event"):
            raise invalid_argument("Workflow event handler was called without event")
        event = request.event
        if not event.HasField("execution_id"):
            raise invalid_argument(
                f"Workflow event handler request event doesn't have an execution id - {as_text(event)}"
            )
        new_phase = phases.workflow_phase_name(event.phase)
        with self._context.store.transaction():
            record = self.table.find(event.execution_id)
            phases.check_workflow_transition(record.phase, new_phase, as_text(event.execution_id))
            self.table.update(self._apply_event(record, event, new_phase))
        return admin_event_pb2.WorkflowExecutionEventResponse()

    def _apply_event(
        self, record: ExecutionRecord, event: event_pb2.WorkflowExecutionEvent, new_phase: str
    ) -> ExecutionRecord:
        now = event_time(event.occurred_at, self._context.clock.now())
        closure = record.closure_proto()
        closure.phase = event.phase
        closure.updated_at.CopyFrom(timestamp(now))
        changes: dict[str, Any] = {"phase": new_phase, "updated_at": now}
        if new_phase == "RUNNING":
            changes["started_at"] = now
            closure.started_at.CopyFrom(timestamp(now))
        elif new_phase in phases.TERMINAL_WORKFLOW_PHASES and record.started_at is not None:
            changes["duration"] = now - record.started_at
            closure.duration.FromNanoseconds(int(changes["duration"] * 1e9))
        kind = event.WhichOneof("output_result")
        if kind == "output_uri":
            closure.outputs.uri = event.output_uri
        elif kind == "output_data":
            # flyteadmin's default InlineEventDataPolicy offloads inline outputs to the metadata store.
            closure.outputs.uri = self._blobs.write_literal_map(
                event.output_data, record.project, record.domain, record.name, "offloaded_outputs"
            )
        elif kind == "error":
            closure.error.CopyFrom(event.error)
            changes["error_kind"] = core_execution_pb2.ExecutionError.ErrorKind.Name(event.error.kind)
            changes["error_code"] = event.error.code
        if event.producer_id and event.producer_id != PRODUCER and record.phase in ("UNDEFINED", "QUEUED"):
            changes["cluster"] = event.producer_id
        changes["closure"] = closure.SerializeToString()
        return record.with_changes(**changes)
