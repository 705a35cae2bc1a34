"""Sentinel secrets through the code paths that log and fail: Slack notifications and registry auth.

A Slack token and a registry password with recognisable values go through the real ``@task`` wrappers
(token read from the environment, as in a local run), a real slack-sdk client against localslack with
faults armed (429 with ``Retry-After``, 500 forever, ``invalid_auth``), the registry client answering
a ``401`` challenge, and the real Docker engine pushing to a registry that refuses the credentials.
Each test asserts that the sentinel reaches where it must (the server saw it) and nowhere else: no
log record at DEBUG, no exception text or cause, no Slack message body, no localslack record.
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
import uuid
from collections.abc import Iterator

import docker
import pytest
import requests

from localslack.testing import LocalSlackProcess
from tasks.core.build_stream import run_push
from tasks.core.notify import DeliveryStatus, SlackThread
from tasks.core.notify_records import Link, RunFailure, RunInfo, StepReport
from tasks.core.registry import RegistryClient, RegistryRejected
from tasks.core.vocabulary import Event
from tasks.notify import TOKEN_ENV, SlackTarget, notify_failure, notify_run_started, notify_step
from tests.reliability.http_stub import Answer, HttpStub, Request

pytestmark = pytest.mark.integration

TOKEN = "xoxb-SENTINEL-123"
WRONG_TOKEN = "xoxb-SENTINEL-456-revoked"
PASSWORD = "pw-SENTINEL-789"
SENTINELS = (TOKEN, WRONG_TOKEN, PASSWORD, base64.b64encode(f"taxiway-bot:{PASSWORD}".encode()).decode())
AUTH = {"username": "taxiway-bot", "password": PASSWORD}
CHANNEL = "training-releases"
RUN = RunInfo("ci", "training", "abc123def456", "development", Link("ci-abc123def456", ""))


def assert_nowhere(caplog: pytest.LogCaptureFixture, *places: object) -> None:
    """No sentinel in any log record (message, args, exception text) nor in ``places`` (str and repr)."""
    texts = [caplog.text]
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args), record.exc_text or ""]
        if record.exc_info and record.exc_info[1] is not None:
            texts.append("".join(traceback.format_exception(record.exc_info[1])))
    for place in places:
        texts += [str(place), repr(place)]
        if isinstance(place, BaseException):
            texts.append("".join(traceback.format_exception(place)))
    for sentinel in SENTINELS:
        leaks = [text for text in texts if sentinel in text]
        assert not leaks, f"secret leaked: {leaks[0][:300]}"


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlackProcess]:
    with LocalSlackProcess(tmp_path_factory.mktemp("localslack"), tokens=(TOKEN,), channels=(CHANNEL,)) as process:
        yield process


@pytest.fixture
def target(slack: LocalSlackProcess, monkeypatch: pytest.MonkeyPatch) -> SlackTarget:
    slack.clear()
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    # No Flyte secret is mounted here: the task falls back to $TAXIWAY_SLACK_TOKEN, as in a local run.
    return SlackTarget(f"#{CHANNEL}", "slack", "not-mounted-here", api_url=slack.api_url)


@pytest.fixture
def registry_stub() -> Iterator[HttpStub]:
    """A registry whose token service refuses every credential (a Bearer challenge, as Docker Hub sends)."""

    def script(request: Request) -> Answer:
        body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
        if request.path.startswith("/token"):
            return Answer(401, {"Content-Type": "application/json"}, body)
        realm = f'Bearer realm="http://{stub.address}/token",service="taxiway-test"'
        return Answer(401, {"WWW-Authenticate": realm, "Content-Type": "application/json"}, body)

    stub = HttpStub(script)
    yield stub
    stub.stop()


@pytest.fixture
def basic_auth_front() -> Iterator[HttpStub]:
    """A registry behind an nginx-style Basic-auth front that refuses every credential (answers HTML).

    (A registry answering distribution's JSON ``UNAUTHORIZED`` makes dockerd retry the push for ~50 s
    before giving up; the outcome for the secret is the same, the test just takes longer.)
    """
    stub = HttpStub(
        lambda request: Answer(
            401,
            {"WWW-Authenticate": 'Basic realm="registry"', "Content-Type": "text/html"},
            b"<html><body><h1>401 Authorization Required</h1></body></html>",
        )
    )
    yield stub
    stub.stop()


def slack_records(slack: LocalSlackProcess) -> str:
    return json.dumps([slack.messages(), slack.calls()]) + slack.log.read_text()


def test_run_reported_through_slack_faults_never_fails_and_never_shows_the_token(
    slack: LocalSlackProcess, target: SlackTarget, caplog: pytest.LogCaptureFixture
) -> None:
    """429 with Retry-After on the first post, 500s on one step, then a failure carrying a registry error."""
    slack.arm_fault("chat.postMessage", "rate_limited", count=1, retry_after=1)
    registry_error = RegistryRejected("registry refused HEAD of the manifest r:t (HTTP 401)", where="127.0.0.1:1")
    with caplog.at_level(logging.DEBUG):
        started = notify_run_started(target=target, run=RUN)
        slack.arm_fault("*", "server_error", count=None)
        step = notify_step(target=target, run=RUN, thread=started.thread, report=StepReport(Event.RELEASE_BUILT))
        slack._request("DELETE", "faults")  # disarm only (clear() would forget the messages too)
        failed = notify_failure(
            target=target, run=RUN, thread=started.thread, failure=RunFailure("build-images", str(registry_error))
        )
    assert started.delivered and step.status is DeliveryStatus.NOT_DELIVERED and failed.delivered
    posts = [call["status"] for call in slack.calls("chat.postMessage")]
    assert posts[:2] == [429, 200], "retried once, after Retry-After"
    (main, *replies) = slack.messages(CHANNEL)
    assert main["ts"] == started.thread.ts and main["thread_ts"] is None and "FAILED" in main["text"]
    assert "build-images" in replies[-1]["text"] and "HTTP 401" in json.dumps(replies[-1]["blocks"])
    assert_nowhere(caplog, started, step, failed, slack_records(slack))


def test_revoked_token_is_reported_once_and_never_shown(
    slack: LocalSlackProcess, target: SlackTarget, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(TOKEN_ENV, WRONG_TOKEN)
    with caplog.at_level(logging.DEBUG):
        delivery = notify_run_started(target=target, run=RUN)
        later = notify_failure(target=target, run=RUN, thread=SlackThread(), failure=RunFailure("x", "boom"))
    assert delivery.status is DeliveryStatus.NOT_DELIVERED and "invalid_auth" in delivery.reason
    assert later.status is not DeliveryStatus.DELIVERED and slack.messages() == []
    assert [call["error"] for call in slack.calls()][:1] == ["invalid_auth"], "the wrong token did reach Slack"
    assert_nowhere(caplog, delivery, later, slack_records(slack))


def test_registry_refusing_credentials_never_shows_the_password(
    registry_stub: HttpStub, caplog: pytest.LogCaptureFixture
) -> None:
    client = RegistryClient(requests.Session(), AUTH)
    with caplog.at_level(logging.DEBUG), pytest.raises(RegistryRejected) as caught:
        client.manifest_digest(f"{registry_stub.address}/taxiway-test/secret", "t1")
    assert "HTTP 401" in str(caught.value) and caught.value.where == registry_stub.address
    assert registry_stub.requests[-1].path.startswith("/token"), registry_stub.requests
    assert registry_stub.requests[-1].headers.get("Authorization", "").startswith("Basic "), "credentials were sent"
    assert_nowhere(caplog, caught.value, client)


def test_push_refused_by_the_registry_never_shows_the_password(
    basic_auth_front: HttpStub,
    docker_client: docker.DockerClient,
    stack_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The real engine pushes with the credentials; the refusal reaches the task as RegistryRejected."""
    repository, tag = f"{basic_auth_front.address}/taxiway-test/secret-{uuid.uuid4().hex[:8]}", "t1"
    docker_client.images.get(stack_env["TAXIWAY_BASE_IMAGE"]).tag(repository, tag)
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(RegistryRejected) as caught:
            run_push(docker_client, repository, tag, AUTH)
    finally:
        docker_client.images.remove(f"{repository}:{tag}")
    assert basic_auth_front.address in str(caught.value) or caught.value.where == basic_auth_front.address
    sent = [r.headers.get("Authorization", "") for r in basic_auth_front.requests]
    assert any(header.startswith("Basic ") for header in sent), f"the engine never sent the credentials: {sent}"
    assert not any(r.method in ("PUT", "PATCH") for r in basic_auth_front.requests), "nothing was uploaded"
    assert_nowhere(caplog, caught.value)
