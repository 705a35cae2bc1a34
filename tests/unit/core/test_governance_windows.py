"""Promotion windows (time zones, DST edges), deny windows, and decide_governance with freezes and holds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tasks.core.config_governance import DenySpec, GovernanceSpec, WindowSpec
from tasks.core.governance import Proceed, Trigger, Wait, decide_governance
from tasks.core.governance_state import (
    Freeze,
    GovernanceState,
    Hold,
    MemoryGovernanceState,
    set_freeze,
    set_hold,
)
from tasks.core.governance_windows import InWindow, OutsideWindow, check_window
from tasks.core.promote_decide import Refuse

pytestmark = pytest.mark.unit

BERLIN = GovernanceSpec(windows=(WindowSpec(days="mon-fri", hours="09:00-16:00", timezone="Europe/Berlin"),))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "inside"),
    [
        ("2030-01-07T08:00", True),  # Monday 09:00 in Berlin (CET, UTC+1)
        ("2030-01-07T07:59", False),  # 08:59 Berlin
        ("2030-01-07T14:59", True),  # 15:59 Berlin
        ("2030-01-07T15:00", False),  # 16:00 Berlin: the end is excluded
        ("2030-07-08T07:00", True),  # Monday 09:00 in summer (CEST, UTC+2)
        ("2030-07-08T14:30", False),  # 16:30 in summer, though 15:30 in CET
        ("2030-01-05T10:00", False),  # Saturday
        ("2030-01-06T23:30", False),  # Sunday in UTC, Monday 00:30 Berlin, still before 09:00
    ],
)
def test_window_in_its_time_zone(now: str, inside: bool) -> None:
    assert isinstance(check_window(BERLIN, utc(now)), InWindow) is inside


def test_dst_edges_use_wall_clock_time() -> None:
    night = GovernanceSpec(windows=(WindowSpec(days="sun", hours="02:00-03:00", timezone="Europe/Berlin"),))
    # 2030-03-31: clocks jump 02:00 -> 03:00 CEST; the window does not exist that night
    assert isinstance(check_window(night, utc("2030-03-31T00:30")), OutsideWindow)  # 01:30 CET
    assert isinstance(check_window(night, utc("2030-03-31T01:00")), OutsideWindow)  # 03:00 CEST
    # 2030-10-27: 02:00-03:00 happens twice; both real hours are inside
    assert isinstance(check_window(night, utc("2030-10-27T00:30")), InWindow)  # 02:30 CEST
    assert isinstance(check_window(night, utc("2030-10-27T01:30")), InWindow)  # 02:30 CET
    assert isinstance(check_window(night, utc("2030-10-27T02:00")), OutsideWindow)  # 03:00 CET


def test_deny_window_and_next_open() -> None:
    spec = BERLIN.model_copy(update={"deny": (DenySpec(start=date(2030, 12, 24), end=date(2030, 12, 26),
                                                        reason="holidays", timezone="Europe/Berlin"),)})  # fmt: skip
    decision = check_window(spec, utc("2030-12-24T10:00"))
    assert isinstance(decision, OutsideWindow) and "holidays" in decision.reason
    assert decision.next_open == "2030-12-27T08:00+00:00"  # Friday 09:00 Berlin
    # the deny date is judged in its own zone: 23:30 UTC on the 23rd is already the 24th in Berlin
    assert isinstance(check_window(spec, utc("2030-12-23T23:30")), OutsideWindow)
    always = GovernanceSpec(deny=(DenySpec(start=date(2030, 1, 1)),))
    assert isinstance(check_window(always, utc("2030-01-02T00:00")), InWindow)
    with pytest.raises(ValueError, match="aware"):
        check_window(BERLIN, datetime(2030, 1, 7, 10))


def test_window_config_is_checked() -> None:
    with pytest.raises(ValueError, match="time zone"):
        WindowSpec(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="weekdays"):
        WindowSpec(days="monday")
    with pytest.raises(ValueError, match="hours"):
        WindowSpec(hours="9-16")
    assert WindowSpec(days="fri-mon").day_numbers() == frozenset({4, 5, 6, 0})


SATURDAY = utc("2030-01-05T10:00")
MONDAY = utc("2030-01-07T10:00")
FROZEN = GovernanceState(freeze=Freeze("incident 42", "alice", "2030-01-05T09:00+00:00"))
HELD = GovernanceState(hold=Hold("v1", "rollback from v2", "rollback", "2030-01-05T09:00+00:00"))


@pytest.mark.parametrize(
    ("state", "now", "trigger", "override", "expected"),
    [
        (GovernanceState(), MONDAY, Trigger.SCHEDULED, "", Proceed()),
        (GovernanceState(), SATURDAY, Trigger.SCHEDULED, "", Wait),
        (GovernanceState(), SATURDAY, Trigger.MANUAL, "", Refuse),
        (GovernanceState(), SATURDAY, Trigger.MANUAL, "hotfix", Proceed),
        (FROZEN, MONDAY, Trigger.SCHEDULED, "", Wait),
        (FROZEN, MONDAY, Trigger.MANUAL, "please", Refuse),  # a freeze cannot be overridden
        (HELD, MONDAY, Trigger.SCHEDULED, "", Wait),
        (HELD, MONDAY, Trigger.MANUAL, "", Proceed),
    ],
)
def test_decide_governance(state: GovernanceState, now: datetime, trigger: Trigger, override: str,
                           expected: object) -> None:  # fmt: skip
    decision = decide_governance(BERLIN, state, now, trigger, "production", override)
    if isinstance(expected, type):
        assert isinstance(decision, expected)
    else:
        assert decision == expected


def test_decisions_say_why() -> None:
    refused = decide_governance(BERLIN, GovernanceState(), SATURDAY, Trigger.MANUAL, "production")
    assert isinstance(refused, Refuse) and "outside the promotion windows" in refused.reason
    assert "--override-reason" in refused.fix and "2030-01-07T08:00" in refused.reason
    override = decide_governance(BERLIN, HELD, SATURDAY, Trigger.MANUAL, "production", "hotfix")
    assert isinstance(override, Proceed) and override.lifts_hold
    assert override.notes[0].startswith("override: outside") and "hotfix" in override.notes[0]
    frozen = decide_governance(BERLIN, FROZEN, MONDAY, Trigger.MANUAL, "production")
    assert isinstance(frozen, Refuse) and "incident 42" in frozen.reason and "unfreeze" in frozen.fix


def test_state_round_trips_through_annotations() -> None:
    both = GovernanceState(FROZEN.freeze, HELD.hold)
    assert GovernanceState.from_annotations(both.to_annotations()) == both
    assert GovernanceState.from_annotations({}) == GovernanceState()
    port = MemoryGovernanceState()
    set_freeze(port, "production", FROZEN.freeze)
    set_hold(port, "production", HELD.hold)
    assert port.read("production") == both
    set_freeze(port, "production", None)
    assert port.read("production") == HELD
