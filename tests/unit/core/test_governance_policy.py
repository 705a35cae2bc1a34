"""Approval policies: N of M distinct people, the author, rejects, timeouts; and the shared submit path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tasks.core.config_governance import ApprovalPolicySpec, Approver
from tasks.core.governance_policy import ApprovalDecision, Open, Pending, Rejected, Verdict, evaluate
from tasks.core.governance_signals import (
    GATE_SIGNAL,
    ApprovalRequest,
    NotAccepted,
    Submitted,
    open_request,
    read_request,
    submit,
)

pytestmark = pytest.mark.unit

POLICY = ApprovalPolicySpec(
    required=2,
    approvers=(
        Approver(name="alice", slack="UALICE", flyte="alice", email="alice@example.com"),
        Approver(name="bob", slack="UBOB"),
        Approver(name="carol", flyte="carol"),
    ),
)
T0 = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)


def d(identity: str, verdict: str = "approve", minute: int = 0, comment: str = "") -> ApprovalDecision:
    return ApprovalDecision(identity, Verdict(verdict), (T0 + timedelta(minutes=minute)).isoformat(), comment)


@pytest.mark.parametrize(
    ("decisions", "author", "expected"),
    [
        ([], "", Pending(2)),
        ([d("slack:UALICE")], "", Pending(1, ("alice",))),
        ([d("slack:UALICE"), d("slack:UBOB", minute=1)], "", Open(("alice", "bob"))),
        # the same person from Slack and from the CLI counts once
        ([d("slack:UALICE"), d("flyte:alice", minute=1)], "", Pending(1, ("alice",))),
        # the author's approval does not count (matched by email)
        ([d("slack:UALICE"), d("slack:UBOB", minute=1)], "alice@example.com",
         Pending(1, ("bob",), ("alice: the release author may not approve it",))),
        # not an approver
        ([d("slack:UMALLORY"), d("slack:UBOB", minute=1)], "",
         Pending(1, ("bob",), ("slack:UMALLORY: not an approver of this domain",))),
        ([d("slack:UALICE"), d("flyte:carol", "reject", 1, "not today")], "", Rejected("carol", "not today")),
        # once met, a later reject changes nothing (the gate already opened)
        ([d("slack:UALICE"), d("slack:UBOB", minute=1), d("flyte:carol", "reject", 2)], "", Open(("alice", "bob"))),
        # the author's reject does not count either
        ([d("slack:UALICE", "reject")], "alice", Pending(2, (), ("alice: the release author may not approve it",))),
    ],
)  # fmt: skip
def test_two_of_three(decisions: list[ApprovalDecision], author: str, expected: object) -> None:
    assert evaluate(POLICY, decisions, author) == expected


def test_author_may_approve_when_allowed() -> None:
    policy = POLICY.model_copy(update={"author_may_approve": True})
    assert evaluate(policy, [d("slack:UALICE"), d("slack:UBOB")], "alice") == Open(("alice", "bob"))


def test_timeout_rejects_and_groups_count_members() -> None:
    outcome = evaluate(POLICY, [d("slack:UALICE")], now=T0 + timedelta(hours=2), deadline=T0 + timedelta(hours=1))
    assert isinstance(outcome, Rejected) and outcome.by == "timeout"
    grouped = ApprovalPolicySpec(required=1, slack_groups=("SREL",))
    assert evaluate(grouped, [d("slack:UX")], group_members={"SREL": frozenset({"UX"})}) == Open(("slack:UX",))
    assert isinstance(evaluate(grouped, [d("slack:UY")], group_members={"SREL": frozenset({"UX"})}), Pending)


def test_anyone_may_approve_without_approvers() -> None:
    assert evaluate(ApprovalPolicySpec(), [d("flyte:dave")]) == Open(("flyte:dave",))


def test_policy_needs_enough_approvers() -> None:
    with pytest.raises(ValueError, match="only 1 approvers"):
        ApprovalPolicySpec(required=2, approvers=(Approver(name="alice"),))


class MemorySignals:
    """An in-memory SignalService with FlyteAdmin's rule that only existing signals can be set."""

    def __init__(self) -> None:
        self.signals: dict[str, dict[str, str | None]] = {}

    def create(self, execution: str, signal_id: str) -> None:
        self.signals.setdefault(execution, {}).setdefault(signal_id, None)

    def set(self, execution: str, signal_id: str, value: str) -> None:
        if signal_id not in self.signals.get(execution, {}):
            raise LookupError(f"signal {signal_id} does not exist")
        self.signals[execution][signal_id] = value

    def values(self, execution: str) -> dict[str, str | None]:
        return dict(self.signals.get(execution, {}))


EXECUTION = "taxiway/development/promote-abc-production-1234"


def request(author: str = "alice", deadline: datetime = T0 + timedelta(hours=1)) -> ApprovalRequest:
    return ApprovalRequest(EXECUTION, "training", "0123456789ab", "production", author, T0.isoformat(),
                           deadline.isoformat())  # fmt: skip


def test_submit_records_and_answers_the_gate_once_met() -> None:
    signals = MemorySignals()
    open_request(signals, request())
    first = submit(signals, EXECUTION, d("slack:UBOB"), POLICY, T0)
    author = submit(signals, EXECUTION, d("slack:UALICE", minute=1), POLICY, T0)
    assert isinstance(first, Submitted) and isinstance(author, Submitted)
    assert author.outcome == Pending(1, ("bob",), ("alice: the release author may not approve it",))
    assert signals.values(EXECUTION)[GATE_SIGNAL] is None
    second = submit(signals, EXECUTION, d("flyte:carol", minute=2), POLICY, T0)
    assert isinstance(second, Submitted) and second.gate_set and second.outcome == Open(("bob", "carol"))
    assert '"approved_by": ["bob", "carol"]' in (signals.values(EXECUTION)[GATE_SIGNAL] or "")
    late = submit(signals, EXECUTION, d("slack:UALICE", "reject", 3), POLICY, T0)
    assert isinstance(late, NotAccepted) and "already decided" in late.reason
    assert len(read_request(signals, EXECUTION)[2]) == 3


def test_submit_refuses_strangers_and_rejects_after_the_deadline() -> None:
    signals = MemorySignals()
    open_request(signals, request())
    stranger = submit(signals, EXECUTION, d("slack:UMALLORY"), POLICY, T0)
    assert isinstance(stranger, NotAccepted) and read_request(signals, EXECUTION)[2] == []
    late = submit(signals, EXECUTION, d("slack:UBOB"), POLICY, T0 + timedelta(hours=2))
    assert isinstance(late, Submitted) and isinstance(late.outcome, Rejected) and late.outcome.by == "timeout"
    assert (signals.values(EXECUTION)[GATE_SIGNAL] or "").startswith("reject: timeout:")
    assert read_request(signals, EXECUTION)[2] == []  # a late decision is not recorded as a decision
    assert isinstance(submit(MemorySignals(), EXECUTION, d("slack:UBOB"), POLICY, T0), NotAccepted)
