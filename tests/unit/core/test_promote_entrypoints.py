"""The promotion, rollback and nightly entry points serialize (compiling their workflows) as registration would."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from flytekit import LaunchPlan
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.models import launch_plan as launch_plan_models
from flytekit.tools.translator import get_serializable

from launchplans import nightly, promote

pytestmark = pytest.mark.unit

SETTINGS = SerializationSettings(
    image_config=ImageConfig.auto(img_name="127.0.0.1:30000/taxiway/taxiway:dev"),
    project="taxiway",
    domain="development",
    version="entrypoints",
)


def _serialize(plan: LaunchPlan) -> launch_plan_models.LaunchPlan:
    entities: OrderedDict = OrderedDict()
    get_serializable(entities, SETTINGS, plan)
    (spec,) = [value for value in entities.values() if isinstance(value, launch_plan_models.LaunchPlan)]
    return spec


@pytest.mark.parametrize(
    ("plan", "workflow", "cron"),
    [
        (promote.promote, "meta_workflows.promote.promote_pipeline", ""),
        (promote.rollback, "meta_workflows.rollback.rollback_pipeline", ""),
        (nightly.nightly_staging, "meta_workflows.nightly.nightly_promotion", "0 2 * * *"),
        (nightly.weekly_production, "meta_workflows.nightly.nightly_promotion", "0 3 * * 1"),
    ],
)
def test_launch_plans_serialize_with_their_schedule(plan: LaunchPlan, workflow: str, cron: str) -> None:
    spec = _serialize(plan)
    assert spec.spec.workflow_id.name == workflow
    schedule = spec.spec.entity_metadata.schedule
    assert (schedule.cron_schedule.schedule if schedule else "") == cron


def test_promote_workflow_has_the_gate_and_the_documented_inputs() -> None:
    from meta_workflows.promote import promote_pipeline

    assert set(promote_pipeline.python_interface.inputs) == {
        "pipeline", "version", "to_domain", "override_reason", "config",
    }  # fmt: skip
    assert promote_pipeline.docs is None or promote_pipeline.__doc__
    names = [node.flyte_entity.name for node in promote_pipeline.nodes]
    gate = [
        "tasks.promote_locate.locate_release", "tasks.promote.check_promotion_gate",
        "tasks.promote.await_approval", "tasks.promote.apply_promotion_task",
    ]  # fmt: skip
    # Report nodes sit between them; the gate's steps keep their order.
    assert [name for name in names if name in gate] == gate
