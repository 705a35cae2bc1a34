"""taxiway.yaml's per-domain ``governance`` section: who approves, and when promotions may happen.

Specs only. Evaluating them is :mod:`tasks.core.governance_policy` (approvals) and
:mod:`tasks.core.governance_windows` (windows); freezes and holds are state in Flyte, not config.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'") from None
    return value


def _days(value: str) -> str:
    for part in value.split(","):
        if not _DAYS.match(part.strip()):
            raise ValueError(f"expected weekdays like 'mon-fri' or 'mon,wed,fri', got {value!r}")
    return value


def _hours(value: str) -> str:
    match = _HOURS.match(value)
    if not match or (match.group(3) == "24" and match.group(4) != "00"):
        raise ValueError(f"expected hours like '09:00-16:00' (24:00 allowed as the end), got {value!r}")
    return value


TimeZone = Annotated[str, AfterValidator(_time_zone)]
Days = Annotated[str, AfterValidator(_days)]
Hours = Annotated[str, AfterValidator(_hours)]


class Approver(_Spec):
    """One person who may approve: a name (what distinct approvals count) and the identities they use."""

    name: str = Field(min_length=1, description="The person, e.g. 'alice' (distinct approvals count people).")
    slack: str | None = Field(default=None, description="Their Slack user id, e.g. 'U01ALICE'.")
    flyte: str | None = Field(default=None, description="Their Flyte identity (`taxiway approve --as`), e.g. 'alice'.")
    email: str | None = Field(default=None, description="Matches the release author (git commit author email).")


class ApprovalPolicySpec(_Spec):
    """N of M: ``required`` distinct approvals from ``approvers`` (and members of ``slack_groups``)."""

    required: Annotated[StrictInt, Field(ge=1)] = Field(default=1, description="Distinct approvals needed.")
    approvers: tuple[Approver, ...] = Field(default=(), description="Who may approve; empty: anyone.")
    slack_groups: tuple[str, ...] = Field(default=(), description="Slack user group ids whose members may approve.")
    author_may_approve: StrictBool = Field(default=False, description="Whether the release author's approval counts.")
    on_timeout: Literal["reject"] = Field(default="reject", description="What the approval timeout means.")

    @model_validator(mode="after")
    def _enough_approvers(self) -> ApprovalPolicySpec:
        names = [approver.name for approver in self.approvers]
        if len(set(names)) != len(names):
            raise ValueError("approvers: each name once")
        if self.approvers and not self.slack_groups and self.required > len(self.approvers):
            raise ValueError(f"required: {self.required} approvals but only {len(self.approvers)} approvers")
        return self


class WindowSpec(_Spec):
    """When promotions may run: ``days`` at ``hours`` in ``timezone`` (wall-clock time, DST included)."""

    days: Days = Field(default="mon-fri", description="Weekdays, e.g. 'mon-fri' or 'mon,wed'.")
    hours: Hours = Field(default="00:00-24:00", description="Local hours, e.g. '09:00-16:00' (end excluded).")
    timezone: TimeZone = Field(default="UTC", description="IANA time zone, e.g. 'Europe/Berlin'.")

    def day_numbers(self) -> frozenset[int]:
        """Weekday numbers (Monday 0) the window covers."""
        days: set[int] = set()
        for part in self.days.split(","):
            first, _, last = part.strip().partition("-")
            start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
            days.update((start + offset) % 7 for offset in range((end - start) % 7 + 1))
        return frozenset(days)

    def bounds(self) -> tuple[time, time | None]:
        """Start and end wall-clock times; end None means midnight (24:00)."""
        start, end = self.hours.split("-")
        return time.fromisoformat(start), None if end == "24:00" else time.fromisoformat(end)


class DenySpec(_Spec):
    """No promotions on these dates (inclusive), in ``timezone``: holidays, release freezes planned ahead."""

    start: date = Field(description="First denied date, e.g. 2030-12-24.")
    end: date | None = Field(default=None, description="Last denied date (default: start).")
    reason: str = Field(default="", description="Shown when a promotion is refused or waits.")
    timezone: TimeZone = Field(default="UTC")

    @model_validator(mode="after")
    def _ordered(self) -> DenySpec:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class GovernanceSpec(_Spec):
    """A domain's approval policy and promotion windows."""

    approval: ApprovalPolicySpec | None = Field(
        default=None, description="N-of-M approval policy (with requires_approval: true)."
    )
    windows: tuple[WindowSpec, ...] = Field(default=(), description="Allowed windows; empty: always allowed.")
    deny: tuple[DenySpec, ...] = Field(default=(), description="Denied dates, e.g. holidays.")
