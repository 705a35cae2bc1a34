"""``release_model`` and its launch plans serialize as registration would, with their failure handler and defaults."""

from __future__ import annotations

import typing
from collections import OrderedDict

import pytest
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.tools.translator import get_serializable
from flytekit.types.error import FlyteError

from launchplans.release_model import promote_and_release, release
from meta_workflows.release_model import promote_and_release_model, release_model
from tasks.core.promote_report import run_failure
from tasks.core.rollout_report import RELEASE_MODEL_NODES
from tasks.core.vocabulary import RunStep

pytestmark = pytest.mark.unit

SETTINGS = SerializationSettings(
    image_config=ImageConfig.auto(img_name="127.0.0.1:30000/taxiway/taxiway:dev"),
    project="taxiway",
    domain="development",
    version="rollout",
)


def test_failure_handler_takes_the_workflow_inputs_and_the_error() -> None:
    handler = release_model.on_failure
    assert handler is not None and handler.name == "tasks.rollout.release_model_failed"
    inputs = dict(handler.python_interface.inputs)
    assert inputs.pop("err") == typing.Optional[FlyteError]  # noqa: UP045 (flytekit's spelling of the type)
    assert inputs == dict(release_model.python_interface.inputs)
    defaults = handler.python_interface.inputs_with_defaults
    for name, (_, default) in release_model.python_interface.inputs_with_defaults.items():
        assert defaults[name][1] == default, name
    serialized = get_serializable(OrderedDict(), SETTINGS, release_model)
    failure_node = serialized.template.failure_node
    assert {binding.var for binding in failure_node.inputs} == set(release_model.python_interface.inputs) | {"err"}


def test_every_node_is_known_to_the_failure_report() -> None:
    assert {node.id for node in release_model.nodes} == set(RELEASE_MODEL_NODES)
    failure = run_failure("roll-out", "ServingRejected: no OIP server", RELEASE_MODEL_NODES, None)
    assert failure.step is RunStep.ROLLED_OUT


@pytest.mark.parametrize(
    ("plan", "workflow", "defaults"),
    [
        (release, "meta_workflows.release_model.release_model", {"domain": "", "config": None}),
        (promote_and_release, "meta_workflows.release_model.promote_and_release_model",
         {"to_domain": "production", "override_reason": "", "config": None}),
    ],
)  # fmt: skip
def test_launch_plans_have_typed_documented_defaults(plan: typing.Any, workflow: str, defaults: dict) -> None:
    serialized = get_serializable(OrderedDict(), SETTINGS, plan)
    assert serialized.spec.workflow_id.name == workflow
    parameters = serialized.spec.default_inputs.parameters
    assert {name for name, parameter in parameters.items() if not parameter.required} == set(defaults)
    assert {name for name, parameter in parameters.items() if parameter.required} == {"pipeline", "version"}
    assert plan.parameters.parameters["version"].var.description  # the docstring reaches the launch form


def test_release_runs_after_the_promotion_succeeded() -> None:
    promote_node, release_node = promote_and_release_model.nodes
    assert promote_node.flyte_entity.name == "meta_workflows.promote.promote_pipeline"
    assert release_node.flyte_entity.name == "meta_workflows.release_model.release_model"
    assert promote_node in release_node.upstream_nodes
    get_serializable(OrderedDict(), SETTINGS, promote_and_release_model)  # compiles
