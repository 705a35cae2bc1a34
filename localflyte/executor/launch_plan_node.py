"""Launch-plan nodes: a child execution, created through the control plane, that the node waits for.

Like flytepropeller's ``pkg/controller/nodes/subworkflow/launchplan.go``: the child runs in the
parent's project/domain (``subworkflow/util.go``), its name is propeller's
``GetChildWorkflowExecutionID`` (parent name, node id, attempt; hashed past 20 characters), it
inherits the parent's raw output prefix, parallelism, environment and cache override, and the node
ends with the child's outputs or error. Aborting the node terminates the child.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from flyteidl.core import execution_pb2, identifier_pb2, literals_pb2

from localflyte.executor.layout import fixed_length_unique_id
from localflyte.executor.model import NodeOutcome, NodePhase, WorkflowPhase
from localflyte.executor.nodes import USER, NodeContext, NodeHandler, aborted, failed

log = logging.getLogger(__name__)

_TERMINAL = (WorkflowPhase.SUCCEEDED, WorkflowPhase.FAILED, WorkflowPhase.ABORTED, WorkflowPhase.TIMED_OUT)


@dataclass(frozen=True)
class ChildLaunch:
    """What the parent asks the control plane to create."""

    execution_id: identifier_pb2.WorkflowExecutionIdentifier
    launch_plan: identifier_pb2.Identifier
    parent_node: identifier_pb2.NodeExecutionIdentifier
    inputs: literals_pb2.LiteralMap
    raw_output_prefix: str = ""
    max_parallelism: int = 0
    env: Mapping[str, str] = field(default_factory=dict)
    overwrite_cache: bool = False


@dataclass(frozen=True)
class ChildState:
    """A child execution as the control plane records it."""

    phase: int
    outputs: literals_pb2.LiteralMap | None = None
    error: execution_pb2.ExecutionError | None = None

    @property
    def terminal(self) -> bool:
        return self.phase in _TERMINAL


class ChildExecutions(Protocol):
    """The control plane's side of child executions (localflyte's ExecutionManager behind it)."""

    def launch(self, launch: ChildLaunch) -> None:
        """Create the execution; one that already exists (a retried node) is reused."""

    def state(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> ChildState: ...

    def terminate(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier, cause: str) -> None:
        """Abort it; a no-op when it already ended."""


def child_execution_id(context: NodeContext, attempt: int = 0) -> identifier_pb2.WorkflowExecutionIdentifier:
    parent = context.services.request.execution_id
    name = fixed_length_unique_id([parent.name, context.unique_id, str(attempt)])
    return identifier_pb2.WorkflowExecutionIdentifier(project=parent.project, domain=parent.domain, name=name)


def launch_plan_handler(children: ChildExecutions, poll_seconds: float = 0.2) -> NodeHandler:
    """A handler for ``workflow_node`` nodes that reference a launch plan."""

    def handle(context: NodeContext) -> NodeOutcome:
        request = context.services.request
        child_id = child_execution_id(context)
        children.launch(
            ChildLaunch(
                execution_id=child_id,
                launch_plan=context.node.workflow_node.launchplan_ref,
                parent_node=context.events.node_execution_id,
                inputs=context.inputs,
                raw_output_prefix=request.raw_output_prefix,
                max_parallelism=request.max_parallelism,
                env=request.env,
                overwrite_cache=request.overwrite_cache,
            )
        )
        log.info("launch plan node=%s child=%s", context.unique_id, child_id.name)
        while True:
            state = children.state(child_id)
            if state.terminal:
                return _outcome(child_id, state)
            if context.token.wait(poll_seconds):
                children.terminate(child_id, f"parent node aborted: {context.token.reason}")
                outcome = aborted(context.token.reason)
                return NodeOutcome(phase=outcome.phase, error=outcome.error, child_execution=child_id)

    return handle


def _outcome(child_id: identifier_pb2.WorkflowExecutionIdentifier, state: ChildState) -> NodeOutcome:
    if state.phase == WorkflowPhase.SUCCEEDED:
        return NodeOutcome(
            phase=NodePhase.SUCCEEDED, outputs=state.outputs or literals_pb2.LiteralMap(), child_execution=child_id
        )
    if state.phase == WorkflowPhase.FAILED and state.error is not None:
        return NodeOutcome(phase=NodePhase.FAILED, error=state.error, child_execution=child_id)
    phase_name = WorkflowPhase.Name(state.phase)  # type: ignore[arg-type]
    outcome = failed(
        "RemoteChildWorkflowExecutionFailed", f"launch plan execution {child_id.name} ended {phase_name}", USER
    )
    return NodeOutcome(phase=outcome.phase, error=outcome.error, child_execution=child_id)


def with_launch_plans(sub_workflows: NodeHandler, launch_plans: NodeHandler) -> NodeHandler:
    """The ``workflow_node`` handler: sub-workflows inline, launch plans as child executions."""

    def handle(context: NodeContext) -> NodeOutcome:
        if context.node.workflow_node.WhichOneof("reference") == "launchplan_ref":
            return launch_plans(context)
        return sub_workflows(context)

    return handle
