"""Slack notifications of a meta-workflow run: one message per run, updated in place and threaded.

:class:`ReleaseNotifier` posts the run's main message when it starts, then for every step updates
that message in place (``chat.update``) and adds a thread reply (started → built → registered →
validated → promoted, or failed). The state needed to find the message again is a small frozen
:class:`SlackThread` that Flyte tasks pass from step to step.

Notifications never fail a pipeline: a Slack outage or a refused token becomes a :class:`Delivery`
with status ``NOT_DELIVERED`` and one warning per run (the thread remembers that it warned), never an
exception. A refused token also mutes the rest of the run, so it is not tried again at every step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from tasks.core.config import PipelineConfig
from tasks.core.errors import SlackAuthFailed, TaxiwayError
from tasks.core.notify_blocks import Progress, failure_reply, main_message, standalone, step_reply
from tasks.core.notify_records import RunFailure, RunInfo, StepReport
from tasks.core.notify_slack import SlackTransport
from tasks.core.vocabulary import Event, RunStep

logger = logging.getLogger(__name__)

Message = tuple[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class SlackThread:
    """Where a run's Slack message lives and what was reported so far; passed between tasks.

    :param channel: the channel id Slack returned ("" until the main message is posted).
    :param ts: the main message's ts, which thread replies and updates refer to ("" until posted).
    :param last_step: the last step reported done.
    :param muted: why notifications stopped for this run (a refused token), "" while they go on.
    :param warned: True once a warning about undelivered notifications was logged for this run.
    """

    channel: str = ""
    ts: str = ""
    last_step: RunStep | None = None
    muted: str = ""
    warned: bool = False

    @property
    def posted(self) -> bool:
        return bool(self.ts)


class DeliveryStatus(StrEnum):
    """Whether a notification reached Slack."""

    DELIVERED = "DELIVERED"
    NOT_DELIVERED = "NOT_DELIVERED"
    #: Slack is not configured for this pipeline or domain, or the run's notifications are muted.
    SKIPPED = "SKIPPED"


@dataclass(frozen=True)
class Delivery:
    """The outcome of one notification and the thread state to pass to the next step.

    :param status: delivered, not delivered, or skipped.
    :param thread: the run's message state after this notification.
    :param reason: why it was not delivered or skipped ("" when delivered); never contains a secret.
    """

    status: DeliveryStatus
    thread: SlackThread
    reason: str = ""

    @property
    def delivered(self) -> bool:
        return self.status is DeliveryStatus.DELIVERED


def slack_channel(config: PipelineConfig, domain: str) -> str | None:
    """The channel for ``domain``: its ``slack_channel``, else ``notifications.slack.channel``; None without Slack."""
    slack = config.notifications.slack
    if slack is None:
        return None
    return config.domain(domain).slack_channel or slack.channel


class ReleaseNotifier:
    """Posts one run's Slack message and its thread; never raises for Slack's failures.

    :param transport: the Web API (threads, updates) or an incoming webhook (one message per step);
        None when Slack is not configured, which makes every call ``SKIPPED``.
    :param channel: the channel name or id from :func:`slack_channel`.
    """

    def __init__(self, transport: SlackTransport | None, channel: str | None) -> None:
        self._transport = transport if channel else None
        self._channel = channel or ""

    def started(self, run: RunInfo, thread: SlackThread | None = None) -> Delivery:
        """Post the run's main message (a no-op update when ``thread`` already has one)."""
        return self.step(thread or SlackThread(), run, StepReport(Event.RUN_STARTED, summary=f"{run.workflow} started"))

    def step(self, thread: SlackThread, run: RunInfo, report: StepReport) -> Delivery:
        """Report one step: update the main message in place and add a thread reply."""
        progress = Progress.of(run, thread.last_step, report)
        after = replace(thread, last_step=progress.done)
        return self._deliver(after, main_message(run, progress), step_reply(run, report), report.event.value, run)

    def failed(self, thread: SlackThread, run: RunInfo, failure: RunFailure) -> Delivery:
        """Report a technical failure naming the step and node that failed, with its execution."""
        progress = Progress.failed(run, thread.last_step, failure)
        reply = failure_reply(run, failure, progress)
        return self._deliver(thread, main_message(run, progress), reply, Event.RUN_FAILED.value, run)

    def _deliver(self, thread: SlackThread, main: Message, reply: Message, event: str, run: RunInfo) -> Delivery:
        if self._transport is None:
            return Delivery(DeliveryStatus.SKIPPED, thread, "Slack notifications are not configured")
        if thread.muted:
            logger.debug("slack notification skipped event=%s reason=%s", event, thread.muted)
            return Delivery(DeliveryStatus.SKIPPED, thread, f"notifications muted for this run: {thread.muted}")
        transport = self._transport
        try:
            if not transport.supports_threads:
                transport.post(self._channel, *standalone(main, reply))
            else:
                if thread.posted:
                    transport.update(thread.channel, thread.ts, *main)
                else:
                    channel, ts = transport.post(self._channel, *main)
                    # Kept even if the reply fails below, so the next step updates this message.
                    thread = replace(thread, channel=channel, ts=ts)
                transport.post(thread.channel, *reply, thread_ts=thread.ts)
        except TaxiwayError as error:
            return self._not_delivered(thread, error, event, run)
        logger.info(
            "slack notified event=%s pipeline=%s version=%s domain=%s channel=%s ts=%s",
            event, run.pipeline, run.version, run.domain, thread.channel, thread.ts,
        )  # fmt: skip
        return Delivery(DeliveryStatus.DELIVERED, thread)

    def _not_delivered(self, thread: SlackThread, error: TaxiwayError, event: str, run: RunInfo) -> Delivery:
        reason = error.render()
        if isinstance(error, SlackAuthFailed):
            thread = replace(thread, muted=error.what)
        if thread.warned:
            logger.info("slack notification not delivered event=%s reason=%s", event, error.what)
        else:
            logger.warning(
                "slack notifications for this run are not delivered (the pipeline goes on; later failures "
                "are logged at INFO): pipeline=%s version=%s domain=%s event=%s reason=%s",
                run.pipeline, run.version, run.domain, event, reason,
            )  # fmt: skip
            thread = replace(thread, warned=True)
        return Delivery(DeliveryStatus.NOT_DELIVERED, thread, reason)
