"""Slack transports: slack-sdk's ``WebClient`` or ``WebhookClient`` behind one small protocol.

This is the one place where slack-sdk's exceptions become Taxiway's: a rate limit or server error
that outlived the retry handlers is :class:`SlackUnavailable`, a refused token
:class:`SlackAuthFailed`, an unknown channel or invalid message :class:`SlackRejected`. No message
built here contains a token: slack-sdk keeps it in a header, and its errors carry only Slack's answer.
"""

from __future__ import annotations

import logging
import urllib.error
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from tasks.core.errors import SlackAuthFailed, SlackRateLimited, SlackRejected, SlackUnavailable, TaxiwayError

logger = logging.getLogger(__name__)

#: Slack's answers that mean the token (or app) is unusable; retrying cannot help.
AUTH_ERRORS = frozenset(
    {"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired", "no_permission"}
)
DEFAULT_TIMEOUT_SECONDS = 10


class SlackTransport(Protocol):
    """Posts and updates messages; raises only :class:`TaxiwayError` subclasses."""

    #: False for incoming webhooks: no thread replies, no updates in place.
    supports_threads: bool

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str = "") -> tuple[str, str]:
        """Post a message; returns the channel id and ts Slack assigned ("" and "" for webhooks)."""
        ...

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Replace the text and blocks of message ``ts`` in ``channel`` (a channel id)."""
        ...


def retry_handlers(max_retries: int = 2, backoff_seconds: float = 0.5) -> list[RetryHandler]:
    """slack-sdk's own retry handlers for connection errors, 429 (after Retry-After) and 500/503."""
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff_seconds)
    return [
        ConnectionErrorRetryHandler(max_retry_count=max_retries, interval_calculator=interval),
        RateLimitErrorRetryHandler(max_retry_count=max_retries + 1),
        ServerErrorRetryHandler(max_retry_count=max_retries, interval_calculator=interval),
    ]


class _QuietAndRedacted(logging.Filter):
    """Demote slack-sdk's records to DEBUG and blank out secrets in them.

    slack-sdk logs each failed attempt at ERROR (the notifier reports the outcome once instead), and
    ``WebhookClient`` logs its URL, which is a secret, at DEBUG and INFO.
    """

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self._secrets = tuple(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "<redacted>")
            record.msg, record.args = message, None
        return True


def sdk_logger(*secrets: str) -> logging.Logger:
    """A logger for one slack-sdk client, under this module's name, quiet and with ``secrets`` redacted.

    A fresh, unregistered logger keeps the filter off slack-sdk's own global logger.
    """
    sdk = logging.Logger(f"{__name__}.sdk")
    sdk.parent = logger
    sdk.addFilter(_QuietAndRedacted(secrets))
    return sdk


def web_client(
    token: str, api_url: str | None = None, *, max_retries: int = 2, backoff_seconds: float = 0.5
) -> WebClient:
    """A ``WebClient`` with retry handlers and a quiet logger; ``api_url`` is the Web API base (``.../api/``)."""
    kwargs: dict[str, Any] = {"base_url": _api_base(api_url)} if api_url else {}
    return WebClient(
        token=token,
        timeout=DEFAULT_TIMEOUT_SECONDS,
        logger=sdk_logger(token),
        retry_handlers=retry_handlers(max_retries, backoff_seconds),
        **kwargs,
    )


def webhook_client(url: str, *, max_retries: int = 2, backoff_seconds: float = 0.5) -> WebhookClient:
    """A ``WebhookClient`` with the same retry handlers and quiet logger."""
    return WebhookClient(
        url=url,
        timeout=DEFAULT_TIMEOUT_SECONDS,
        logger=sdk_logger(url),
        retry_handlers=retry_handlers(max_retries, backoff_seconds),
    )


def _api_base(api_url: str) -> str:
    return api_url if api_url.endswith("/") else api_url + "/"


def translate(method: str, error: Exception) -> TaxiwayError:
    """The Taxiway error for a failed slack-sdk call (this module's one translation point)."""
    where = f"Slack {method}"
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        code = str(error.response.get("error", "") or f"HTTP {status}")
        if status == 429:
            return SlackRateLimited(f"still answered HTTP 429 ({code}) after retries", where=where)
        if status >= 500:
            return SlackUnavailable(f"answered HTTP {status} ({code}) after retries", where=where)
        if code in AUTH_ERRORS:
            return SlackAuthFailed(f"refused the bot token: {code}", where=where)
        return SlackRejected(f"refused the call: {code}", where=where)
    if isinstance(error, SlackClientError | urllib.error.URLError | OSError):
        return SlackUnavailable(f"could not be reached: {type(error).__name__}: {error}", where=where)
    return SlackUnavailable(f"failed unexpectedly: {type(error).__name__}: {error}", where=where)


class WebApiTransport:
    """Slack's Web API through a ``WebClient`` (threads and in-place updates)."""

    supports_threads = True

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str = "") -> tuple[str, str]:
        try:
            response = self._client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts or None
            )
        except Exception as error:  # slack-sdk raises several unrelated types; translated in one place
            raise translate("chat.postMessage", error) from None
        return str(response["channel"]), str(response["ts"])

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        try:
            self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except Exception as error:
            raise translate("chat.update", error) from None


class WebhookTransport:
    """An incoming webhook through a ``WebhookClient``: each post is a new message in its fixed channel."""

    supports_threads = False

    def __init__(self, client: WebhookClient) -> None:
        self._client = client

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str = "") -> tuple[str, str]:
        try:
            response = self._client.send(text=text, blocks=blocks)
        except Exception as error:
            # The webhook URL is itself a secret: never put it (or the error text that may echo it) in the message.
            raise SlackUnavailable(f"could not be reached: {type(error).__name__}", where="Slack webhook") from None
        if response.status_code == 200:
            return "", ""
        body = str(response.body or "")[:100]
        if response.status_code == 429:
            raise SlackRateLimited("still answered HTTP 429 after retries", where="Slack webhook")
        if response.status_code >= 500:
            raise SlackUnavailable(
                f"answered HTTP {response.status_code} ({body}) after retries", where="Slack webhook"
            )
        if response.status_code == 403 or body in ("invalid_token", "no_service", "no_team"):
            raise SlackAuthFailed(f"refused the webhook: {body}", where="Slack webhook")
        raise SlackRejected(f"refused the message: HTTP {response.status_code} {body}", where="Slack webhook")

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        raise SlackRejected(
            "incoming webhooks cannot update messages", where="Slack webhook", fix="use token_secret for threads"
        )
