"""localflyte's small HTTP endpoint on 127.0.0.1, beside the gRPC API (no FlyteAdmin proto is touched).

- ``GET /logs/<path>``: a task attempt's kept stdout/stderr (the HTTP task log links).
- ``POST /tick`` with ``{"seconds": N}`` or ``{"to": "<ISO time>"}``: advance localflyte's clock, run
  the schedule check at once and answer ``{"now": ..., "fired": [...]}`` (``python -m localflyte tick``).
- ``GET /healthz``.
- ``/console...``: the console pages (``localflyte/console``), once :meth:`HttpEndpoint.mount_console` was called.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from localflyte.console import ConsoleRequest, ConsoleResponse
from localflyte.console.routes import Route
from localflyte.context import Clock
from localflyte.scheduler import Scheduler

log = logging.getLogger(__name__)


class TickError(ValueError):
    """A tick request that cannot be honoured (bad body, or time going backwards)."""


def seconds_to_advance(body: dict[str, Any], now: float) -> float:
    """How far ``{"seconds": N}`` or ``{"to": iso}`` moves the clock from ``now``."""
    if "seconds" in body:
        seconds = float(body["seconds"])
    elif "to" in body:
        target = datetime.fromisoformat(str(body["to"]))
        if target.tzinfo is None:
            raise TickError(f"'to' needs a time zone (e.g. {body['to']}+00:00)")
        seconds = target.timestamp() - now
    else:
        raise TickError('expected {"seconds": N} or {"to": "<ISO 8601 time>"}')
    if seconds < 0:
        raise TickError(f"localflyte's clock only moves forward; that is {-seconds:.0f}s in the past")
    return seconds


class HttpEndpoint:
    """A component: started and stopped with the rest of localflyte."""

    def __init__(self, port: int, log_dir: Path, clock: Clock, scheduler: Scheduler) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.get(self)

            def do_POST(self) -> None:
                endpoint.post(self)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("http %s", format % args)

        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as error:
            raise OSError(
                f"localflyte's HTTP endpoint cannot listen on 127.0.0.1:{port} ({error}); pass --http-port"
            ) from error
        self.port = int(self._server.server_address[1])
        self._log_dir = log_dir.resolve()
        self._clock = clock
        self._scheduler = scheduler
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)
        self._console: Route | None = None

    def mount_console(self, console: Route) -> None:
        """Serve ``/console...`` with ``console`` (a :class:`localflyte.console.Console`'s ``handle``)."""
        self._console = console

    def handlers(self) -> dict[str, Any]:
        return {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def get(self, request: BaseHTTPRequestHandler) -> None:
        if _is_console(request.path):
            self._serve_console(request, {})
            return
        if request.path == "/healthz":
            _send(request, 200, b"ok", "text/plain")
            return
        if not request.path.startswith("/logs/"):
            _send(request, 404, b"not found", "text/plain")
            return
        path = (self._log_dir / request.path.removeprefix("/logs/")).resolve()
        if not path.is_relative_to(self._log_dir) or not path.is_file():
            _send(request, 404, f"no log at {request.path}".encode(), "text/plain")
            return
        _send(request, 200, path.read_bytes(), "text/plain; charset=utf-8")

    def post(self, request: BaseHTTPRequestHandler) -> None:
        if _is_console(request.path):
            length = int(request.headers.get("Content-Length") or 0)
            if length > _MAX_FORM_BYTES:
                _send(request, 413, b"form too large", "text/plain")
                return
            form = dict(parse_qsl(request.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True))
            self._serve_console(request, form)
            return
        if request.path != "/tick":
            _send(request, 404, b"not found", "text/plain")
            return
        length = int(request.headers.get("Content-Length") or 0)
        try:
            body = json.loads(request.rfile.read(length) or b"{}")
            seconds = seconds_to_advance(body, self._clock.now())
        except (TickError, ValueError) as error:
            _send(request, 400, json.dumps({"error": str(error)}).encode(), "application/json")
            return
        fired = self._scheduler.advance(seconds)
        now = self._clock.now()
        log.info("tick advanced=%ss fired=%d", seconds, len(fired))
        answer = {"now": datetime.fromtimestamp(now).astimezone().isoformat(), "fired": [f.as_json() for f in fired]}
        _send(request, 200, json.dumps(answer).encode(), "application/json")

    def _serve_console(self, request: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        if self._console is None:
            _send(request, 404, b"the console is not mounted on this localflyte", "text/plain")
            return
        url = urlsplit(request.path)
        headers = {key.lower(): value for key, value in request.headers.items()}
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            response = self._console(ConsoleRequest(request.command, url.path, query, form, headers))
        except Exception:
            log.exception("console failed path=%s", request.path)
            response = ConsoleResponse(500, b"console error; see localflyte's log", "text/plain")
        _send(request, response.status, response.body, response.content_type, response.headers)


_MAX_FORM_BYTES = 1024 * 1024


def _is_console(path: str) -> bool:
    return path == "/console" or path.startswith(("/console/", "/console?"))


def _send(
    request: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    request.send_response(status)
    for key, value in (headers or {}).items():
        request.send_header(key, value)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)
