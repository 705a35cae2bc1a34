"""``ci_pipeline``'s shape: validation in the first domain, its ``validate`` input, its failure handler."""

from __future__ import annotations

import typing
from collections import OrderedDict

import pytest
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.tools.translator import get_serializable
from flytekit.types.error import FlyteError

from launchplans.ci import ci_from_git
from meta_workflows.ci import ci_pipeline
from tasks.core.records import Release
from tasks.core.report_ci import CI_NODES, FINISH_NODE

pytestmark = pytest.mark.unit

SETTINGS = SerializationSettings(
    image_config=ImageConfig.auto(img_name="127.0.0.1:30000/taxiway/taxiway:dev"),
    project="taxiway",
    domain="development",
    version="ci-shape",
)


def test_validate_is_an_input_that_defaults_to_true_and_the_ui_launch_plan_keeps_it() -> None:
    defaults = ci_pipeline.python_interface.default_inputs_as_kwargs
    assert ci_pipeline.python_interface.inputs["validate"] is bool
    assert defaults["validate"] is True
    assert ci_from_git.fixed_inputs.literals == {}
    assert ci_from_git.parameters.parameters["validate"].default.scalar.primitive.boolean is True
    assert ci_pipeline.python_interface.outputs == {"o0": Release}


def test_failure_handler_takes_the_workflow_inputs_with_their_defaults_and_the_error() -> None:
    handler = ci_pipeline.on_failure
    assert handler is not None and handler.name == "tasks.ci_report.ci_failed"
    inputs = dict(handler.python_interface.inputs)
    assert inputs.pop("err") == typing.Optional[FlyteError]  # noqa: UP045 (flytekit's spelling of the type)
    assert inputs == dict(ci_pipeline.python_interface.inputs)
    handler_defaults = handler.python_interface.inputs_with_defaults
    for name, (_, default) in ci_pipeline.python_interface.inputs_with_defaults.items():
        assert handler_defaults[name][1] == default, name


def test_every_node_is_named_and_known_to_the_failure_report_in_order() -> None:
    assert [node.id for node in ci_pipeline.nodes] == list(CI_NODES)
    assert ci_pipeline.nodes[-1].id == FINISH_NODE, "the release returned is the one with its validation"
    # Promotion reads the release's taxiway.yaml from the Checkout that node returned.
    assert ci_pipeline.nodes[0].id == "fetch-source"


def test_serialized_workflow_validates_after_registering_and_binds_the_failure_node() -> None:
    spec = get_serializable(OrderedDict(), SETTINGS, ci_pipeline)
    nodes = {node.id: node for node in spec.template.nodes}
    validate = nodes["validate-in-first-domain"]
    assert validate.task_node.reference_id.name == "tasks.validate.validate_in_first_domain"
    assert {binding.var for binding in validate.inputs} == {"context", "enabled"}
    assert "report-ci-release" in validate.upstream_node_ids  # the thread reads registered, then validated
    failure_node = spec.template.failure_node
    assert failure_node is not None and failure_node.task_node.reference_id.name == "tasks.ci_report.ci_failed"
    assert {binding.var for binding in failure_node.inputs} == set(ci_pipeline.python_interface.inputs) | {"err"}
