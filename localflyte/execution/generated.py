"""The workflow and launch plan FlyteAdmin generates to run a single task.

Port of ``flyteadmin/pkg/manager/impl/util/single_task_execution.go``: a one-node workflow named
``.flytegen.<task name>`` with the task's interface and retries (3 when the task sets none), and an
inactive launch plan of the same name and version. Both are registered through the registration
half's own CreateWorkflow / CreateLaunchPlan handlers, so they are compiled and stored like any
other entity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc
from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2, types_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from localflyte.errors import AdminError
from localflyte.registration import repository
from localflyte.store import Store

log = logging.getLogger(__name__)

ResourceType = identifier_pb2.ResourceType
HandlerLookup = Callable[[str], Callable[[object], object] | None]
MAX_NODE_ID_LENGTH = 63
# flyteadmin binds the inputs to node "" (noInputNodeID), which the compiler reads as the start node.
START_NODE = "start-node"


def workflow_name_for(task_name: str) -> str:
    return f".flytegen.{task_name}"


def node_name_for(task_name: str) -> str:
    """``generateNodeNameFromTask``: the last 63 characters, letters, digits and ``-`` only."""
    tail = task_name[-MAX_NODE_ID_LENGTH:] if len(task_name) >= MAX_NODE_ID_LENGTH else task_name
    return "".join(character for character in tail if character == "-" or character.isalnum())


def _bindings(variables: interface_pb2.VariableMap, node_id: str) -> list[literals_pb2.Binding]:
    return [
        literals_pb2.Binding(
            var=name,
            binding=literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=node_id, var=name)),
        )
        for name in variables.variables
    ]


def workflow_spec(task: task_pb2.Task, workflow_id: identifier_pb2.Identifier) -> workflow_pb2.WorkflowSpec:
    template = task.closure.compiled_task.template
    node_id = node_name_for(task.id.name)
    retries = template.metadata.retries if template.metadata.HasField("retries") else None
    node = core_workflow_pb2.Node(
        id=node_id,
        metadata=core_workflow_pb2.NodeMetadata(name=node_id, retries=retries or literals_pb2.RetryStrategy(retries=3)),
        inputs=_bindings(template.interface.inputs, START_NODE),
        task_node=core_workflow_pb2.TaskNode(reference_id=task.id),
    )
    return workflow_pb2.WorkflowSpec(
        template=core_workflow_pb2.WorkflowTemplate(
            id=workflow_id,
            interface=template.interface,
            nodes=[node],
            outputs=_bindings(template.interface.outputs, node_id),
        )
    )


def _call(lookup: HandlerLookup, rpc: str, request: object) -> None:
    handler = lookup(rpc)
    if handler is None:
        raise AdminError(
            grpc.StatusCode.INTERNAL,
            f"localflyte cannot launch a task directly: {rpc} is not served by the registration components",
        )
    try:
        handler(request)
    except AdminError as error:
        # A concurrent launch of the same task created it first: same outcome.
        if error.code != grpc.StatusCode.ALREADY_EXISTS:
            raise


def _exists(store: Store, identifier: identifier_pb2.Identifier) -> bool:
    try:
        repository.fetch_entity(store, identifier)
    except AdminError as error:
        if error.code == grpc.StatusCode.NOT_FOUND:
            return False
        raise
    return True


def create_or_get(
    store: Store, task: task_pb2.Task, spec: execution_pb2.ExecutionSpec, lookup: HandlerLookup
) -> launch_plan_pb2.LaunchPlan:
    """``CreateOrGetWorkflowModel`` + ``CreateOrGetLaunchPlan``: the generated launch plan for a task."""
    name = workflow_name_for(task.id.name)
    workflow_id = identifier_pb2.Identifier(
        resource_type=ResourceType.WORKFLOW,
        project=task.id.project,
        domain=task.id.domain,
        name=name,
        version=task.id.version,
    )
    if not _exists(store, workflow_id):
        _call(lookup, "AdminService.CreateWorkflow",
              workflow_pb2.WorkflowCreateRequest(id=workflow_id, spec=workflow_spec(task, workflow_id)))  # fmt: skip
        _mark_system_generated(lookup, ResourceType.WORKFLOW, workflow_id)
    launch_plan_id = identifier_pb2.Identifier()
    launch_plan_id.CopyFrom(workflow_id)
    launch_plan_id.resource_type = ResourceType.LAUNCH_PLAN
    if not _exists(store, launch_plan_id):
        lp_spec = launch_plan_pb2.LaunchPlanSpec(
            workflow_id=workflow_id,
            entity_metadata=launch_plan_pb2.LaunchPlanMetadata(),
            default_inputs=interface_pb2.ParameterMap(),
            fixed_inputs=literals_pb2.LiteralMap(),
            labels=common_pb2.Labels(),
            annotations=common_pb2.Annotations(),
        )
        if spec.HasField("auth_role"):
            lp_spec.auth_role.CopyFrom(spec.auth_role)
        if spec.HasField("security_context"):
            lp_spec.security_context.CopyFrom(spec.security_context)
        _call(lookup, "AdminService.CreateLaunchPlan",
              launch_plan_pb2.LaunchPlanCreateRequest(id=launch_plan_id, spec=lp_spec))  # fmt: skip
        _mark_system_generated(lookup, ResourceType.LAUNCH_PLAN, launch_plan_id)
    return repository.fetch_launch_plan(store, launch_plan_id)


def _mark_system_generated(lookup: HandlerLookup, resource_type: int, identifier: identifier_pb2.Identifier) -> None:
    """flyteadmin marks generated entities SYSTEM_GENERATED so UIs hide them (best effort here)."""
    handler = lookup("AdminService.UpdateNamedEntity")
    if handler is None:
        return
    request = common_pb2.NamedEntityUpdateRequest(
        resource_type=resource_type,  # type: ignore[arg-type]
        id=common_pb2.NamedEntityIdentifier(project=identifier.project, domain=identifier.domain, name=identifier.name),
        metadata=common_pb2.NamedEntityMetadata(state=common_pb2.SYSTEM_GENERATED),
    )
    try:
        handler(request)
    except AdminError as error:
        log.info("could not mark %s system-generated: %s", identifier.name, error.message)
