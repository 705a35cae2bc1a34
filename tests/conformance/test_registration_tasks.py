"""Tasks: flyteadmin ``pkg/manager/impl/task_manager.go``, ``util/digests.go`` and ``pkg/errors/errors.go``."""

from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import common_pb2
from flyteidl.core import identifier_pb2
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.exceptions.user import FlyteEntityAlreadyExistsException
from flytekit.models.admin.common import Sort
from flytekit.models.common import NamedEntityIdentifier
from flytekit.models.core.identifier import Identifier, ResourceType
from flytekit.models.filters import Equal

from tests.conformance.registration_support import admin, create_task, identifier, status_of

pytestmark = pytest.mark.conformance
TASK = identifier_pb2.TASK


def test_create_then_get_returns_compiled_task(client: SynchronousFlyteClient, project: str) -> None:
    """task_manager.go: CreateTask stores a closure whose compiled task is the template with the request id."""
    task_id = identifier(TASK, project, "wf.add")
    create_task(client, task_id)
    task = client.get_task(Identifier(ResourceType.TASK, project, "development", "wf.add", "v1"))
    assert task.closure.compiled_task.template.id.name == "wf.add"
    assert task.closure.compiled_task.template.container.image == "python:3.11"
    raw = admin(client).GetTask(common_pb2.ObjectGetRequest(id=task_id))
    assert raw.closure.created_at.seconds > 0


def test_identical_re_create_is_already_exists(client: SynchronousFlyteClient, project: str) -> None:
    """errors.go: NewTaskExistsIdenticalStructureError (flytekit treats it as success)."""
    task_id = identifier(TASK, project, "same")
    create_task(client, task_id)
    code, message = status_of(lambda: create_task(client, task_id))
    assert (code, message) == (grpc.StatusCode.ALREADY_EXISTS, "task with identical structure already exists")
    with pytest.raises(FlyteEntityAlreadyExistsException):
        create_task(client, task_id)


def test_different_structure_is_invalid_argument_with_diff(client: SynchronousFlyteClient, project: str) -> None:
    """errors.go: NewTaskExistsDifferentStructureError — INVALID_ARGUMENT, not ALREADY_EXISTS, with a diff."""
    task_id = identifier(TASK, project, "changed")
    create_task(client, task_id, image="python:3.11")
    code, message = status_of(lambda: create_task(client, task_id, image="python:3.12"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith(
        "changed task with different structure already exists. (Please register a new version of the task):\n"
    )
    assert "/template/container/image:\n\t- python:3.11 \n\t+ python:3.12" in message


def test_list_tasks_filters_sort_and_pages(client: SynchronousFlyteClient, project: str) -> None:
    """task_manager.go: ListTasks with eq(version,…) filters, sort_by and offset tokens."""
    for version in ("v1", "v2", "v3"):
        create_task(client, identifier(TASK, project, "listed", version=version))
    named = NamedEntityIdentifier(project, "development", "listed")
    ascending = Sort("version", Sort.Direction.ASCENDING)
    first, token = client.list_tasks_paginated(named, limit=2, sort_by=ascending)
    assert [task.id.version for task in first] == ["v1", "v2"]
    assert token == "2"
    rest, token = client.list_tasks_paginated(named, limit=2, token=token, sort_by=ascending)
    assert [task.id.version for task in rest] == ["v3"]
    assert token == ""
    only, _ = client.list_tasks_paginated(named, limit=10, filters=[Equal("version", "v2")])
    assert [task.id.version for task in only] == ["v2"]


def test_list_task_ids_one_per_name(client: SynchronousFlyteClient, project: str) -> None:
    """task_manager.go: ListUniqueTaskIdentifiers returns each name once, however many versions."""
    for name, version in (("a.one", "v1"), ("a.one", "v2"), ("a.two", "v1")):
        create_task(client, identifier(TASK, project, name, version=version))
    ids, token = client.list_task_ids_paginated(project, "development", limit=10)
    assert [entity.name for entity in ids] == ["a.one", "a.two"]
    assert token == ""


def test_list_with_bad_filter_or_sort_key_is_invalid(client: SynchronousFlyteClient, project: str) -> None:
    """util/filters.go: ParseFilters and common/sorting.go: NewSortParameter reject unknown fields."""
    request = common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project=project, domain="development"), limit=5, filters="eq(bogus,1)"
    )
    assert status_of(lambda: admin(client).ListTasks(request)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "'task.bogus' is invalid filter",
    )
    request.filters = "nonsense"
    assert status_of(lambda: admin(client).ListTasks(request)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid value for filters",
    )
    request.filters = ""
    request.sort_by.key = "colour"
    assert status_of(lambda: admin(client).ListTasks(request)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid sort key 'colour'",
    )


def test_get_missing_task_is_not_found(client: SynchronousFlyteClient, project: str) -> None:
    """repositories/errors: GetMissingEntityError for a task version that was never registered."""
    code, message = status_of(
        lambda: admin(client).GetTask(common_pb2.ObjectGetRequest(id=identifier(TASK, project, "x")))
    )
    assert code == grpc.StatusCode.NOT_FOUND
    assert message.startswith("missing entity of type TASK with identifier")
