"""The Flyte task that asks for approval before a promotion's gate (logic: :mod:`tasks.core.governance_requests`).

It posts the Slack message with Approve / Reject buttons (their value is this promotion's execution, which
the approvals service answers) and records the request as the execution's ``approval-request`` signal.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

import flytekit
from flytekit import task

from tasks.core.governance_requests import request_approval
from tasks.core.governance_signals import ApprovalRequest, FlyteSignals
from tasks.core.notify_slack import SlackTransport, WebApiTransport, web_client
from tasks.notify import BASE_URL_ENV, DEFAULT_TOKEN_SECRET, TOKEN_ENV, SlackTarget
from tasks.promote import PromotionCheck
from tasks.validate import ReleaseContext, meta_remote, remotes

logger = logging.getLogger(__name__)


def _slack(target: SlackTarget) -> SlackTransport | None:
    """A Web API transport for ``target`` (buttons need a bot token: a webhook cannot update its message)."""
    if not target.channel:
        return None
    if target.webhook:
        logger.warning("approval buttons need a Slack bot token; %s is an incoming webhook: no message", target.channel)
        return None
    try:
        token = flytekit.current_context().secrets.get(target.secret_group, target.secret_key)
    except ValueError:
        token = os.environ.get(TOKEN_ENV, "")
    if not token:
        logger.warning("slack secret %s/%s not found and $%s is unset; no approval message",
                       target.secret_group, target.secret_key, TOKEN_ENV)  # fmt: skip
        return None
    return WebApiTransport(web_client(token, target.api_url or os.environ.get(BASE_URL_ENV) or None))


@task(secret_requests=[DEFAULT_TOKEN_SECRET], retries=3, cache=False)
def request_promotion_approval(context: ReleaseContext, check: PromotionCheck) -> str:
    """Ask for approval where ``check.to_domain`` requires it: post the Slack message with Approve / Reject
    buttons and record the request (release, author, deadline) on this execution; nothing otherwise.

    :param context: the release and its taxiway.yaml.
    :param check: the promotion the gate let through.
    :returns: the execution waiting for approval (``project/domain/name``), or "" when none is needed.
    """
    if not check.requires_approval:
        return ""
    config, release = context.config(), context.release
    execution = flytekit.current_context().execution_id
    full = f"{execution.project}/{execution.domain}/{execution.name}"
    now = datetime.now(UTC)
    deadline = now + timedelta(seconds=check.approval_timeout_seconds)
    request = ApprovalRequest(full, config.pipeline, release.version, check.to_domain, release.author,
                              now.isoformat(timespec="seconds"), deadline.isoformat(timespec="seconds"))  # fmt: skip
    target = SlackTarget.for_domain(config, check.to_domain)
    request_approval(FlyteSignals(meta_remote(remotes())), _slack(target), target.channel, request)
    return full
