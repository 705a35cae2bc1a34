"""Activating and deactivating a release's launch plans concurrently, against a real localflyte."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flytekit.models.project import Project

from localflyte.testing import LocalFlyteProcess, MotoServer
from tasks.core.config_models import DomainSpec
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.promote_admin import FlyteLaunchPlans
from tasks.core.register import RegistrationRequest, register_package
from tasks.core.register_admin import FlyteAdminGateway
from tasks.core.register_package import load_package
from tests.unit.core.test_register_package import build_package

pytestmark = pytest.mark.integration

DEV = DomainSpec(name="development", raw_data_prefix="s3://taxiway-data/development/tiny")
SHA = "0123456789ab" + "f" * 28


@pytest.fixture(scope="module")
def remotes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlyteRemotes]:
    moto = MotoServer(tmp_path_factory.mktemp("moto"))
    admin = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=moto.endpoint)
    yield FlyteRemotes(FlyteSettings(admin.endpoint, True, moto.endpoint, "testing", "testing"))
    admin.stop()
    moto.stop()


@pytest.fixture(scope="module")
def registered(remotes: FlyteRemotes, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    """A project holding versions v1 and v2 of the tiny package; its launch-plan names."""
    project = f"lp{uuid.uuid4().hex[:8]}"
    remote = remotes.for_domain(project, DEV.name)
    remote.client.register_project(Project(id=project, name=project, description="activation"))
    root = tmp_path_factory.mktemp("package")
    package = load_package(build_package(root / "v1"), root / "out")
    for version in ("v1", "v2"):
        request = RegistrationRequest("tiny", project, DEV, version, SHA)
        register_package(package, request, FlyteAdminGateway(remote))
    return project, sorted(plan.name for plan in package.launch_plans)


def _active(plans: FlyteLaunchPlans) -> dict[str, str]:
    return {plan.name: plan.version for plan in plans.active(DEV.name)}


def test_set_states_activates_and_switches_every_launch_plan_at_once(
    remotes: FlyteRemotes, registered: tuple[str, list[str]]
) -> None:
    project, names = registered
    plans = FlyteLaunchPlans(lambda domain: remotes.for_domain(project, domain), project)
    plans.set_states(DEV.name, [(name, "v1", True) for name in names])
    assert _active(plans) == {name: "v1" for name in names}
    # Activating v2 deactivates v1 of the same name, each in its own concurrent call.
    plans.set_states(DEV.name, [(name, "v2", True) for name in names], max_workers=4)
    assert _active(plans) == {name: "v2" for name in names}
    assert {plan.version for plan in plans.registered(DEV.name, "v1") if plan.active} == set()
    plans.set_states(DEV.name, [(name, "v2", False) for name in names])
    assert _active(plans) == {}


def test_one_name_twice_is_refused_before_any_call(remotes: FlyteRemotes, registered: tuple[str, list[str]]) -> None:
    project, names = registered
    plans = FlyteLaunchPlans(lambda domain: remotes.for_domain(project, domain), project)
    with pytest.raises(ValueError, match="distinct launch-plan names"):
        plans.set_states(DEV.name, [(names[0], "v1", True), (names[0], "v2", True)])
    assert _active(plans) == {}
