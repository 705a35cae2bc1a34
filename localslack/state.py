"""The workspace localslack pretends to be: channels, messages and the record of what was posted.

Every change is appended to ``messages.jsonl`` under the state directory (one JSON object per line:
``op`` is ``post``, ``update``, ``webhook`` or ``clear``) and replayed at start-up, so a restart keeps
what tests and the demo have posted. Tokens are never recorded.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from base64 import b32encode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEAM_ID = "T0LOCALSLK"
TEAM_NAME = "taxiway-local"
BOT_USER_ID = "U0LOCALBOT"
BOT_ID = "B0LOCALBOT"
BOT_NAME = "taxiway"
RECORD_FILE = "messages.jsonl"


def channel_id_for(name: str) -> str:
    """A stable, Slack-shaped channel id (``C`` + 10 base32 characters) for a channel name."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return "C" + b32encode(digest).decode("ascii")[:10]


@dataclass
class Message:
    """One message as Slack stores it; ``history`` holds the earlier versions replaced by chat.update."""

    channel: str
    ts: str
    text: str
    blocks: list[Any]
    thread_ts: str | None = None
    via: str = "chat.postMessage"
    history: list[dict[str, Any]] = field(default_factory=list)

    def slack_shape(self) -> dict[str, Any]:
        """The ``message`` object Slack returns from chat.postMessage / chat.update."""
        shape: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team": TEAM_ID,
            "text": self.text,
            "ts": self.ts,
        }
        if self.blocks:
            shape["blocks"] = self.blocks
        if self.thread_ts:
            shape["thread_ts"] = self.thread_ts
        if self.history:
            shape["edited"] = {"user": BOT_USER_ID, "ts": self.history[-1]["replaced_at"]}
        return shape

    def record(self) -> dict[str, Any]:
        """The JSON form served by ``GET /_local/messages``."""
        return {
            "channel": self.channel,
            "channel_name": "",
            "ts": self.ts,
            "thread_ts": self.thread_ts,
            "text": self.text,
            "blocks": self.blocks,
            "via": self.via,
            "updates": len(self.history),
            "history": self.history,
        }


class Workspace:
    """Channels and messages of the one local workspace; every public method is thread-safe.

    :param state_dir: where ``messages.jsonl`` is kept (created if missing).
    :param channels: channel names (without ``#``) that exist; when empty, a channel is created the
        first time something is posted to it, so any pipeline's channel works on the local stack.
    """

    def __init__(self, state_dir: Path, channels: tuple[str, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._auto_create = not channels
        self._names: dict[str, str] = {}  # channel id -> name
        self._messages: dict[tuple[str, str], Message] = {}
        self._last_ts = 0
        for name in channels:
            self._create(name.lstrip("#"))
        state_dir.mkdir(parents=True, exist_ok=True)
        self._path = state_dir / RECORD_FILE
        self._replay()
        self._file = self._path.open("a", encoding="utf-8")

    def close(self) -> None:
        with self._lock:
            self._file.close()

    # --- channels ----------------------------------------------------------------------------

    def resolve_channel(self, channel: str, *, create: bool) -> str | None:
        """The id of ``channel`` (an id, ``#name`` or ``name``), or None if it does not exist."""
        with self._lock:
            return self._resolve(channel, create=create)

    def channels(self) -> list[dict[str, Any]]:
        """Channels in the shape of ``conversations.list``."""
        with self._lock:
            return [
                {"id": cid, "name": name, "is_channel": True, "is_archived": False, "is_member": True}
                for cid, name in sorted(self._names.items(), key=lambda item: item[1])
            ]

    def _resolve(self, channel: str, *, create: bool) -> str | None:
        if channel in self._names:
            return channel
        name = channel.lstrip("#")
        cid = channel_id_for(name)
        if cid in self._names:
            return cid
        if create and self._auto_create and name and not channel.startswith(("C", "G", "D")):
            return self._create(name)
        return None

    def _create(self, name: str) -> str:
        cid = channel_id_for(name)
        self._names[cid] = name
        return cid

    # --- messages ----------------------------------------------------------------------------

    def post(self, channel_id: str, text: str, blocks: list[Any], thread_ts: str | None, via: str) -> Message:
        """Store a new message and record it."""
        with self._lock:
            message = Message(channel_id, self._next_ts(), text, blocks, thread_ts, via)
            self._messages[(channel_id, message.ts)] = message
            self._append({**self._named(message), "op": "webhook" if via == "webhook" else "post"})
            return message

    def update(self, channel_id: str, ts: str, text: str | None, blocks: list[Any] | None) -> Message | None:
        """Replace a message's text and/or blocks; None if there is no such message."""
        with self._lock:
            message = self._messages.get((channel_id, ts))
            if message is None:
                return None
            message.history.append({"text": message.text, "blocks": message.blocks, "replaced_at": self._next_ts()})
            if text is not None:
                message.text = text
            if blocks is not None:
                message.blocks = blocks
            self._append({**self._named(message), "op": "update"})
            return message

    def has_message(self, channel_id: str, ts: str) -> bool:
        with self._lock:
            return (channel_id, ts) in self._messages

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Every message (oldest first), optionally only those of one channel (id or name)."""
        with self._lock:
            wanted = self._resolve(channel, create=False) if channel else None
            if channel and wanted is None:
                return []
            found = [m for m in self._messages.values() if wanted is None or m.channel == wanted]
            return [self._named(m) for m in sorted(found, key=lambda m: m.ts)]

    def clear(self) -> None:
        """Forget every message (channels stay)."""
        with self._lock:
            self._messages.clear()
            self._append({"op": "clear"})

    def _named(self, message: Message) -> dict[str, Any]:
        return {**message.record(), "channel_name": self._names.get(message.channel, "")}

    def _next_ts(self) -> str:
        # Slack's ts is "<unix seconds>.<6 digits>" and unique per channel; microseconds since the
        # epoch, bumped when two calls land in the same microsecond, keeps them unique and ordered.
        now = max(int(time.time() * 1_000_000), self._last_ts + 1)
        self._last_ts = now
        return f"{now // 1_000_000}.{now % 1_000_000:06d}"

    def _append(self, entry: dict[str, Any]) -> None:
        self._file.write(json.dumps({"time": time.time(), **entry}, sort_keys=True) + "\n")
        self._file.flush()

    def _replay(self) -> None:
        if not self._path.is_file():
            return
        for line in self._path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            op = entry.get("op")
            if op == "clear":
                self._messages.clear()
                continue
            cid = entry["channel"]
            if entry.get("channel_name"):
                self._names.setdefault(cid, entry["channel_name"])
            message = Message(
                cid,
                entry["ts"],
                entry["text"],
                entry["blocks"],
                entry.get("thread_ts"),
                entry.get("via", "chat.postMessage"),
                entry.get("history", []),
            )
            self._messages[(cid, message.ts)] = message
            seconds, _, micros = message.ts.partition(".")
            self._last_ts = max(self._last_ts, int(seconds) * 1_000_000 + int(micros or 0))
