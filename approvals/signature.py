"""Slack request verification: ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``, fresh, never seen before.

As Slack documents ("Verifying requests from Slack"): the signature header ``X-Slack-Signature`` is
``v0=`` + hex HMAC-SHA256 keyed with the app's signing secret over ``v0:<X-Slack-Request-Timestamp>:<raw
body>``; requests older than five minutes are refused. A replay of a fresh request is refused too: every
accepted signature is remembered (SQLite under the service's state dir) until it is stale anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import threading
from pathlib import Path

MAX_AGE_SECONDS = 300
VERSION = "v0"


class RequestRefused(Exception):
    """A Slack request failed verification; the message says why (never the secret)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` Slack would send for ``body`` at ``timestamp``."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, signature: str, body: bytes, now: float) -> None:
    """Check signature and age.

    :raises RequestRefused: missing/garbled headers, a timestamp more than five minutes off, or a bad signature.
    """
    if not secret:
        raise RequestRefused("the approvals service has no Slack signing secret configured")
    if not timestamp or not signature:
        raise RequestRefused("missing X-Slack-Request-Timestamp or X-Slack-Signature")
    try:
        sent = int(timestamp)
    except ValueError:
        raise RequestRefused(f"X-Slack-Request-Timestamp is not a number: {timestamp[:20]!r}") from None
    if abs(now - sent) > MAX_AGE_SECONDS:
        raise RequestRefused(f"stale request: timestamp is {int(now - sent)}s from now (limit {MAX_AGE_SECONDS}s)")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode()):
        raise RequestRefused("bad signature")


class ReplayGuard:
    """Remembers accepted signatures for twice the maximum age; a second use is a replay."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (signature TEXT PRIMARY KEY, sent INTEGER NOT NULL)")

    def first_use(self, signature: str, timestamp: str, now: float) -> None:
        """Record ``signature``.

        :raises RequestRefused: if it was accepted before.
        """
        with self._lock:
            self._db.execute("DELETE FROM seen WHERE sent < ?", (int(now) - 2 * MAX_AGE_SECONDS,))
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO seen (signature, sent) VALUES (?, ?)", (signature, int(timestamp))
            ).rowcount
        if inserted != 1:
            raise RequestRefused("replayed request: this signature was already used")

    def close(self) -> None:
        self._db.close()
