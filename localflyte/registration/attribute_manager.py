"""The matchable-attribute RPCs: flyteadmin ``pkg/manager/impl/resources/resource_manager.go``."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flyteidl.admin import (
    matchable_resource_pb2,
    project_attributes_pb2,
    project_domain_attributes_pb2,
    workflow_attributes_pb2,
)

from localflyte.context import AppContext
from localflyte.errors import AdminError, invalid_argument, missing_argument
from localflyte.registration.attributes import (
    MatchableResource,
    ResourceId,
    delete,
    lookup,
    resource_type_of,
    save,
    validate_project_exists,
)
from localflyte.registration.repository import validate_project_and_domain
from localflyte.registration.validation import require
from localflyte.server import Handler

log = logging.getLogger(__name__)
MatchingAttributes = matchable_resource_pb2.MatchingAttributes
WORKFLOW_EXECUTION_CONFIG = MatchableResource.WORKFLOW_EXECUTION_CONFIG


class AttributesManager:
    """Update/Get/Delete of project, project-domain and workflow attributes; ListMatchableAttributes."""

    def __init__(self, context: AppContext) -> None:
        self._store = context.store
        self._domains = context.settings.domains

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "AdminService.UpdateProjectAttributes": self.update_project,
            "AdminService.GetProjectAttributes": self.get_project,
            "AdminService.DeleteProjectAttributes": self.delete_project,
            "AdminService.UpdateProjectDomainAttributes": self.update_project_domain,
            "AdminService.GetProjectDomainAttributes": self.get_project_domain,
            "AdminService.DeleteProjectDomainAttributes": self.delete_project_domain,
            "AdminService.UpdateWorkflowAttributes": self.update_workflow,
            "AdminService.GetWorkflowAttributes": self.get_workflow,
            "AdminService.DeleteWorkflowAttributes": self.delete_workflow,
            "AdminService.ListMatchableAttributes": self.list_all,
        }

    def _check(self, project: str, domain: str) -> None:
        validate_project_and_domain(self._store, self._domains, project, domain)

    # -- project level -------------------------------------------------------------------------

    def update_project(
        self, request: project_attributes_pb2.ProjectAttributesUpdateRequest
    ) -> project_attributes_pb2.ProjectAttributesUpdateResponse:
        if not request.HasField("attributes"):
            raise missing_argument("attributes")
        attributes = request.attributes
        validate_project_exists(self._store, attributes.project, for_update=True)
        kind = resource_type_of(attributes.matching_attributes, attributes.HasField("matching_attributes"),
                                attributes.project)  # fmt: skip
        save(self._store, ResourceId(kind, attributes.project), attributes.matching_attributes)
        log.info("attributes updated level=project project=%s type=%s", attributes.project, _name(kind))
        return project_attributes_pb2.ProjectAttributesUpdateResponse()

    def get_project(
        self, request: project_attributes_pb2.ProjectAttributesGetRequest
    ) -> project_attributes_pb2.ProjectAttributesGetResponse:
        validate_project_exists(self._store, request.project, for_update=False)
        try:
            _, blob = lookup(self._store, ResourceId(request.resource_type, request.project), exact=True)
            matching = MatchingAttributes.FromString(blob)
        except AdminError:
            if request.resource_type != WORKFLOW_EXECUTION_CONFIG:
                raise
            # flyteadmin answers with the platform's default execution config; localflyte's is empty.
            matching = MatchingAttributes(workflow_execution_config={})
        return project_attributes_pb2.ProjectAttributesGetResponse(
            attributes=project_attributes_pb2.ProjectAttributes(project=request.project, matching_attributes=matching)
        )

    def delete_project(
        self, request: project_attributes_pb2.ProjectAttributesDeleteRequest
    ) -> project_attributes_pb2.ProjectAttributesDeleteResponse:
        validate_project_exists(self._store, request.project, for_update=True)
        delete(self._store, ResourceId(request.resource_type, request.project))
        return project_attributes_pb2.ProjectAttributesDeleteResponse()

    # -- project-domain level ------------------------------------------------------------------

    def update_project_domain(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesUpdateRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesUpdateResponse:
        if not request.HasField("attributes"):
            raise missing_argument("attributes")
        attributes = request.attributes
        self._check(attributes.project, attributes.domain)
        kind = resource_type_of(attributes.matching_attributes, attributes.HasField("matching_attributes"),
                                f"{attributes.project}-{attributes.domain}")  # fmt: skip
        save(self._store, ResourceId(kind, attributes.project, attributes.domain), attributes.matching_attributes)
        log.info(
            "attributes updated level=project-domain project=%s domain=%s type=%s",
            attributes.project, attributes.domain, _name(kind),
        )  # fmt: skip
        return project_domain_attributes_pb2.ProjectDomainAttributesUpdateResponse()

    def get_project_domain(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesGetRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesGetResponse:
        self._check(request.project, request.domain)
        found, blob = lookup(self._store, ResourceId(request.resource_type, request.project, request.domain))
        return project_domain_attributes_pb2.ProjectDomainAttributesGetResponse(
            attributes=project_domain_attributes_pb2.ProjectDomainAttributes(
                project=found.project, domain=found.domain, matching_attributes=MatchingAttributes.FromString(blob)
            )
        )

    def delete_project_domain(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesDeleteRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesDeleteResponse:
        self._check(request.project, request.domain)
        delete(self._store, ResourceId(request.resource_type, request.project, request.domain))
        return project_domain_attributes_pb2.ProjectDomainAttributesDeleteResponse()

    # -- workflow level ------------------------------------------------------------------------

    def update_workflow(
        self, request: workflow_attributes_pb2.WorkflowAttributesUpdateRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesUpdateResponse:
        if not request.HasField("attributes"):
            raise missing_argument("attributes")
        attributes = request.attributes
        self._check(attributes.project, attributes.domain)
        require(attributes.workflow, "name")
        kind = resource_type_of(attributes.matching_attributes, attributes.HasField("matching_attributes"),
                                f"{attributes.project}-{attributes.domain}-{attributes.workflow}")  # fmt: skip
        resource = ResourceId(kind, attributes.project, attributes.domain, attributes.workflow)
        save(self._store, resource, attributes.matching_attributes)
        log.info(
            "attributes updated level=workflow project=%s domain=%s workflow=%s type=%s",
            attributes.project, attributes.domain, attributes.workflow, _name(kind),
        )  # fmt: skip
        return workflow_attributes_pb2.WorkflowAttributesUpdateResponse()

    def get_workflow(
        self, request: workflow_attributes_pb2.WorkflowAttributesGetRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesGetResponse:
        self._check(request.project, request.domain)
        require(request.workflow, "name")
        resource = ResourceId(request.resource_type, request.project, request.domain, request.workflow)
        found, blob = lookup(self._store, resource)
        return workflow_attributes_pb2.WorkflowAttributesGetResponse(
            attributes=workflow_attributes_pb2.WorkflowAttributes(
                project=found.project,
                domain=found.domain,
                workflow=found.workflow,
                matching_attributes=MatchingAttributes.FromString(blob),
            )
        )

    def delete_workflow(
        self, request: workflow_attributes_pb2.WorkflowAttributesDeleteRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesDeleteResponse:
        self._check(request.project, request.domain)
        require(request.workflow, "name")
        delete(self._store, ResourceId(request.resource_type, request.project, request.domain, request.workflow))
        return workflow_attributes_pb2.WorkflowAttributesDeleteResponse()

    # -- all levels ----------------------------------------------------------------------------

    def list_all(
        self, request: matchable_resource_pb2.ListMatchableAttributesRequest
    ) -> matchable_resource_pb2.ListMatchableAttributesResponse:
        if request.resource_type not in MatchableResource.values():
            raise invalid_argument("invalid value for resource_type")
        rows = self._store.query(
            "SELECT * FROM resources WHERE resource_type = ? ORDER BY priority DESC, project, domain, workflow",
            (request.resource_type,),
        )
        return matchable_resource_pb2.ListMatchableAttributesResponse(
            configurations=[
                matchable_resource_pb2.MatchableAttributesConfiguration(
                    attributes=MatchingAttributes.FromString(row["attributes"]),
                    project=row["project"],
                    domain=row["domain"],
                    workflow=row["workflow"],
                    launch_plan=row["launch_plan"],
                    org=row["org"],
                )
                for row in rows
            ]
        )


def _name(kind: int) -> str:
    return MatchableResource.Name(kind)  # type: ignore[arg-type]
