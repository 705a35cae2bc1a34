"""The registry client against a small real HTTP server on 127.0.0.1 speaking the registry's manifest API."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tasks.core.errors import RegistryUnavailable
from tasks.core.registry import DOCKER_HUB_HOST, RegistryClient, RegistryRejected, RepositoryName

pytestmark = pytest.mark.unit

DIGEST = "sha256:" + "ab" * 32
BASIC = "Basic " + base64.b64encode(b"bot:hunter2").decode()


class Handler(BaseHTTPRequestHandler):
    """``/v2/<mode>/app/manifests/<tag>``: tag ``present`` exists; ``mode`` picks the auth or failure."""

    def do_HEAD(self) -> None:
        mode = self.path.split("/")[2]
        if mode == "basic" and self.headers.get("Authorization") != BASIC:
            return self._reply(401, {"WWW-Authenticate": 'Basic realm="r"'})
        if mode == "bearer" and self.headers.get("Authorization") != "Bearer tok":
            realm = f"http://{self.headers['Host']}/token"
            return self._reply(401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="reg"'})
        if mode == "broken":
            return self._reply(503, {})
        if "manifest.v2+json" not in self.headers.get("Accept", ""):
            return self._reply(400, {})
        if self.path.endswith("/present"):
            return self._reply(200, {"Docker-Content-Digest": DIGEST})
        return self._reply(404, {})

    def do_GET(self) -> None:
        ok = self.path.startswith("/token?") and "scope=repository%3Abearer%2Fapp%3Apull" in self.path
        ok = ok and self.headers.get("Authorization") == BASIC
        body = b'{"token": "tok"}' if ok else b"{}"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reply(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def registry_host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def client() -> RegistryClient:
    return RegistryClient(requests.Session(), {"username": "bot", "password": "hunter2"})


@pytest.mark.parametrize(
    ("repository", "host", "path"),
    [
        ("127.0.0.1:30000/taxiway/training", "127.0.0.1:30000", "taxiway/training"),
        ("localhost/a", "localhost", "a"),
        ("ghcr.io/org/img", "ghcr.io", "org/img"),
        ("org/img", DOCKER_HUB_HOST, "org/img"),
        ("img", DOCKER_HUB_HOST, "library/img"),
    ],
)
def test_repository_name(repository: str, host: str, path: str) -> None:
    name = RepositoryName.parse(repository)
    assert (name.host, name.path) == (host, path)
    assert name.base_url.startswith("http://" if host.startswith(("127.", "localhost")) else "https://")


@pytest.mark.parametrize("mode", ["open", "basic", "bearer"])
def test_digest_of_present_and_absent_tags(client: RegistryClient, registry_host: str, mode: str) -> None:
    assert client.manifest_digest(f"{registry_host}/{mode}/app", "present") == DIGEST
    assert client.manifest_digest(f"{registry_host}/{mode}/app", "absent") is None
    assert client.tag_exists(f"{registry_host}/{mode}/app", "present")


def test_credentials_required_but_missing(registry_host: str) -> None:
    with pytest.raises(RegistryRejected, match="asks for credentials"):
        RegistryClient(requests.Session()).manifest_digest(f"{registry_host}/basic/app", "present")


def test_server_error_is_transient(client: RegistryClient, registry_host: str) -> None:
    with pytest.raises(RegistryUnavailable, match="HTTP 503") as caught:
        client.manifest_digest(f"{registry_host}/broken/app", "present")
    assert caught.value.retryable


def test_closed_port_is_registry_unavailable_naming_host_and_port(client: RegistryClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RegistryUnavailable) as caught:
        client.manifest_digest(f"127.0.0.1:{port}/t/app", "x")
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "hunter2" not in str(caught.value) and "hunter2" not in repr(client)
