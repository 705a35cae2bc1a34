"""The workflow's ``failure_node`` (``@workflow(on_failure=handler)``), run when the workflow fails.

Like flytepropeller's workflow executor (``handleFailureNode``): once a workflow's nodes have failed
(not when it was aborted), the top-level execution reports ``FAILING``, the failure node runs with
its bindings (flytekit binds the workflow's inputs) and, for an input typed ``FlyteError`` (alone or
in an optional union), the error of the node that failed: ``core.Error(failed_node_id, message)``.
Whatever the failure node does, the workflow still ends FAILED with the original error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flyteidl.core import compiler_pb2, execution_pb2, literals_pb2, types_pb2, workflow_pb2

from localflyte.executor.bindings import OutputLookup
from localflyte.executor.events import workflow_event
from localflyte.executor.layout import ParentInfo
from localflyte.executor.model import CancelToken, NodeOutcome, NodePhase, WorkflowPhase
from localflyte.executor.nodes import RunServices

log = logging.getLogger(__name__)

_ERROR = types_pb2.SimpleType.ERROR


def run_failure_node(
    services: RunServices,
    workflow: compiler_pb2.CompiledWorkflow,
    parent: ParentInfo | None,
    token: CancelToken,
    lookup: OutputLookup,
    failure: NodeOutcome,
    failed_node_id: str,
) -> None:
    """Run ``workflow``'s failure node, if it has one, after ``failure`` (a FAILED or TIMED_OUT scope)."""
    template = workflow.template
    if not template.HasField("failure_node") or token.cancelled:
        return
    if failure.phase not in (NodePhase.FAILED, NodePhase.TIMED_OUT):
        return
    if parent is None:
        execution_id = services.request.execution_id
        services.sink.workflow_phase(workflow_event(execution_id, WorkflowPhase.FAILING))
    error = failure.error or execution_pb2.ExecutionError(message="the workflow failed")
    typed = error_inputs(services.request.closure, template.failure_node)
    node = with_error_input(template.failure_node, typed, error, failed_node_id)
    log.info("workflow=%s failed at node=%s: running failure node=%s", template.id.name, failed_node_id, node.id)
    try:
        outcome = services.scheduler.run_node(node, parent, token, lookup)
    except Exception:  # the workflow's own error is what the execution must report
        log.exception("failure node=%s of workflow=%s broke inside localflyte", node.id, template.id.name)
        return
    if not outcome.succeeded:
        log.warning("failure node=%s of workflow=%s ended %s", node.id, template.id.name, outcome.phase)


def with_error_input(
    node: workflow_pb2.Node,
    error_inputs: Mapping[str, types_pb2.LiteralType],
    error: execution_pb2.ExecutionError,
    failed_node_id: str,
) -> workflow_pb2.Node:
    """A copy of ``node`` whose ``FlyteError`` inputs (name → declared type) are bound to the workflow's error."""
    result = workflow_pb2.Node()
    result.CopyFrom(node)
    value = literals_pb2.Literal(
        scalar=literals_pb2.Scalar(error=types_pb2.Error(failed_node_id=failed_node_id, message=error.message))
    )
    for binding in result.inputs:
        declared = error_inputs.get(binding.var)
        if declared is None:
            continue
        binding.binding.Clear()
        if declared.HasField("union_type"):
            # flytekit reads an Optional[FlyteError] from a union literal tagged with the error variant.
            union = binding.binding.scalar.union
            union.value.CopyFrom(value)
            union.type.CopyFrom(next(v for v in declared.union_type.variants if v.simple == _ERROR))
        else:
            binding.binding.scalar.CopyFrom(value.scalar)
    return result


def _is_error_type(declared: types_pb2.LiteralType) -> bool:
    if declared.simple == _ERROR:
        return True
    return declared.HasField("union_type") and any(v.simple == _ERROR for v in declared.union_type.variants)


def error_inputs(
    closure: compiler_pb2.CompiledWorkflowClosure, node: workflow_pb2.Node
) -> dict[str, types_pb2.LiteralType]:
    """Inputs of the failure node's task (or sub-workflow) typed ``FlyteError``, with their declared types."""
    interface = None
    kind = node.WhichOneof("target")
    if kind == "task_node":
        for compiled in closure.tasks:
            if compiled.template.id == node.task_node.reference_id:
                interface = compiled.template.interface
    elif kind == "workflow_node":
        for sub in closure.sub_workflows:
            if sub.template.id == node.workflow_node.sub_workflow_ref:
                interface = sub.template.interface
    if interface is None:
        return {}
    return {name: var.type for name, var in interface.inputs.variables.items() if _is_error_type(var.type)}
