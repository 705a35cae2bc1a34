"""Approval policy evaluation as data: ``evaluate(policy, decisions, author) -> Open | Pending | Rejected``.

Pure: the decisions come from wherever they are recorded (Flyte signals, see
:mod:`tasks.core.governance_signals`), group membership is resolved by the caller. Distinct approvals
count *people* (an :class:`~tasks.core.config_governance.Approver` name), so one person approving from
Slack and from the CLI counts once; the release author's approval does not count unless the policy says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum

from tasks.core.config_governance import ApprovalPolicySpec

SLACK = "slack"
FLYTE = "flyte"


class Verdict(StrEnum):
    """What one person decided."""

    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class ApprovalDecision:
    """One decision, as recorded: who (``slack:U123`` or ``flyte:alice``), when (ISO 8601), what, why.

    :param identity: ``<kind>:<id>``, kind ``slack`` or ``flyte``.
    :param verdict: approve or reject.
    :param at: when it was given, ISO 8601 with offset.
    :param comment: the reject reason or an approval note.
    :param person: the approver name it resolved to ("" when not an allowed approver).
    """

    identity: str
    verdict: Verdict
    at: str
    comment: str = ""
    person: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ApprovalDecision:
        data = json.loads(text)
        return cls(data["identity"], Verdict(data["verdict"]), data["at"], data.get("comment", ""),
                   data.get("person", ""))  # fmt: skip


@dataclass(frozen=True)
class Open:
    """The policy is met: the gate may open. ``approvers`` are the people whose approvals counted."""

    approvers: tuple[str, ...]


@dataclass(frozen=True)
class Pending:
    """Still waiting: ``need`` more distinct approvals; ``ignored`` says which decisions did not count and why."""

    need: int
    counted: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Rejected:
    """Ended: rejected by ``by`` (a person, or ``timeout``) because ``why``."""

    by: str
    why: str


Outcome = Open | Pending | Rejected
TIMEOUT = "timeout"


def resolve_person(
    policy: ApprovalPolicySpec, identity: str, group_members: Mapping[str, frozenset[str]] | None = None
) -> str:
    """The approver name ``identity`` belongs to, or "" when it may not approve.

    An empty ``approvers`` list with no groups means anyone may approve (as themselves).
    Members of ``slack_groups`` approve as ``slack:<user id>`` unless listed as an approver.
    """
    kind, _, value = identity.partition(":")
    for approver in policy.approvers:
        if (kind == SLACK and approver.slack == value) or (kind == FLYTE and approver.flyte == value):
            return approver.name
    if kind == SLACK and any(value in (group_members or {}).get(group, frozenset()) for group in policy.slack_groups):
        return identity
    if not policy.approvers and not policy.slack_groups and value:
        return identity
    return ""


def is_author(policy: ApprovalPolicySpec, person: str, identity: str, author: str) -> bool:
    """Whether a decision comes from the release author (matched on name, email, Slack or Flyte identity)."""
    if not author:
        return False
    wanted = author.strip().lower()
    names = {person.lower(), identity.partition(":")[2].lower()}
    for approver in policy.approvers:
        if approver.name == person:
            names |= {value.lower() for value in (approver.email, approver.slack, approver.flyte) if value}
    return wanted in names


def evaluate(
    policy: ApprovalPolicySpec,
    decisions: Iterable[ApprovalDecision],
    author: str = "",
    group_members: Mapping[str, frozenset[str]] | None = None,
    now: datetime | None = None,
    deadline: datetime | None = None,
) -> Outcome:
    """Where an approval stands: a reject from an allowed approver ends it; past ``deadline`` it is
    rejected by ``timeout``; otherwise ``policy.required`` distinct people (author excluded unless
    allowed) open it. Decisions are taken in time order: the first reject by an allowed approver ends it,
    and once the policy is met later decisions change nothing (the gate has opened).
    """
    counted: dict[str, None] = {}
    ignored: list[str] = []
    for decision in sorted(decisions, key=lambda item: item.at):
        person = resolve_person(policy, decision.identity, group_members)
        if not person:
            ignored.append(f"{decision.identity}: not an approver of this domain")
            continue
        if not policy.author_may_approve and is_author(policy, person, decision.identity, author):
            ignored.append(f"{person}: the release author may not approve it")
            continue
        if decision.verdict is Verdict.REJECT:
            return Rejected(person, decision.comment or "no reason given")
        counted[person] = None
        if len(counted) >= policy.required:  # the gate opened here: later decisions change nothing
            return Open(tuple(counted))
    if now is not None and deadline is not None and now >= deadline:
        return Rejected(TIMEOUT, f"{len(counted)} of {policy.required} approvals before {deadline.isoformat()}")
    return Pending(policy.required - len(counted), tuple(counted), tuple(ignored))


def describe(outcome: Outcome) -> str:
    """One line for Slack, the CLI and logs."""
    if isinstance(outcome, Open):
        return f"approved by {', '.join(outcome.approvers)}"
    if isinstance(outcome, Rejected):
        return f"rejected by {outcome.by}: {outcome.why}"
    counted = f" (so far: {', '.join(outcome.counted)})" if outcome.counted else ""
    return f"waiting for {outcome.need} more approval{'s' if outcome.need != 1 else ''}{counted}"
