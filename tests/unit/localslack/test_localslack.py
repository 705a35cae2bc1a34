"""localslack's workspace, faults and Web API methods, and its HTTP front driven by a real WebClient."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from localslack.api import WebApi, authenticate, blocks_problem
from localslack.cli import DEFAULT_TOKEN, accepted_tokens, parse_webhooks
from localslack.faults import FaultBook, FaultError, FaultKind, parse_fault
from localslack.server import LocalSlack, LocalSlackServer, ServerConfig
from localslack.state import Workspace, channel_id_for

pytestmark = pytest.mark.unit

TOKEN = "xoxb-unit-token"


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    space = Workspace(tmp_path)
    yield space
    space.close()


def test_post_update_and_thread_are_recorded_and_survive_a_restart(tmp_path: Path) -> None:
    space = Workspace(tmp_path)
    api = WebApi(space)
    posted = api.call("chat.postMessage", {"channel": "#releases", "text": "one", "blocks": "[]"})
    assert posted.status == 200 and posted.body["ok"] is True
    channel, ts = posted.body["channel"], posted.body["ts"]
    assert channel == channel_id_for("releases") and posted.body["message"]["text"] == "one"
    updated = api.call("chat.update", {"channel": channel, "ts": ts, "text": "two"})
    assert updated.body["ok"] is True and updated.body["message"]["edited"]["user"]
    reply = api.call("chat.postMessage", {"channel": channel, "text": "reply", "thread_ts": ts})
    assert reply.body["message"]["thread_ts"] == ts
    space.close()

    again = Workspace(tmp_path)
    messages = again.messages("#releases")
    assert [(m["text"], m["thread_ts"], m["updates"]) for m in messages] == [("two", None, 1), ("reply", ts, 0)]
    assert messages[0]["history"][0]["text"] == "one"
    # New ts values stay after the replayed ones.
    later = WebApi(again).call("chat.postMessage", {"channel": channel, "text": "three"})
    assert later.body["ts"] > reply.body["ts"]
    again.close()


@pytest.mark.parametrize(
    ("method", "params", "error"),
    [
        ("chat.postMessage", {"channel": "#a"}, "no_text"),
        ("chat.postMessage", {"channel": "", "text": "x"}, "channel_not_found"),
        ("chat.postMessage", {"channel": "C0000000000", "text": "x"}, "channel_not_found"),
        ("chat.postMessage", {"channel": "#a", "text": "x", "thread_ts": "1.000001"}, "thread_not_found"),
        ("chat.postMessage", {"channel": "#a", "blocks": [{"text": "no type"}]}, "invalid_blocks"),
        ("chat.postMessage", {"channel": "#a", "text": "x" * 40_001}, "msg_too_long"),
        ("chat.update", {"channel": "#a", "ts": "1.1", "text": "x"}, "channel_not_found"),
        ("chat.update", {"channel": channel_id_for("a"), "ts": "1.1", "text": "x"}, "message_not_found"),
        ("no.such.method", {}, "unknown_method"),
    ],
)
def test_web_api_errors_use_slacks_names(workspace: Workspace, method: str, params: dict, error: str) -> None:
    api = WebApi(workspace)
    api.call("chat.postMessage", {"channel": "#a", "text": "creates #a"})
    assert api.call(method, params).error == error


def test_fixed_channels_do_not_auto_create(tmp_path: Path) -> None:
    space = Workspace(tmp_path, channels=("releases",))
    api = WebApi(space)
    assert api.call("chat.postMessage", {"channel": "#other", "text": "x"}).error == "channel_not_found"
    assert api.call("chat.postMessage", {"channel": "releases", "text": "x"}).body["ok"] is True
    assert [c["name"] for c in api.call("conversations.list", {}).body["channels"]] == ["releases"]
    space.close()


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "header"),
        ([{"type": "section"}], "text or fields"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "fields"),
        ([{"type": "divider"}] * 51, "more than 50"),
        ("not a list", "array"),
    ],
)
def test_blocks_problems(blocks: object, problem: str) -> None:
    assert problem in (blocks_problem(blocks) or "")


def test_authentication_order() -> None:
    assert authenticate(None, frozenset({TOKEN})).error == "not_authed"  # type: ignore[union-attr]
    assert authenticate("xoxb-other", frozenset({TOKEN})).error == "invalid_auth"  # type: ignore[union-attr]
    assert authenticate(TOKEN, frozenset({TOKEN})) is None


def test_faults_count_down_per_method_and_forever() -> None:
    book = FaultBook()
    book.arm(parse_fault({"method": "chat.update", "fault": "server_error", "count": 2}))
    book.arm(parse_fault({"method": "*", "fault": "invalid_auth", "count": None}))
    assert book.take("chat.update").kind is FaultKind.SERVER_ERROR  # type: ignore[union-attr]
    assert book.listing()[0]["count"] == 1
    assert book.take("chat.update").kind is FaultKind.SERVER_ERROR  # type: ignore[union-attr]
    for _ in range(3):
        assert book.take("chat.update").kind is FaultKind.INVALID_AUTH  # type: ignore[union-attr]
    book.clear()
    assert book.take("chat.update") is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fault": "nope"}, "fault:"),
        ({"fault": "server_error", "count": 0}, "count:"),
        ({"fault": "rate_limited", "retry_after": -1}, "retry_after:"),
        ({"fault": "server_error", "method": ""}, "method:"),
        ([], "JSON object"),
    ],
)
def test_bad_fault_requests_name_the_field(body: object, field: str) -> None:
    with pytest.raises(FaultError, match=field):
        parse_fault(body)


def test_cli_tokens_and_webhooks() -> None:
    assert accepted_tokens(None, {}) == frozenset({DEFAULT_TOKEN})
    assert accepted_tokens(["a"], {"LOCALSLACK_TOKENS": "b, c"}) == frozenset({"a", "b", "c"})
    assert parse_webhooks(["/T0/B0/s=#rel"]) == (("T0/B0/s", "#rel"),)
    with pytest.raises(SystemExit, match="ID=CHANNEL"):
        parse_webhooks(["no-channel"])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, LocalSlack]]:
    app = LocalSlack(Workspace(tmp_path), ServerConfig(tokens=frozenset({TOKEN}), webhooks=(("T0/B0/s", "hooks"),)))
    server = LocalSlackServer(0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", app
    server.shutdown()
    server.server_close()
    app.workspace.close()


def _http(url: str, body: bytes | None = None, content_type: str = "application/json") -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_webclient_form_and_json_bodies_and_token_header(served: tuple[str, LocalSlack]) -> None:
    base, app = served
    client = WebClient(token=TOKEN, base_url=f"{base}/api/")
    assert client.auth_test()["user_id"]  # form-encoded body
    posted = client.chat_postMessage(channel="#rel", text="hi", blocks=[{"type": "divider"}])  # JSON body
    assert posted["message"]["blocks"] == [{"type": "divider"}]
    with pytest.raises(SlackApiError) as refused:
        WebClient(token="xoxb-wrong", base_url=f"{base}/api/").chat_postMessage(channel="#rel", text="x")
    assert refused.value.response["error"] == "invalid_auth"
    # A token in the form body works too (older clients), and is never recorded.
    status, body, _ = _http(f"{base}/api/auth.test", f"token={TOKEN}".encode(), "application/x-www-form-urlencoded")
    assert status == 200 and json.loads(body)["ok"] is True
    assert TOKEN not in json.dumps(app.calls()) and TOKEN not in json.dumps(app.workspace.messages())


def test_rate_limit_fault_answers_429_with_retry_after(served: tuple[str, LocalSlack]) -> None:
    base, _ = served
    _http(
        f"{base}/_local/faults", json.dumps({"method": "auth.test", "fault": "rate_limited", "retry_after": 7}).encode()
    )
    client = WebClient(token=TOKEN, base_url=f"{base}/api/")
    with pytest.raises(SlackApiError) as limited:
        client.auth_test()
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert client.auth_test()["ok"] is True  # the fault was for one call


def test_webhooks_post_to_their_channel_and_answer_in_text(served: tuple[str, LocalSlack]) -> None:
    base, app = served
    assert _http(f"{base}/services/T0/B0/s", json.dumps({"text": "hello"}).encode())[:2] == (200, b"ok")
    assert _http(f"{base}/services/T0/B0/other", json.dumps({"text": "x"}).encode())[:2] == (404, b"no_service")
    assert _http(f"{base}/services/T0/B0/s", b"{}")[:2] == (400, b"no_text")
    _http(f"{base}/_local/faults", json.dumps({"method": "webhook", "fault": "server_error"}).encode())
    assert _http(f"{base}/services/T0/B0/s", json.dumps({"text": "x"}).encode())[0] == 500
    assert [(m["channel_name"], m["text"], m["via"]) for m in app.workspace.messages()] == [
        ("hooks", "hello", "webhook")
    ]


def test_local_controls(served: tuple[str, LocalSlack]) -> None:
    base, _ = served
    status, body, _ = _http(f"{base}/_local/faults", b'{"fault": "bogus"}')
    assert status == 400 and b"fault:" in body
    assert json.loads(_http(f"{base}/_local/health")[1]) == {"ok": True}
    assert _http(f"{base}/nowhere")[0] == 404
