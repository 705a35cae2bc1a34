"""Node handlers: what each node kind does once its inputs are resolved.

Like propeller's ``pkg/controller/nodes/handler`` factory, a handler is chosen by the node's target
(``task``, ``workflow``, ``branch``, ``gate``, ``array``) and returns a terminal :class:`NodeOutcome`;
the graph emits the node's QUEUED/RUNNING/terminal events around it. Extension point: pass more
handlers to :class:`localflyte.executor.graph.WorkflowExecutor` (launch plans, array, approve/signal
gates, dynamic tasks are next).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flyteidl.core import compiler_pb2, execution_pb2, literals_pb2, workflow_pb2

from localflyte.executor import branch
from localflyte.executor.bindings import OutputLookup
from localflyte.executor.events import EventSink, NodeEventContext, execution_error
from localflyte.executor.layout import ExecutionLayout, ParentInfo
from localflyte.executor.model import CancelToken, ExecutionRequest, ExecutorSettings, NodeOutcome, NodePhase
from localflyte.executor.runtimes import Runtime
from localflyte.executor.storage import BlobStore

log = logging.getLogger(__name__)

USER = execution_pb2.ExecutionError.USER
SYSTEM = execution_pb2.ExecutionError.SYSTEM


class Scheduler:
    """What composite nodes call back into: run one node, or a whole (sub-)workflow, in a scope."""

    def run_node(
        self, node: workflow_pb2.Node, parent: ParentInfo | None, token: CancelToken, lookup: OutputLookup
    ) -> NodeOutcome:
        raise NotImplementedError

    def run_workflow(
        self,
        workflow: compiler_pb2.CompiledWorkflow,
        inputs: literals_pb2.LiteralMap,
        parent: ParentInfo | None,
        token: CancelToken,
    ) -> NodeOutcome:
        raise NotImplementedError


@dataclass(frozen=True)
class RunServices:
    """Shared by every node of one execution."""

    request: ExecutionRequest
    settings: ExecutorSettings
    layout: ExecutionLayout
    blobs: BlobStore
    runtime: Runtime
    sink: EventSink
    slots: threading.Semaphore | None
    scheduler: Scheduler


@dataclass(frozen=True)
class NodeContext:
    """One node about to run: its identity, resolved inputs and the scope it runs in."""

    services: RunServices
    node: workflow_pb2.Node
    unique_id: str
    parent: ParentInfo | None
    token: CancelToken
    inputs: literals_pb2.LiteralMap
    events: NodeEventContext
    lookup: OutputLookup

    @property
    def as_parent(self) -> ParentInfo:
        """This node as the parent of the nodes it contains (attempt 0: composite nodes are not retried)."""
        return ParentInfo(unique_id=self.unique_id, attempt=0)


NodeHandler = Callable[[NodeContext], NodeOutcome]


def failed(code: str, message: str, kind: int = SYSTEM, phase: int = NodePhase.FAILED) -> NodeOutcome:
    return NodeOutcome(phase=phase, error=execution_error(code, message, kind))


def aborted(reason: str) -> NodeOutcome:
    return failed("Aborted", reason or "aborted", USER, phase=NodePhase.ABORTED)


def handle_branch(context: NodeContext) -> NodeOutcome:
    """Take the first matching case; its node runs nested under the branch node, with the scope's data."""
    try:
        decision = branch.decide(context.node.branch_node, context.inputs)
    except branch.BranchError as error:
        return failed("MalformedBranchUserError", str(error), USER)
    if decision.taken is None:
        return failed("UserProvidedError", decision.failure_message, USER)
    log.info("branch node=%s took=%s", context.unique_id, decision.taken.id)
    return context.services.scheduler.run_node(decision.taken, context.as_parent, context.token, context.lookup)


def handle_workflow(context: NodeContext) -> NodeOutcome:
    """Sub-workflows run inline in the same execution; launch plans are a child execution (not yet)."""
    workflow_node = context.node.workflow_node
    if workflow_node.WhichOneof("reference") != "sub_workflow_ref":
        return failed("UnsupportedNode", "localflyte does not run launch plan nodes yet (child executions)")
    reference = workflow_node.sub_workflow_ref
    for sub_workflow in context.services.request.closure.sub_workflows:
        if sub_workflow.template.id == reference:
            return context.services.scheduler.run_workflow(
                sub_workflow, context.inputs, context.as_parent, context.token
            )
    return failed(
        "SubWorkflowNotFound",
        f"sub-workflow {reference.name}:{reference.version} is not in the compiled closure's sub_workflows",
    )


def handle_gate(context: NodeContext) -> NodeOutcome:
    """``sleep`` waits (abortable); ``approve`` / ``signal`` need the SignalService (not wired yet)."""
    gate = context.node.gate_node
    kind = gate.WhichOneof("condition")
    if kind != "sleep":
        return failed("UnsupportedNode", f"localflyte does not run {kind} gate nodes yet")
    seconds = gate.sleep.duration.ToTimedelta().total_seconds()
    if context.token.wait(seconds):
        return aborted(context.token.reason)
    # A gate passes its inputs through as outputs.
    return NodeOutcome(phase=NodePhase.SUCCEEDED, outputs=context.inputs)


def unsupported(kind: str) -> NodeHandler:
    def handler(_context: NodeContext) -> NodeOutcome:
        return failed("UnsupportedNode", f"localflyte does not run {kind} nodes yet")

    return handler


def default_handlers(task_handler: NodeHandler) -> Mapping[str, NodeHandler]:
    """Handlers by the node's ``target`` oneof name."""
    from localflyte.executor.array_node import array_handler  # imports this module

    return {
        "task_node": task_handler,
        "workflow_node": handle_workflow,
        "branch_node": handle_branch,
        "gate_node": handle_gate,
        "array_node": array_handler(task_handler),
    }
