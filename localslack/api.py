"""The Slack Web API methods localslack answers, with Slack's response shapes and error names.

Each method takes the call's parameters (already merged from the query string and a form or JSON
body) and returns an :class:`Answer`. Authentication and faults are checked before dispatch, in the
order Slack applies them: a missing token is ``not_authed``, an unknown one ``invalid_auth``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localslack.faults import Fault, FaultKind
from localslack.state import BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_ID, TEAM_NAME, Workspace

# Slack's documented limits; exceeding them is `invalid_blocks` / `msg_too_long` there too.
MAX_BLOCKS = 50
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def error(self) -> str | None:
        return None if self.body.get("ok") else str(self.body.get("error", ""))


def ok(**fields: Any) -> Answer:
    return Answer(200, {"ok": True, **fields})


def failed(error: str, status: int = 200, **headers: str) -> Answer:
    return Answer(status, {"ok": False, "error": error}, headers)


def fault_answer(fault: Fault) -> Answer:
    """How Slack answers when the injected failure happens."""
    if fault.kind is FaultKind.RATE_LIMITED:
        return failed("ratelimited", 429, **{"Retry-After": str(fault.retry_after)})
    if fault.kind is FaultKind.SERVER_ERROR:
        return failed("internal_error", 500)
    return failed(fault.kind.value)


def authenticate(token: str | None, accepted: frozenset[str]) -> Answer | None:
    """None when the token is accepted, else Slack's error answer."""
    if not token:
        return failed("not_authed")
    if token not in accepted:
        return failed("invalid_auth")
    return None


def _json_param(params: Mapping[str, Any], name: str) -> Any:
    # Form-encoded calls carry blocks as a JSON string; JSON calls carry the list itself.
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def blocks_problem(blocks: Any) -> str | None:
    """Why Slack would reject these blocks (as ``invalid_blocks``), or None if they are fine."""
    if not isinstance(blocks, list):
        return "blocks must be a JSON array"
    if len(blocks) > MAX_BLOCKS:
        return f"more than {MAX_BLOCKS} blocks"
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return f"block {index} has no type"
        text = block.get("text")
        text_value = text.get("text", "") if isinstance(text, dict) else ""
        if block["type"] == "header" and (not text_value or len(text_value) > MAX_HEADER_TEXT):
            return f"block {index}: a header needs plain_text of 1-{MAX_HEADER_TEXT} characters"
        if block["type"] == "section":
            fields = block.get("fields") or []
            if not text_value and not fields:
                return f"block {index}: a section needs text or fields"
            if len(text_value) > MAX_SECTION_TEXT or len(fields) > MAX_FIELDS:
                return f"block {index}: section text over {MAX_SECTION_TEXT} characters or over {MAX_FIELDS} fields"
    return None


class WebApi:
    """Dispatches Web API methods to the workspace."""

    def __init__(self, workspace: Workspace, usergroups: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.workspace = workspace
        self.usergroups = dict(usergroups or {})
        self._methods: dict[str, Callable[[Mapping[str, Any]], Answer]] = {
            "api.test": lambda params: ok(args=dict(params)),
            "auth.test": self.auth_test,
            "chat.postMessage": self.post_message,
            "chat.update": self.update,
            "conversations.list": self.conversations_list,
            "usergroups.users.list": self.usergroup_users,
        }

    def knows(self, method: str) -> bool:
        return method in self._methods

    def call(self, method: str, params: Mapping[str, Any]) -> Answer:
        handler = self._methods.get(method)
        return handler(params) if handler else failed("unknown_method", 404)

    def auth_test(self, params: Mapping[str, Any]) -> Answer:
        return ok(
            url="http://127.0.0.1/",
            team=TEAM_NAME,
            user=BOT_NAME,
            team_id=TEAM_ID,
            user_id=BOT_USER_ID,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    def _content(
        self, params: Mapping[str, Any], *, required: bool
    ) -> tuple[str | None, list[Any] | None, Answer | None]:
        text = params.get("text")
        blocks = _json_param(params, "blocks")
        if blocks is not None:
            problem = blocks_problem(blocks)
            if problem:
                return None, None, Answer(200, {"ok": False, "error": "invalid_blocks", "errors": [problem]})
        if required and not text and not blocks:
            return None, None, failed("no_text")
        if text is not None and len(str(text)) > MAX_TEXT:
            return None, None, failed("msg_too_long")
        return (None if text is None else str(text)), blocks, None

    def post_message(self, params: Mapping[str, Any]) -> Answer:
        channel_id = self.workspace.resolve_channel(str(params.get("channel") or ""), create=True)
        if channel_id is None:
            return failed("channel_not_found")
        text, blocks, problem = self._content(params, required=True)
        if problem:
            return problem
        thread_ts = params.get("thread_ts") or None
        if thread_ts is not None and not self.workspace.has_message(channel_id, str(thread_ts)):
            return failed("thread_not_found")
        message = self.workspace.post(channel_id, text or "", blocks or [], thread_ts, "chat.postMessage")
        return ok(channel=channel_id, ts=message.ts, message=message.slack_shape())

    def update(self, params: Mapping[str, Any]) -> Answer:
        # Slack wants the channel *id* here (the one chat.postMessage returned), not a name.
        channel = str(params.get("channel") or "")
        channel_id = self.workspace.resolve_channel(channel, create=False)
        if channel_id is None or channel_id != channel:
            return failed("channel_not_found")
        text, blocks, problem = self._content(params, required=False)
        if problem:
            return problem
        message = self.workspace.update(channel_id, str(params.get("ts") or ""), text, blocks)
        if message is None:
            return failed("message_not_found")
        return ok(channel=channel_id, ts=message.ts, text=message.text, message=message.slack_shape())

    def usergroup_users(self, params: Mapping[str, Any]) -> Answer:
        """The user ids of a user group (``usergroup``: its id), as Slack answers ``usergroups.users.list``."""
        group = str(params.get("usergroup") or "")
        if not group:
            return failed("invalid_arguments")
        if group not in self.usergroups:
            return failed("no_such_subteam")
        return ok(users=list(self.usergroups[group]))

    def conversations_list(self, params: Mapping[str, Any]) -> Answer:
        return ok(channels=self.workspace.channels(), response_metadata={"next_cursor": ""})
