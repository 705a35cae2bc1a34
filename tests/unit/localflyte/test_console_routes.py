"""The console's request handling without a server: routing, admin errors, the launch guard, Deck lookup.

The admin here is a handler table, the same shape the gRPC server dispatches to; handlers that a
test does not need are absent, so a route that calls one fails loudly.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from flyteidl.admin import node_execution_pb2, project_pb2

from localflyte.console import Console, ConsoleRequest
from localflyte.console.admin import Admin
from localflyte.console.routes import deck_candidates
from localflyte.errors import AdminError

pytestmark = pytest.mark.unit


class _NoBlobs:
    def size(self, uri: str) -> int | None:
        return None

    def get_bytes(self, uri: str) -> bytes:
        raise AssertionError(f"nothing should be read ({uri})")


def _not_found(request: Any) -> Any:
    raise AdminError(grpc.StatusCode.NOT_FOUND, "missing entity of type execution <b>")


def _console(**handlers: Any) -> Console:
    return Console(Admin({f"AdminService.{rpc}": handler for rpc, handler in handlers.items()}), _NoBlobs())


def test_home_lists_projects_with_their_domains() -> None:
    console = _console(
        ListProjects=lambda request: project_pb2.Projects(projects=[project_pb2.Project(id="p1", name="P <1>")]),
        GetDomains=lambda request: project_pb2.GetDomainsResponse(domains=[project_pb2.Domain(id="dev", name="dev")]),
    )
    response = console.handle(ConsoleRequest("GET", "/console"))
    assert response.status == 200
    assert b'<a href="/console/projects/p1/domains/dev">dev</a>' in response.body
    assert b"P &lt;1&gt;" in response.body


@pytest.mark.parametrize("url", ["/console/nope", "/console/projects/p/x/d", "/console/projects/p/domains/d/zzz/a"])
def test_unknown_pages_are_404(url: str) -> None:
    response = _console().handle(ConsoleRequest("GET", url))
    assert response.status == 404 and b"the console has no page at" in response.body


def test_admin_errors_become_pages_with_their_status() -> None:
    response = _console(GetExecution=_not_found).handle(
        ConsoleRequest("GET", "/console/projects/p/domains/d/executions/e")
    )
    assert response.status == 404
    assert b"missing entity of type execution &lt;b&gt;" in response.body


def test_a_launch_posted_from_another_site_is_refused_before_any_admin_call() -> None:
    request = ConsoleRequest(
        "POST", "/console/projects/p/domains/d/launch_plans/lp/launch", form={"version": "v1"},
        headers={"origin": "http://evil.example", "host": "127.0.0.1:30081"},
    )  # fmt: skip
    response = _console().handle(request)
    assert response.status == 403 and b"evil.example" in response.body


def test_post_elsewhere_is_not_allowed() -> None:
    assert _console().handle(ConsoleRequest("POST", "/console/projects/p")).status == 405


def test_deck_is_the_recorded_uri_first_then_beside_each_attempts_outputs() -> None:
    node = node_execution_pb2.NodeExecution(
        closure=node_execution_pb2.NodeExecutionClosure(
            deck_uri="s3://b/deck.html", output_uri="s3://b/n0/1/outputs.pb"
        )
    )
    assert deck_candidates(node, ["s3://b/n0/0/outputs.pb", ""]) == [
        "s3://b/deck.html", "s3://b/n0/1/deck.html", "s3://b/n0/0/deck.html",
    ]  # fmt: skip
