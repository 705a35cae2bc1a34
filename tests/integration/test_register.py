"""Registering a real ``pyflyte package --fast`` output into a localflyte + moto started by the test.

Covers: first registration, idempotent re-registration, version conflicts that change nothing, two
domains with different settings, two isolated projects, launch plans readable through FlyteRemote
with the domain's settings, missing references and an unreachable FlyteAdmin.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flyteidl.admin import common_pb2, launch_plan_pb2, task_pb2
from flyteidl.core import identifier_pb2
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.clients.raw import RawSynchronousFlyteClient
from flytekit.models.project import Project
from google.protobuf.message import Message

from localflyte.testing import LocalFlyteProcess, MotoServer, free_port
from tasks.core.config_models import DomainSpec
from tasks.core.errors import AdminUnavailable, SourceNotFound, VersionConflict
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.records import DomainRegistration
from tasks.core.register import RegistrationRequest, register_package
from tasks.core.register_admin import FlyteAdminGateway, RegistrationRejected, RetryPolicy
from tasks.core.register_package import EntityPackage, load_package
from tests.unit.core.test_register_package import build_package

pytestmark = pytest.mark.integration

SHA = "0123456789ab" + "d" * 28
VERSION = "0123456789ab"
DEV = DomainSpec(
    name="development",
    raw_data_prefix="s3://taxiway-data/development/tiny",
    service_account="tiny-development",
    labels={"team": "ml", "environment": "development"},
)
STAGING = DomainSpec(
    name="staging",
    raw_data_prefix="s3://taxiway-data/staging/tiny",
    service_account="tiny-staging",
    iam_role="arn:aws:iam::123456789012:role/tiny-staging",
    labels={"team": "ml", "environment": "staging"},
    annotations={"example.com/owner": "ml@example.com"},
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlyteSettings]:
    moto = MotoServer(tmp_path_factory.mktemp("moto"))
    admin = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=moto.endpoint)
    yield FlyteSettings(admin.endpoint, True, moto.endpoint, "testing", "testing")
    admin.stop()
    moto.stop()


@pytest.fixture(scope="module")
def remotes(stack: FlyteSettings) -> FlyteRemotes:
    return FlyteRemotes(stack)


@pytest.fixture(scope="module")
def client(stack: FlyteSettings) -> SynchronousFlyteClient:
    return SynchronousFlyteClient(stack.to_config().platform)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EntityPackage]:
    root = tmp_path_factory.mktemp("packages")
    return {
        "v1": load_package(build_package(root / "v1"), root / "v1-out"),
        # greet's retries change and a new task appears: a different structure under the same version.
        "changed": load_package(build_package(root / "changed", retries=3, extra_task=True), root / "changed-out"),
    }


@pytest.fixture
def project(client: SynchronousFlyteClient) -> str:
    name = f"tiny{uuid.uuid4().hex[:8]}"
    client.register_project(Project(id=name, name=name, description="register tests"))
    return name


def _register(
    remotes: FlyteRemotes, package: EntityPackage, project: str, domain: DomainSpec, version: str = VERSION
) -> DomainRegistration:
    request = RegistrationRequest("tiny", project, domain, version, SHA, content_hash="sha256:abc")
    return register_package(package, request, FlyteAdminGateway(remotes.for_domain(project, domain.name)))


def _names(client: SynchronousFlyteClient, project: str, domain: str) -> dict[str, list[str]]:
    tasks, _ = client.list_task_ids_paginated(project, domain, limit=100)
    workflows, _ = client.list_workflow_ids_paginated(project, domain, limit=100)
    plans, _ = client.list_launch_plan_ids_paginated(project, domain, limit=100)
    return {
        "tasks": sorted(entity.name for entity in tasks),
        "workflows": sorted(entity.name for entity in workflows),
        "launch_plans": sorted(entity.name for entity in plans),
    }


def test_register_then_again_creates_nothing(
    remotes: FlyteRemotes, client: SynchronousFlyteClient, packages: dict[str, EntityPackage], project: str
) -> None:
    first = _register(remotes, packages["v1"], project, DEV)
    assert (first.project, first.domain, first.version) == (project, "development", "0123456789ab")
    assert first.created_count == 8 == len(first.entities)
    assert _names(client, project, "development") == {
        "tasks": ["tinypkg.flows.greet", "tinypkg.flows.shout"],
        "workflows": ["tinypkg.flows.hello", "tinypkg.flows.polite"],
        "launch_plans": ["tinypkg.flows.hello", "tinypkg.flows.polite", "tinypkg.nightly", "tinypkg.polite_lp"],
    }
    again = _register(remotes, packages["v1"], project, DEV)
    assert again.created_count == 0
    assert [(e.resource_type, e.name) for e in again.entities] == [(e.resource_type, e.name) for e in first.entities]
    # Registration never activates: promotion does (and PR releases never).
    remote = remotes.for_domain(project, "development")
    assert remote.fetch_active_launchplan(project, "development", "tinypkg.nightly") is None


def test_same_version_different_structure_is_a_conflict_that_registers_nothing(
    remotes: FlyteRemotes, client: SynchronousFlyteClient, packages: dict[str, EntityPackage], project: str
) -> None:
    _register(remotes, packages["v1"], project, DEV)
    before = _names(client, project, "development")
    with pytest.raises(VersionConflict) as caught:
        _register(remotes, packages["changed"], project, DEV)
    message = str(caught.value)
    assert "task tinypkg.flows.greet version 0123456789ab is already registered with a different structure" in message
    assert "retries" in message
    assert "bump the version" in message
    # The new task `whisper` was not registered either.
    assert _names(client, project, "development") == before
    # Under a new version the changed package registers.
    assert _register(remotes, packages["changed"], project, DEV, version="fedcba987654").created_count == 9


def test_two_domains_differ_only_in_launch_plan_settings(
    remotes: FlyteRemotes, client: SynchronousFlyteClient, packages: dict[str, EntityPackage], project: str
) -> None:
    for domain in (DEV, STAGING):
        assert _register(remotes, packages["v1"], project, domain).created_count == 8
    names = _names(client, project, "development")
    assert names == _names(client, project, "staging")
    for name in names["tasks"]:
        dev_template = _stored_task(client, project, "development", name).closure.compiled_task.template
        staging_template = _stored_task(client, project, "staging", name).closure.compiled_task.template
        dev_bundle, staging_bundle = dev_template.container.args[2], staging_template.container.args[2]
        # Each domain reads the same code bundle (same content address) from its own storage.
        assert "/development/" in dev_bundle and "/staging/" in staging_bundle
        assert dev_bundle.rsplit("/", 2)[1:] == staging_bundle.rsplit("/", 2)[1:]
        staging_template.id.domain = "development"
        staging_template.container.args[2] = dev_bundle
        assert _bytes(staging_template) == _bytes(dev_template), name
    for name in names["launch_plans"]:
        dev_spec = _stored_plan(client, project, "development", name).spec
        staging_spec = _stored_plan(client, project, "staging", name).spec
        assert staging_spec.raw_output_data_config.output_location_prefix == STAGING.raw_data_prefix
        assert staging_spec.security_context.run_as.iam_role == STAGING.iam_role
        assert staging_spec.labels.values["environment"] == "staging"
        assert staging_spec.labels.values["taxiway.dev/domain"] == "staging"
        assert staging_spec.annotations.values["example.com/owner"] == "ml@example.com"
        assert _bytes(dev_spec) != _bytes(staging_spec)
        for spec in (dev_spec, staging_spec):
            spec.workflow_id.domain = ""
            for field in ("raw_output_data_config", "security_context", "labels", "annotations"):
                spec.ClearField(field)
        assert _bytes(dev_spec) == _bytes(staging_spec), name


def _identifier(kind: int, project: str, domain: str, name: str) -> common_pb2.ObjectGetRequest:
    return common_pb2.ObjectGetRequest(
        id=identifier_pb2.Identifier(resource_type=kind, project=project, domain=domain, name=name, version=VERSION)
    )


def _stored_task(client: SynchronousFlyteClient, project: str, domain: str, name: str) -> task_pb2.Task:
    # The raw layer returns the stored protobuf as FlyteAdmin holds it.
    return RawSynchronousFlyteClient.get_task(client, _identifier(identifier_pb2.TASK, project, domain, name))


def _stored_plan(client: SynchronousFlyteClient, project: str, domain: str, name: str) -> launch_plan_pb2.LaunchPlan:
    request = _identifier(identifier_pb2.LAUNCH_PLAN, project, domain, name)
    return RawSynchronousFlyteClient.get_launch_plan(client, request)


def _bytes(message: Message) -> bytes:
    return message.SerializeToString(deterministic=True)


def test_two_projects_stay_isolated(
    remotes: FlyteRemotes, client: SynchronousFlyteClient, packages: dict[str, EntityPackage]
) -> None:
    first, second = (f"iso{uuid.uuid4().hex[:8]}" for _ in range(2))
    for name in (first, second):
        client.register_project(Project(id=name, name=name, description="isolation"))
    _register(remotes, packages["v1"], first, DEV)
    # The other project registers a different structure under the same version: no conflict.
    assert _register(remotes, packages["changed"], second, DEV).created_count == 9
    assert "tinypkg.flows.whisper" not in _names(client, first, "development")["tasks"]
    assert "tinypkg.flows.whisper" in _names(client, second, "development")["tasks"]


def test_launch_plan_fetched_by_flyteremote_has_the_domain_settings(
    remotes: FlyteRemotes, packages: dict[str, EntityPackage], project: str
) -> None:
    _register(remotes, packages["v1"], project, STAGING)
    plan = remotes.for_domain(project, "staging").fetch_launch_plan(
        project, "staging", "tinypkg.nightly", "0123456789ab"
    )
    assert plan.raw_output_data_config.output_location_prefix == STAGING.raw_data_prefix
    assert plan.security_context.run_as.k8s_service_account == STAGING.service_account
    assert plan.security_context.run_as.iam_role == STAGING.iam_role
    assert plan.labels.values["taxiway.dev/release-version"] == "0123456789ab"
    assert plan.labels.values["taxiway.dev/pipeline"] == "tiny"
    assert plan.labels.values["team"] == "ml"
    assert plan.annotations.values["taxiway.dev/content-hash"] == "sha256:abc"


def test_missing_reference_and_unknown_project_register_nothing(
    remotes: FlyteRemotes, client: SynchronousFlyteClient, packages: dict[str, EntityPackage], project: str
) -> None:
    full = packages["v1"]
    trimmed = EntityPackage(full.tasks[1:], full.workflows, full.launch_plans, full.code_bundle)
    with pytest.raises(
        SourceNotFound, match=r"needs task .*tinypkg\.flows\.greet.*neither in the package nor registered"
    ):
        _register(remotes, trimmed, project, DEV)
    assert _names(client, project, "development") == {"tasks": [], "workflows": [], "launch_plans": []}
    with pytest.raises(RegistrationRejected, match="no active project 'nosuchproject'"):
        _register(remotes, full, "nosuchproject", DEV)
    with pytest.raises(RegistrationRejected, match="no domain 'qa'"):
        _register(remotes, full, project, DomainSpec(name="qa", raw_data_prefix="s3://taxiway-data/qa"))


def test_unreachable_admin_is_retried_then_admin_unavailable(packages: dict[str, EntityPackage]) -> None:
    dead = FlyteRemotes(FlyteSettings(f"127.0.0.1:{free_port()}", True))
    waits: list[float] = []
    gateway = FlyteAdminGateway(
        dead.for_domain("tiny", "development"), RetryPolicy(attempts=3, initial_delay=0.01), sleep=waits.append
    )
    request = RegistrationRequest("tiny", "tiny", DEV, "0123456789ab", SHA)
    with pytest.raises(AdminUnavailable, match="GetDomains failed 3 times") as caught:
        register_package(packages["v1"], request, gateway)
    assert waits == [0.01, 0.02]
    assert caught.value.retryable
