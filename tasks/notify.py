"""Flyte tasks that report a meta-workflow run to Slack (logic: :mod:`tasks.core.notify`).

The only place the Slack bot token (or webhook URL) is read: from the Flyte secret named in
taxiway.yaml, with ``$TAXIWAY_SLACK_TOKEN`` (``$TAXIWAY_SLACK_WEBHOOK_URL``) as the fallback for
local runs. None of these tasks fails because of Slack: each returns a :class:`Delivery` whose
``thread`` the next notification takes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import flytekit
from flytekit import Secret, task

from tasks.core.config import PipelineConfig
from tasks.core.errors import TaxiwayError
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.notify import Delivery, ReleaseNotifier, SlackThread, slack_channel
from tasks.core.notify_records import Link, RunFailure, RunInfo, StepReport
from tasks.core.notify_slack import SlackTransport, WebApiTransport, WebhookTransport, web_client, webhook_client

logger = logging.getLogger(__name__)

TOKEN_ENV = "TAXIWAY_SLACK_TOKEN"
WEBHOOK_ENV = "TAXIWAY_SLACK_WEBHOOK_URL"
#: The Web API base URL when taxiway.yaml has no ``notifications.slack.api_url`` (e.g. localslack's).
BASE_URL_ENV = "SLACK_BASE_URL"
#: The secret the example pipeline's taxiway.yaml names; requested so Flyte mounts it.
DEFAULT_TOKEN_SECRET = Secret(group="slack", key="bot-token")


@dataclass(frozen=True)
class SlackTarget:
    """Where and how a run is reported, resolved from taxiway.yaml (no secret values, only their names).

    :param channel: the channel for the run's domain; "" when Slack is not configured.
    :param secret_group: the Flyte secret group of the token or webhook URL.
    :param secret_key: its key.
    :param webhook: True when the secret is an incoming-webhook URL rather than a bot token.
    :param api_url: the Web API base URL ("" for slack.com).
    """

    channel: str = ""
    secret_group: str = ""
    secret_key: str = ""
    webhook: bool = False
    api_url: str = ""

    @classmethod
    def for_domain(cls, config: PipelineConfig, domain: str) -> SlackTarget:
        """The target for ``domain``; an empty (disabled) target when the pipeline has no Slack settings."""
        slack, channel = config.notifications.slack, slack_channel(config, domain)
        if slack is None or channel is None:
            return cls()
        secret = slack.token_secret or slack.webhook_secret
        assert secret is not None  # SlackSettings requires exactly one of them
        return cls(channel, secret.group, secret.key, slack.webhook_secret is not None, slack.api_url or "")


def _secret(target: SlackTarget) -> str:
    try:
        return flytekit.current_context().secrets.get(target.secret_group, target.secret_key)
    except ValueError:
        # Flyte's message names the env var and file it looked in, never the value.
        return os.environ.get(WEBHOOK_ENV if target.webhook else TOKEN_ENV, "")


def _notifier(target: SlackTarget) -> ReleaseNotifier:
    if not target.channel:
        return ReleaseNotifier(None, None)
    secret = _secret(target)
    if not secret:
        logger.warning(
            "slack secret %s/%s not found and $%s is unset; this run is not reported to Slack",
            target.secret_group, target.secret_key, WEBHOOK_ENV if target.webhook else TOKEN_ENV,
        )  # fmt: skip
        return ReleaseNotifier(None, None)
    transport: SlackTransport = (
        WebhookTransport(webhook_client(secret))
        if target.webhook
        else WebApiTransport(web_client(secret, target.api_url or os.environ.get(BASE_URL_ENV) or None))
    )
    return ReleaseNotifier(transport, target.channel)


def notifier(target: SlackTarget) -> ReleaseNotifier:
    """The notifier for ``target`` with the secret read here; silent (every call ``SKIPPED``) without one."""
    return _notifier(target)


def execution_link() -> Link:
    """This task's execution in the Flyte console; the bare name when the console's address is unknown."""
    execution = flytekit.current_context().execution_id
    label = f"{execution.project}/{execution.domain}/{execution.name}"
    try:
        settings = FlyteSettings.from_env(os.environ)
        base = FlyteRemotes(settings).for_domain(execution.project, execution.domain).generate_console_http_domain()
    except (ValueError, TaxiwayError) as err:  # a local run has no FlyteAdmin: the link has no URL
        logger.debug("no console link for execution=%s: %s", label, err)
        return Link(label, "")
    path = f"/console/projects/{execution.project}/domains/{execution.domain}/executions/{execution.name}"
    return Link(label, base + path)


@task(secret_requests=[DEFAULT_TOKEN_SECRET])
def notify_run_started(target: SlackTarget, run: RunInfo) -> Delivery:
    """Post the run's Slack message (pipeline, version, domain, execution link, steps).

    :param target: the channel and secret, from ``SlackTarget.for_domain``.
    :param run: the run being reported.
    """
    return _notifier(target).started(run)


@task(secret_requests=[DEFAULT_TOKEN_SECRET])
def notify_step(target: SlackTarget, run: RunInfo, thread: SlackThread, report: StepReport) -> Delivery:
    """Report one step of the run: update its Slack message in place and reply in its thread.

    :param target: the channel and secret.
    :param run: the run being reported (with ``approved_by`` once approved).
    :param thread: ``thread`` of the previous notification's Delivery.
    :param report: what the step did.
    """
    return _notifier(target).step(thread, run, report)


@task(secret_requests=[DEFAULT_TOKEN_SECRET])
def notify_failure(target: SlackTarget, run: RunInfo, thread: SlackThread, failure: RunFailure) -> Delivery:
    """Report the run as failed, naming the failed step and node and linking its execution.

    :param target: the channel and secret.
    :param run: the run being reported.
    :param thread: ``thread`` of the previous notification's Delivery (an empty one posts a new message).
    :param failure: the failed node, its error and execution.
    """
    return _notifier(target).failed(thread, run, failure)
