"""Walk a ``CompiledWorkflowClosure``: run ready nodes in dependency order, like flytepropeller's executor.

A scope is one (sub-)workflow: its nodes start once every upstream node succeeded (a skipped
upstream skips the node, ``nodes/predicate.go``), each on its own thread, while task attempts share
the execution's ``max_parallelism`` slots. On failure the scope follows the workflow's
``on_failure`` policy: FAIL_IMMEDIATELY aborts running siblings, FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
lets every node that can still run finish. Nested nodes (sub-workflow children, branch-taken nodes)
get unique ids ``<parent>-<attempt>-<id>`` and ``parent_node_metadata`` in their events.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from flyteidl.core import compiler_pb2, execution_pb2, identifier_pb2, literals_pb2, workflow_pb2

from localflyte.executor.bindings import BindingError, OutputLookup, dependencies, outputs_lookup, resolve_bindings
from localflyte.executor.events import EventSink, NodeEventContext, node_event, workflow_event
from localflyte.executor.failure_node import run_failure_node
from localflyte.executor.layout import END_NODE, START_NODE, ExecutionLayout, ParentInfo, unique_node_id
from localflyte.executor.model import (
    CancelToken,
    ExecutionRequest,
    ExecutorSettings,
    NodeOutcome,
    NodePhase,
    WorkflowOutcome,
    WorkflowPhase,
)
from localflyte.executor.nodes import (
    USER,
    NodeContext,
    NodeHandler,
    RunServices,
    Scheduler,
    default_handlers,
    failed,
)
from localflyte.executor.runtimes import Runtime
from localflyte.executor.storage import BlobStore
from localflyte.executor.task_node import handle_task

log = logging.getLogger(__name__)

FAIL_IMMEDIATELY = workflow_pb2.WorkflowMetadata.FAIL_IMMEDIATELY
_DONE_OK = (NodePhase.SUCCEEDED, NodePhase.SKIPPED)
_TO_WORKFLOW_PHASE = {NodePhase.SUCCEEDED: WorkflowPhase.SUCCEEDED, NodePhase.ABORTED: WorkflowPhase.ABORTED}


class WorkflowExecutor:
    """Runs workflow executions for one localflyte instance; :meth:`abort` stops one from any thread."""

    def __init__(
        self,
        settings: ExecutorSettings,
        runtime: Runtime,
        blobs: BlobStore,
        sink: EventSink,
        handlers: Mapping[str, NodeHandler] | None = None,
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.blobs = blobs
        self.sink = sink
        self.handlers = {**default_handlers(handle_task), **(handlers or {})}
        self._tokens: dict[tuple[str, str, str], CancelToken] = {}
        self._lock = threading.Lock()

    def execute(self, request: ExecutionRequest, token: CancelToken | None = None) -> WorkflowOutcome:
        """Run to a terminal phase (blocking), emitting every event on the way.

        :param token: the caller's cancellation, when it must be able to abort before the run starts.
        """
        key = _key(request.execution_id)
        token = token or CancelToken()
        with self._lock:
            self._tokens[key] = token
        try:
            return _Run(self, request, token).execute()
        finally:
            with self._lock:
                self._tokens.pop(key, None)

    def abort(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier, reason: str) -> bool:
        """Abort a running execution: running tasks are terminated. False when it is not running."""
        with self._lock:
            token = self._tokens.get(_key(execution_id))
        if token is None:
            return False
        token.cancel(reason)
        return True


def _key(execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> tuple[str, str, str]:
    return (execution_id.project, execution_id.domain, execution_id.name)


class _Run(Scheduler):
    """One execution: the scheduler composite nodes call back into."""

    def __init__(self, executor: WorkflowExecutor, request: ExecutionRequest, token: CancelToken) -> None:
        settings = executor.settings
        self.request = request
        self.token = token
        self.sink: EventSink = executor.sink
        self.handlers = executor.handlers
        self.services = RunServices(
            request=request,
            settings=settings,
            layout=ExecutionLayout.for_execution(settings.bucket, request.execution_id, request.raw_output_prefix),
            blobs=executor.blobs,
            runtime=executor.runtime,
            sink=executor.sink,
            slots=threading.BoundedSemaphore(request.max_parallelism) if request.max_parallelism > 0 else None,
            scheduler=self,
        )

    def execute(self) -> WorkflowOutcome:
        execution_id = self.request.execution_id
        self.sink.workflow_phase(workflow_event(execution_id, WorkflowPhase.QUEUED))
        self.sink.workflow_phase(workflow_event(execution_id, WorkflowPhase.RUNNING))
        try:
            self.services.blobs.write_proto(self.services.layout.workflow_inputs, self.request.inputs)
            outcome = self.run_workflow(self.request.closure.primary, self.request.inputs, None, self.token)
        except Exception as error:  # a bug or an unreachable blob store must still end the execution
            log.exception("execution=%s failed inside localflyte", execution_id.name)
            outcome = failed("LocalflyteInternalError", f"localflyte executor error: {error}")
        phase = _TO_WORKFLOW_PHASE.get(outcome.phase, WorkflowPhase.FAILED)
        result = WorkflowOutcome(
            phase=phase,
            outputs=outcome.outputs or literals_pb2.LiteralMap(),
            output_uri=outcome.output_uri,
            error=outcome.error,
        )
        self.sink.workflow_phase(workflow_event(execution_id, phase, outcome.output_uri, outcome.error))
        log.info("execution=%s phase=%s", execution_id.name, result.phase_name)
        return result

    # Scheduler -------------------------------------------------------------------------------------

    def run_workflow(
        self,
        workflow: compiler_pb2.CompiledWorkflow,
        inputs: literals_pb2.LiteralMap,
        parent: ParentInfo | None,
        token: CancelToken,
    ) -> NodeOutcome:
        layout = self.services.layout
        start_id = unique_node_id(parent, START_NODE)
        self.services.blobs.write_proto(layout.node_outputs(start_id), inputs)
        self._emit(self._event_context(workflow_pb2.Node(id=START_NODE), parent, ""), NodePhase.SUCCEEDED,
                   layout.node_outputs(start_id))  # fmt: skip
        scope = _Scope(self, workflow, inputs, parent, token)
        outcome = scope.run()
        if not outcome.succeeded:
            run_failure_node(self.services, workflow, parent, token, scope.lookup, outcome, scope.failed_node_id)
            return outcome
        end_node = workflow_pb2.Node(id=END_NODE)
        end_id = unique_node_id(parent, END_NODE)
        try:
            outputs = resolve_bindings(workflow.template.outputs, scope.lookup)
        except BindingError as error:
            return failed("BindingResolutionError", f"workflow outputs: {error}", USER)
        self.services.blobs.write_proto(layout.node_inputs(end_id), outputs)
        self.services.blobs.write_proto(layout.node_outputs(end_id), outputs)
        self._emit(self._event_context(end_node, parent, layout.node_inputs(end_id)), NodePhase.SUCCEEDED,
                   layout.node_outputs(end_id))  # fmt: skip
        return NodeOutcome(phase=NodePhase.SUCCEEDED, outputs=outputs, output_uri=layout.node_outputs(end_id))

    def run_node(
        self, node: workflow_pb2.Node, parent: ParentInfo | None, token: CancelToken, lookup: OutputLookup
    ) -> NodeOutcome:
        unique_id = unique_node_id(parent, node.id)
        events = self._event_context(node, parent, self.services.layout.node_inputs(unique_id))
        try:
            inputs = resolve_bindings(node.inputs, lookup)
        except BindingError as error:
            outcome = failed("BindingResolutionError", f"node {node.id}: {error}", USER)
            self._emit(events, outcome.phase, error=outcome.error)
            return outcome
        try:
            self.services.blobs.write_proto(events.input_uri, inputs)
            self._emit(events, NodePhase.QUEUED)
            self._emit(events, NodePhase.RUNNING)
            handler = self.handlers.get(node.WhichOneof("target") or "")
            if handler is None:
                outcome = failed("UnsupportedNode", f"node {node.id} has no target localflyte can run")
            else:
                context = NodeContext(self.services, node, unique_id, parent, token, inputs, events, lookup)
                outcome = handler(context)
            if outcome.succeeded and not outcome.output_uri:
                uri = self.services.layout.node_outputs(unique_id)
                self.services.blobs.write_proto(uri, outcome.outputs or literals_pb2.LiteralMap())
                outcome = dataclasses.replace(outcome, output_uri=uri)
        except Exception as error:
            log.exception("node=%s failed inside localflyte", unique_id)
            outcome = failed("LocalflyteInternalError", f"localflyte executor error in node {node.id}: {error}")
        self.sink.node_phase(
            node_event(events, outcome.phase, outcome.output_uri, outcome.error, outcome.task_node_metadata,
                       outcome.child_execution, outcome.deck_uri)
        )  # fmt: skip
        return outcome

    def skip_node(self, node: workflow_pb2.Node, parent: ParentInfo | None) -> None:
        events = self._event_context(node, parent, "")
        self._emit(events, NodePhase.SKIPPED)

    # helpers ---------------------------------------------------------------------------------------

    def _event_context(self, node: workflow_pb2.Node, parent: ParentInfo | None, input_uri: str) -> NodeEventContext:
        kind = node.WhichOneof("target")
        is_sub_workflow = kind == "workflow_node" and node.workflow_node.WhichOneof("reference") == "sub_workflow_ref"
        return NodeEventContext(
            execution_id=self.request.execution_id,
            unique_id=unique_node_id(parent, node.id),
            spec_node_id=node.id,
            node_name=node.metadata.name or node.id,
            input_uri=input_uri,
            parent_unique_id=parent.unique_id if parent else "",
            parent_attempt=parent.attempt if parent else 0,
            is_parent=is_sub_workflow,
            is_array=kind == "array_node",
            target_entity=node.task_node.reference_id if kind == "task_node" else None,
        )

    def _emit(
        self,
        events: NodeEventContext,
        phase: int,
        output_uri: str = "",
        error: execution_pb2.ExecutionError | None = None,
    ) -> None:
        self.sink.node_phase(node_event(events, phase, output_uri, error))


class _Scope:
    """The nodes of one (sub-)workflow, run in dependency order."""

    def __init__(
        self,
        run: _Run,
        workflow: compiler_pb2.CompiledWorkflow,
        inputs: literals_pb2.LiteralMap,
        parent: ParentInfo | None,
        token: CancelToken,
    ) -> None:
        self.run_ = run
        self.parent = parent
        self.token = token.child()
        self.fail_immediately = workflow.template.metadata.on_failure == FAIL_IMMEDIATELY
        self.nodes = {n.id: n for n in workflow.template.nodes if n.id not in (START_NODE, END_NODE)}
        self.upstream = {node_id: dependencies(node, workflow.connections) for node_id, node in self.nodes.items()}
        self.outputs: dict[str, literals_pb2.LiteralMap] = {START_NODE: inputs}
        self.lookup = outputs_lookup(self.outputs)
        self.phases: dict[str, int] = {}
        self.failed_node_id = ""  # unique id of the first node that failed, for the failure node
        for node_id, upstream in self.upstream.items():
            unknown = upstream - set(self.nodes)
            if unknown:
                raise ValueError(f"node {node_id} depends on unknown node(s) {sorted(unknown)}")

    def run(self) -> NodeOutcome:
        first_error: NodeOutcome | None = None
        with ThreadPoolExecutor(max_workers=max(1, len(self.nodes)), thread_name_prefix="node") as pool:
            running: dict[Future[NodeOutcome], str] = {}
            while True:
                if not self.token.cancelled:
                    for node_id in self._ready():
                        self.phases[node_id] = NodePhase.RUNNING
                        node = self.nodes[node_id]
                        running[pool.submit(self.run_.run_node, node, self.parent, self.token, self.lookup)] = node_id
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    node_id = running.pop(future)
                    outcome = future.result()
                    self.phases[node_id] = outcome.phase
                    if outcome.succeeded:
                        self.outputs[node_id] = outcome.outputs or literals_pb2.LiteralMap()
                    elif outcome.phase != NodePhase.ABORTED and first_error is None:
                        first_error = outcome
                        self.failed_node_id = unique_node_id(self.parent, node_id)
                        if self.fail_immediately:
                            self.token.cancel(f"node {node_id} failed and the workflow fails immediately")
        if first_error is not None:
            return NodeOutcome(phase=NodePhase.FAILED, error=first_error.error)
        if self.token.cancelled:
            return NodeOutcome(phase=NodePhase.ABORTED, error=failed("Aborted", self.token.reason, USER).error)
        return NodeOutcome(phase=NodePhase.SUCCEEDED)

    def _ready(self) -> list[str]:
        """Nodes whose upstream all succeeded; nodes behind a skipped one are skipped on the way."""
        ready: list[str] = []
        changed = True
        while changed:
            changed = False
            for node_id, upstream in self.upstream.items():
                if node_id in self.phases or node_id in ready:
                    continue
                if not all(self.phases.get(up) in _DONE_OK for up in upstream):
                    continue
                if any(self.phases[up] == NodePhase.SKIPPED for up in upstream):
                    self.phases[node_id] = NodePhase.SKIPPED
                    self.run_.skip_node(self.nodes[node_id], self.parent)
                    changed = True
                else:
                    ready.append(node_id)
        return ready
