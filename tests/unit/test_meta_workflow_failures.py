"""Every promotion meta-workflow reports its failures: an ``on_failure`` handler whose interface matches.

Flyte binds the workflow's inputs (and the ``FlyteError`` of the failed node) to the failure node;
a handler whose inputs drift from the workflow's fails registration, and a node the handler does not
know would be reported without its step.
"""

from __future__ import annotations

import typing
from collections import OrderedDict

import pytest
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.core.workflow import WorkflowBase
from flytekit.tools.translator import get_serializable
from flytekit.types.error import FlyteError

from meta_workflows.nightly import nightly_promotion
from meta_workflows.promote import promote_pipeline
from meta_workflows.rollback import rollback_pipeline
from tasks.core.notify_records import Link
from tasks.core.promote_report import run_failure
from tasks.core.vocabulary import RunStep
from tasks.promote_report import NIGHTLY_NODES, PROMOTE_NODES, ROLLBACK_NODES

pytestmark = pytest.mark.unit

SETTINGS = SerializationSettings(
    image_config=ImageConfig.auto(img_name="127.0.0.1:30000/taxiway/taxiway:dev"),
    project="taxiway",
    domain="development",
    version="failures",
)
CASES = [
    pytest.param(promote_pipeline, PROMOTE_NODES, "tasks.promote_report.promotion_failed", id="promote"),
    pytest.param(rollback_pipeline, ROLLBACK_NODES, "tasks.promote_report.rollback_failed", id="rollback"),
    pytest.param(nightly_promotion, NIGHTLY_NODES, "tasks.promote_report.nightly_failed", id="nightly"),
]


@pytest.mark.parametrize(("workflow", "nodes", "handler"), CASES)
def test_handler_takes_the_workflow_inputs_and_the_error(
    workflow: WorkflowBase, nodes: dict[str, RunStep], handler: str
) -> None:
    assert workflow.on_failure is not None, f"{workflow.name} has no on_failure handler"
    assert workflow.on_failure.name == handler
    inputs = dict(workflow.on_failure.python_interface.inputs)
    assert inputs.pop("err") == typing.Optional[FlyteError]  # noqa: UP045 (flytekit's spelling of the type)
    assert inputs == dict(workflow.python_interface.inputs)
    # Same defaults too: a failure handler run with the workflow's defaults must mean the same thing.
    handler_defaults = workflow.on_failure.python_interface.inputs_with_defaults
    for name, (_, default) in workflow.python_interface.inputs_with_defaults.items():
        assert handler_defaults[name][1] == default, name


@pytest.mark.parametrize(("workflow", "nodes", "handler"), CASES)
def test_serialized_workflow_has_a_failure_node_bound_to_every_input(
    workflow: WorkflowBase, nodes: dict[str, RunStep], handler: str
) -> None:
    serialized = get_serializable(OrderedDict(), SETTINGS, workflow)
    failure_node = serialized.template.failure_node
    assert failure_node is not None and failure_node.task_node.reference_id.name == handler
    bound = {binding.var for binding in failure_node.inputs}
    assert bound == set(workflow.python_interface.inputs) | {"err"}


@pytest.mark.parametrize(("workflow", "nodes", "handler"), CASES)
def test_every_node_is_known_to_the_failure_report(
    workflow: WorkflowBase, nodes: dict[str, RunStep], handler: str
) -> None:
    # The failure message names the node and its step; an unnamed ``n3`` would tell the reader nothing.
    assert {node.id for node in workflow.nodes} == set(nodes)


@pytest.mark.parametrize(
    ("failed_node", "step"),
    [
        ("check-promotion-gate", RunStep.PROMOTED),
        ("await-approval", RunStep.APPROVED),
        ("n4-0-apply-promotion", RunStep.PROMOTED),  # inside a parent node (the nightly's dynamic)
        ("locate-release", RunStep.STARTED),
        ("something-else", None),
    ],
)
def test_run_failure_names_the_node_and_its_step(failed_node: str, step: RunStep | None) -> None:
    link = Link("p/d/promote-1", "http://127.0.0.1:30080/console/projects/p/domains/d/executions/promote-1")
    failure = run_failure(failed_node, "PromotionRefused: not validated", PROMOTE_NODES, link)
    assert (failure.failed_node, failure.step, failure.execution) == (failed_node, step, link)
    assert failure.error == "PromotionRefused: not validated"


def test_a_local_run_names_the_task_from_the_message() -> None:
    # flytekit's local execution gives the failure node's own id (fn0); its message names the task.
    message = "Error encountered while executing 'tasks.promote.apply_promotion_task':\n  AdminUnavailable"
    failure = run_failure("fn0", message, PROMOTE_NODES, None)
    assert (failure.failed_node, failure.step) == ("tasks.promote.apply_promotion_task", RunStep.PROMOTED)


def test_run_failure_without_an_error_still_says_so() -> None:
    failure = run_failure("", "", PROMOTE_NODES, None)
    assert (failure.failed_node, failure.error, failure.step) == ("unknown node", "no error message", None)
