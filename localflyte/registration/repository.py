"""Stored entities and projects: the read API that executions, the executor and the scheduler build on.

Registration semantics (digests, different-structure errors, compilation, activation) live in the
registration managers; this module only stores and fetches. Specs and closures are kept as
serialized protobufs, exactly as they were accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from flyteidl.admin import launch_plan_pb2, matchable_resource_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2

from localflyte.errors import invalid_argument, not_found
from localflyte.store import Row, Store

ResourceType = identifier_pb2.ResourceType

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    labels BLOB,
    state INTEGER NOT NULL DEFAULT 0,
    org TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    seq INTEGER
);
CREATE TABLE IF NOT EXISTS entities (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_type INTEGER NOT NULL,
    project TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    org TEXT NOT NULL DEFAULT '',
    digest BLOB NOT NULL,
    spec BLOB NOT NULL,
    closure BLOB NOT NULL,
    state INTEGER,
    created_at REAL NOT NULL,
    UNIQUE (resource_type, project, domain, name, version)
);
CREATE INDEX IF NOT EXISTS entities_by_name ON entities (resource_type, project, domain, name);
CREATE TABLE IF NOT EXISTS named_entity_metadata (
    resource_type INTEGER NOT NULL,
    project TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    state INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (resource_type, project, domain, name)
);
CREATE TABLE IF NOT EXISTS resources (
    resource_type INTEGER NOT NULL,
    project TEXT NOT NULL DEFAULT '',
    domain TEXT NOT NULL DEFAULT '',
    workflow TEXT NOT NULL DEFAULT '',
    launch_plan TEXT NOT NULL DEFAULT '',
    org TEXT NOT NULL DEFAULT '',
    priority INTEGER NOT NULL,
    attributes BLOB NOT NULL,
    PRIMARY KEY (resource_type, project, domain, workflow, launch_plan)
);
"""

# flyteadmin ``models/resource.go``: the more specific level wins.
PRIORITY_PROJECT = 5
PRIORITY_PROJECT_DOMAIN = 10
PRIORITY_WORKFLOW = 100
PRIORITY_LAUNCH_PLAN = 1000

_KIND = {
    ResourceType.TASK: "task",
    ResourceType.WORKFLOW: "workflow",
    ResourceType.LAUNCH_PLAN: "launch plan",
}


@dataclass(frozen=True)
class EntityRecord:
    """One registered task, workflow or launch plan version, as stored."""

    resource_type: int
    project: str
    domain: str
    name: str
    version: str
    spec: bytes
    closure: bytes
    digest: bytes
    state: int | None
    created_at: float

    @property
    def identifier(self) -> identifier_pb2.Identifier:
        return identifier_pb2.Identifier(
            resource_type=self.resource_type,  # type: ignore[arg-type]
            project=self.project,
            domain=self.domain,
            name=self.name,
            version=self.version,
        )


def fetch_entity(store: Store, identifier: identifier_pb2.Identifier) -> EntityRecord:
    """The stored entity for a full identifier, or FlyteAdmin's NOT_FOUND."""
    row = store.query_one(
        "SELECT * FROM entities WHERE resource_type=? AND project=? AND domain=? AND name=? AND version=?",
        (identifier.resource_type, identifier.project, identifier.domain, identifier.name, identifier.version),
    )
    if row is None:
        kind = _KIND.get(identifier.resource_type, "entity")
        raise not_found(
            f"missing entity of type {kind.upper().replace(' ', '_')} with identifier "
            f'project:"{identifier.project}" domain:"{identifier.domain}" name:"{identifier.name}" '
            f'version:"{identifier.version}"'
        )
    return record_from_row(row)


def record_from_row(row: Row) -> EntityRecord:
    return EntityRecord(
        resource_type=row["resource_type"],
        project=row["project"],
        domain=row["domain"],
        name=row["name"],
        version=row["version"],
        spec=row["spec"],
        closure=row["closure"],
        digest=row["digest"],
        state=row["state"],
        created_at=row["created_at"],
    )


def fetch_task(store: Store, identifier: identifier_pb2.Identifier) -> task_pb2.Task:
    return task_from_record(fetch_entity(store, _typed(identifier, ResourceType.TASK)))


def task_from_record(record: EntityRecord) -> task_pb2.Task:
    spec = task_pb2.TaskSpec.FromString(record.spec)
    return task_pb2.Task(
        id=record.identifier,
        closure=task_pb2.TaskClosure.FromString(record.closure),
        short_description=spec.description.short_description,
    )


def fetch_workflow(store: Store, identifier: identifier_pb2.Identifier) -> workflow_pb2.Workflow:
    return workflow_from_record(fetch_entity(store, _typed(identifier, ResourceType.WORKFLOW)))


def workflow_from_record(record: EntityRecord) -> workflow_pb2.Workflow:
    spec = workflow_pb2.WorkflowSpec.FromString(record.spec)
    return workflow_pb2.Workflow(
        id=record.identifier,
        closure=workflow_pb2.WorkflowClosure.FromString(record.closure),
        short_description=spec.description.short_description,
    )


def fetch_launch_plan(store: Store, identifier: identifier_pb2.Identifier) -> launch_plan_pb2.LaunchPlan:
    return launch_plan_from_record(fetch_entity(store, _typed(identifier, ResourceType.LAUNCH_PLAN)))


def launch_plan_from_record(record: EntityRecord) -> launch_plan_pb2.LaunchPlan:
    # As in flyteadmin, the state lives in its own column and is filled into the closure on the way out.
    closure = launch_plan_pb2.LaunchPlanClosure.FromString(record.closure)
    closure.state = record.state or launch_plan_pb2.INACTIVE  # type: ignore[assignment]
    return launch_plan_pb2.LaunchPlan(
        id=record.identifier,
        spec=launch_plan_pb2.LaunchPlanSpec.FromString(record.spec),
        closure=closure,
    )


def _typed(identifier: identifier_pb2.Identifier, resource_type: int) -> identifier_pb2.Identifier:
    typed = identifier_pb2.Identifier()
    typed.CopyFrom(identifier)
    typed.resource_type = resource_type  # type: ignore[assignment]
    return typed


def validate_project_and_domain(store: Store, domains: tuple[str, ...], project: str, domain: str) -> None:
    """flyteadmin ``validation/project_validator.go: ValidateProjectAndDomain``."""
    row = store.query_one("SELECT state FROM projects WHERE id = ?", (project,))
    if row is None:
        raise invalid_argument(
            f"failed to validate that project [{project}] and domain [{domain}] are registered, "
            f"err: [project [{project}] not found]"
        )
    if row["state"] != 0:  # anything but admin.Project.ACTIVE (ARCHIVED, SYSTEM_GENERATED)
        raise invalid_argument(f"project [{project}] is not active")
    if domain not in domains:
        raise invalid_argument(f"domain [{domain}] is unrecognized by system")


def has_schedule(spec: launch_plan_pb2.LaunchPlanSpec) -> bool:
    """flyteadmin ``launch_plan_manager.go: isScheduleEmpty``, negated."""
    schedule = spec.entity_metadata.schedule
    return bool(schedule.cron_schedule.schedule or schedule.cron_expression or schedule.rate.value)


def active_scheduled_launch_plans(store: Store) -> list[launch_plan_pb2.LaunchPlan]:
    """Every ACTIVE launch plan version that has a schedule: what the scheduler fires.

    At most one version per (project, domain, name) is active (``UpdateLaunchPlan`` guarantees it).
    """
    rows = store.query(
        "SELECT * FROM entities WHERE resource_type = ? AND state = ? ORDER BY project, domain, name",
        (ResourceType.LAUNCH_PLAN, launch_plan_pb2.ACTIVE),
    )
    plans = [launch_plan_from_record(record_from_row(row)) for row in rows]
    return [plan for plan in plans if has_schedule(plan.spec)]


def resolve_matchable(
    store: Store, resource_type: int, project: str, domain: str, workflow_name: str = ""
) -> matchable_resource_pb2.MatchingAttributes | None:
    """The most specific matchable attributes for a workflow: workflow > project-domain > project.

    flyteadmin ``gormimpl/resource_repo.go: Get`` (rows at any level that match, highest priority first).
    ``resource_type`` is an ``admin.MatchableResource`` value. ``None`` when nothing is configured.
    """
    row = store.query_one(
        "SELECT attributes FROM resources WHERE resource_type = ? AND project IN ('', ?) AND domain IN ('', ?) "
        "AND workflow IN ('', ?) AND launch_plan = '' ORDER BY priority DESC LIMIT 1",
        (resource_type, project, domain, workflow_name),
    )
    if row is None:
        return None
    return matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"])
