"""Workflows for the executor's array, dynamic and failure-node tests (no tests here).

``pyflyte-execute`` / ``pyflyte-map-execute`` import this module by name inside each task process,
so it must stay importable with only the repository root on ``PYTHONPATH`` (and without torch: the
PyTorch workflows live in ``test_executor_nodes_torch_workflows``).
"""

from __future__ import annotations

from pathlib import Path

from flytekit import dynamic, map_task, task, workflow
from flytekit.types.error import FlyteError


@task
def tenfold_unless_three(x: int) -> int:
    """Fails (a USER error, not retried) for ``x == 3``, so one index of a map over it fails."""
    if x == 3:
        raise ValueError(f"index with x={x} fails on purpose")
    return 10 * x


@workflow
def tolerant_map(xs: list[int]) -> list[int | None]:
    return map_task(tenfold_unless_three, concurrency=2, min_success_ratio=0.8)(x=xs)


@workflow
def strict_map(xs: list[int]) -> list[int]:
    return map_task(tenfold_unless_three, concurrency=2)(x=xs)


@task
def square(x: int) -> int:
    return x * x


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def total(values: list[int]) -> int:
    return sum(values)


@dynamic
def squares_plus_one(n: int) -> list[int]:
    """n square tasks, each feeding an add task: 2n nodes decided at run time."""
    return [add(a=square(x=i), b=1) for i in range(n)]


@workflow
def dynamic_fan_out(n: int) -> tuple[list[int], int]:
    values = squares_plus_one(n=n)
    return values, total(values=values)


@task
def fail_loudly(marker: str) -> int:
    if marker:
        raise RuntimeError(f"deliberate failure (marker {marker})")
    return 0


@task
def record_failure(marker: str, err: FlyteError | None = None) -> None:
    """The failure handler: writes what it was told to the marker file for the test to read."""
    assert err is not None, "the failure node got no error"
    Path(marker).write_text(f"{err.failed_node_id}\n{err.message}\n")


@workflow(on_failure=record_failure)
def fails_with_handler(marker: str) -> int:
    return fail_loudly(marker=marker)
