"""The native scheduler: active launch plans with a cron or fixed-rate schedule fire executions.

Port of flyteadmin's ``scheduler/`` (``core/gocron_scheduler.go``, ``executor/executor_impl.go``,
``identifier/identifier.go``), driven by localflyte's clock so tests advance time instead of sleeping:

- A schedule counts from its launch plan's activation (the closure's ``updated_at``, as flyteadmin's
  ``BootStrapSchedulesFromSnapShot``) or from the last slot fired, whichever is later; so a
  deactivated-then-reactivated plan never fires the slots it missed while inactive.
- Each check fires every slot in ``(from, now]`` once, through the normal ``CreateExecution`` path,
  named ``"f" + uuid(fnv64(project:domain:name:version:unix))[:19]`` with mode SCHEDULED and
  ``scheduled_at``. An existing name (``ALREADY_EXISTS``) counts as fired. Catch-up is bounded: when
  more than ``max_catch_up`` slots were missed (localflyte was down, or time jumped), only the
  latest ``max_catch_up`` fire and the older ones are skipped with a warning.
- Cron schedules get the kickoff-time input (``kickoff_time_input_arg``) set to the slot time; like
  flyteadmin, fixed-rate schedules do not. Cron runs in UTC (flyteadmin's ``useUtcTz``); the
  ``offset`` of a ``cron_schedule`` is not applied.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from croniter import croniter
from flyteidl.admin import execution_pb2, launch_plan_pb2, schedule_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from localflyte.context import AppContext
from localflyte.errors import AdminError
from localflyte.registration import repository

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule_state (
    project TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    last_fired REAL NOT NULL,
    PRIMARY KEY (project, domain, name, version)
);
"""
_UNIT_SECONDS = {schedule_pb2.MINUTE: 60, schedule_pb2.HOUR: 3600, schedule_pb2.DAY: 86400}
CreateExecution = Callable[[execution_pb2.ExecutionCreateRequest], Any]


@dataclass(frozen=True)
class FiredSchedule:
    """One scheduled execution a check created (or found already created)."""

    project: str
    domain: str
    name: str
    launch_plan: str
    launch_plan_version: str
    scheduled_at: float
    existed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project, "domain": self.domain, "name": self.name,
            "launch_plan": self.launch_plan, "launch_plan_version": self.launch_plan_version,
            "scheduled_at": datetime.fromtimestamp(self.scheduled_at, UTC).isoformat(), "existed": self.existed,
        }  # fmt: skip


def _fnv64(data: bytes) -> int:
    value = 0xCBF29CE484222325
    for byte in data:
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        value ^= byte
    return value


def execution_name(launch_plan: identifier_pb2.Identifier, scheduled_at: float) -> str:
    """flyteadmin's deterministic name for a scheduled execution (``GetExecutionIdentifier``)."""
    text = f"{launch_plan.project}:{launch_plan.domain}:{launch_plan.name}:{launch_plan.version}:{int(scheduled_at)}"
    hashed = uuid.UUID(bytes=_fnv64(text.encode()).to_bytes(8, "little") + bytes(8))
    return "f" + hashed.hex[:19]


def cron_expression(schedule: schedule_pb2.Schedule) -> str:
    """The standard 5-field expression; AWS-style 6-field ``cron_expression`` loses its year and ``?``."""
    if schedule.cron_schedule.schedule:
        return schedule.cron_schedule.schedule
    fields = schedule.cron_expression.split()
    if len(fields) == 6:
        fields = fields[:5]
    return " ".join("*" if field == "?" else field for field in fields)


def slots(schedule: schedule_pb2.Schedule, after: float, until: float) -> list[float]:
    """Every fire time in ``(after, until]`` (``GetCatchUpTimes``)."""
    times: list[float] = []
    if schedule.rate.value:
        delay = schedule.rate.value * _UNIT_SECONDS.get(schedule.rate.unit, 60)
        current = math.floor(after) + delay  # robfig's ConstantDelaySchedule drops sub-second parts
        while current <= until:
            times.append(float(current))
            current += delay
        return times
    iterator = croniter(cron_expression(schedule), datetime.fromtimestamp(after, UTC))
    while True:
        current = iterator.get_next(float)
        if current > until:
            return times
        times.append(current)


def _datetime_literal(seconds: float) -> literals_pb2.Literal:
    literal = literals_pb2.Literal()
    literal.scalar.primitive.datetime.FromSeconds(int(seconds))
    return literal


class Scheduler:
    """Checks the active schedules every ``interval`` real seconds, and on demand (:meth:`check`)."""

    def __init__(self, context: AppContext, create_execution: CreateExecution) -> None:
        self._context = context
        self._create = create_execution
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        context.store.ensure_schema(SCHEMA)

    def handlers(self) -> dict[str, Any]:
        return {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._context.settings.schedule_interval):
            try:
                self.check()
            except Exception:  # keep scheduling; the next check retries
                log.exception("schedule check failed")

    def advance(self, seconds: float) -> list[FiredSchedule]:
        """Move localflyte's clock forward and check at once; what fires is returned here, never to the
        background loop in between (both hold the same lock)."""
        with self._lock:
            self._context.clock.advance(seconds)
            return self.check()

    def check(self) -> list[FiredSchedule]:
        """Fire every due slot of every active schedule; returns what fired."""
        with self._lock:
            now = self._context.clock.now()
            fired: list[FiredSchedule] = []
            for plan in repository.active_scheduled_launch_plans(self._context.store):
                fired.extend(self._check_plan(plan, now))
            return fired

    def _check_plan(self, plan: launch_plan_pb2.LaunchPlan, now: float) -> list[FiredSchedule]:
        schedule = plan.spec.entity_metadata.schedule
        after = max(plan.closure.updated_at.ToNanoseconds() / 1e9, self._last_fired(plan.id))
        try:
            due = slots(schedule, after, now)
        except (ValueError, KeyError) as error:
            log.error("launch plan %s has an unusable schedule: %s", plan.id.name, error)
            return []
        limit = self._context.settings.max_catch_up
        if len(due) > limit:
            log.warning("launch plan %s missed %d slots; firing the latest %d", plan.id.name, len(due), limit)
            due = due[-limit:]
        fired: list[FiredSchedule] = []
        for slot in due:
            try:
                fired.append(self._fire(plan, schedule, slot))
            except AdminError as error:
                log.error("schedule of %s at %s did not fire: %s", plan.id.name, slot, error.message)
                break
            self._remember(plan.id, slot)
        return fired

    def _fire(self, plan: launch_plan_pb2.LaunchPlan, schedule: schedule_pb2.Schedule, slot: float) -> FiredSchedule:
        lp_id = identifier_pb2.Identifier(
            resource_type=identifier_pb2.LAUNCH_PLAN, project=plan.id.project, domain=plan.id.domain,
            name=plan.id.name, version=plan.id.version,
        )  # fmt: skip
        inputs = literals_pb2.LiteralMap()
        if schedule.kickoff_time_input_arg and not schedule.rate.value:
            inputs.literals[schedule.kickoff_time_input_arg].CopyFrom(_datetime_literal(slot))
        spec = execution_pb2.ExecutionSpec(launch_plan=lp_id)
        spec.metadata.mode = execution_pb2.ExecutionMetadata.SCHEDULED
        spec.metadata.scheduled_at.FromSeconds(int(slot))
        name = execution_name(lp_id, slot)
        request = execution_pb2.ExecutionCreateRequest(
            project=lp_id.project, domain=lp_id.domain, name=name, spec=spec, inputs=inputs
        )
        existed = False
        try:
            self._create(request)
        except AdminError as error:
            if error.code != grpc.StatusCode.ALREADY_EXISTS:
                raise
            existed = True
        log.info("schedule fired launch_plan=%s version=%s execution=%s", lp_id.name, lp_id.version, name)
        return FiredSchedule(lp_id.project, lp_id.domain, name, lp_id.name, lp_id.version, slot, existed)

    def _last_fired(self, identifier: identifier_pb2.Identifier) -> float:
        row = self._context.store.query_one(
            "SELECT last_fired FROM schedule_state WHERE project=? AND domain=? AND name=? AND version=?",
            (identifier.project, identifier.domain, identifier.name, identifier.version),
        )
        return float(row["last_fired"]) if row else 0.0

    def _remember(self, identifier: identifier_pb2.Identifier, slot: float) -> None:
        self._context.store.execute(
            "INSERT INTO schedule_state (project, domain, name, version, last_fired) VALUES (?,?,?,?,?)"
            " ON CONFLICT (project, domain, name, version) DO UPDATE SET last_fired = excluded.last_fired",
            (identifier.project, identifier.domain, identifier.name, identifier.version, slot),
        )
