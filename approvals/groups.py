"""Slack user-group membership for approval policies with ``slack_groups`` (``usergroups.users.list``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

logger = logging.getLogger(__name__)

#: Membership changes rarely; a click must not wait for Slack every time (Slack answers in 3 s or retries).
CACHE_SECONDS = 60.0


class SlackGroups:
    """:class:`approvals.service.GroupMembers` over the Web API, cached for ``ttl`` seconds per group.

    A lookup that fails counts as an empty group (its members cannot approve until Slack answers again):
    failing closed is the safe side for an approval, and the warning names the group and Slack's error.
    """

    def __init__(self, client: WebClient, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def members(self, group: str) -> frozenset[str]:
        """The user ids in Slack user group ``group`` (its id, e.g. ``S0614TZR7``)."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(group)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            response = self._client.usergroups_users_list(usergroup=group)
        except SlackApiError as err:
            logger.warning("slack group lookup failed group=%s error=%s", group, err.response.get("error", ""))
            return frozenset()
        except SlackClientError as err:
            logger.warning("slack group lookup failed group=%s: %s", group, type(err).__name__)
            return frozenset()
        users = frozenset(str(user) for user in response.get("users") or [])
        with self._lock:
            self._cache[group] = (now, users)
        logger.info("slack group looked up group=%s members=%d", group, len(users))
        return users
