"""Bad input gets FlyteAdmin's status codes and messages, never UNKNOWN (which makes flytekit try to
re-authenticate): ``validation/validation.go`` (ValidateIdentifier, ValidateVersion, ValidateLimit,
ValidateResourceType, ValidateToken) and ``validation/task_validator.go``."""

from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import common_pb2, matchable_resource_pb2, task_pb2
from flyteidl.core import identifier_pb2
from flytekit.clients.friendly import SynchronousFlyteClient

from tests.conformance.registration_support import admin, identifier, status_of, task_spec

pytestmark = pytest.mark.conformance
TASK = identifier_pb2.TASK


def _create(
    client: SynchronousFlyteClient, task_id: identifier_pb2.Identifier, spec: task_pb2.TaskSpec | None = None
) -> None:
    admin(client).CreateTask(task_pb2.TaskCreateRequest(id=task_id, spec=spec or task_spec()))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"project": ""}, "missing project"),
        ({"domain": ""}, "missing domain"),
        ({"name": ""}, "missing name"),
        ({"version": ""}, "missing version"),
        ({"version": "v1:2"}, "version [v1:2] must be url safe, cannot contains chars [!*'();:@&=+$,/?#[]]"),
        ({"version": "release/1"}, "version [release/1] must be url safe"),
        ({"name": "n" * 256}, "name cannot exceed 255 characters"),
        ({"resource_type": identifier_pb2.WORKFLOW}, "unexpected resource type workflow for identifier"),
    ],
)
def test_malformed_task_identifiers(client: SynchronousFlyteClient, project: str, fields: dict, expected: str) -> None:
    """validation.go: ValidateIdentifier / ValidateVersion on CreateTask."""
    task_id = identifier(TASK, project, "t")
    for field, value in fields.items():
        setattr(task_id, field, value)
    code, message = status_of(lambda: _create(client, task_id))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith(expected)


def test_missing_spec_and_template_fields(client: SynchronousFlyteClient, project: str) -> None:
    """task_validator.go: ValidateTask / validateTaskTemplate missing-argument messages."""
    task_id = identifier(TASK, project, "t")
    empty = task_pb2.TaskCreateRequest(id=task_id)
    assert status_of(lambda: admin(client).CreateTask(empty)) == (grpc.StatusCode.INVALID_ARGUMENT, "missing spec")
    no_image = task_spec(image="")
    assert status_of(lambda: _create(client, task_id, no_image)) == (grpc.StatusCode.INVALID_ARGUMENT, "missing image")
    no_type = task_spec()
    no_type.template.type = ""
    assert status_of(lambda: _create(client, task_id, no_type)) == (grpc.StatusCode.INVALID_ARGUMENT, "missing type")


def test_unknown_resource_types(client: SynchronousFlyteClient, project: str) -> None:
    """validation.go: ValidateResourceType; attributes_validator.go: ValidateListAllMatchableAttributesRequest."""
    stub = admin(client)
    code, message = status_of(
        lambda: stub.ListMatchableAttributes(matchable_resource_pb2.ListMatchableAttributesRequest(resource_type=42))  # type: ignore[arg-type]
    )
    assert (code, message) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid value for resource_type")
    listing = common_pb2.NamedEntityListRequest(project=project, domain="development", limit=5, resource_type=0)
    code, message = status_of(lambda: stub.ListNamedEntities(listing))
    assert (code, message) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid value for resource_type")


def test_bad_limit_and_token(client: SynchronousFlyteClient, project: str) -> None:
    """validation.go: ValidateLimit and ValidateToken ("invalid pagination token %s for ListTasks")."""
    request = common_pb2.ResourceListRequest(id=common_pb2.NamedEntityIdentifier(project=project, domain="development"))
    assert status_of(lambda: admin(client).ListTasks(request)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid value for limit",
    )
    request.limit, request.token = 5, "abc"
    assert status_of(lambda: admin(client).ListTasks(request)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid pagination token abc for ListTasks",
    )


def test_payload_over_max_message_size(client: SynchronousFlyteClient, project: str) -> None:
    """A request above the server's gRPC max message size is RESOURCE_EXHAUSTED, not UNKNOWN."""
    huge = task_spec(args=("x" * (17 * 1024 * 1024),))
    code, _ = status_of(lambda: _create(client, identifier(TASK, project, "huge"), huge))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    # and the server is still healthy afterwards
    _create(client, identifier(TASK, project, "small"))
