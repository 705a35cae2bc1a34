"""The native scheduler: active scheduled launch plans fire when localflyte's clock is advanced (``tick``).

Runs against the session localflyte (no executor: fired executions stay QUEUED, which is all these
tests look at). Time is moved with ``python -m localflyte tick``; nothing sleeps for a schedule.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flyteidl.admin import execution_pb2
from flytekit import CronSchedule, FixedRate, LaunchPlan, task, workflow
from flytekit.models.core.identifier import Identifier, ResourceType
from flytekit.remote import FlyteRemote

from localflyte.scheduler import execution_name
from localflyte.testing import LocalFlyteProcess
from tests.conformance.executions_support import settings

pytestmark = pytest.mark.conformance

DAY = 86400


@task
def stamp(kickoff: datetime) -> str:
    """Never runs here: registration only needs its interface."""
    return kickoff.isoformat()


@workflow
def stamped(kickoff: datetime) -> str:
    return stamp(kickoff=kickoff)


@task
def noop() -> int:
    return 1


@workflow
def every_minute_work() -> int:
    return noop()


nightly = LaunchPlan.get_or_create(
    stamped, name="sched_nightly", schedule=CronSchedule(schedule="0 0 * * *", kickoff_time_input_arg="kickoff")
)
minutely = LaunchPlan.get_or_create(every_minute_work, name="sched_minutely", schedule=FixedRate(timedelta(minutes=1)))


def tick(localflyte: LocalFlyteProcess, *arguments: str) -> dict[str, Any]:
    """``python -m localflyte tick --port P ...``; returns its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "localflyte", "tick", "--port", localflyte.endpoint.rsplit(":", 1)[1], *arguments],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def fired_in(answer: dict[str, Any], project: str) -> list[dict[str, Any]]:
    return [fired for fired in answer["fired"] if fired["project"] == project]


@pytest.fixture
def register(remote_for: Callable[[str], FlyteRemote], project: str) -> Iterator[Callable[[LaunchPlan], Identifier]]:
    """Registers (inactive) and yields its id; every launch plan activated by the test is deactivated after it."""
    remote = remote_for("development")
    registered: list[Identifier] = []

    def make(plan: LaunchPlan) -> Identifier:
        remote.register_launch_plan(plan, version="v1", project=project, domain="development",
                                    serialization_settings=settings(project))  # fmt: skip
        identifier = Identifier(ResourceType.LAUNCH_PLAN, project, "development", plan.name, "v1")
        registered.append(identifier)
        return identifier

    yield make
    for identifier in registered:
        remote.client.update_launch_plan(identifier, "INACTIVE")


def test_cron_schedule_fires_after_activation_with_kickoff_time_and_not_after_deactivation(
    localflyte: LocalFlyteProcess, remote_for: Callable[[str], FlyteRemote], project: str, register: Any
) -> None:
    remote = remote_for("development")
    plan_id = register(nightly)

    assert fired_in(tick(localflyte, "--seconds", str(DAY)), project) == []  # inactive: nothing fires

    remote.client.update_launch_plan(plan_id, "ACTIVE")
    answer = tick(localflyte, "--seconds", str(DAY))
    fired = fired_in(answer, project)

    assert len(fired) == 1, answer
    slot = datetime.fromisoformat(fired[0]["scheduled_at"])
    assert (slot.hour, slot.minute, slot.second) == (0, 0, 0)
    assert fired[0]["name"] == execution_name(plan_id.to_flyte_idl(), slot.timestamp())
    execution_id = remote.fetch_execution(project=project, domain="development", name=fired[0]["name"]).id
    execution = remote.client.get_execution(execution_id).to_flyte_idl()
    assert execution.spec.metadata.mode == execution_pb2.ExecutionMetadata.SCHEDULED
    assert execution.spec.metadata.scheduled_at.ToDatetime(tzinfo=UTC) == slot
    data = remote.client.get_execution_data(execution_id).to_flyte_idl()
    assert data.full_inputs.literals["kickoff"].scalar.primitive.datetime.ToDatetime(tzinfo=UTC) == slot

    remote.client.update_launch_plan(plan_id, "INACTIVE")
    assert fired_in(tick(localflyte, "--seconds", str(DAY)), project) == []


def test_fixed_rate_fires_once_per_interval_and_catch_up_is_bounded(
    localflyte: LocalFlyteProcess, remote_for: Callable[[str], FlyteRemote], project: str, register: Any
) -> None:
    remote = remote_for("development")
    plan_id = register(minutely)
    remote.client.update_launch_plan(plan_id, "ACTIVE")

    first = fired_in(tick(localflyte, "--seconds", "61"), project)
    assert len(first) == 1
    again = fired_in(tick(localflyte, "--seconds", "0"), project)
    assert again == []  # a slot fires once

    # 30 missed minutes: only the latest max_catch_up (10) fire, one minute apart.
    burst = fired_in(tick(localflyte, "--seconds", str(30 * 60)), project)
    assert len(burst) == 10
    times = [datetime.fromisoformat(fired["scheduled_at"]).timestamp() for fired in burst]
    assert [later - earlier for earlier, later in itertools.pairwise(times)] == [60.0] * 9
    assert len({fired["name"] for fired in burst}) == 10


def test_tick_refuses_to_move_time_backwards(localflyte: LocalFlyteProcess) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "localflyte", "tick", "--port", localflyte.endpoint.rsplit(":", 1)[1],
         "--to", "2001-01-01T00:00:00+00:00"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "only moves forward" in done.stderr
