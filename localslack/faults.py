"""Fault injection: make the next N calls to a method fail the way Slack fails.

A fault is armed with ``POST /_local/faults`` and a JSON body such as
``{"method": "chat.postMessage", "fault": "rate_limited", "count": 1, "retry_after": 1}``.
``method`` is a Web API method name, ``webhook`` for incoming webhooks, or ``*`` for every call;
``count`` is how many calls fail (``null`` for every call until the faults are cleared).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    """The failures localslack can inject, named after what Slack answers."""

    RATE_LIMITED = "rate_limited"  # HTTP 429, Retry-After header, error "ratelimited"
    SERVER_ERROR = "server_error"  # HTTP 500, error "internal_error"
    INVALID_AUTH = "invalid_auth"  # HTTP 200, ok false, error "invalid_auth"
    CHANNEL_NOT_FOUND = "channel_not_found"  # HTTP 200, ok false, error "channel_not_found"


@dataclass(frozen=True)
class Fault:
    """One armed fault. ``remaining`` is None for a fault that never runs out."""

    method: str
    kind: FaultKind
    remaining: int | None
    retry_after: int = 1

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "fault": self.kind.value,
            "count": self.remaining,
            "retry_after": self.retry_after,
        }


class FaultError(ValueError):
    """A fault request that cannot be armed; the message says which field is wrong."""


def parse_fault(body: Any) -> Fault:
    """Validate the JSON body of ``POST /_local/faults``.

    :raises FaultError: naming the field that is missing or wrong.
    """
    if not isinstance(body, dict):
        raise FaultError("expected a JSON object with method, fault, count and retry_after")
    method = body.get("method", "*")
    if not isinstance(method, str) or not method:
        raise FaultError(f"method: expected a Web API method name, 'webhook' or '*', got {method!r}")
    try:
        kind = FaultKind(str(body.get("fault")))
    except ValueError:
        choices = ", ".join(kind.value for kind in FaultKind)
        raise FaultError(f"fault: expected one of {choices}, got {body.get('fault')!r}") from None
    count = body.get("count", 1)
    if count is not None and (type(count) is not int or count < 1):
        raise FaultError(f"count: expected a positive integer or null (forever), got {count!r}")
    retry_after = body.get("retry_after", 1)
    if type(retry_after) is not int or retry_after < 0:
        raise FaultError(f"retry_after: expected seconds as a non-negative integer, got {retry_after!r}")
    return Fault(method, kind, count, retry_after)


class FaultBook:
    """The armed faults, consumed in the order they were armed; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.as_json() for fault in self._faults]

    def take(self, method: str) -> Fault | None:
        """The fault that applies to this call of ``method``, counting it down; None if none applies."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.method not in ("*", method):
                    continue
                if fault.remaining is None:
                    return fault
                if fault.remaining <= 1:
                    del self._faults[index]
                else:
                    self._faults[index] = Fault(fault.method, fault.kind, fault.remaining - 1, fault.retry_after)
                return fault
            return None
