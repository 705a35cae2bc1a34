"""CreateTask, GetTask, ListTasks, ListTaskIds: flyteadmin ``pkg/manager/impl/task_manager.go``."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flyteidl.admin import common_pb2, task_pb2
from flyteidl.core import compiler_pb2, identifier_pb2, tasks_pb2

from localflyte.context import AppContext
from localflyte.errors import missing_argument
from localflyte.registration import entities
from localflyte.registration.digests import digest
from localflyte.registration.repository import (
    EntityRecord,
    fetch_task,
    task_from_record,
    validate_project_and_domain,
)
from localflyte.registration.validation import require, validate_registration_identifier
from localflyte.server import Handler

log = logging.getLogger(__name__)
TASK = identifier_pb2.TASK


def validate_task_template(template: tasks_pb2.TaskTemplate) -> None:
    """``task_validator.go: validateTaskTemplate`` (without the platform resource limits and whitelist)."""
    require(template.type, "type")
    if not template.HasField("metadata"):
        raise missing_argument("metadata")
    if template.metadata.HasField("runtime"):
        require(template.metadata.runtime.version, "runtime version")
    if not template.HasField("interface"):
        raise missing_argument("typed interface")
    if template.WhichOneof("target") == "container":
        require(template.container.image, "image")


def _old_compiled(record: EntityRecord) -> compiler_pb2.CompiledTask:
    return task_pb2.TaskClosure.FromString(record.closure).compiled_task


class TaskManager:
    """Registers task versions; their closure is the compiled task (the template with its id)."""

    def __init__(self, context: AppContext) -> None:
        self._context = context

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "AdminService.CreateTask": self.create,
            "AdminService.GetTask": self.get,
            "AdminService.ListTasks": self.list,
            "AdminService.ListTaskIds": self.list_ids,
        }

    def create(self, request: task_pb2.TaskCreateRequest) -> task_pb2.TaskCreateResponse:
        context = self._context
        validate_registration_identifier(request.id, TASK, request.HasField("id"))
        validate_project_and_domain(context.store, context.settings.domains, request.id.project, request.id.domain)
        if not request.spec.HasField("template"):
            raise missing_argument("spec")
        validate_task_template(request.spec.template)
        spec = task_pb2.TaskSpec()
        spec.CopyFrom(request.spec)
        spec.template.id.CopyFrom(request.id)  # flyteadmin setDefaults: the request id wins
        compiled = compiler_pb2.CompiledTask(template=spec.template)
        now = context.clock.now()
        closure = task_pb2.TaskClosure(compiled_task=compiled, created_at=entities.timestamp(now))
        entities.register(
            context.store,
            "task",
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
        log.info("registered task id=%s", entities.urn(request.id))
        return task_pb2.TaskCreateResponse()

    def get(self, request: common_pb2.ObjectGetRequest) -> task_pb2.Task:
        return fetch_task(self._context.store, request.id)

    def list(self, request: common_pb2.ResourceListRequest) -> task_pb2.TaskList:
        records, token = entities.list_records(self._context.store, TASK, request, "ListTasks", "task")
        return task_pb2.TaskList(tasks=[task_from_record(record) for record in records], token=token)

    def list_ids(self, request: common_pb2.NamedEntityIdentifierListRequest) -> common_pb2.NamedEntityIdentifierList:
        return entities.identifier_list(self._context.store, TASK, request, "ListTaskIds", "task")
