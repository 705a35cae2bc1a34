"""Whether a promotion may *start* now, given the domain's windows, freeze and hold: decisions as data.

``decide_governance(...) -> Proceed | Wait | Refuse``:

* a scheduled promotion (nightly) never fights governance: frozen, held or outside a window, it
  ``Wait``s, i.e. does nothing now; the next run picks the newest validated release (coalescing);
* a manual promotion is refused while the domain is frozen (no override: the line is stopped), needs an
  override reason outside a window (recorded), and lifts a hold (an explicit promotion is a decision
  to move on).

Only the start is checked: a promotion that already runs is never interrupted by a window closing or a
freeze; it finishes (or waits at its approval gate) as it would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tasks.core.config_governance import GovernanceSpec
from tasks.core.governance_state import GovernanceState
from tasks.core.governance_windows import OutsideWindow, check_window
from tasks.core.promote_decide import Refuse


class Trigger(StrEnum):
    """Who started the promotion."""

    SCHEDULED = "scheduled"
    MANUAL = "manual"


@dataclass(frozen=True)
class Proceed:
    """Go ahead; ``notes`` (overrides) go into the record; ``lifts_hold`` says the domain's hold ends."""

    notes: tuple[str, ...] = ()
    lifts_hold: bool = False


@dataclass(frozen=True)
class Wait:
    """Do nothing now (scheduled promotions): why, and when it may go ("" when unknown)."""

    reason: str
    until: str = ""


GovernanceDecision = Proceed | Wait | Refuse


def decide_governance(
    spec: GovernanceSpec, state: GovernanceState, now: datetime, trigger: Trigger, domain: str,
    override_reason: str = "",
) -> GovernanceDecision:  # fmt: skip
    """Whether a ``trigger`` promotion into ``domain`` may start at ``now``."""
    if state.freeze is not None:
        reason = f"{domain} is frozen since {state.freeze.at} by {state.freeze.by}: {state.freeze.reason}"
        if trigger is Trigger.SCHEDULED:
            return Wait(reason)
        return Refuse(reason, f"wait for `taxiway unfreeze {domain}` (a freeze cannot be overridden)")
    if state.hold is not None and trigger is Trigger.SCHEDULED:
        hold = state.hold
        return Wait(f"{domain} is held at {hold.version} since {hold.at} by {hold.by}: {hold.reason}")
    notes: list[str] = []
    window = check_window(spec, now)
    if isinstance(window, OutsideWindow):
        if trigger is Trigger.SCHEDULED:
            return Wait(window.reason, window.next_open)
        override = override_reason.strip()
        if not override:
            later = f" (next window opens {window.next_open})" if window.next_open else ""
            return Refuse(f"promotion into {domain} {window.reason}{later}",
                          "promote inside a window, or give --override-reason (recorded)")  # fmt: skip
        notes.append(f"override: {window.reason} (reason: {override})")
    if state.hold is not None:
        notes.append(f"lifts the hold on {state.hold.version} ({state.hold.reason})")
        return Proceed(tuple(notes), lifts_hold=True)
    return Proceed(tuple(notes))
