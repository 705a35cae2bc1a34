"""The approvals service's logic: a verified Slack click becomes a decision through the shared policy path.

``ApprovalsApp.handle(headers, body)`` verifies the request (:mod:`approvals.signature`), reads the
``block_actions`` payload, finds the promotion's policy in its taxiway.yaml, calls
:func:`tasks.core.governance_signals.submit` (records the decision as a Flyte signal, answers the gate
once the policy is met or rejected) and updates the Slack message with the decisions so far.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from approvals.signature import ReplayGuard, RequestRefused, verify
from tasks.core.config import PipelineConfig
from tasks.core.config_governance import ApprovalPolicySpec
from tasks.core.errors import TaxiwayError
from tasks.core.governance_policy import SLACK, ApprovalDecision, Rejected, Verdict, evaluate
from tasks.core.governance_requests import RunningPort, expire, pending_approvals
from tasks.core.governance_signals import ApprovalRequest, NotAccepted, SignalPort, Submitted, read_request, submit
from tasks.core.governance_slack import APPROVE_ACTION, REJECT_ACTION, approval_blocks, approval_text
from tasks.core.notify_slack import SlackTransport

logger = logging.getLogger(__name__)


class GroupMembers(Protocol):
    """Slack user-group membership (``usergroups.users.list``)."""

    def members(self, group: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class Reply:
    """The HTTP answer: status and JSON body (Slack only needs a 200 within three seconds)."""

    status: int
    body: dict[str, Any]


def policy_for(configs: Sequence[PipelineConfig], pipeline: str, domain: str) -> ApprovalPolicySpec | None:
    """The approval policy of ``pipeline``'s ``domain`` (one approval from anyone when none is configured)."""
    for config in configs:
        if config.pipeline == pipeline and domain in config.domain_names:
            return config.domain(domain).governance.approval or ApprovalPolicySpec()
    return None


class ApprovalsApp:
    """Turns Slack interaction requests into approval decisions.

    :param secret: Slack's signing secret.
    :param configs: the taxiway.yaml of every pipeline whose approvals this service answers.
    :param signals: Flyte's SignalService (the record and the gates).
    :param slack: posts the updated message; None when Slack is not configured.
    :param groups: Slack user-group membership, for policies with ``slack_groups``.
    :param clock: seconds since the epoch (tests move it).
    :param running: running executions, for the expiry sweep.
    :param scopes: the ``(project, domain)`` pairs where promotions run (the sweep looks there).
    """

    def __init__(
        self, secret: str, configs: Sequence[PipelineConfig], signals: SignalPort, replay: ReplayGuard,
        slack: SlackTransport | None = None, groups: GroupMembers | None = None,
        clock: Callable[[], float] = time.time, running: RunningPort | None = None,
        scopes: Sequence[tuple[str, str]] = (),
    ) -> None:  # fmt: skip
        self._secret = secret
        self._configs = tuple(configs)
        self._signals = signals
        self._replay = replay
        self._slack = slack
        self._groups = groups
        self._clock = clock
        self._running = running
        self._scopes = tuple(scopes)

    def sweep(self) -> list[Rejected]:
        """Reject (by ``timeout``) every pending approval past its deadline, recorded on its gate and in Slack."""
        if self._running is None:
            return []
        now = datetime.fromtimestamp(self._clock(), UTC)
        expired: list[Rejected] = []
        for project, domain in self._scopes:
            for pending in pending_approvals(self._running, self._signals, project, domain, self._policy_of, now,
                                             self._all_members()):  # fmt: skip
                rejected = expire(self._signals, pending, self._slack)
                if rejected is not None:
                    expired.append(rejected)
        return expired

    def _policy_of(self, request: ApprovalRequest) -> ApprovalPolicySpec | None:
        return policy_for(self._configs, request.pipeline, request.domain)

    def _all_members(self) -> dict[str, frozenset[str]]:
        policies = [config.domain(domain).governance.approval for config in self._configs
                    for domain in config.domain_names]  # fmt: skip
        groups = {group for policy in policies if policy is not None for group in policy.slack_groups}
        return {} if self._groups is None else {group: self._groups.members(group) for group in sorted(groups)}

    def handle(self, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one ``POST /slack/interactions``."""
        lowered = {key.lower(): value for key, value in headers.items()}
        timestamp = lowered.get("x-slack-request-timestamp", "")
        signature = lowered.get("x-slack-signature", "")
        now = self._clock()
        try:
            verify(self._secret, timestamp, signature, body, now)
            self._replay.first_use(signature, timestamp, now)
        except RequestRefused as err:
            logger.warning("slack request refused: %s", err)
            return Reply(401, {"ok": False, "error": str(err)})
        try:
            payload = json.loads(urllib.parse.parse_qs(body.decode()).get("payload", [""])[0])
            action = payload["actions"][0]
            user, action_id, execution = payload["user"]["id"], action["action_id"], action["value"]
        except (ValueError, KeyError, IndexError, TypeError) as err:
            return Reply(400, {"ok": False, "error": f"not a block_actions payload with one action: {err}"})
        if action_id not in (APPROVE_ACTION, REJECT_ACTION):
            return Reply(200, {"ok": True, "ignored": f"action {action_id!r} is not an approval button"})
        verdict = Verdict.APPROVE if action_id == APPROVE_ACTION else Verdict.REJECT
        comment = "" if verdict is Verdict.APPROVE else f"rejected in Slack by <@{user}>"
        decision = ApprovalDecision(f"{SLACK}:{user}", verdict, datetime.fromtimestamp(now, UTC).isoformat(), comment)
        try:
            return self.decide(execution, decision, datetime.fromtimestamp(now, UTC))
        except TaxiwayError as err:
            logger.error("approval decision failed execution=%s: %s", execution, err)
            return Reply(503, {"ok": False, "error": str(err)})

    def decide(self, execution: str, decision: ApprovalDecision, now: datetime) -> Reply:
        """Submit ``decision`` through the policy path and refresh the Slack message."""
        request, _, _ = read_request(self._signals, execution)
        if request is None:
            return Reply(200, {"ok": False, "error": f"{execution} is not waiting for approval"})
        policy = policy_for(self._configs, request.pipeline, request.domain)
        if policy is None:
            return Reply(200, {"ok": False, "error": f"no taxiway.yaml for {request.pipeline}/{request.domain}"})
        members = self._members(policy)
        result = submit(self._signals, execution, decision, policy, now, members)
        if isinstance(result, NotAccepted):
            logger.info("approval decision not accepted execution=%s: %s", execution, result.reason)
            return Reply(200, {"ok": False, "error": result.reason})
        self._update_message(execution, policy, members, now)
        return Reply(200, {"ok": True, "outcome": type(result.outcome).__name__, "gate_set": result.gate_set})

    def _members(self, policy: ApprovalPolicySpec) -> dict[str, frozenset[str]]:
        if self._groups is None:
            return {}
        return {group: self._groups.members(group) for group in policy.slack_groups}

    def _update_message(
        self, execution: str, policy: ApprovalPolicySpec, members: Mapping[str, frozenset[str]], now: datetime
    ) -> None:
        request, _, decisions = read_request(self._signals, execution)
        if self._slack is None or request is None or not request.slack_ts:
            return
        outcome = evaluate(policy, decisions, request.author, members, now, datetime.fromisoformat(request.deadline))
        try:
            self._slack.update(request.slack_channel, request.slack_ts, approval_text(request, outcome),
                               approval_blocks(request, outcome, decisions))  # fmt: skip
        except TaxiwayError as err:  # the decision counts even when Slack cannot show it
            logger.warning("slack message not updated execution=%s: %s", execution, err)


def outcome_name(result: Submitted | NotAccepted) -> str:
    """A short word for logs and the CLI."""
    return type(result.outcome).__name__ if isinstance(result, Submitted) else "NotAccepted"
