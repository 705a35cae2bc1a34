"""The approval request as a Slack message: Approve / Reject buttons, then the decisions so far.

The buttons' ``value`` is the promotion execution (``project/domain/name``); Slack sends it back in the
signed ``block_actions`` payload, so the approvals service knows which gate a click answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tasks.core.governance_policy import ApprovalDecision, Open, Outcome, Rejected, describe
from tasks.core.governance_signals import ApprovalRequest

APPROVE_ACTION = "taxiway_approve"
REJECT_ACTION = "taxiway_reject"


def approval_text(request: ApprovalRequest, outcome: Outcome | None = None) -> str:
    """The message's plain text (notifications, screen readers)."""
    state = describe(outcome) if outcome is not None else "waiting for approval"
    return f"Promotion of {request.pipeline} {request.version} into {request.domain}: {state}"


def approval_blocks(
    request: ApprovalRequest, outcome: Outcome | None = None, decisions: Sequence[ApprovalDecision] = ()
) -> list[dict[str, Any]]:
    """Header, facts, the decisions so far, and the buttons while the approval is open."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Approval: {request.pipeline} → {request.domain}"}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*release*\n`{request.version}`"},
            {"type": "mrkdwn", "text": f"*domain*\n{request.domain}"},
            {"type": "mrkdwn", "text": f"*author*\n{request.author or '-'}"},
            {"type": "mrkdwn", "text": f"*deadline*\n{request.deadline}"},
        ]},
        {"type": "section", "text": {"type": "mrkdwn", "text": approval_text(request, outcome)}},
    ]  # fmt: skip
    if decisions:
        lines = [f"• {item.person or item.identity} {item.verdict}d at {item.at}"
                 + (f": {item.comment}" if item.comment else "") for item in decisions]  # fmt: skip
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}})
    if not isinstance(outcome, Open | Rejected):
        blocks.append({"type": "actions", "block_id": "taxiway_approval", "elements": [
            {"type": "button", "action_id": APPROVE_ACTION, "style": "primary", "value": request.execution,
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": REJECT_ACTION, "style": "danger", "value": request.execution,
             "text": {"type": "plain_text", "text": "Reject"}},
        ]})  # fmt: skip
    return blocks
