"""Names are API: every meta-workflow and launch plan imports by its dotted name and serializes.

Flyte registers ``<module>.<function>``; renaming one breaks UI bookmarks, schedules and external CI.
The launch plans are serialized as registration would, which also compiles their workflows.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import OrderedDict
from types import ModuleType
from typing import Any

import pytest
from flytekit import LaunchPlan
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.core.workflow import WorkflowBase
from flytekit.models import launch_plan as launch_plan_models
from flytekit.models.admin import workflow as workflow_models
from flytekit.tools.translator import get_serializable

import launchplans
import meta_workflows

pytestmark = pytest.mark.unit

#: Every public entry point. Adding one is fine; renaming or removing one must be deliberate.
WORKFLOWS = {
    "meta_workflows.ci.ci_pipeline",
    "meta_workflows.promote.promote_pipeline",
    "meta_workflows.rollback.rollback_pipeline",
    "meta_workflows.release_model.release_model",
    "meta_workflows.release_model.promote_and_release_model",
    "meta_workflows.nightly.nightly_promotion",
}
LAUNCH_PLANS = {
    "taxiway.ci_from_git": "meta_workflows.ci.ci_pipeline",
    "taxiway.promote": "meta_workflows.promote.promote_pipeline",
    "taxiway.rollback": "meta_workflows.rollback.rollback_pipeline",
    "taxiway.release_model": "meta_workflows.release_model.release_model",
    "taxiway.promote_and_release": "meta_workflows.release_model.promote_and_release_model",
    "taxiway.nightly_staging": "meta_workflows.nightly.nightly_promotion",
    "taxiway.weekly_production": "meta_workflows.nightly.nightly_promotion",
}
#: The module each launch plan is declared in: its dotted import path is API too.
LAUNCH_PLAN_MODULES = {
    "taxiway.ci_from_git": "launchplans.ci.ci_from_git",
    "taxiway.promote": "launchplans.promote.promote",
    "taxiway.rollback": "launchplans.promote.rollback",
    "taxiway.nightly_staging": "launchplans.nightly.nightly_staging",
    "taxiway.weekly_production": "launchplans.nightly.weekly_production",
    "taxiway.release_model": "launchplans.release_model.release",
    "taxiway.promote_and_release": "launchplans.release_model.promote_and_release",
}

SETTINGS = SerializationSettings(
    image_config=ImageConfig.auto(img_name="127.0.0.1:30000/taxiway/taxiway:dev"),
    project="taxiway",
    domain="development",
    version="entrypoints",
)


def _modules(package: ModuleType) -> list[ModuleType]:
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    ]


def _entities(package: ModuleType, kind: type[WorkflowBase] | type[LaunchPlan]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for module in _modules(package):
        for value in vars(module).values():
            if isinstance(value, kind):
                found[value.name] = value
    return found


def test_every_meta_workflow_imports_by_its_dotted_name() -> None:
    workflows = _entities(meta_workflows, WorkflowBase)
    # A launch-plan module re-exports its workflow: only meta_workflows defines them.
    assert set(workflows) == WORKFLOWS, "a meta-workflow was added or renamed: update WORKFLOWS"
    for name in WORKFLOWS:
        module, _, attribute = name.rpartition(".")
        assert getattr(importlib.import_module(module), attribute).name == name


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_meta_workflow_serializes(name: str) -> None:
    module, _, attribute = name.rpartition(".")
    workflow = getattr(importlib.import_module(module), attribute)
    spec = get_serializable(OrderedDict(), SETTINGS, workflow)
    assert isinstance(spec, workflow_models.WorkflowSpec)
    assert spec.template.id.name == name
    assert spec.template.nodes, f"{name} has no nodes"


@pytest.mark.parametrize(("name", "dotted"), sorted(LAUNCH_PLAN_MODULES.items()))
def test_every_launch_plan_imports_by_its_dotted_name(name: str, dotted: str) -> None:
    module, _, attribute = dotted.rpartition(".")
    plan = getattr(importlib.import_module(module), attribute)
    assert isinstance(plan, LaunchPlan)
    assert plan.name == name


def test_every_launch_plan_serializes_with_its_workflow() -> None:
    plans = _entities(launchplans, LaunchPlan)
    assert set(LAUNCH_PLANS) == set(plans), "a launch plan was added or renamed: update LAUNCH_PLANS"
    for name, plan in plans.items():
        assert isinstance(plan, LaunchPlan)
        entities: OrderedDict = OrderedDict()
        serialized = get_serializable(entities, SETTINGS, plan)
        assert isinstance(serialized, launch_plan_models.LaunchPlan)
        assert serialized.id.name == name
        if name in LAUNCH_PLANS:
            assert serialized.spec.workflow_id.name == LAUNCH_PLANS[name]
        # Launch plans are declared inactive: activation is promotion's decision.
        assert not plan.should_auto_activate


def test_ci_pipeline_composes_source_build_package_register_record() -> None:
    from meta_workflows.ci import ci_pipeline
    from tasks.core.records import Release

    interface = ci_pipeline.python_interface
    assert interface.outputs == {"o0": Release}
    assert set(interface.inputs) == {
        "source", "git_url", "git_ref", "git_sha", "pipeline_dir", "pr_number", "config_path", "validate",
        "source_archive",
    }  # fmt: skip
    assert interface.default_inputs_as_kwargs["pr_number"] == 0
    assert interface.default_inputs_as_kwargs["config_path"] == "taxiway.yaml"
    entities: OrderedDict = OrderedDict()
    spec = get_serializable(entities, SETTINGS, ci_pipeline)
    assert isinstance(spec, workflow_models.WorkflowSpec)
    tasks = [node.task_node.reference_id.name for node in spec.template.nodes]
    assert tasks == [
        "tasks.source.fetch_source",
        "tasks.ci_report.report_ci_started",
        "tasks.build.build_images",
        "tasks.package.package_release",
        "tasks.register.register_release",
        "tasks.register.record_release",
        "tasks.ci_report.report_ci_release",
        "tasks.ci_report.ci_release_context",
        "tasks.validate.validate_in_first_domain",
        "tasks.ci_report.finish_ci",
    ]
    # The docstring, :param: lines included, is what users read when launching it from the UI.
    assert ci_pipeline.docs is not None
    assert "first domain" in (ci_pipeline.docs.short_description or "")
    inputs = spec.template.interface.inputs
    assert "pull request" in inputs["pr_number"].description
    assert inputs["source"].type.union_type is not None  # FlyteDirectory | None
