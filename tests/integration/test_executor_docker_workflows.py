"""Workflows the Docker-runtime tests run (no tests here): the process-runtime tests' tasks and
workflows, composed so that a few executions cover every node kind.

Each execution starts containers, which cost seconds each; so ``node_kinds`` puts a sub-workflow (with
a branch and a launch-plan node inside), a map task, a dynamic task, a raw container task, a retried
task, a task with a Deck, an array node over a launch plan and an approval gate into one workflow.
Tasks import this module inside the example pipeline's image, so it imports nothing but flytekit and
the other workflow modules (no torch).
"""

from __future__ import annotations

import os
from datetime import timedelta

from flytekit import ContainerTask, Deck, WorkflowFailurePolicy, approve, kwtypes, map_task, task, workflow
from flytekit.core.array_node import array_node
from flytekit.types.error import FlyteError

from tests.integration import test_executor_nodes_workflows as nodes
from tests.integration import test_localflyte_workflows as flows

# The stack's base image (Debian + python3): enough for a shell command, and present in the engine.
BASE_IMAGE = os.environ.get("TAXIWAY_BASE_IMAGE", "taxiway/base:bookworm-py311")

add_in_container = ContainerTask(
    name="add_in_container",
    image=BASE_IMAGE,
    input_data_dir="/var/inputs",
    output_data_dir="/var/outputs",
    inputs=kwtypes(a=int, b=int),
    outputs=kwtypes(total=int, note=str),
    # One input from the rendered command line, one from the file the data sidecar wrote.
    command=[
        "sh",
        "-c",
        "echo $(( {{.inputs.a}} + $(cat /var/inputs/b) )) > /var/outputs/total && echo summed > /var/outputs/note",
    ],
)


@task(enable_deck=True)
def reported(x: int) -> int:
    """Writes a Deck, which flytekit uploads as ``deck.html`` beside the outputs."""
    Deck("summary", f"<p>reported x={x}</p>")
    return x


@workflow
def node_kinds(
    a: int, b: int, xs: list[int], n: int, ys: list[int]
) -> tuple[int, int, list[int | None], list[int], int, int, int, int, int, list[int]]:
    """Sub-workflow (task, branch, sub-workflow, launch-plan node), map task, dynamic, container task,
    recoverable retry, a Deck and an array node over a launch plan; the ninth output passes through
    the ``release`` approval gate."""
    twice, via_launch_plan = flows.tour(a=a, b=b)
    mapped = map_task(nodes.tenfold_unless_three, concurrency=2, min_success_ratio=0.8)(x=xs)
    children = array_node(flows.doubled_lp, concurrency=2, min_success_ratio=1.0)(x=ys)
    values = nodes.squares_plus_one(n=n)
    total = nodes.total(values=values)
    summed, _ = add_in_container(a=a, b=b)
    attempt = flows.flaky()
    shown = reported(x=a)
    released = approve(summed, "release", timeout=timedelta(minutes=10))
    return twice, via_launch_plan, mapped, values, total, attempt, shown, summed, released, children


@workflow
def rejected(x: int) -> int:
    """One task behind an approval gate (flytekit refuses workflow inputs there): a rejection must fail it."""
    return approve(flows.double(x=x), "release", timeout=timedelta(minutes=10))


@task
def report_failure(x: int, err: FlyteError | None = None) -> None:
    """The failure handler: prints what it was told, which the kept container log shows."""
    assert err is not None, "the failure node got no error"
    print(f"failure handler: node={err.failed_node_id} message={err.message}")


@workflow(on_failure=report_failure, failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
def failures(x: int) -> tuple[int, int, int]:
    """One task raises, one times out, an independent one still runs to success; then the handler runs."""
    return flows.explode(x=x), flows.dawdle(x=x), flows.double(x=x)
