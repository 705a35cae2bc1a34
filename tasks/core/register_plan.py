"""Plan a registration: hydrate every entity, find what each one needs, and order the writes.

FlyteAdmin compiles a workflow against what is already registered: its tasks and the launch plans
its nodes call must exist first, and a launch plan needs its workflow. So tasks go first (all at
once), then workflows and launch plans in dependency order: workflows before launch plans, in
package order, except that a launch plan a workflow calls is moved before that workflow.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from flyteidl.admin import launch_plan_pb2, workflow_pb2
from flyteidl.core import identifier_pb2

from tasks.core.register_hydrate import (
    HydratedEntity,
    LaunchPlanSettings,
    RegistrationTarget,
    ResourceKind,
    hydrate_launch_plan,
    hydrate_task,
    hydrate_workflow,
    node_references,
    workflow_nodes,
)
from tasks.core.register_package import EntityPackage, InvalidPackage

EntityKey = tuple[ResourceKind, str, str, str, str]


def entity_key(kind: ResourceKind, identifier: identifier_pb2.Identifier) -> EntityKey:
    return (kind, identifier.project, identifier.domain, identifier.name, identifier.version)


@dataclass(frozen=True)
class Reference:
    """An entity the package needs but does not contain: it must already be registered."""

    kind: ResourceKind
    identifier: identifier_pb2.Identifier
    needed_by: str

    @property
    def label(self) -> str:
        ident = self.identifier
        kind = self.kind.value.lower().replace("_", " ")
        return f"{kind} {ident.project}/{ident.domain}/{ident.name}@{ident.version}"


@dataclass(frozen=True)
class RegistrationPlan:
    """What to register for one target, in order: ``tasks`` concurrently, then ``ordered`` one by one."""

    target: RegistrationTarget
    tasks: tuple[HydratedEntity, ...]
    ordered: tuple[HydratedEntity, ...]
    external: tuple[Reference, ...]

    @property
    def entities(self) -> tuple[HydratedEntity, ...]:
        return self.tasks + self.ordered

    def waves(self) -> tuple[tuple[HydratedEntity, ...], ...]:
        """The writes grouped so that each group only needs earlier ones: every entity of a wave can be
        registered at the same time. The tasks, then the workflows and launch plans by dependency depth
        (workflows that call no launch plan, then their launch plans, then workflows calling those...)."""
        depth: dict[EntityKey, int] = {}
        groups: dict[int, list[HydratedEntity]] = {}
        for entity in self.ordered:  # a topological order: what an entity needs already has its depth
            needed = [depth[key] for key, _ in _requirements(entity) if key in depth]
            level = 1 + max(needed, default=0)
            depth[entity_key(entity.kind, entity.identifier)] = level
            groups.setdefault(level, []).append(entity)
        return tuple(wave for wave in (self.tasks, *(tuple(groups[level]) for level in sorted(groups))) if wave)


def plan_registration(
    package: EntityPackage, target: RegistrationTarget, settings: LaunchPlanSettings
) -> RegistrationPlan:
    """Hydrate ``package`` for ``target`` and order it.

    :raises InvalidPackage: if an entity cannot be hydrated, a name appears twice, a sub-workflow is
        missing from its workflow, or workflows and launch plans call each other in a cycle.
    """
    tasks = tuple(hydrate_task(packaged, target) for packaged in package.tasks)
    workflows = [hydrate_workflow(packaged, target) for packaged in package.workflows]
    launch_plans = [hydrate_launch_plan(packaged, target, settings) for packaged in package.launch_plans]
    own: dict[EntityKey, HydratedEntity] = {}
    for entity in (*tasks, *workflows, *launch_plans):
        key = entity_key(entity.kind, entity.identifier)
        if key in own:
            raise InvalidPackage(f"{entity.label} appears twice ({own[key].source_file}, {entity.source_file})")
        own[key] = entity

    needs: dict[EntityKey, list[EntityKey]] = {}
    external: dict[EntityKey, Reference] = {}
    for entity in (*workflows, *launch_plans):
        required = _requirements(entity)
        key = entity_key(entity.kind, entity.identifier)
        needs[key] = [dependency for dependency, _ in required if dependency in own]
        for dependency, identifier in required:
            if dependency not in own and dependency not in external:
                external[dependency] = Reference(dependency[0], identifier, entity.label)
    ordered = _dependency_order([*workflows, *launch_plans], needs)
    return RegistrationPlan(target, tasks, ordered, tuple(external.values()))


def _requirements(entity: HydratedEntity) -> list[tuple[EntityKey, identifier_pb2.Identifier]]:
    """Tasks, launch plans (and for a launch plan: its workflow) that must exist before ``entity``."""
    if isinstance(entity.spec, launch_plan_pb2.LaunchPlanSpec):
        workflow_id = entity.spec.workflow_id
        return [(entity_key(ResourceKind.WORKFLOW, workflow_id), workflow_id)]
    spec = entity.spec
    if not isinstance(spec, workflow_pb2.WorkflowSpec):
        return []  # tasks need nothing registered before them
    inline = {entity_key(ResourceKind.WORKFLOW, sub.id) for sub in spec.sub_workflows}
    found: list[tuple[EntityKey, identifier_pb2.Identifier]] = []
    for template in (spec.template, *spec.sub_workflows):
        for node in workflow_nodes(template):
            for reference in node_references(node):
                if node.WhichOneof("target") == "task_node":
                    found.append((entity_key(ResourceKind.TASK, reference), reference))
                elif node.workflow_node.WhichOneof("reference") == "launchplan_ref":
                    found.append((entity_key(ResourceKind.LAUNCH_PLAN, reference), reference))
                elif entity_key(ResourceKind.WORKFLOW, reference) not in inline:
                    raise InvalidPackage(
                        f"{entity.label} calls sub-workflow {reference.name} but does not carry it",
                        where=entity.source_file,
                    )
    return found


def _dependency_order(
    entities: list[HydratedEntity], needs: dict[EntityKey, list[EntityKey]]
) -> tuple[HydratedEntity, ...]:
    """Kahn's algorithm; among the ready ones, workflows first, then package order."""
    index = {entity_key(entity.kind, entity.identifier): position for position, entity in enumerate(entities)}
    by_key = {key: entities[position] for key, position in index.items()}
    waiting = {key: {dependency for dependency in needs[key] if dependency in index} for key in index}
    dependents: dict[EntityKey, list[EntityKey]] = {key: [] for key in index}
    for key, dependencies in waiting.items():
        for dependency in dependencies:
            dependents[dependency].append(key)

    def rank(key: EntityKey) -> tuple[int, int]:
        return (0 if key[0] is ResourceKind.WORKFLOW else 1, index[key])

    ready = [(rank(key), key) for key, dependencies in waiting.items() if not dependencies]
    heapq.heapify(ready)
    ordered: list[HydratedEntity] = []
    while ready:
        _, key = heapq.heappop(ready)
        ordered.append(by_key[key])
        for dependent in dependents[key]:
            waiting[dependent].discard(key)
            if not waiting[dependent]:
                heapq.heappush(ready, (rank(dependent), dependent))
    if len(ordered) != len(entities):
        stuck = sorted(by_key[key].label for key, dependencies in waiting.items() if dependencies)
        raise InvalidPackage(f"workflows and launch plans call each other in a cycle: {', '.join(stuck)}")
    return tuple(ordered)
