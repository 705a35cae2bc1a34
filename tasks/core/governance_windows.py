"""Promotion windows as data: is ``now`` inside an allowed window and outside every deny window?

Windows are wall-clock times in their own time zone (``zoneinfo``), so "09:00-16:00 Europe/Berlin" means
09:00 Berlin time in winter and in summer. On a DST change day a window simply has the wall-clock hours
that exist: a 02:00-03:00 window on the spring-forward day is empty, and on the fall-back day it lasts two
real hours. A window is checked only when a promotion *starts*: a running promotion is never interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tasks.core.config_governance import DenySpec, GovernanceSpec, WindowSpec

_STEP = timedelta(minutes=15)
_HORIZON = timedelta(days=15)


@dataclass(frozen=True)
class InWindow:
    """Promotions may start now."""

    reason: str = "inside a promotion window"


@dataclass(frozen=True)
class OutsideWindow:
    """Promotions may not start now: why, and the next time they may ("" when none within 15 days)."""

    reason: str
    next_open: str = ""


WindowDecision = InWindow | OutsideWindow


def _in_window(window: WindowSpec, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(window.timezone))
    if local.weekday() not in window.day_numbers():
        return False
    start, end = window.bounds()
    wall = local.time().replace(tzinfo=None)
    return start <= wall and (end is None or wall < end)


def _denied(deny: DenySpec, now: datetime) -> bool:
    today = now.astimezone(ZoneInfo(deny.timezone)).date()
    return deny.start <= today <= (deny.end or deny.start)


def _describe_window(window: WindowSpec) -> str:
    return f"{window.days} {window.hours} {window.timezone}"


def _allowed(spec: GovernanceSpec, now: datetime) -> bool:
    if any(_denied(deny, now) for deny in spec.deny):
        return False
    return not spec.windows or any(_in_window(window, now) for window in spec.windows)


def check_window(spec: GovernanceSpec, now: datetime) -> WindowDecision:
    """Whether a promotion governed by ``spec`` may start at ``now`` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError("check_window needs an aware datetime (e.g. datetime.now(UTC))")
    for deny in spec.deny:
        if _denied(deny, now):
            why = f" ({deny.reason})" if deny.reason else ""
            span = f"{deny.start}" + (f"..{deny.end}" if deny.end and deny.end != deny.start else "")
            return OutsideWindow(f"inside the deny window {span} {deny.timezone}{why}", _next_open(spec, now))
    if spec.windows and not any(_in_window(window, now) for window in spec.windows):
        allowed = "; ".join(_describe_window(window) for window in spec.windows)
        return OutsideWindow(f"outside the promotion windows ({allowed})", _next_open(spec, now))
    return InWindow()


def _next_open(spec: GovernanceSpec, now: datetime) -> str:
    # A 15-minute scan is plenty for a human-facing hint and stays obviously right across DST changes.
    candidate = now.replace(second=0, microsecond=0) + _STEP - timedelta(minutes=now.minute % 15)
    while candidate - now < _HORIZON:
        if _allowed(spec, candidate):
            return candidate.isoformat(timespec="minutes")
        candidate += _STEP
    return ""
