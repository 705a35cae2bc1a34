"""A scripted HTTP server on 127.0.0.1 for fault tests: each request is answered by a function.

Used where the real part cannot be made to fail on cue without stopping something shared (the stack's
image registry): the stub speaks just enough of the protocol to fail the way the real server does
(``503``, a ``401`` challenge, a closed port), and records every request so a test can assert what
was (not) sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Request:
    """One request the stub received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Answer:
    """What the stub sends back."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Script = Callable[[Request], Answer]


class HttpStub:
    """A threaded HTTP server on 127.0.0.1 answering every request with ``script(request)``.

    :param script: decides the answer; it may look at :attr:`requests` (already holding this one).
    """

    def __init__(self, script: Script) -> None:
        self.requests: list[Request] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                stub.requests.append(request)
                answer = script(request)
                self.send_response(answer.status)
                for name, value in {"Content-Length": str(len(answer.body)), **answer.headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: object) -> None:
                """Silent: the test asserts on :attr:`HttpStub.requests` instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-stub", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def stop(self) -> None:
        """Stop serving and close the port (later connections are refused)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
