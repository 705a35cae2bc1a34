"""HTTP front of localslack: Web API under ``/api/``, incoming webhooks, and ``/_local/`` controls.

Routes::

    POST|GET /api/<method>          Slack Web API (form, JSON or query parameters; Bearer token)
    POST     /services/<id>         incoming webhook (JSON body, or form field ``payload``)
    GET      /_local/messages       recorded messages (``?channel=`` id or name); DELETE clears them
    GET      /_local/calls          every API/webhook call: method, HTTP status, error (no tokens)
    GET|POST|DELETE /_local/faults  list / arm / clear injected faults
    GET      /_local/health         {"ok": true}
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from localslack.api import Answer, WebApi, authenticate, fault_answer
from localslack.faults import FaultBook, FaultError, FaultKind, parse_fault
from localslack.state import Workspace

logger = logging.getLogger(__name__)

MAX_BODY = 1_000_000
WEBHOOK_METHOD = "webhook"


@dataclass(frozen=True)
class ServerConfig:
    """What the server accepts: tokens, and incoming webhooks (id -> channel; empty accepts any id)."""

    tokens: frozenset[str]
    webhooks: tuple[tuple[str, str], ...] = ()
    usergroups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    default_webhook_channel: str = "incoming-webhook"


class LocalSlack:
    """The application: workspace, Web API, faults and the call log, shared by all request threads."""

    def __init__(self, workspace: Workspace, config: ServerConfig) -> None:
        self.workspace = workspace
        self.config = config
        self.api = WebApi(workspace, dict(config.usergroups))
        self.faults = FaultBook()
        self._calls: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._calls_lock = threading.Lock()

    def log_call(self, method: str, answer: Answer, **extra: Any) -> None:
        entry = {"time": time.time(), "method": method, "status": answer.status, "error": answer.error, **extra}
        with self._calls_lock:
            self._calls.append(entry)
        logger.info("call method=%s status=%s error=%s", method, answer.status, answer.error)

    def calls(self) -> list[dict[str, Any]]:
        with self._calls_lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._calls_lock:
            self._calls.clear()

    def web_api(self, method: str, params: dict[str, Any], token: str | None) -> Answer:
        # Slack checks the token before anything else, then rate limits; an injected fault stands
        # in for whichever of those Slack would have answered.
        answer = authenticate(token, self.config.tokens)
        if answer is None:
            fault = self.faults.take(method) if self.api.knows(method) else None
            answer = fault_answer(fault) if fault else self.api.call(method, params)
        self.log_call(method, answer, channel=params.get("channel"))
        return answer

    def webhook(self, hook_id: str, payload: Any) -> tuple[int, str, dict[str, str]]:
        """An incoming webhook: Slack answers in plain text (``ok`` or an error name)."""
        status, text, headers = self._webhook(hook_id, payload)
        self.log_call(WEBHOOK_METHOD, Answer(status, {"ok": status == 200, "error": None if status == 200 else text}))
        return status, text, headers

    def _webhook(self, hook_id: str, payload: Any) -> tuple[int, str, dict[str, str]]:
        hooks = dict(self.config.webhooks)
        if hooks and hook_id not in hooks:
            return 404, "no_service", {}
        fault = self.faults.take(WEBHOOK_METHOD)
        if fault is not None:
            return {
                FaultKind.RATE_LIMITED: (429, "rate_limited", {"Retry-After": str(fault.retry_after)}),
                FaultKind.SERVER_ERROR: (500, "internal_error", {}),
                FaultKind.INVALID_AUTH: (403, "invalid_token", {}),
                FaultKind.CHANNEL_NOT_FOUND: (404, "channel_not_found", {}),
            }[fault.kind]
        if not isinstance(payload, dict):
            return 400, "invalid_payload", {}
        text, blocks = payload.get("text"), payload.get("blocks")
        if not text and not blocks:
            return 400, "no_text", {}
        channel = hooks.get(hook_id, self.config.default_webhook_channel)
        channel_id = self.workspace.resolve_channel(channel, create=True)
        if channel_id is None:
            return 404, "channel_not_found", {}
        self.workspace.post(channel_id, str(text or ""), list(blocks or []), None, WEBHOOK_METHOD)
        return 200, "ok", {}


class Handler(BaseHTTPRequestHandler):
    """One HTTP request; the :class:`LocalSlack` app hangs off the server."""

    server: LocalSlackServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    @property
    def app(self) -> LocalSlack:
        return self.server.app

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _route(self, verb: str) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        try:
            body = self._read_body()
        except ValueError as err:
            self._send_json(400, {"ok": False, "error": "invalid_form_data", "detail": str(err)})
            return
        if url.path.startswith("/api/"):
            params = {**query, **self._params(body)}
            token = self._token(params)
            answer = self.app.web_api(url.path.removeprefix("/api/"), params, token)
            self._send_json(answer.status, answer.body, answer.headers)
        elif url.path.startswith("/services/") and verb == "POST":
            status, text, headers = self.app.webhook(url.path.removeprefix("/services/"), self._webhook_payload(body))
            self._send(status, text.encode(), "text/plain; charset=utf-8", headers)
        elif url.path.startswith("/_local/"):
            self._control(verb, url.path.removeprefix("/_local/"), query, body)
        else:
            self._send_json(404, {"ok": False, "error": "not_found", "detail": f"no route for {verb} {url.path}"})

    def _control(self, verb: str, what: str, query: dict[str, str], body: bytes) -> None:
        app = self.app
        if (verb, what) == ("GET", "health"):
            self._send_json(200, {"ok": True})
        elif (verb, what) == ("GET", "messages"):
            self._send_json(200, {"ok": True, "messages": app.workspace.messages(query.get("channel"))})
        elif (verb, what) == ("DELETE", "messages"):
            app.workspace.clear()
            app.clear_calls()
            self._send_json(200, {"ok": True})
        elif (verb, what) == ("GET", "calls"):
            self._send_json(200, {"ok": True, "calls": app.calls()})
        elif (verb, what) == ("GET", "faults"):
            self._send_json(200, {"ok": True, "faults": app.faults.listing()})
        elif (verb, what) == ("DELETE", "faults"):
            app.faults.clear()
            self._send_json(200, {"ok": True})
        elif (verb, what) == ("POST", "faults"):
            try:
                fault = parse_fault(json.loads(body or b"null"))
            except (FaultError, json.JSONDecodeError) as err:
                self._send_json(400, {"ok": False, "error": "invalid_fault", "detail": str(err)})
                return
            app.faults.arm(fault)
            self._send_json(200, {"ok": True, "fault": fault.as_json()})
        else:
            self._send_json(404, {"ok": False, "error": "not_found", "detail": f"no control {verb} /_local/{what}"})

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError(f"body of {length} bytes is over the {MAX_BODY}-byte limit")
        return self.rfile.read(length) if length else b""

    def _params(self, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        content_type = (self.headers.get("Content-Type") or "").lower()
        if content_type.startswith("application/json"):
            parsed = json.loads(body)
            return parsed if isinstance(parsed, dict) else {}
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))

    def _webhook_payload(self, body: bytes) -> Any:
        content_type = (self.headers.get("Content-Type") or "").lower()
        try:
            if content_type.startswith("application/x-www-form-urlencoded"):
                return json.loads(dict(parse_qsl(body.decode("utf-8"))).get("payload", "null"))
            return json.loads(body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    def _token(self, params: dict[str, Any]) -> str | None:
        # Never logged or recorded: the token is only compared against the accepted set.
        header = self.headers.get("Authorization") or ""
        if header.lower().startswith("bearer "):
            return header[len("bearer ") :].strip() or None
        token = params.pop("token", None)
        return str(token) if token else None

    def _send_json(self, status: int, body: dict[str, Any], headers: Any = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers or {})

    def _send(self, status: int, payload: bytes, content_type: str, headers: Any) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in dict(headers).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class LocalSlackServer(ThreadingHTTPServer):
    """A threading HTTP server bound to 127.0.0.1 that carries the app."""

    daemon_threads = True

    def __init__(self, port: int, app: LocalSlack) -> None:
        self.app = app
        super().__init__(("127.0.0.1", port), Handler)
