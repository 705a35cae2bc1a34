"""Array nodes (flytekit ``map_task`` / ``ArrayNode``), like flytepropeller's ``nodes/array`` handler.

The sub-node runs once per index of the mapped inputs, at most ``parallelism`` at a time (unset: the
execution's ``max_parallelism``; ``0``: all at once), each with the task node's own retries. Inputs
follow ``constructLiteralMap``: a collection input contributes its element at the index, any other
input (and the names in ``bound_inputs``) is passed whole. In ``SINGLE_INPUT_FILE`` mode (what
flytekit's map task uses) every sub-node reads the array node's own ``inputs.pb`` and finds its
element through ``BATCH_JOB_ARRAY_INDEX_VAR_NAME`` → ``FLYTE_K8S_ARRAY_INDEX``, as on a cluster.

Success needs ``min_successes`` (or ``ceil(min_success_ratio * size)``, default all) sub-nodes; the
outputs are collections in index order with a none literal where a sub-node failed. Unless
``run_all_sub_nodes`` is set, running sub-nodes are aborted once that minimum is out of reach.

Events follow propeller's default ArrayNode event version 0: the array node's node events carry
``is_array``; sub-nodes get no node executions of their own but appear as ``external_resources``
(index, retry attempt, phase, logs) of one ``container_array`` task execution of the array node,
whose ``phase_version`` grows with every change.

An array node over a launch plan (flytekit's ``array_node(launch_plan, ...)``) launches one child
execution per index, as a launch-plan node does (named after the sub-node ``<array>-0-n<i>``); each is an
external resource carrying ``workflow_node_metadata.execution_id``, of a task execution named after the
node (propeller's placeholder task id), which is what ``FlyteRemote.sync_execution`` reads. The outputs'
names come from the children's outputs, the launch plan's interface not being in the closure.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from concurrent.futures import ThreadPoolExecutor

from flyteidl.core import execution_pb2, identifier_pb2, literals_pb2, tasks_pb2, workflow_pb2
from flyteidl.event import event_pb2

from localflyte.executor.array_events import Progress, SubNodeEvents
from localflyte.executor.events import NodeEventContext, TaskPhase
from localflyte.executor.launch_plan_node import child_execution_id
from localflyte.executor.layout import ParentInfo, unique_node_id
from localflyte.executor.model import NodeOutcome, NodePhase
from localflyte.executor.nodes import SYSTEM, USER, NodeContext, NodeHandler, aborted, failed

log = logging.getLogger(__name__)

# What propeller puts into every sub-node's environment; flytekit's map task reads its index from them.
INDEX_VAR_NAME = "BATCH_JOB_ARRAY_INDEX_VAR_NAME"
ARRAY_INDEX_VAR = "FLYTE_K8S_ARRAY_INDEX"
_NONE = literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))
_INDIVIDUAL_INPUT_FILES = workflow_pb2.ArrayNode.INDIVIDUAL_INPUT_FILES
_TASK_PHASES = {
    NodePhase.SUCCEEDED: TaskPhase.SUCCEEDED,
    NodePhase.ABORTED: TaskPhase.ABORTED,
    NodePhase.FAILED: TaskPhase.FAILED,
    NodePhase.TIMED_OUT: TaskPhase.FAILED,
}


class ArraySizeError(ValueError):
    """The mapped inputs are missing or of different lengths."""


def array_handler(task_handler: NodeHandler, launch_plan_handler: NodeHandler | None = None) -> NodeHandler:
    """The ``array_node`` handler; ``task_handler`` runs each task sub-node (retries, timeouts, runtime),
    ``launch_plan_handler`` each launch-plan sub-node (a child execution; without it they are unsupported)."""

    def handle(context: NodeContext) -> NodeOutcome:
        return _ArrayRun(context, task_handler, launch_plan_handler).run()

    return handle


def array_size(array: workflow_pb2.ArrayNode, inputs: literals_pb2.LiteralMap) -> int:
    """The number of sub-nodes: the common length of the mapped (collection, unbound) inputs."""
    bound = set(array.bound_inputs)
    sizes = {
        name: len(literal.collection.literals)
        for name, literal in inputs.literals.items()
        if literal.HasField("collection") and name not in bound
    }
    if not sizes:
        raise ArraySizeError("no input array provided: an array node needs at least one list input to map over")
    if len(set(sizes.values())) > 1:
        raise ArraySizeError(f"input arrays have different lengths: {dict(sorted(sizes.items()))}")
    return next(iter(sizes.values()))


def sub_node_inputs(
    array: workflow_pb2.ArrayNode, inputs: literals_pb2.LiteralMap, index: int
) -> literals_pb2.LiteralMap:
    """One sub-node's inputs: each mapped collection's element at ``index``; other inputs whole."""
    bound = set(array.bound_inputs)
    result = literals_pb2.LiteralMap()
    for name, literal in inputs.literals.items():
        if literal.HasField("collection") and name not in bound:
            result.literals[name].CopyFrom(literal.collection.literals[index])
        else:
            result.literals[name].CopyFrom(literal)
    return result


def min_successes(array: workflow_pb2.ArrayNode, size: int) -> int:
    """How many sub-nodes must succeed.

    propeller computes ``ceil(float64(float32 ratio) * size)``, so 0.8 of 5 asks for 5 there (0.8 is
    0.800000011920929 as a float32); the product is rounded to 6 places first so that the ratio means
    what the user wrote, as in flytekit's local execution.
    """
    criterion = array.WhichOneof("success_criteria")
    if criterion == "min_successes":
        return min(size, array.min_successes)
    if criterion == "min_success_ratio":
        return min(size, math.ceil(round(array.min_success_ratio * size, 6)))
    return size


def _parallelism(array: workflow_pb2.ArrayNode, size: int, workflow_parallelism: int) -> int:
    # Unset: propeller's "hybrid" default, the workflow's max parallelism.
    explicit = array.WhichOneof("parallelism_option") == "parallelism"
    limit = array.parallelism if explicit else workflow_parallelism
    return max(1, min(size, limit) if limit > 0 else size)


class _ArrayRun:
    def __init__(
        self, context: NodeContext, task_handler: NodeHandler, launch_plan_handler: NodeHandler | None
    ) -> None:
        self.context = context
        self.array = context.node.array_node
        self.task_handler = task_handler
        self.launch_plan_handler = launch_plan_handler
        self.token = context.token.child()

    def run(self) -> NodeOutcome:
        context = self.context
        sub_node = self.array.node
        task: tasks_pb2.TaskTemplate | None = None
        if _maps_launch_plan(sub_node) and self.launch_plan_handler is not None:
            # propeller names the aggregated task execution after the node; the id is only a label.
            run = context.services.request.execution_id
            task_id = identifier_pb2.Identifier(resource_type=identifier_pb2.TASK, project=run.project,
                                                domain=run.domain, name=context.node.id, version="v1")  # fmt: skip
        elif sub_node.WhichOneof("target") == "task_node":
            task = _find_task(context, sub_node)
            if task is None:
                ref = sub_node.task_node.reference_id
                return failed("TaskNotFound", f"task {ref.name}:{ref.version} is not in the compiled closure's tasks")
            task_id = task.id
        else:
            kind = sub_node.WhichOneof("target")
            message = f"localflyte runs array nodes over tasks and launch plans only; {context.node.id} maps a {kind}"
            return failed("UnsupportedNode", message)
        try:
            size = array_size(self.array, context.inputs)
        except ArraySizeError as error:
            return failed("InvalidArrayLength", f"array node {context.node.id}: {error}", USER)
        needed = min_successes(self.array, size)
        progress = Progress(context, task_id)
        for index in range(size):
            progress.resources[(index, 0)] = event_pb2.ExternalResourceInfo(
                external_id=progress.external_id(index, 0), index=index, phase=TaskPhase.UNDEFINED
            )
        progress.emit(TaskPhase.QUEUED)
        log.info("array node=%s size=%s min_successes=%s", context.unique_id, size, needed)

        outcomes: dict[int, NodeOutcome] = {}
        lock = threading.Lock()

        def run_index(index: int) -> None:
            outcome = aborted(self.token.reason) if self.token.cancelled else self._run_sub_node(index, progress)
            with lock:
                outcomes[index] = outcome
                failures = sum(1 for o in outcomes.values() if o.phase in (NodePhase.FAILED, NodePhase.TIMED_OUT))
            if size - failures < needed and not self.array.run_all_sub_nodes:
                self.token.cancel(f"array node {context.node.id}: {failures} of {size} failed, {needed} must succeed")

        workers = _parallelism(self.array, size, context.services.request.max_parallelism)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="array") as pool:
            list(pool.map(run_index, range(size)))
        return self._finish(task, size, needed, outcomes, progress)

    def _run_sub_node(self, index: int, progress: Progress) -> NodeOutcome:
        context = self.context
        services = context.services
        parent = ParentInfo(unique_id=context.unique_id, attempt=0)
        unique_id = unique_node_id(parent, f"n{index}")
        inputs = sub_node_inputs(self.array, context.inputs, index)
        input_uri = context.events.input_uri
        if self.array.data_mode == _INDIVIDUAL_INPUT_FILES:
            input_uri = services.layout.node_inputs(unique_id)
            services.blobs.write_proto(input_uri, inputs)
        env = {**services.request.env, INDEX_VAR_NAME: ARRAY_INDEX_VAR, ARRAY_INDEX_VAR: str(index)}
        sub_services = dataclasses.replace(
            services,
            request=dataclasses.replace(services.request, env=env),
            sink=SubNodeEvents(progress, index),
        )
        events = NodeEventContext(
            execution_id=services.request.execution_id,
            unique_id=unique_id,
            spec_node_id=f"n{index}",
            node_name=f"n{index}",
            input_uri=input_uri,
            parent_unique_id=context.unique_id,
            target_entity=self.array.node.task_node.reference_id if self.array.node.HasField("task_node") else None,
        )
        sub_context = NodeContext(
            sub_services, self.array.node, unique_id, parent, self.token, inputs, events, context.lookup
        )
        try:
            if self.launch_plan_handler is not None and _maps_launch_plan(self.array.node):
                return _run_launch_plan(self.launch_plan_handler, sub_context, progress, index)
            return self.task_handler(sub_context)
        except Exception as error:  # one broken sub-node must not hide the others' results
            log.exception("array node=%s index=%s failed inside localflyte", context.unique_id, index)
            return failed("LocalflyteInternalError", f"localflyte executor error in array index {index}: {error}")

    def _finish(
        self,
        task: tasks_pb2.TaskTemplate | None,
        size: int,
        needed: int,
        outcomes: dict[int, NodeOutcome],
        progress: Progress,
    ) -> NodeOutcome:
        context = self.context
        successes = sum(1 for outcome in outcomes.values() if outcome.succeeded)
        if context.token.cancelled:
            progress.emit(TaskPhase.ABORTED)
            return aborted(context.token.reason)
        if successes < needed:
            error = _summary(outcomes, successes, needed, size)
            progress.emit(TaskPhase.FAILED, error=error)
            return NodeOutcome(phase=NodePhase.FAILED, error=error)
        outputs = literals_pb2.LiteralMap()
        for name in _output_names(task, outcomes):
            collection = outputs.literals[name].collection
            collection.SetInParent()
            for index in range(size):
                outcome = outcomes[index]
                values = outcome.outputs.literals if outcome.succeeded and outcome.outputs else {}
                if outcome.succeeded and name not in values:
                    message = f"array index {index} succeeded without output {name!r}"
                    return failed("OutputsNotFound", message)
                collection.literals.add().CopyFrom(values[name] if outcome.succeeded else _NONE)
        output_uri = context.services.layout.node_outputs(context.unique_id)
        context.services.blobs.write_proto(output_uri, outputs)
        progress.emit(TaskPhase.SUCCEEDED, output_uri=output_uri)
        return NodeOutcome(phase=NodePhase.SUCCEEDED, outputs=outputs, output_uri=output_uri)


def _maps_launch_plan(node: workflow_pb2.Node) -> bool:
    return node.HasField("workflow_node") and node.workflow_node.WhichOneof("reference") == "launchplan_ref"


def _run_launch_plan(handler: NodeHandler, context: NodeContext, progress: Progress, index: int) -> NodeOutcome:
    """One launch-plan sub-node: a child execution, reported as the index's external resource."""
    child = child_execution_id(context)
    progress.update(index, 0, TaskPhase.RUNNING, [], child=child)
    outcome = handler(context)
    progress.update(index, 0, _TASK_PHASES.get(outcome.phase, TaskPhase.FAILED), [], child=child)
    return outcome


def _output_names(task: tasks_pb2.TaskTemplate | None, outcomes: dict[int, NodeOutcome]) -> list[str]:
    """A task's declared outputs; for a launch plan (its interface is not in the closure), what its
    successful children returned."""
    if task is not None:
        return list(task.interface.outputs.variables)
    names = {name for o in outcomes.values() if o.succeeded and o.outputs for name in o.outputs.literals}
    return sorted(names)


def _find_task(context: NodeContext, node: workflow_pb2.Node) -> tasks_pb2.TaskTemplate | None:
    for compiled in context.services.request.closure.tasks:
        if compiled.template.id == node.task_node.reference_id:
            return compiled.template
    return None


def _summary(outcomes: dict[int, NodeOutcome], successes: int, needed: int, size: int) -> execution_pb2.ExecutionError:
    """propeller's error collector: one line per failed index, plus why the array failed."""
    lines = [f"{successes} of {size} sub-nodes succeeded; {needed} must succeed."]
    kinds = set()
    for index in sorted(outcomes):
        outcome = outcomes[index]
        if outcome.error is not None and outcome.phase != NodePhase.ABORTED:
            lines.append(f"[{index}]: {outcome.error.code}: {outcome.error.message}")
            kinds.add(outcome.error.kind)
    kind = USER if kinds <= {USER} else SYSTEM
    return execution_pb2.ExecutionError(code="ArrayNodeFailing", message="\n".join(lines), kind=kind)  # type: ignore[arg-type]
