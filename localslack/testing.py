"""Start localslack as a real subprocess on a free loopback port, for tests and the demo.

with LocalSlackProcess(tmp_path, tokens=("xoxb-test",)) as slack:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    slack.arm_fault("chat.postMessage", "rate_limited", count=1, retry_after=0)
    ...
    assert len(slack.messages()) == 1
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

READY_LINE = "localslack serving on 127.0.0.1:"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalSlackProcess:
    """``python -m localslack serve`` on a free loopback port, with helpers for its ``/_local/`` API.

    :param state_dir: the server's state directory; its log goes to ``state_dir/localslack.log``.
    :param tokens: accepted bot tokens.
    :param channels: channels that exist; empty creates channels on first post.
    :param webhooks: ``(id, channel)`` incoming webhooks; empty accepts any id.
    :param usergroups: user group id -> member user ids (``usergroups.users.list``).
    """

    def __init__(
        self,
        state_dir: Path,
        tokens: Sequence[str] = ("xoxb-localslack-taxiway",),
        channels: Sequence[str] = (),
        webhooks: Sequence[tuple[str, str]] = (),
        usergroups: Mapping[str, Sequence[str]] | None = None,
        port: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.port = port or free_port()
        self.state_dir = state_dir
        self.log = state_dir / "localslack.log"
        state_dir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "localslack", "serve", "--port", str(self.port), "--state-dir", str(state_dir)]
        argv += [arg for token in tokens for arg in ("--token", token)]
        argv += [arg for channel in channels for arg in ("--channel", channel)]
        argv += [arg for hook, channel in webhooks for arg in ("--webhook", f"{hook}={channel}")]
        argv += [
            arg for group, users in (usergroups or {}).items() for arg in ("--usergroup", f"{group}={','.join(users)}")
        ]
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(argv, stdout=self._log_file, stderr=subprocess.STDOUT)
        self._wait_ready(timeout)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What slack-sdk's ``WebClient(base_url=...)`` takes (ends with ``/api/``)."""
        return f"{self.base_url}/api/"

    def webhook_url(self, hook_id: str = "T0LOCAL/B0LOCAL/secret") -> str:
        return f"{self.base_url}/services/{hook_id}"

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localslack exited with {self.process.returncode} before serving; see {self.log}")
            if READY_LINE in self.log.read_text(errors="replace"):
                return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"localslack did not print {READY_LINE!r} within {timeout}s; see {self.log}")

    # --- /_local/ helpers ---------------------------------------------------------------------

    def _request(self, verb: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_local/{path}", data=data, method=verb, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Recorded messages, oldest first (each with its thread_ts, updates and history)."""
        return list(self._request("GET", "messages" + (f"?channel={channel}" if channel else ""))["messages"])

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Every call answered so far (method, status, error), optionally for one method."""
        calls = self._request("GET", "calls")["calls"]
        return [call for call in calls if method is None or call["method"] == method]

    def clear(self) -> None:
        """Forget recorded messages and calls, and disarm every fault."""
        self._request("DELETE", "messages")
        self._request("DELETE", "faults")

    def arm_fault(self, method: str, fault: str, count: int | None = 1, retry_after: int = 1) -> None:
        """Make the next ``count`` calls of ``method`` fail (``count=None``: until cleared)."""
        self._request("POST", "faults", {"method": method, "fault": fault, "count": count, "retry_after": retry_after})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()

    def __enter__(self) -> LocalSlackProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
