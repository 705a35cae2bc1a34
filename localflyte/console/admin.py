"""The console's view of FlyteAdmin: the very handlers the gRPC server dispatches to, called in-process.

Going through the handlers (not the store) keeps the console honest: it sees what a flytekit client
sees, and a launch from the page is the same ``CreateExecution`` as ``FlyteRemote.execute``, executor
notification included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import grpc
from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    project_pb2,
    task_execution_pb2,
)
from flyteidl.core import identifier_pb2

from localflyte.errors import AdminError

Handler = Callable[[Any], Any]
LIST_LIMIT = 100


class HasHandlers(Protocol):
    def handlers(self) -> Mapping[str, Handler]: ...


def _newest_first() -> common_pb2.Sort:
    return common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING)


class Admin:
    """Typed calls over ``{"AdminService.<Rpc>": handler}``; errors stay :class:`AdminError`."""

    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self._handlers = dict(handlers)

    @classmethod
    def from_components(cls, components: Iterable[HasHandlers]) -> Admin:
        return cls({rpc: handler for component in components for rpc, handler in component.handlers().items()})

    def call(self, rpc: str, request: Any) -> Any:
        handler = self._handlers.get(f"AdminService.{rpc}") or self._handlers.get(rpc)
        if handler is None:
            raise AdminError(grpc.StatusCode.UNIMPLEMENTED, f"localflyte serves no {rpc}")
        return handler(request)

    def projects(self) -> list[project_pb2.Project]:
        return list(self.call("ListProjects", project_pb2.ProjectListRequest()).projects)

    def domains(self) -> list[project_pb2.Domain]:
        return list(self.call("GetDomains", project_pb2.GetDomainRequest()).domains)

    def launch_plan_names(self, project: str, domain: str) -> list[str]:
        request = common_pb2.NamedEntityIdentifierListRequest(project=project, domain=domain, limit=LIST_LIMIT)
        return sorted(entity.name for entity in self.call("ListLaunchPlanIds", request).entities)

    def launch_plan_versions(self, project: str, domain: str, name: str) -> list[launch_plan_pb2.LaunchPlan]:
        """Every stored version of a launch plan, newest first."""
        named = common_pb2.NamedEntityIdentifier(project=project, domain=domain, name=name)
        request = common_pb2.ResourceListRequest(id=named, limit=LIST_LIMIT, sort_by=_newest_first())
        return list(self.call("ListLaunchPlans", request).launch_plans)

    def launch_plan(self, identifier: identifier_pb2.Identifier) -> launch_plan_pb2.LaunchPlan:
        identifier = identifier_pb2.Identifier(
            resource_type=identifier_pb2.LAUNCH_PLAN, project=identifier.project, domain=identifier.domain,
            name=identifier.name, version=identifier.version,
        )  # fmt: skip
        return self.call("GetLaunchPlan", common_pb2.ObjectGetRequest(id=identifier))

    def entity(self, identifier: identifier_pb2.Identifier) -> Any:
        """A task or workflow by full id."""
        rpc = "GetTask" if identifier.resource_type == identifier_pb2.TASK else "GetWorkflow"
        return self.call(rpc, common_pb2.ObjectGetRequest(id=identifier))

    def executions(self, project: str, domain: str, limit: int = 50) -> list[execution_pb2.Execution]:
        named = common_pb2.NamedEntityIdentifier(project=project, domain=domain)
        request = common_pb2.ResourceListRequest(id=named, limit=limit, sort_by=_newest_first())
        return list(self.call("ListExecutions", request).executions)

    def execution(self, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> execution_pb2.Execution:
        return self.call("GetExecution", execution_pb2.WorkflowExecutionGetRequest(id=identifier))

    def execution_data(
        self, identifier: identifier_pb2.WorkflowExecutionIdentifier
    ) -> execution_pb2.WorkflowExecutionGetDataResponse:
        return self.call("GetExecutionData", execution_pb2.WorkflowExecutionGetDataRequest(id=identifier))

    def node_executions(
        self, identifier: identifier_pb2.WorkflowExecutionIdentifier, parent: str = ""
    ) -> list[node_execution_pb2.NodeExecution]:
        request = node_execution_pb2.NodeExecutionListRequest(
            workflow_execution_id=identifier, limit=LIST_LIMIT, unique_parent_id=parent
        )
        return list(self.call("ListNodeExecutions", request).node_executions)

    def node_execution(self, identifier: identifier_pb2.NodeExecutionIdentifier) -> node_execution_pb2.NodeExecution:
        return self.call("GetNodeExecution", node_execution_pb2.NodeExecutionGetRequest(id=identifier))

    def task_executions(
        self, identifier: identifier_pb2.NodeExecutionIdentifier
    ) -> list[task_execution_pb2.TaskExecution]:
        request = task_execution_pb2.TaskExecutionListRequest(node_execution_id=identifier, limit=LIST_LIMIT)
        return list(self.call("ListTaskExecutions", request).task_executions)

    def create_execution(
        self, request: execution_pb2.ExecutionCreateRequest
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        return self.call("CreateExecution", request).id
