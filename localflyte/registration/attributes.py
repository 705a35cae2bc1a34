"""Storage of matchable attributes at project, project-domain and workflow level: flyteadmin
``pkg/manager/impl/resources/resource_manager.go``, ``validation/attributes_validator.go`` and
``gormimpl/resource_repo.go`` (a Get falls back to the less specific levels, highest priority first).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flyteidl.admin import matchable_resource_pb2

from localflyte.errors import invalid_argument, missing_argument, not_found
from localflyte.registration import repository
from localflyte.store import Store

log = logging.getLogger(__name__)
MatchableResource = matchable_resource_pb2.MatchableResource

# MatchingAttributes' oneof field → the resource type it configures (validateMatchingAttributes).
_TARGETS = {
    "task_resource_attributes": MatchableResource.TASK_RESOURCE,
    "cluster_resource_attributes": MatchableResource.CLUSTER_RESOURCE,
    "execution_queue_attributes": MatchableResource.EXECUTION_QUEUE,
    "execution_cluster_label": MatchableResource.EXECUTION_CLUSTER_LABEL,
    "plugin_overrides": MatchableResource.PLUGIN_OVERRIDE,
    "workflow_execution_config": MatchableResource.WORKFLOW_EXECUTION_CONFIG,
    "cluster_assignment": MatchableResource.CLUSTER_ASSIGNMENT,
}


@dataclass(frozen=True)
class ResourceId:
    """``repositories/interfaces.ResourceID``: where a set of attributes applies."""

    resource_type: int
    project: str = ""
    domain: str = ""
    workflow: str = ""

    @property
    def priority(self) -> int:
        if self.workflow:
            return repository.PRIORITY_WORKFLOW
        return repository.PRIORITY_PROJECT_DOMAIN if self.domain else repository.PRIORITY_PROJECT

    def go_text(self) -> str:
        kind = MatchableResource.Name(self.resource_type) if self.resource_type in _TARGETS.values() else ""
        kind = kind or str(self.resource_type)
        return (
            f"{{Project:{self.project} Domain:{self.domain} Workflow:{self.workflow} LaunchPlan: ResourceType:{kind}}}"
        )


def resource_type_of(attributes: matchable_resource_pb2.MatchingAttributes, has: bool, where: str) -> int:
    """``validateMatchingAttributes``."""
    if not has:
        raise missing_argument("matching_attributes")
    target = attributes.WhichOneof("target")
    if target not in _TARGETS:
        raise invalid_argument(f"Unrecognized matching attributes type for request {where}")
    return _TARGETS[target]


def _merge_plugin_overrides(
    existing: matchable_resource_pb2.MatchingAttributes, update: matchable_resource_pb2.MatchingAttributes
) -> matchable_resource_pb2.MatchingAttributes:
    """``MergeUpdatePluginAttributes``: overrides for the same task type are replaced, others kept."""
    replaced = {override.task_type for override in update.plugin_overrides.overrides}
    merged = matchable_resource_pb2.MatchingAttributes()
    kept = [o for o in existing.plugin_overrides.overrides if o.task_type not in replaced]
    merged.plugin_overrides.overrides.extend([*kept, *update.plugin_overrides.overrides])
    return merged


def save(store: Store, resource: ResourceId, attributes: matchable_resource_pb2.MatchingAttributes) -> None:
    """``CreateOrUpdate`` (merging plugin overrides into what is there)."""
    with store.transaction():
        if attributes.HasField("plugin_overrides"):
            row = store.query_one(
                "SELECT attributes FROM resources WHERE resource_type=? AND project=? AND domain=? AND workflow=? "
                "AND launch_plan=''",
                (resource.resource_type, resource.project, resource.domain, resource.workflow),
            )
            if row is not None:
                existing = matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"])
                attributes = _merge_plugin_overrides(existing, attributes)
        store.execute(
            "INSERT INTO resources (resource_type, project, domain, workflow, launch_plan, priority, attributes) "
            "VALUES (?, ?, ?, ?, '', ?, ?) ON CONFLICT (resource_type, project, domain, workflow, launch_plan) "
            "DO UPDATE SET attributes = excluded.attributes, priority = excluded.priority",
            (resource.resource_type, resource.project, resource.domain, resource.workflow, resource.priority,
             attributes.SerializeToString()),
        )  # fmt: skip


def lookup(store: Store, resource: ResourceId, exact: bool = False) -> tuple[ResourceId, bytes]:
    """``ResourceRepo.Get`` (or ``GetProjectLevel`` when ``exact``): NOT_FOUND when nothing applies."""
    if exact:
        row = store.query_one(
            "SELECT * FROM resources WHERE resource_type=? AND project=? AND domain=? AND workflow=? "
            "AND launch_plan=''",
            (resource.resource_type, resource.project, resource.domain, resource.workflow),
        )
    else:
        row = store.query_one(
            "SELECT * FROM resources WHERE resource_type=? AND project IN ('', ?) AND domain IN ('', ?) "
            "AND workflow IN ('', ?) AND launch_plan='' ORDER BY priority DESC LIMIT 1",
            (resource.resource_type, resource.project, resource.domain, resource.workflow),
        )
    if row is None:
        raise not_found(f"Resource [{resource.go_text()}] not found")
    found = ResourceId(row["resource_type"], row["project"], row["domain"], row["workflow"])
    return found, row["attributes"]


def delete(store: Store, resource: ResourceId) -> None:
    store.execute(
        "DELETE FROM resources WHERE resource_type=? AND project=? AND domain=? AND workflow=? AND launch_plan=''",
        (resource.resource_type, resource.project, resource.domain, resource.workflow),
    )


def validate_project_exists(store: Store, project: str, for_update: bool) -> None:
    """``ValidateProjectForUpdate`` (must be active) / ``ValidateProjectExists``."""
    row = store.query_one("SELECT state FROM projects WHERE id = ?", (project,))
    if row is None:
        verb = "is registered" if for_update else "exists"
        raise invalid_argument(
            f"failed to validate that project [{project}] {verb}, err: [project [{project}] not found]"
        )
    if for_update and row["state"] != 0:
        raise invalid_argument(f"project [{project}] is not active")
