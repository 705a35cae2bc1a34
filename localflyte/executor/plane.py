"""The executor's view of localflyte's control plane: stored executions in, events out.

What flyteadmin hands propeller (the FlyteWorkflow CRD built from the stored execution) becomes an
:class:`ExecutionRequest`; events go through ``ExecutionSink`` into the ``Create*Event`` code path,
tolerating the refusals propeller tolerates (``AlreadyExists``, already-terminal); child executions
and signals go through the execution managers, exactly as their RPCs would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.admin import signal_pb2
from flyteidl.core import identifier_pb2, literals_pb2, security_pb2, types_pb2
from flyteidl.event import event_pb2

from localflyte.errors import AdminError
from localflyte.execution import ExecutionPlane, phases
from localflyte.execution.records import ExecutionRecord
from localflyte.executor.launch_plan_node import ChildLaunch, ChildState
from localflyte.executor.model import ExecutionRequest, WorkflowPhase
from localflyte.registration import repository
from localflyte.store import Store

log = logging.getLogger(__name__)

# flyteadmin's "nesting" is how deep a child execution sits; only its presence matters here.
_CHILD_WORKFLOW = admin_execution_pb2.ExecutionMetadata.CHILD_WORKFLOW


def security_environment(context: security_pb2.SecurityContext) -> dict[str, str]:
    """The run-as identity, for tasks to see (a pod would get it as its service account / IRSA role)."""
    env: dict[str, str] = {}
    if context.run_as.k8s_service_account:
        env["LOCALFLYTE_K8S_SERVICE_ACCOUNT"] = context.run_as.k8s_service_account
    if context.run_as.iam_role:
        env["LOCALFLYTE_IAM_ROLE"] = context.run_as.iam_role
    return env


def build_request(store: Store, plane: ExecutionPlane, record: ExecutionRecord) -> ExecutionRequest:
    """The stored execution as the executor runs it: compiled closure, inputs and resolved settings."""
    closure = record.closure_proto()
    workflow = repository.fetch_workflow(store, closure.workflow_id)
    config = record.config_proto()
    spec = record.spec_proto()
    env = {**security_environment(config.security_context), **{pair.key: pair.value for pair in config.envs.values}}
    return ExecutionRequest(
        execution_id=record.identifier,
        closure=workflow.closure.compiled_workflow,
        inputs=plane.blobs.read_literal_map(record.inputs_uri),
        raw_output_prefix=config.raw_output_data_config.output_location_prefix,
        max_parallelism=config.max_parallelism,
        env=env,
        overwrite_cache=config.overwrite_cache or spec.overwrite_cache,
    )


class AdminEvents:
    """``EventSink`` over the control plane; refusals propeller ignores are logged, not raised."""

    def __init__(self, plane: ExecutionPlane) -> None:
        self._sink = plane.sink

    def workflow_phase(self, event: event_pb2.WorkflowExecutionEvent) -> None:
        self._record(self._sink.record_workflow_event, event, event.execution_id.name)

    def node_phase(self, event: event_pb2.NodeExecutionEvent) -> None:
        self._record(self._sink.record_node_event, event, f"{event.id.execution_id.name}/{event.id.node_id}")

    def task_phase(self, event: event_pb2.TaskExecutionEvent) -> None:
        node = event.parent_node_execution_id
        self._record(self._sink.record_task_event, event, f"{node.execution_id.name}/{node.node_id}")

    @staticmethod
    def _record(record: Callable[[Any], None], event: Any, where: str) -> None:
        try:
            record(event)
        except AdminError as error:
            # propeller treats AlreadyExists and already-terminal (an aborted execution) as done.
            if error.code in (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION):
                log.info("event for %s not recorded: %s", where, error.message)
                return
            log.error("event for %s refused by the control plane: %s %s", where, error.code.name, error.message)


class AdminChildExecutions:
    """Child executions of launch-plan nodes, created through ``CreateExecution``'s code path."""

    def __init__(self, plane: ExecutionPlane) -> None:
        self._plane = plane

    def launch(self, launch: ChildLaunch) -> None:
        spec = admin_execution_pb2.ExecutionSpec(
            launch_plan=launch.launch_plan,
            max_parallelism=launch.max_parallelism,
            overwrite_cache=launch.overwrite_cache,
        )
        spec.metadata.mode = _CHILD_WORKFLOW
        spec.metadata.parent_node_execution.CopyFrom(launch.parent_node)
        spec.metadata.nesting = 1
        if launch.raw_output_prefix:
            spec.raw_output_data_config.output_location_prefix = launch.raw_output_prefix
        for key, value in launch.env.items():
            spec.envs.values.add(key=key, value=value)
        request = admin_execution_pb2.ExecutionCreateRequest(
            project=launch.execution_id.project,
            domain=launch.execution_id.domain,
            name=launch.execution_id.name,
            spec=spec,
            inputs=launch.inputs,
        )
        try:
            self._plane.executions.create_execution(request)
        except AdminError as error:
            if error.code != grpc.StatusCode.ALREADY_EXISTS:
                raise
            log.info("child execution %s exists already; waiting for it", launch.execution_id.name)

    def state(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> ChildState:
        record = self._plane.executions.fetch(execution_id)
        phase = WorkflowPhase.Value(record.phase)
        closure = record.closure_proto()
        if record.phase == "SUCCEEDED":
            uri = closure.outputs.uri if closure.WhichOneof("output_result") == "outputs" else ""
            outputs = self._plane.blobs.read_literal_map(uri) if uri else closure.output_data
            return ChildState(phase=phase, outputs=outputs)
        if closure.WhichOneof("output_result") == "error":
            return ChildState(phase=phase, error=closure.error)
        return ChildState(phase=phase)

    def terminate(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier, cause: str) -> None:
        try:
            self._plane.executions.terminate_execution(
                admin_execution_pb2.ExecutionTerminateRequest(id=execution_id, cause=cause)
            )
        except AdminError as error:
            log.info("terminate child %s: %s", execution_id.name, error.message)


class AdminSignals:
    """Gate signals in localflyte's SignalService store."""

    def __init__(self, plane: ExecutionPlane) -> None:
        self._signals = plane.signals

    def get_or_create(self, identifier: identifier_pb2.SignalIdentifier, literal_type: types_pb2.LiteralType) -> None:
        self._signals.get_or_create_signal(signal_pb2.SignalGetOrCreateRequest(id=identifier, type=literal_type))

    def value(self, identifier: identifier_pb2.SignalIdentifier) -> literals_pb2.Literal | None:
        return self._signals.value(identifier)


def is_terminal(record: ExecutionRecord) -> bool:
    return record.phase in phases.TERMINAL_WORKFLOW_PHASES
