"""Before the first write: compare the plan with what FlyteAdmin already holds.

A version is immutable. If any entity of the plan is registered under the same version with another
structure, the registration must stop *before* it writes anything, so each planned entity is
fetched (concurrently, :mod:`tasks.core.register_concurrent`) and compared with its registered form:

- a task with ``closure.compiled_task.template`` (FlyteAdmin stores the template as sent);
- a launch plan with its stored ``spec``;
- a workflow with ``closure.compiled_workflow``: the compiler adds ``start-node``/``end-node`` and may
  rewrite ``upstream_node_ids``, so both sides are compared without those (data edges still count,
  through the node bindings). FlyteAdmin remains the judge: a conflict this misses is still refused
  at write time and reported the same way.

Every entity the plan references but does not contain must already be registered.
"""

from __future__ import annotations

import logging
from typing import Any

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2
from google.protobuf import json_format
from google.protobuf.message import Message

from tasks.core.errors import SourceNotFound
from tasks.core.register_admin import AdminPort, version_conflict
from tasks.core.register_concurrent import DEFAULT_MAX_WORKERS, call_each
from tasks.core.register_hydrate import HydratedEntity, ResourceKind
from tasks.core.register_plan import Reference, RegistrationPlan

logger = logging.getLogger(__name__)

_COMPILER_NODES = ("start-node", "end-node")
_MAX_DIFF_PATHS = 10


def check_against_admin(plan: RegistrationPlan, admin: AdminPort, max_workers: int = DEFAULT_MAX_WORKERS) -> int:
    """Raise if the plan cannot be registered as it is; return how many of its entities already exist.

    :param max_workers: concurrent fetches.
    :raises VersionConflict: naming the first entity (in plan order) registered under this version with
        another structure.
    :raises SourceNotFound: if a referenced entity outside the package is not registered.
    :raises AdminUnavailable: if fetches kept failing, naming the entities.
    """
    items: list[HydratedEntity | Reference] = [*plan.entities, *plan.external]
    found = call_each(
        items, lambda item: admin.fetch(item.kind, item.identifier), _label, what="check", max_workers=max_workers
    )
    fetched = dict(zip(map(id, items), found, strict=True))
    existing = 0
    for entity in plan.entities:
        registered = fetched[id(entity)]
        if registered is None:
            continue
        differences = structure_differences(entity, registered)
        if differences:
            raise version_conflict(entity, "changed: " + ", ".join(differences))
        existing += 1
    for reference in plan.external:
        if fetched[id(reference)] is None:
            raise SourceNotFound(
                f"{reference.needed_by} needs {reference.label}, which is neither in the package nor registered",
                where=f"{plan.target.project}/{plan.target.domain}",
                fix="register that entity first, or add its module to `packages` in taxiway.yaml",
            )
    logger.info(
        "registration checked project=%s domain=%s version=%s entities=%d existing=%d references=%d",
        plan.target.project, plan.target.domain, plan.target.version, len(plan.entities), existing, len(plan.external),
    )  # fmt: skip
    return existing


def _label(item: HydratedEntity | Reference) -> str:
    return item.label


def structure_differences(entity: HydratedEntity, registered: Message) -> list[str]:
    """JSON paths where the planned entity differs from its registered form (empty when identical)."""
    if entity.kind is ResourceKind.TASK:
        assert isinstance(entity.spec, task_pb2.TaskSpec) and isinstance(registered, task_pb2.Task)
        return _diff(registered.closure.compiled_task.template, entity.spec.template)
    if entity.kind is ResourceKind.LAUNCH_PLAN:
        assert isinstance(registered, launch_plan_pb2.LaunchPlan)
        return _diff(registered.spec, entity.spec)
    assert isinstance(entity.spec, workflow_pb2.WorkflowSpec) and isinstance(registered, workflow_pb2.Workflow)
    compiled = registered.closure.compiled_workflow
    differences = _diff(_normalized(compiled.primary.template), _normalized(entity.spec.template))
    stored_subs = {sub.template.id.name: sub.template for sub in compiled.sub_workflows}
    for sub in entity.spec.sub_workflows:
        stored = stored_subs.get(sub.id.name)
        if stored is None:
            differences.append(f"/sub_workflows/{sub.id.name}")
        else:
            differences.extend(
                f"/sub_workflows/{sub.id.name}{path}" for path in _diff(_normalized(stored), _normalized(sub))
            )
    return differences[:_MAX_DIFF_PATHS]


def _normalized(template: core_workflow_pb2.WorkflowTemplate) -> core_workflow_pb2.WorkflowTemplate:
    result = core_workflow_pb2.WorkflowTemplate()
    result.CopyFrom(template)
    kept = [node for node in result.nodes if node.id not in _COMPILER_NODES]
    del result.nodes[:]
    result.nodes.extend(kept)
    for node in result.nodes:
        del node.upstream_node_ids[:]
    return result


def _diff(before: Message, after: Message) -> list[str]:
    if before.SerializeToString(deterministic=True) == after.SerializeToString(deterministic=True):
        return []
    paths: list[str] = []

    def walk(old: Any, new: Any, path: str) -> None:
        if len(paths) >= _MAX_DIFF_PATHS:
            return
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                walk(old.get(key), new.get(key), f"{path}/{key}")
        elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            for index, (item_old, item_new) in enumerate(zip(old, new, strict=True)):
                walk(item_old, item_new, f"{path}/{index}")
        elif old != new:
            paths.append(path or "/")

    walk(_tree(before), _tree(after), "")
    return paths or ["/"]


def _tree(message: Message) -> Any:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)
