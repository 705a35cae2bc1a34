"""Parallel registration: 8 clients register 400 task versions (each one twice, racing) and nothing is lost
or duplicated; flyteadmin gets this from unique keys (``task_manager.go`` maps the conflict to
ALREADY_EXISTS with identical structure)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from flyteidl.admin import common_pb2
from flyteidl.core import identifier_pb2
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.configuration import Config
from flytekit.exceptions.user import FlyteEntityAlreadyExistsException

from tests.conformance.registration_support import admin, create_task, identifier

pytestmark = pytest.mark.conformance
THREADS = 8
ENTITIES = 400


def test_eight_threads_four_hundred_entities(flyte_config: Config, project: str) -> None:
    """Every entity registered exactly once; the racing duplicate always gets ALREADY_EXISTS."""
    clients = [SynchronousFlyteClient(flyte_config.platform) for _ in range(THREADS)]
    # each entity is submitted twice, by different threads, so every id is contested
    work = [(index, attempt) for index in range(ENTITIES) for attempt in range(2)]

    def register(job: tuple[int, int]) -> str:
        index, attempt = job
        client = clients[(index + attempt) % THREADS]
        try:
            create_task(client, identifier(identifier_pb2.TASK, project, f"t{index % 40}", version=f"v{index}"))
        except FlyteEntityAlreadyExistsException as error:
            assert isinstance(error.__cause__, grpc.RpcError)
            return "exists"
        return "created"

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(register, work))
    assert outcomes.count("created") == ENTITIES
    assert outcomes.count("exists") == ENTITIES

    stub = admin(clients[0])
    seen: list[tuple[str, str]] = []
    token = ""
    while True:
        page = stub.ListTasks(
            common_pb2.ResourceListRequest(
                id=common_pb2.NamedEntityIdentifier(project=project, domain="development"), limit=150, token=token
            )
        )
        seen.extend((task.id.name, task.id.version) for task in page.tasks)
        token = page.token
        if not token:
            break
    assert len(seen) == ENTITIES
    assert sorted(seen) == sorted((f"t{index % 40}", f"v{index}") for index in range(ENTITIES))
