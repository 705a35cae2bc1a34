"""The approval request's life: opened (Slack message with Approve / Reject buttons + the request signal),
listed while pending (``taxiway status``), and expired (a timed-out approval is rejected, recorded).

Opening runs in the promotion just before its gate; listing and expiry run in the approvals service (its
sweep) and the CLI. All three read and write only the promotion execution's Flyte signals
(:mod:`tasks.core.governance_signals`) and the Slack message named in the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from flytekit.models.filters import Filter
from flytekit.remote import FlyteRemote

from tasks.core.config_governance import ApprovalPolicySpec
from tasks.core.errors import TaxiwayError
from tasks.core.governance_policy import TIMEOUT, ApprovalDecision, Outcome, Rejected, evaluate
from tasks.core.governance_signals import (
    GATE_SIGNAL,
    ApprovalRequest,
    SignalPort,
    gate_answer,
    open_request,
    read_request,
)
from tasks.core.governance_slack import approval_blocks, approval_text
from tasks.core.notify_slack import SlackTransport

logger = logging.getLogger(__name__)

#: The gate waits this much longer than the request's deadline, so that the approvals service's sweep
#: records the timeout as a rejection (who: ``timeout``) before the gate node itself times out.
GATE_GRACE = timedelta(seconds=30)

PolicyLookup = Callable[[ApprovalRequest], ApprovalPolicySpec | None]


def request_approval(
    signals: SignalPort, slack: SlackTransport | None, channel: str, request: ApprovalRequest
) -> ApprovalRequest:
    """Post the approval message (when Slack is configured) and record the request; idempotent.

    A retried task finds the request already recorded and neither posts again nor moves the deadline.
    Slack failing never fails the promotion: the request is recorded without a message and the
    decision can still be given with ``taxiway approve``.
    """
    existing, _, _ = read_request(signals, request.execution)
    if existing is not None:
        logger.info("approval request exists execution=%s slack_ts=%s", request.execution, existing.slack_ts)
        return existing
    if slack is not None and channel:
        try:
            channel_id, ts = slack.post(channel, approval_text(request), approval_blocks(request))
            request = replace(request, slack_channel=channel_id, slack_ts=ts)
        except TaxiwayError as err:
            logger.warning("approval message not posted execution=%s channel=%s: %s", request.execution, channel, err)
    open_request(signals, request)
    logger.info("approval requested execution=%s pipeline=%s version=%s domain=%s deadline=%s slack_ts=%s",
                request.execution, request.pipeline, request.version, request.domain, request.deadline,
                request.slack_ts)  # fmt: skip
    return request


class RunningPort(Protocol):
    """Running executions of a project/domain, as ``project/domain/name``."""

    def running(self, project: str, domain: str) -> list[str]: ...


class FlyteRunning:
    """:class:`RunningPort` over FlyteAdmin's ``ListExecutions`` (newest first, at most ``limit``)."""

    def __init__(self, remote: FlyteRemote, limit: int = 200) -> None:
        self._remote = remote
        self._limit = limit

    def running(self, project: str, domain: str) -> list[str]:
        executions, _ = self._remote.client.list_executions_paginated(
            project, domain, limit=self._limit, filters=[Filter.from_python_std("eq(phase,RUNNING)")]
        )
        return [f"{project}/{domain}/{execution.id.name}" for execution in executions]


@dataclass(frozen=True)
class PendingApproval:
    """A promotion waiting at its gate: the request, the decisions so far and where the policy stands."""

    request: ApprovalRequest
    decisions: tuple[ApprovalDecision, ...]
    outcome: Outcome | None


def pending_approvals(
    running: RunningPort, signals: SignalPort, project: str, domain: str, policy_of: PolicyLookup, now: datetime,
    group_members: Mapping[str, frozenset[str]] | None = None,
) -> list[PendingApproval]:  # fmt: skip
    """Every running execution in ``project``/``domain`` with an approval request whose gate is unanswered."""
    found: list[PendingApproval] = []
    for execution in running.running(project, domain):
        request, answered, decisions = read_request(signals, execution)
        if request is None or answered:
            continue
        policy = policy_of(request)
        outcome = None
        if policy is not None:
            outcome = evaluate(policy, decisions, request.author, group_members, now,
                               datetime.fromisoformat(request.deadline))  # fmt: skip
        found.append(PendingApproval(request, tuple(decisions), outcome))
    return found


def expire(signals: SignalPort, pending: PendingApproval, slack: SlackTransport | None = None) -> Rejected | None:
    """Answer the gate of a request past its deadline with a timeout rejection (and show it in Slack).

    :returns: the rejection when this call expired the request, None when it is not past its deadline.
    """
    outcome = pending.outcome
    if not isinstance(outcome, Rejected) or outcome.by != TIMEOUT:
        return None
    request = pending.request
    signals.set(request.execution, GATE_SIGNAL, gate_answer(outcome, pending.decisions))
    logger.info("approval expired execution=%s deadline=%s: %s", request.execution, request.deadline, outcome.why)
    show_outcome(slack, request, outcome, pending.decisions)
    return outcome


def show_outcome(
    slack: SlackTransport | None, request: ApprovalRequest, outcome: Outcome, decisions: Sequence[ApprovalDecision]
) -> None:
    """Update the approval message with the decisions so far (buttons gone once decided); never raises for Slack."""
    if slack is None or not request.slack_ts:
        return
    try:
        slack.update(request.slack_channel, request.slack_ts, approval_text(request, outcome),
                     approval_blocks(request, outcome, decisions))  # fmt: skip
    except TaxiwayError as err:  # the decision stands even when Slack cannot show it
        logger.warning("slack message not updated execution=%s: %s", request.execution, err)
