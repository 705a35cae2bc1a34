"""Run one FlyteAdmin call per entity on a bounded thread pool, and report every failure at once.

A registration makes a few hundred small gRPC calls; one at a time, their round trips dominate
(a 200-entity promotion spent two thirds of its time waiting on them). The calls of one dependency
wave are independent, so they share one ``FlyteRemote`` (one gRPC channel, which is thread-safe) and
run ``max_workers`` at a time. Every call runs to its end even when another fails, so the error
names every entity that failed, not just the first one to finish.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from tasks.core.errors import PermanentError, TaxiwayError

logger = logging.getLogger(__name__)

#: Concurrent calls per registration: enough to hide round trips, few enough not to swamp FlyteAdmin.
DEFAULT_MAX_WORKERS = 8
#: Failures named in full in an aggregated message; the rest are counted.
_NAMED_FAILURES = 10

_E = TypeVar("_E")
_R = TypeVar("_R")


@dataclass(frozen=True)
class EntityFailure:
    """One entity's call that raised: the entity's label (``task a.b``) and the error."""

    label: str
    error: BaseException


def call_each(
    items: Sequence[_E],
    call: Callable[[_E], _R],
    label: Callable[[_E], str],
    *,
    what: str,
    max_workers: int = DEFAULT_MAX_WORKERS,
) -> list[_R]:
    """``[call(item) for item in items]``, ``max_workers`` at a time; results in ``items`` order.

    :param items: the entities (or references) to call for.
    :param call: the FlyteAdmin call for one item (already retrying transient errors itself).
    :param label: how messages name an item (``task training.fit``).
    :param what: the step, for messages (``register``, ``check``).
    :param max_workers: concurrent calls; 1 runs them in order on this thread.
    :raises TaxiwayError: when calls failed: the single failure as it is, or several combined by
        :func:`combined_error`. A non-Taxiway error (a bug) is re-raised as it is after the others finish.
    """
    if not items:
        return []
    outcomes: list[_R | EntityFailure] = []
    if max_workers <= 1 or len(items) == 1:
        outcomes = [_attempt(call, label, item) for item in items]
    else:
        with ThreadPoolExecutor(max_workers=min(max_workers, len(items)), thread_name_prefix=f"{what}-") as pool:
            outcomes = list(pool.map(lambda item: _attempt(call, label, item), items))
    failures = [outcome for outcome in outcomes if isinstance(outcome, EntityFailure)]
    if failures:
        raise combined_error(failures, what, total=len(items))
    return [outcome for outcome in outcomes if not isinstance(outcome, EntityFailure)]


def _attempt(call: Callable[[_E], _R], label: Callable[[_E], str], item: _E) -> _R | EntityFailure:
    try:
        return call(item)
    except Exception as err:  # collected: every failing entity is reported, not just the first
        return EntityFailure(label(item), err)


def combined_error(failures: Sequence[EntityFailure], what: str, total: int) -> BaseException:
    """One error for ``failures`` (in item order).

    A single failure is returned unchanged. For several, a permanent error wins over a transient one
    (retrying cannot fix it), and the first such error's type is kept (``VersionConflict``,
    ``AdminUnavailable``...) with a message naming each failing entity. An error outside Taxiway's
    tree is a bug: it is returned unchanged, the others are logged.
    """
    for failure in failures:
        if not isinstance(failure.error, TaxiwayError):
            for other in failures:
                if other is not failure:
                    logger.error("%s failed entity=%s error=%s", what, other.label, other.error)
            return failure.error
    if len(failures) == 1:
        return failures[0].error
    permanent = [failure for failure in failures if isinstance(failure.error, PermanentError)]
    lead = (permanent or list(failures))[0].error
    assert isinstance(lead, TaxiwayError)
    lines = [f"  {failure.label}: {_what(failure.error)}" for failure in failures[:_NAMED_FAILURES]]
    if len(failures) > _NAMED_FAILURES:
        lines.append(f"  ... and {len(failures) - _NAMED_FAILURES} more")
    message = f"{what} failed for {len(failures)} of {total} entities:\n" + "\n".join(lines)
    try:
        combined = type(lead)(message, where=lead.where, fix=lead.fix)
    except TypeError:  # a subclass with its own constructor: keep the first error, name the rest in the log
        for failure in failures:
            logger.error("%s failed entity=%s error=%s", what, failure.label, failure.error)
        return lead
    combined.__cause__ = lead
    return combined


def _what(error: BaseException) -> str:
    text = error.what if isinstance(error, TaxiwayError) else str(error)
    return text.splitlines()[0] if text else type(error).__name__
