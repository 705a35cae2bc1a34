"""Workflows the localflyte end-to-end tests register and run (no tests here).

``pyflyte run --remote`` / ``pyflyte register`` package this module by its dotted name
(``tests.integration.test_localflyte_workflows``), so it imports nothing but flytekit.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from flytekit import CronSchedule, LaunchPlan, approve, conditional, task, wait_for_input, workflow
from flytekit.exceptions.user import FlyteRecoverableException


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def doubled(x: int) -> int:
    return double(x=x)


doubled_lp = LaunchPlan.get_or_create(doubled, name="localflyte_doubled")


@workflow
def tour(a: int, b: int) -> tuple[int, int]:
    """task → branch (double when > 10, else + 1) → sub-workflow (double) → launch-plan node (double)."""
    total = add(a=a, b=b)
    chosen = conditional("big_or_small").if_(total > 10).then(double(x=total)).else_().then(add(a=total, b=1))
    twice = doubled(x=chosen)
    return twice, doubled_lp(x=twice)


@task(cache=True, cache_version="1")
def square(x: int) -> int:
    return x * x


@workflow
def cached(x: int) -> int:
    return square(x=x)


@workflow
def gated(x: int) -> int:
    """Waits for the ``bonus`` signal and the ``release`` approval, then adds them up."""
    bonus = wait_for_input("bonus", timeout=timedelta(minutes=5), expected_type=int)
    approved = approve(double(x=x), "release", timeout=timedelta(minutes=5))
    return add(a=approved, b=bonus)


@workflow
def gate_times_out(x: int) -> int:
    return approve(double(x=x), "never", timeout=timedelta(seconds=1))


@task
def explode(x: int) -> int:
    if x != 42:
        raise ValueError(f"the answer is not {x}")
    return x


@workflow
def failing(x: int) -> int:
    return explode(x=x)


@task(retries=2)
def flaky() -> int:
    """Fails recoverably on its first attempt (``FLYTE_ATTEMPT_NUMBER`` comes from the executor)."""
    attempt = int(os.environ["FLYTE_ATTEMPT_NUMBER"])
    if attempt == 0:
        raise FlyteRecoverableException("transient failure on the first attempt")
    return attempt


@workflow
def retried() -> int:
    return flaky()


@task(timeout=timedelta(seconds=2))
def dawdle(x: int) -> int:
    time.sleep(60)
    return x


@workflow
def too_slow(x: int) -> int:
    return dawdle(x=x)


@task
def linger(pid_file: str) -> int:
    """Writes its pid where the test can see it (process runtime), then sleeps until terminated."""
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(300)
    return 0


@workflow
def lingering(pid_file: str) -> int:
    return linger(pid_file=pid_file)


@task
def stamp(kickoff: datetime) -> str:
    return kickoff.isoformat()


@workflow
def stamped(kickoff: datetime) -> str:
    return stamp(kickoff=kickoff)


nightly = LaunchPlan.get_or_create(
    stamped,
    name="localflyte_nightly",
    schedule=CronSchedule(schedule="0 0 * * *", kickoff_time_input_arg="kickoff"),
)
