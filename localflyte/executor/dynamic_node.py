"""Dynamic tasks (``@dynamic``): the task writes ``futures.pb``, its nodes run next (propeller's ``nodes/dynamic``).

A dynamic task's attempt ends with a ``DynamicJobSpec`` (nodes, the tasks and sub-workflows they
use, output bindings) instead of ``outputs.pb``. As ``dynamic_workflow.go: buildDynamicWorkflow``
does, the spec becomes a workflow ``dynamic_<node id>`` with the task's interface, is compiled into a
closure with the spec's tasks and sub-workflows, and runs with the same graph walker: its start node
holds the task's inputs, its nodes are children of the dynamic node (``<node>-<attempt>-<id>``), and
the outputs resolved from the spec's bindings become the node's outputs (copied to the attempt's
``outputs.pb``). The node reports ``DYNAMIC_RUNNING`` with ``is_parent``, ``is_dynamic`` and the
compiled workflow (``task_node_metadata.dynamic_workflow``), which FlyteAdmin keeps for
``GetNodeExecutionData`` / ``GetDynamicNodeWorkflow`` and ``FlyteRemote.sync_execution`` reads.
"""

from __future__ import annotations

import hashlib
import logging
import threading

from flyteidl.core import compiler_pb2, dynamic_job_pb2, identifier_pb2, tasks_pb2, workflow_pb2
from flyteidl.event import event_pb2
from google.protobuf.message import DecodeError

from localflyte.executor.events import node_event
from localflyte.executor.layout import END_NODE, START_NODE, ParentInfo
from localflyte.executor.model import NodeOutcome, NodePhase
from localflyte.executor.nodes import SYSTEM, USER, NodeContext, failed
from localflyte.executor.storage import BlobNotFoundError
from localflyte.registration.compiler import CompileError, compile_workflow, key

log = logging.getLogger(__name__)

FUTURES_FILE = "futures.pb"
# Dynamic tasks of one execution add their tasks to the shared closure; one writer at a time.
_CLOSURE_LOCK = threading.Lock()


def dynamic_workflow_id(context: NodeContext, spec: dynamic_job_pb2.DynamicJobSpec) -> identifier_pb2.Identifier:
    """``dynamic_<node id>`` in the execution's project/domain; the version is the spec's digest
    (propeller draws a random one; a digest keeps retries and re-reads identical)."""
    execution = context.services.request.execution_id
    digest = hashlib.sha256(spec.SerializeToString(deterministic=True)).hexdigest()[:10]
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.WORKFLOW,
        project=execution.project,
        domain=execution.domain,
        name=f"dynamic_{context.unique_id}",
        version=digest,
    )


def compile_dynamic(
    workflow_id: identifier_pb2.Identifier, task: tasks_pb2.TaskTemplate, spec: dynamic_job_pb2.DynamicJobSpec
) -> compiler_pb2.CompiledWorkflowClosure:
    """The spec as a compiled closure (raises :class:`CompileError` for a malformed spec)."""
    template = workflow_pb2.WorkflowTemplate(
        id=workflow_id, interface=task.interface, nodes=spec.nodes, outputs=spec.outputs
    )
    if spec.nodes:
        return compile_workflow(template, spec.subworkflows, spec.tasks)
    # A dynamic task that yields no nodes (e.g. an empty loop) only binds constants to its outputs.
    compiled = workflow_pb2.WorkflowTemplate()
    compiled.CopyFrom(template)
    compiled.nodes.add(id=START_NODE)
    compiled.nodes.add(id=END_NODE).inputs.extend(template.outputs)
    closure = compiler_pb2.CompiledWorkflowClosure(primary=compiler_pb2.CompiledWorkflow(template=compiled))
    closure.primary.connections.upstream[END_NODE].ids.append(START_NODE)
    closure.primary.connections.downstream[START_NODE].ids.append(END_NODE)
    return closure


def run_dynamic(context: NodeContext, task: tasks_pb2.TaskTemplate, attempt: int, futures_uri: str) -> NodeOutcome:
    """Run the nodes a dynamic task's attempt returned; the node's outcome is theirs."""
    services = context.services
    try:
        spec = services.blobs.read_proto(futures_uri, dynamic_job_pb2.DynamicJobSpec)
    except (BlobNotFoundError, DecodeError) as error:
        return failed("DynamicJobSpecUnreadable", f"cannot read {futures_uri}: {error}", SYSTEM)
    workflow_id = dynamic_workflow_id(context, spec)
    try:
        closure = compile_dynamic(workflow_id, task, spec)
    except CompileError as error:
        return failed(
            "MalformedDynamicWorkflow",
            f"{task.id.name} returned a dynamic workflow that does not compile: {error}",
            USER,
        )
    _add_to_execution_closure(context, closure)
    log.info("dynamic node=%s attempt=%s nodes=%s", context.unique_id, attempt, len(spec.nodes))

    metadata = event_pb2.TaskNodeMetadata()
    metadata.dynamic_workflow.id.CopyFrom(workflow_id)
    metadata.dynamic_workflow.compiled_workflow.CopyFrom(closure)
    metadata.dynamic_workflow.dynamic_job_spec_uri = futures_uri
    event = node_event(context.events, NodePhase.DYNAMIC_RUNNING, task_node_metadata=metadata)
    event.is_parent = True
    event.is_dynamic = True
    services.sink.node_phase(event)

    parent = ParentInfo(unique_id=context.unique_id, attempt=attempt)
    outcome = services.scheduler.run_workflow(closure.primary, context.inputs, parent, context.token)
    if not outcome.succeeded:
        return NodeOutcome(phase=outcome.phase, error=outcome.error)
    # Like propeller, the end node's outputs become the dynamic node's own outputs.
    output_uri = f"{futures_uri.rsplit('/', 1)[0]}/outputs.pb"
    services.blobs.write_proto(output_uri, outcome.outputs)
    return NodeOutcome(phase=NodePhase.SUCCEEDED, outputs=outcome.outputs, output_uri=output_uri)


def _add_to_execution_closure(context: NodeContext, dynamic: compiler_pb2.CompiledWorkflowClosure) -> None:
    """Make the spec's tasks and sub-workflows findable by the node handlers of this execution.

    Handlers look tasks and sub-workflows up in the execution's closure; an id already there is the
    same entity (registered ids are immutable), so only new ones are added.
    """
    closure = context.services.request.closure
    with _CLOSURE_LOCK:
        tasks = {key(compiled.template.id) for compiled in closure.tasks}
        for compiled_task in dynamic.tasks:
            if key(compiled_task.template.id) not in tasks:
                closure.tasks.add().CopyFrom(compiled_task)
        workflows = {key(sub.template.id) for sub in closure.sub_workflows}
        for sub in dynamic.sub_workflows:
            if key(sub.template.id) not in workflows:
                closure.sub_workflows.add().CopyFrom(sub)
