"""FlyteAdmin's phase-transition rules for workflow, node and task execution events.

Pure functions over phase names, so the rules can be unit-tested without a server. Sources:
``flyteadmin/pkg/manager/impl/execution_manager.go: CreateWorkflowEvent``,
``node_execution_manager.go: updateNodeExecutionWithEvent`` / ``CreateNodeEvent``,
``task_execution_manager.go: CreateTaskExecutionEvent`` and the terminal-phase sets in
``flyteadmin/pkg/common/executions.go``.
"""

from __future__ import annotations

import grpc
from flyteidl.admin import event_pb2
from flyteidl.core import execution_pb2

from localflyte.errors import AdminError, already_exists, failed_precondition

WorkflowPhase = execution_pb2.WorkflowExecution
NodePhase = execution_pb2.NodeExecution
TaskPhase = execution_pb2.TaskExecution

TERMINAL_WORKFLOW_PHASES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
TERMINAL_NODE_PHASES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "SKIPPED", "RECOVERED"})
TERMINAL_TASK_PHASES = frozenset({"SUCCEEDED", "FAILED", "ABORTED"})


class TerminalStateError(AdminError):
    """``errors.NewAlreadyInTerminalStateError``: FAILED_PRECONDITION plus an ``EventFailureReason`` detail.

    propeller reads the detail to stop retrying an event; ``details`` carries it for the server to
    attach as the status details.
    """

    def __init__(self, message: str, current_phase: str) -> None:
        super().__init__(
            grpc.StatusCode.FAILED_PRECONDITION,
            message,
            details=event_pb2.EventFailureReason(
                already_in_terminal_state=event_pb2.EventErrorAlreadyInTerminalState(current_phase=current_phase)
            ),
        )


def workflow_phase_name(phase: int) -> str:
    return str(WorkflowPhase.Phase.Name(phase))  # type: ignore[arg-type]


def node_phase_name(phase: int) -> str:
    return str(NodePhase.Phase.Name(phase))  # type: ignore[arg-type]


def task_phase_name(phase: int) -> str:
    return str(TaskPhase.Phase.Name(phase))  # type: ignore[arg-type]


def check_workflow_transition(current: str, new: str, execution: str) -> None:
    """Refuse a workflow event the way ``ExecutionManager.CreateWorkflowEvent`` does.

    :param current: the stored phase name; :param new: the event's phase name;
    :param execution: the execution id as text, for messages.
    """
    # A repeated QUEUED is allowed: propeller re-announces it on cluster reassignment.
    if new != "QUEUED" and current == new:
        raise already_exists(f"This phase {current} was already recorded for workflow execution {execution}")
    if current in TERMINAL_WORKFLOW_PHASES:
        raise TerminalStateError(
            f"Invalid phase change from {current} to {new} for workflow execution {execution}", current
        )
    if current == "RUNNING" and new == "QUEUED":
        raise failed_precondition(f"Cannot go from {current} to {new} for workflow execution {execution}")
    if current == "ABORTING" and new not in TERMINAL_WORKFLOW_PHASES:
        raise failed_precondition(f"Invalid phase change from aborting to {new} for workflow execution {execution}")


def check_node_transition(current: str, new: str, node_execution: str) -> None:
    """``updateNodeExecutionWithEvent``: same phase → ALREADY_EXISTS; from terminal → FAILED_PRECONDITION."""
    if current == new:
        raise already_exists(f"This phase was already recorded {current} for {node_execution}")
    if current in TERMINAL_NODE_PHASES:
        # flyteadmin reports the *requested* phase as the detail's current phase here; kept as is.
        raise TerminalStateError(
            f"Invalid phase change from {current} to {new} for node execution {node_execution}", new
        )


def check_task_transition(current: str, current_version: int, new: str, new_version: int, task_execution: str) -> None:
    """``CreateTaskExecutionEvent``: a phase is recorded again only with a higher phase_version."""
    if current == new and current_version >= new_version:
        raise already_exists(
            f"have already recorded task execution phase {new} (version: {new_version}) for {task_execution}"
        )
    if current in TERMINAL_TASK_PHASES:
        raise TerminalStateError(
            f"invalid phase change from {current} to {new} for task execution {task_execution}", new
        )
