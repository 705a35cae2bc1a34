"""CreateWorkflow, GetWorkflow, ListWorkflows, ListWorkflowIds: flyteadmin ``workflow_manager.go``.

Creating a workflow compiles it: every task and launch plan it references must already be registered
(flyteadmin looks each one up and fails with its NOT_FOUND text wrapped in "failed to compile workflow"),
and the stored closure is the compiled workflow closure that FlyteRemote builds a FlyteWorkflow from.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flyteidl.admin import common_pb2, workflow_pb2
from flyteidl.core import compiler_pb2, identifier_pb2, tasks_pb2

from localflyte.context import AppContext
from localflyte.errors import AdminError, invalid_argument, missing_argument
from localflyte.registration import compiler, entities
from localflyte.registration.digests import digest
from localflyte.registration.repository import (
    EntityRecord,
    fetch_launch_plan,
    fetch_task,
    fetch_workflow,
    validate_project_and_domain,
    workflow_from_record,
)
from localflyte.registration.validation import go_text, validate_identifier, validate_registration_identifier
from localflyte.server import Handler
from localflyte.store import Store

log = logging.getLogger(__name__)
WORKFLOW = identifier_pb2.WORKFLOW


def _old_compiled(record: EntityRecord) -> compiler_pb2.CompiledWorkflowClosure:
    return workflow_pb2.WorkflowClosure.FromString(record.closure).compiled_workflow


def compile_spec(
    store: Store, identifier: identifier_pb2.Identifier, spec: workflow_pb2.WorkflowSpec
) -> compiler_pb2.CompiledWorkflowClosure:
    """``getCompiledWorkflow``: fetch what the workflow references, then compile."""

    def failed(error: object) -> AdminError:
        return invalid_argument(f"failed to compile workflow for [{go_text(identifier)}] with err: {error}")

    needs = compiler.requirements(spec.template, spec.sub_workflows)
    tasks: list[tasks_pb2.TaskTemplate] = []
    try:
        for task_id in needs.task_ids:
            tasks.append(fetch_task(store, task_id).closure.compiled_task.template)
        for launch_plan_id in needs.launch_plan_ids:
            fetch_launch_plan(store, launch_plan_id)
        return compiler.compile_workflow(spec.template, spec.sub_workflows, tasks)
    except AdminError as error:
        raise failed(error.message) from None
    except compiler.CompileError as error:
        raise failed(error) from None


class WorkflowManager:
    """Registers workflow versions with their compiled closure."""

    def __init__(self, context: AppContext) -> None:
        self._context = context

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "AdminService.CreateWorkflow": self.create,
            "AdminService.GetWorkflow": self.get,
            "AdminService.ListWorkflows": self.list,
            "AdminService.ListWorkflowIds": self.list_ids,
        }

    def create(self, request: workflow_pb2.WorkflowCreateRequest) -> workflow_pb2.WorkflowCreateResponse:
        context = self._context
        validate_registration_identifier(request.id, WORKFLOW, request.HasField("id"))
        validate_project_and_domain(context.store, context.settings.domains, request.id.project, request.id.domain)
        if not request.spec.HasField("template"):
            raise missing_argument("spec")
        spec = workflow_pb2.WorkflowSpec()
        spec.CopyFrom(request.spec)
        spec.template.id.CopyFrom(request.id)  # flyteadmin setDefaults
        compiled = compile_spec(context.store, request.id, spec)
        now = context.clock.now()
        closure = workflow_pb2.WorkflowClosure(compiled_workflow=compiled, created_at=entities.timestamp(now))
        entities.register(
            context.store,
            "workflow",
            entities.NewEntity(
                identifier=request.id,
                spec=spec.SerializeToString(),
                closure=closure.SerializeToString(),
                digest=digest(compiled),
                created_at=now,
            ),
            compiled,
            _old_compiled,
        )
        log.info("registered workflow id=%s", entities.urn(request.id))
        return workflow_pb2.WorkflowCreateResponse()

    def get(self, request: common_pb2.ObjectGetRequest) -> workflow_pb2.Workflow:
        validate_identifier(request.id, WORKFLOW, request.HasField("id"))
        return fetch_workflow(self._context.store, request.id)

    def list(self, request: common_pb2.ResourceListRequest) -> workflow_pb2.WorkflowList:
        records, token = entities.list_records(self._context.store, WORKFLOW, request, "ListWorkflows", "workflow")
        # flyteadmin lists workflows without their (offloaded) compiled closure.
        workflows = []
        for record in records:
            workflow = workflow_from_record(record)
            workflow.closure.ClearField("compiled_workflow")
            workflows.append(workflow)
        return workflow_pb2.WorkflowList(workflows=workflows, token=token)

    def list_ids(self, request: common_pb2.NamedEntityIdentifierListRequest) -> common_pb2.NamedEntityIdentifierList:
        return entities.identifier_list(self._context.store, WORKFLOW, request, "ListWorkflowIds", "workflow")
