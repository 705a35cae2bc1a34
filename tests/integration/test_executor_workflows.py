"""Workflows the executor integration tests run (no tests here).

``pyflyte-execute`` imports this module by name (``tests.integration.test_executor_workflows``) inside
each task process, so it must stay importable with only the repository root on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from flytekit import WorkflowFailurePolicy, conditional, sleep, task, workflow
from flytekit.exceptions.user import FlyteRecoverableException


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def double(x: int) -> int:
    return 2 * x


@task(retries=2)
def flaky_increment(marker: str, x: int) -> int:
    """Fails recoverably on attempt 0 (``FLYTE_ATTEMPT_NUMBER``, set by the executor), then succeeds.

    Each attempt appends its number to the marker file, so a test on the same host can count them.
    """
    attempt = int(os.environ["FLYTE_ATTEMPT_NUMBER"])
    with Path(marker).open("a") as attempts:
        attempts.write(f"{attempt}\n")
    if attempt == 0:
        raise FlyteRecoverableException("transient failure on the first attempt")
    return x + 1


@task
def explode(x: int) -> int:
    if x != 42:
        raise ValueError(f"the answer is not {x}")
    return x


@task(timeout=timedelta(seconds=2))
def dawdle(x: int) -> int:
    time.sleep(60)
    return x


@workflow
def doubled(x: int) -> int:
    return double(x=x)


@workflow
def arithmetic(a: int, b: int, marker: str) -> tuple[int, int]:
    """add → branch (double when > 10, else add 1) → sub-workflow (double) → flaky +1."""
    total = add(a=a, b=b)
    chosen = conditional("big_or_small").if_(total > 10).then(double(x=total)).else_().then(add(a=total, b=1))
    twice = doubled(x=chosen)
    return twice, flaky_increment(marker=marker, x=twice)


@workflow
def failing(x: int) -> int:
    return explode(x=x)


@workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
def failing_after_others(x: int) -> tuple[int, int]:
    return explode(x=x), double(x=x)


@workflow
def too_slow(x: int) -> int:
    return dawdle(x=x)


@workflow
def napping(x: int) -> int:
    result = double(x=x)
    sleep(timedelta(seconds=1)) >> result
    return result
