"""A stdlib HTTP server on 127.0.0.1: ``POST /slack/interactions`` and ``GET /healthz``."""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from approvals.service import ApprovalsApp, Reply

logger = logging.getLogger(__name__)

INTERACTIONS_PATH = "/slack/interactions"
MAX_BODY = 1 << 20  # Slack payloads are a few KiB; anything near this is not Slack


class _Handler(BaseHTTPRequestHandler):
    server: ApprovalsServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http %s", format % args)

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._send(Reply(200, {"ok": True}))
        else:
            self._send(Reply(404, {"ok": False, "error": f"no route for GET {self.path}"}))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.path != INTERACTIONS_PATH:
            self._send(Reply(404, {"ok": False, "error": f"no route for POST {self.path}; use {INTERACTIONS_PATH}"}))
            return
        if length > MAX_BODY:
            self._send(Reply(413, {"ok": False, "error": "request body too large"}))
            return
        body = self.rfile.read(length)
        try:
            reply = self.server.app.handle(dict(self.headers.items()), body)
        except Exception:  # one bad request must not stop the service
            logger.exception("approvals request failed")
            reply = Reply(500, {"ok": False, "error": "internal error; see the approvals service log"})
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class ApprovalsServer(ThreadingHTTPServer):
    """The HTTP server, bound to loopback only."""

    daemon_threads = True

    def __init__(self, port: int, app: ApprovalsApp) -> None:
        self.app = app
        super().__init__(("127.0.0.1", port), _Handler)
