"""Projects, domains, tasks, workflows, launch plans and matchable attributes."""

from __future__ import annotations

from localflyte.context import AppContext
from localflyte.registration.attribute_manager import AttributesManager
from localflyte.registration.launch_plans import LaunchPlanManager
from localflyte.registration.named_entities import NamedEntityManager
from localflyte.registration.projects import ProjectManager
from localflyte.registration.repository import SCHEMA
from localflyte.registration.tasks import TaskManager
from localflyte.registration.workflows import WorkflowManager
from localflyte.server import Component


def components(context: AppContext) -> list[Component]:
    """The registration side of the AdminService; creates its tables and seeds the configured projects."""
    context.store.ensure_schema(SCHEMA)
    projects = ProjectManager(context)
    projects.seed()
    return [
        projects,
        TaskManager(context),
        WorkflowManager(context),
        LaunchPlanManager(context),
        NamedEntityManager(context),
        AttributesManager(context),
    ]
