"""FlyteAdmin faults in the middle of registering a package, injected by a gRPC proxy in front of localflyte.

The proxy (:mod:`tests.reliability.grpc_fault_proxy`) forwards raw bytes to a real localflyte (with a
real moto S3 behind its data proxy) and answers UNAVAILABLE or DEADLINE_EXCEEDED when told to. Each
test asserts the final state FlyteAdmin holds: the entity set equals the package (nothing missing,
nothing duplicated) and no launch plan is active, since registration never activates.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.models.project import Project

from localflyte.testing import LocalFlyteProcess, MotoServer
from tasks.core.config_models import DomainSpec
from tasks.core.errors import AdminUnavailable
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.records import DomainRegistration
from tasks.core.register import RegistrationRequest, register_package
from tasks.core.register_admin import FlyteAdminGateway, RetryPolicy
from tasks.core.register_package import EntityPackage, load_package
from tests.reliability.grpc_fault_proxy import CREATE_LAUNCH_PLAN, CREATE_TASK, UPLOAD_LOCATION, FaultProxy
from tests.unit.core.test_register_package import build_package

pytestmark = pytest.mark.integration

SHA = "0123456789ab" + "e" * 28
VERSION = "0123456789ab"
DEV = DomainSpec(name="development", raw_data_prefix="s3://taxiway-data/development/tiny")
RETRY = RetryPolicy(attempts=3, initial_delay=0.01, max_delay=0.04)
#: What tinypkg registers (tests/unit/core/test_register_package.py builds it with pyflyte package).
PACKAGE_ENTITIES = {
    "tasks": ["tinypkg.flows.greet", "tinypkg.flows.shout"],
    "workflows": ["tinypkg.flows.hello", "tinypkg.flows.polite"],
    "launch_plans": ["tinypkg.flows.hello", "tinypkg.flows.polite", "tinypkg.nightly", "tinypkg.polite_lp"],
}
EMPTY: dict[str, list[str]] = {"tasks": [], "workflows": [], "launch_plans": []}


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalFlyteProcess]:
    moto = MotoServer(tmp_path_factory.mktemp("moto"))
    localflyte = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=moto.endpoint)
    yield localflyte
    localflyte.stop()
    moto.stop()


@pytest.fixture
def proxy(admin: LocalFlyteProcess) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(admin.endpoint)
    yield fault_proxy
    fault_proxy.stop()


@pytest.fixture(scope="module")
def direct(admin: LocalFlyteProcess) -> SynchronousFlyteClient:
    """A client that bypasses the proxy: how the tests read the final state."""
    return SynchronousFlyteClient(FlyteSettings(admin.endpoint, True).to_config().platform)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> EntityPackage:
    root = tmp_path_factory.mktemp("packages")
    return load_package(build_package(root / "v1"), root / "v1-out")


@pytest.fixture
def project(direct: SynchronousFlyteClient) -> str:
    name = f"faults{uuid.uuid4().hex[:8]}"
    direct.register_project(Project(id=name, name=name, description="fault injection"))
    return name


def _register(
    proxy: FaultProxy,
    admin: LocalFlyteProcess,
    package: EntityPackage,
    project: str,
    waits: list[float],
    max_workers: int = 8,
) -> DomainRegistration:
    settings = FlyteSettings(proxy.endpoint, True, admin.s3_endpoint, "testing", "testing")
    remote = FlyteRemotes(settings).for_domain(project, DEV.name)
    request = RegistrationRequest("tiny", project, DEV, VERSION, SHA, content_hash="sha256:faults")
    gateway = FlyteAdminGateway(remote, RETRY, sleep=waits.append)
    return register_package(package, request, gateway, max_workers=max_workers)


def _entities(client: SynchronousFlyteClient, project: str) -> dict[str, list[str]]:
    """Every registered (name, version) per kind, one entry each: duplicates would show twice."""
    listed = {
        "tasks": client.list_tasks_paginated,
        "workflows": client.list_workflows_paginated,
        "launch_plans": client.list_launch_plans_paginated,
    }
    found: dict[str, list[str]] = {}
    for kind, list_ids in {
        "tasks": client.list_task_ids_paginated,
        "workflows": client.list_workflow_ids_paginated,
        "launch_plans": client.list_launch_plan_ids_paginated,
    }.items():
        names, _ = list_ids(project, DEV.name, limit=100)
        versions: list[str] = []
        for named in names:
            entities, _ = listed[kind](named, limit=100)
            versions.extend(f"{entity.id.name}@{entity.id.version}" for entity in entities)
        found[kind] = sorted(versions)
    return found


def _expected() -> dict[str, list[str]]:
    return {kind: sorted(f"{name}@{VERSION}" for name in names) for kind, names in PACKAGE_ENTITIES.items()}


def _active_launch_plans(client: SynchronousFlyteClient, project: str) -> list[str]:
    plans, _ = client.list_active_launch_plans_paginated(project, DEV.name, limit=100)
    return [plan.id.name for plan in plans]


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
def test_transient_faults_are_retried_with_backoff_and_registration_completes(
    proxy: FaultProxy,
    admin: LocalFlyteProcess,
    direct: SynchronousFlyteClient,
    package: EntityPackage,
    project: str,
    code: grpc.StatusCode,
) -> None:
    # In the middle of the registration (tasks and workflows are in): two faults in a row on the
    # first CreateLaunchPlan, whose third attempt gets through. One call at a time (max_workers=1),
    # so both faults hit the same call and the waits show the backoff doubling.
    proxy.plan.fail_next(2, code, method=CREATE_LAUNCH_PLAN)
    waits: list[float] = []
    registration = _register(proxy, admin, package, project, waits, max_workers=1)
    assert proxy.plan.injected[CREATE_LAUNCH_PLAN] == 2
    assert waits == [0.01, 0.02]  # exponential backoff, once per fault
    assert registration.created_count == 8 == len(registration.entities)
    assert _entities(direct, project) == _expected()
    assert _active_launch_plans(direct, project) == []


def test_concurrent_calls_each_retry_their_own_fault(
    proxy: FaultProxy, admin: LocalFlyteProcess, direct: SynchronousFlyteClient, package: EntityPackage, project: str
) -> None:
    # Launch plans of one dependency wave register at the same time: two faults on CreateLaunchPlan
    # may hit one call twice or two calls once; either way each is retried and nothing is duplicated.
    proxy.plan.fail_next(2, grpc.StatusCode.UNAVAILABLE, method=CREATE_LAUNCH_PLAN)
    waits: list[float] = []
    registration = _register(proxy, admin, package, project, waits)
    assert proxy.plan.injected[CREATE_LAUNCH_PLAN] == 2 == len(waits)
    assert sorted(waits) in ([0.01, 0.01], [0.01, 0.02])
    assert registration.created_count == 8
    assert _entities(direct, project) == _expected()


def test_faults_on_every_call_kind_are_survived(
    proxy: FaultProxy, admin: LocalFlyteProcess, direct: SynchronousFlyteClient, package: EntityPackage, project: str
) -> None:
    # One fault before each kind of call (GetDomains, ListProjects, CreateUploadLocation, Get*, Create*).
    for method in (
        "/flyteidl.service.AdminService/GetDomains",
        "/flyteidl.service.AdminService/ListProjects",
        UPLOAD_LOCATION,
        "/flyteidl.service.AdminService/GetTask",
        "/flyteidl.service.AdminService/CreateWorkflow",
        CREATE_TASK,
    ):
        proxy.plan.fail_next(1, grpc.StatusCode.UNAVAILABLE, method=method)
    # The data proxy is asked twice: where the bundle goes (before any write), then for the upload itself.
    proxy.plan.fail_next(1, grpc.StatusCode.UNAVAILABLE, method=UPLOAD_LOCATION, after=1)
    waits: list[float] = []
    registration = _register(proxy, admin, package, project, waits)
    assert proxy.plan.injected[UPLOAD_LOCATION] == 2
    assert sum(proxy.plan.injected.values()) == 7 == len(waits)
    assert registration.created_count == 8
    assert _entities(direct, project) == _expected()
    assert _active_launch_plans(direct, project) == []


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
def test_fault_persisting_after_the_first_create_task_is_admin_unavailable_and_a_rerun_completes(
    proxy: FaultProxy,
    admin: LocalFlyteProcess,
    direct: SynchronousFlyteClient,
    package: EntityPackage,
    project: str,
    code: grpc.StatusCode,
) -> None:
    proxy.plan.fail_after(CREATE_TASK, 1, code)
    waits: list[float] = []
    with pytest.raises(AdminUnavailable, match="CreateTask failed 3 times") as caught:
        _register(proxy, admin, package, project, waits)
    assert caught.value.retryable
    assert waits == [0.01, 0.02]
    # Half registered: one task went through; no workflow and no launch plan exists, so nothing can
    # run or be activated from the half release.
    partial = _entities(direct, project)
    assert len(partial["tasks"]) == 1 and partial["tasks"][0] in _expected()["tasks"]
    assert partial["workflows"] == partial["launch_plans"] == []
    assert _active_launch_plans(direct, project) == []

    proxy.plan.clear()
    rerun = _register(proxy, admin, package, project, [])
    assert len(rerun.entities) == 8
    assert rerun.created_count == 7  # the task registered before the fault is "already exists"
    assert _entities(direct, project) == _expected()
    assert _active_launch_plans(direct, project) == []
    # Once more, as a retried task would: nothing new, nothing duplicated.
    assert _register(proxy, admin, package, project, []).created_count == 0
    assert _entities(direct, project) == _expected()


def test_admin_unavailable_throughout_changes_nothing(
    proxy: FaultProxy, admin: LocalFlyteProcess, direct: SynchronousFlyteClient, package: EntityPackage, project: str
) -> None:
    proxy.plan.fail_next(1000, grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(AdminUnavailable, match="GetDomains failed 3 times"):
        _register(proxy, admin, package, project, [])
    assert _entities(direct, project) == EMPTY
    proxy.plan.clear()
    assert _register(proxy, admin, package, project, []).created_count == 8
    assert _entities(direct, project) == _expected()
    assert _active_launch_plans(direct, project) == []
