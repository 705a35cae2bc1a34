"""Projects and domains, as flyteadmin's ``pkg/manager/impl/project_manager.go`` and
``pkg/manager/impl/validation/project_validator.go`` define them."""

from __future__ import annotations

import uuid

import grpc
import pytest
from flyteidl.admin import common_pb2, project_pb2
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.models.project import Project

from tests.conformance.registration_support import admin, create_task, identifier, status_of

pytestmark = pytest.mark.conformance


def _new_id() -> str:
    return f"p{uuid.uuid4().hex[:12]}"


def test_register_and_get_project(client: SynchronousFlyteClient) -> None:
    """project_manager.go: CreateProject then GetProject returns it with the configured domains."""
    project_id = _new_id()
    labels = common_pb2.Labels(values={"team": "ml"})
    admin(client).RegisterProject(
        project_pb2.ProjectRegisterRequest(
            project=project_pb2.Project(id=project_id, name="Demo", description="d", labels=labels)
        )
    )
    fetched = admin(client).GetProject(project_pb2.ProjectGetRequest(id=project_id))
    assert (fetched.id, fetched.name, fetched.description) == (project_id, "Demo", "d")
    assert dict(fetched.labels.values) == {"team": "ml"}
    assert [domain.id for domain in fetched.domains] == ["development", "staging", "production"]


def test_duplicate_project_is_already_exists(client: SynchronousFlyteClient, project: str) -> None:
    """project_manager.go: CreateProject on an existing id fails with the unique-key ALREADY_EXISTS."""
    code, message = status_of(lambda: client.register_project(Project(id=project, name=project, description="")))
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert "value with matching already exists" in message


@pytest.mark.parametrize(
    ("project_id", "name", "expected"),
    [
        ("", "n", "missing project_id"),
        ("ok-id", "", "missing project_name"),
        ("Bad_Id", "n", "invalid project id [Bad_Id]"),
        ("x" * 64, "n", "must be no more than 63 characters"),
        ("ok-id", "n" * 65, "project_name cannot exceed 64 characters"),
    ],
)
def test_project_validation(client: SynchronousFlyteClient, project_id: str, name: str, expected: str) -> None:
    """project_validator.go: ValidateProjectRegisterRequest / ValidateProject."""
    request = project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id=project_id, name=name))
    code, message = status_of(lambda: admin(client).RegisterProject(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in message


def test_project_with_domains_is_refused(client: SynchronousFlyteClient) -> None:
    """project_validator.go: domains are system-wide, a request carrying them is refused."""
    project = project_pb2.Project(id=_new_id(), name="n", domains=[project_pb2.Domain(id="dev", name="dev")])
    code, message = status_of(
        lambda: admin(client).RegisterProject(project_pb2.ProjectRegisterRequest(project=project))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("Domains are currently only set system wide")


def test_get_unknown_project_is_not_found(client: SynchronousFlyteClient) -> None:
    """gormimpl/project_repo.go: Get of a missing project."""
    code, message = status_of(lambda: admin(client).GetProject(project_pb2.ProjectGetRequest(id="nope-none")))
    assert (code, message) == (grpc.StatusCode.NOT_FOUND, "project [nope-none] not found")


def test_archive_hides_project_from_default_list(client: SynchronousFlyteClient) -> None:
    """project_repo.go: List without filters leaves archived projects out; UpdateProject archives."""
    kept, archived = _new_id(), _new_id()
    for project_id in (kept, archived):
        client.register_project(Project(id=project_id, name=project_id, description="list"))
    client.update_project(Project(id=archived, name=archived, description="list", state=Project.ProjectState.ARCHIVED))
    listed = {p.id for p in admin(client).ListProjects(project_pb2.ProjectListRequest()).projects}
    assert kept in listed
    assert archived not in listed
    only_archived = admin(client).ListProjects(project_pb2.ProjectListRequest(filters="eq(state,1)")).projects
    assert archived in {p.id for p in only_archived}
    assert all(p.state == project_pb2.Project.ARCHIVED for p in only_archived)


def test_archived_project_refuses_registration(client: SynchronousFlyteClient) -> None:
    """project_validator.go: ValidateProjectAndDomain → "project [%s] is not active"."""
    project_id = _new_id()
    client.register_project(Project(id=project_id, name=project_id, description=""))
    client.update_project(Project(id=project_id, name=project_id, description="", state=Project.ProjectState.ARCHIVED))
    code, message = status_of(lambda: create_task(client, identifier(1, project_id, "t")))
    assert (code, message) == (grpc.StatusCode.INVALID_ARGUMENT, f"project [{project_id}] is not active")


def test_list_projects_sorted_and_paginated(client: SynchronousFlyteClient) -> None:
    """project_manager.go: ListProjects sorts by identifier and pages with offset tokens."""
    prefix = f"q{uuid.uuid4().hex[:6]}"
    for index in range(3):
        client.register_project(Project(id=f"{prefix}-{index}", name="n", description=""))
    request = project_pb2.ProjectListRequest(
        limit=2,
        filters=f"contains(identifier,{prefix})",
        sort_by=common_pb2.Sort(key="identifier", direction=common_pb2.Sort.ASCENDING),
    )
    first = admin(client).ListProjects(request)
    assert [p.id for p in first.projects] == [f"{prefix}-0", f"{prefix}-1"]
    assert first.token == "2"
    request.token = first.token
    second = admin(client).ListProjects(request)
    assert [p.id for p in second.projects] == [f"{prefix}-2"]
    assert second.token == ""


def test_unknown_project_and_domain_are_invalid_argument(client: SynchronousFlyteClient, project: str) -> None:
    """project_validator.go: ValidateProjectAndDomain messages for an unknown project and domain."""
    code, message = status_of(lambda: create_task(client, identifier(1, "no-such-project", "t")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("failed to validate that project [no-such-project] and domain [development]")
    code, message = status_of(lambda: create_task(client, identifier(1, project, "t", domain="qa")))
    assert (code, message) == (grpc.StatusCode.INVALID_ARGUMENT, "domain [qa] is unrecognized by system")


def test_domains_and_version(client: SynchronousFlyteClient) -> None:
    """project_manager.go: GetDomains lists the configured domains; version_manager.go: GetVersion."""
    assert [domain.id for domain in client.get_domains()] == ["development", "staging", "production"]
    assert client.get_control_plane_version()


def test_seed_project_exists(client: SynchronousFlyteClient) -> None:
    """cmd/single/start.go seeds ``flytesnacks``."""
    assert admin(client).GetProject(project_pb2.ProjectGetRequest(id="flytesnacks")).id == "flytesnacks"
