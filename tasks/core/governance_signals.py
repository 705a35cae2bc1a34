"""Approval decisions recorded as Flyte signals of the promotion execution, and the one path that submits them.

Why signals: the promotion already waits at a ``wait_for_input("approval")`` gate, so its execution is
where an approval belongs. Each decision is a string signal ``approval-by-<hash of identity>`` holding the
decision as JSON; the request (release, author, deadline, Slack message) is the signal
``approval-request``. ``ListSignals`` of the execution is then the whole record, with no database beside
Flyte, and the Slack approvals service and ``taxiway approve/reject`` share it: both call :func:`submit`,
which records the decision, evaluates the policy and, once it is met (or rejected), sets the gate signal.

The gate's answer stays a string: JSON ``{"approved_by": [...], "decisions": [...]}`` when the policy is
met, ``reject: <who>: <why>`` when rejected (the format ``record_approval`` already understands).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Protocol

from flyteidl.admin import signal_pb2
from flyteidl.core import identifier_pb2, types_pb2
from flytekit.remote import FlyteRemote

from tasks.core.config_governance import ApprovalPolicySpec
from tasks.core.governance_policy import (
    ApprovalDecision,
    Open,
    Outcome,
    Pending,
    Rejected,
    evaluate,
    resolve_person,
)

logger = logging.getLogger(__name__)

GATE_SIGNAL = "approval"
REQUEST_SIGNAL = "approval-request"
DECISION_PREFIX = "approval-by-"


@dataclass(frozen=True)
class ApprovalRequest:
    """What waits for approval: written by the promotion before its gate, read by every decider.

    :param execution: the promotion execution, ``project/domain/name``.
    :param deadline: ISO 8601; after it the approval is rejected by ``timeout``.
    :param slack_channel: where the approval message was posted ("" when Slack is not configured).
    :param slack_ts: that message's ts, for ``chat.update``.
    """

    execution: str
    pipeline: str
    version: str
    domain: str
    author: str
    requested_at: str
    deadline: str
    slack_channel: str = ""
    slack_ts: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ApprovalRequest:
        return cls(**json.loads(text))


class SignalPort(Protocol):
    """String signals of executions (``project/domain/name``): FlyteAdmin's SignalService."""

    def create(self, execution: str, signal_id: str) -> None: ...

    def set(self, execution: str, signal_id: str, value: str) -> None: ...

    def values(self, execution: str) -> dict[str, str | None]: ...


@dataclass(frozen=True)
class Submitted:
    """The decision was recorded; ``outcome`` is where the approval stands now; ``gate_set`` if this call
    answered the gate."""

    outcome: Outcome
    decisions: tuple[ApprovalDecision, ...]
    gate_set: bool = False


@dataclass(frozen=True)
class NotAccepted:
    """The decision was not recorded, and why (not an approver, no such request, already decided)."""

    reason: str


SubmitResult = Submitted | NotAccepted


def decision_signal(identity: str) -> str:
    """The signal id of ``identity``'s decision (a hash: signal ids stay short and safe)."""
    return DECISION_PREFIX + hashlib.sha256(identity.encode()).hexdigest()[:16]


def read_request(port: SignalPort, execution: str) -> tuple[ApprovalRequest | None, str | None, list[ApprovalDecision]]:
    """The request, the gate's answer (None while open) and the decisions recorded so far."""
    values = port.values(execution)
    raw = values.get(REQUEST_SIGNAL)
    request = ApprovalRequest.from_json(raw) if raw else None
    decisions = [ApprovalDecision.from_json(value) for key, value in values.items()
                 if key.startswith(DECISION_PREFIX) and value]  # fmt: skip
    return request, values.get(GATE_SIGNAL), sorted(decisions, key=lambda item: item.at)


def open_request(port: SignalPort, request: ApprovalRequest) -> None:
    """Record the approval request and make sure the gate signal exists (idempotent)."""
    port.create(request.execution, REQUEST_SIGNAL)
    port.set(request.execution, REQUEST_SIGNAL, request.to_json())
    port.create(request.execution, GATE_SIGNAL)


def gate_answer(outcome: Open | Rejected, decisions: tuple[ApprovalDecision, ...]) -> str:
    """The gate signal's value for a final outcome."""
    if isinstance(outcome, Rejected):
        return f"reject: {outcome.by}: {outcome.why}"
    return json.dumps({"approved_by": list(outcome.approvers), "decisions": [asdict(d) for d in decisions]})


def submit(
    port: SignalPort, execution: str, decision: ApprovalDecision, policy: ApprovalPolicySpec, now: datetime,
    group_members: Mapping[str, frozenset[str]] | None = None,
) -> SubmitResult:  # fmt: skip
    """Record ``decision`` for the promotion ``execution`` under ``policy`` and answer the gate once final.

    Refused (nothing recorded): no approval request for the execution, the gate already answered, or an
    identity that may not approve. Past the deadline the gate is answered with a timeout rejection.
    """
    request, answered, decisions = read_request(port, execution)
    if request is None:
        return NotAccepted(f"{execution} is not waiting for approval (no {REQUEST_SIGNAL} signal)")
    if answered:
        return NotAccepted(f"{execution} was already decided: {answered[:200]}")
    person = resolve_person(policy, decision.identity, group_members)
    if not person:
        return NotAccepted(f"{decision.identity} may not approve promotions into {request.domain}")
    deadline = datetime.fromisoformat(request.deadline)
    if now < deadline:
        recorded = ApprovalDecision(decision.identity, decision.verdict, decision.at, decision.comment, person)
        port.create(execution, decision_signal(decision.identity))
        port.set(execution, decision_signal(decision.identity), recorded.to_json())
        decisions = [item for item in decisions if item.identity != decision.identity] + [recorded]
        logger.info("approval decision recorded execution=%s identity=%s verdict=%s", execution,
                    decision.identity, decision.verdict)  # fmt: skip
    outcome = evaluate(policy, decisions, request.author, group_members, now, deadline)
    final = tuple(sorted(decisions, key=lambda item: item.at))
    if isinstance(outcome, Pending):
        return Submitted(outcome, final)
    port.set(execution, GATE_SIGNAL, gate_answer(outcome, final))
    logger.info("approval gate answered execution=%s outcome=%s", execution, outcome)
    return Submitted(outcome, final, gate_set=True)


class FlyteSignals:
    """:class:`SignalPort` over a ``FlyteRemote`` (any project/domain: executions are given in full)."""

    def __init__(self, remote: FlyteRemote) -> None:
        self._remote = remote

    @staticmethod
    def _split(execution: str) -> tuple[str, str, str]:
        parts = execution.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"expected an execution as project/domain/name, got {execution!r}")
        return parts[0], parts[1], parts[2]

    def create(self, execution: str, signal_id: str) -> None:
        project, domain, name = self._split(execution)
        identifier = identifier_pb2.SignalIdentifier(
            signal_id=signal_id,
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(project=project, domain=domain, name=name),
        )
        string = types_pb2.LiteralType(simple=types_pb2.STRING)
        # flytekit's client has no GetOrCreateSignal wrapper; its SignalService stub does.
        self._remote.client._signal.GetOrCreateSignal(
            signal_pb2.SignalGetOrCreateRequest(id=identifier, type=string), metadata=self._remote.client._metadata
        )

    def set(self, execution: str, signal_id: str, value: str) -> None:
        project, domain, name = self._split(execution)
        self._remote.set_signal(signal_id, name, value, project=project, domain=domain, python_type=str)

    def values(self, execution: str) -> dict[str, str | None]:
        project, domain, name = self._split(execution)
        found: dict[str, str | None] = {}
        for signal in self._remote.list_signals(name, project=project, domain=domain, limit=500):
            text = signal.value.scalar.primitive.string_value if signal.HasField("value") else ""
            found[signal.id.signal_id] = text or None
        return found
