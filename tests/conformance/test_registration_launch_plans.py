"""Launch plans: flyteadmin ``pkg/manager/impl/launch_plan_manager.go`` (inactive on create, one active
version per name, GetActiveLaunchPlan) and ``validation/launch_plan_validator.go`` (inputs vs interface)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import grpc
import pytest
from flyteidl.admin import common_pb2, launch_plan_pb2, schedule_pb2
from flyteidl.core import identifier_pb2, literals_pb2
from flytekit import CronSchedule, LaunchPlan, task, workflow
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.models.common import NamedEntityIdentifier
from flytekit.remote import FlyteRemote

from tests.conformance.registration_support import admin, status_of

pytestmark = pytest.mark.conformance
ACTIVE, INACTIVE = launch_plan_pb2.ACTIVE, launch_plan_pb2.INACTIVE


@task
def scale(x: int, factor: int) -> int:
    return x * factor


@workflow
def scaled(x: int, factor: int = 2) -> int:
    return scale(x=x, factor=factor)


def _settings(project: str, version: str = "v1") -> SerializationSettings:
    return SerializationSettings(
        project=project, domain="development", version=version, image_config=ImageConfig.auto_default_image()
    )


def _lp_id(project: str, name: str, version: str = "v1") -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project=project, domain="development", name=name, version=version
    )


@pytest.fixture
def registered(remote_for: Callable[[str], FlyteRemote], project: str) -> FlyteRemote:
    """``scaled`` registered as v1 (with its default launch plan)."""
    remote = remote_for("development")
    remote.register_workflow(scaled, serialization_settings=_settings(project), version="v1")
    return remote


def _spec(client: SynchronousFlyteClient, project: str) -> launch_plan_pb2.LaunchPlanSpec:
    """The default launch plan's spec, as a starting point for variants."""
    return admin(client).GetLaunchPlan(common_pb2.ObjectGetRequest(id=_lp_id(project, scaled.name))).spec


def _create(
    client: SynchronousFlyteClient, lp_id: identifier_pb2.Identifier, spec: launch_plan_pb2.LaunchPlanSpec
) -> None:
    admin(client).CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=lp_id, spec=spec))


def test_register_and_fetch_launch_plan(registered: FlyteRemote, client: SynchronousFlyteClient, project: str) -> None:
    """launch_plan_manager.go: CreateLaunchPlan stores it INACTIVE with expected inputs/outputs in the closure."""
    plan = LaunchPlan.get_or_create(scaled, name="scaled_lp", default_inputs={"x": 5})
    registered.register_launch_plan(plan, version="v1", serialization_settings=_settings(project))
    fetched = registered.fetch_launch_plan(name="scaled_lp", version="v1")
    assert fetched.workflow_id.name == scaled.name
    raw = admin(client).GetLaunchPlan(common_pb2.ObjectGetRequest(id=_lp_id(project, "scaled_lp")))
    assert raw.closure.state == INACTIVE
    assert set(raw.closure.expected_inputs.parameters) == {"x", "factor"}
    assert raw.closure.expected_inputs.parameters["x"].default.scalar.primitive.integer == 5
    assert set(raw.closure.expected_outputs.variables) == {"o0"}


def test_activation_swaps_the_active_version(
    registered: FlyteRemote, client: SynchronousFlyteClient, project: str
) -> None:
    """launch_plan_manager.go: enableLaunchPlan deactivates the formerly active version of the same name."""
    spec = _spec(client, project)
    for version in ("v2", "v3"):
        _create(client, _lp_id(project, "swap", version), spec)
    named = NamedEntityIdentifier(project, "development", "swap")
    code, message = status_of(lambda: client.get_active_launch_plan(named))
    assert (code, message) == (
        grpc.StatusCode.NOT_FOUND,
        f"No active launch plan could be found: {project}:development:swap",
    )
    client.update_launch_plan(_flytekit_id(project, "swap", "v2"), ACTIVE)
    assert client.get_active_launch_plan(named).id.version == "v2"
    client.update_launch_plan(_flytekit_id(project, "swap", "v3"), ACTIVE)
    assert client.get_active_launch_plan(named).id.version == "v3"
    states = {
        version: admin(client)
        .GetLaunchPlan(common_pb2.ObjectGetRequest(id=_lp_id(project, "swap", version)))
        .closure.state
        for version in ("v2", "v3")
    }
    assert states == {"v2": INACTIVE, "v3": ACTIVE}
    active, _ = client.list_active_launch_plans_paginated(project, "development", limit=10)
    assert [(lp.id.name, lp.id.version) for lp in active] == [("swap", "v3")]
    client.update_launch_plan(_flytekit_id(project, "swap", "v3"), INACTIVE)
    assert status_of(lambda: client.get_active_launch_plan(named))[0] == grpc.StatusCode.NOT_FOUND


def _flytekit_id(project: str, name: str, version: str):  # type: ignore[no-untyped-def]
    from flytekit.models.core.identifier import Identifier, ResourceType

    return Identifier(ResourceType.LAUNCH_PLAN, project, "development", name, version)


def test_launch_plan_needs_its_workflow(client: SynchronousFlyteClient, project: str) -> None:
    """launch_plan_manager.go: CreateLaunchPlan looks up the workflow first (NOT_FOUND when missing)."""
    workflow_id = identifier_pb2.Identifier(
        resource_type=identifier_pb2.WORKFLOW, project=project, domain="development", name="ghost", version="v1"
    )
    spec = launch_plan_pb2.LaunchPlanSpec(workflow_id=workflow_id)
    code, message = status_of(lambda: _create(client, _lp_id(project, "orphan"), spec))
    assert code == grpc.StatusCode.NOT_FOUND
    assert message.startswith("missing entity of type WORKFLOW")


def _int(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def _text(value: str) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=value)))


def test_launch_plan_inputs_are_validated(
    registered: FlyteRemote, client: SynchronousFlyteClient, project: str
) -> None:
    """launch_plan_validator.go: checkAndFetchExpectedInputForLaunchPlan and validateSchedule."""
    cases: list[tuple[Callable[[launch_plan_pb2.LaunchPlanSpec], object], str]] = [
        (lambda spec: spec.fixed_inputs.literals["nope"].CopyFrom(_int(1)), "unexpected fixed_input nope"),
        (
            lambda spec: spec.fixed_inputs.literals["x"].CopyFrom(_text("one")),
            "invalid fixed_input wrong type x, expected simple:INTEGER, got simple:STRING instead",
        ),
        (
            lambda spec: spec.entity_metadata.schedule.CopyFrom(
                schedule_pb2.Schedule(cron_schedule=schedule_pb2.CronSchedule(schedule="0 * * * *"))
            ),
            "Cannot create a launch plan with a schedule if there is an unbound required input. [x] is required",
        ),
        (
            lambda spec: (
                spec.fixed_inputs.literals["x"].CopyFrom(_int(1)),
                spec.default_inputs.parameters.pop("x"),
                spec.entity_metadata.schedule.CopyFrom(schedule_pb2.Schedule(cron_expression="every day")),
            ),
            "Invalid cron expression: expected exactly 5 fields, found 2: [every day]",
        ),
    ]
    for index, (mutate, expected) in enumerate(cases):
        spec = _spec(client, project)
        mutate(spec)
        lp_id = _lp_id(project, f"bad{index}")
        code, message = status_of(functools.partial(_create, client, lp_id, spec))
        assert (code, message) == (grpc.StatusCode.INVALID_ARGUMENT, expected), expected


def test_default_input_of_wrong_type_is_refused(
    registered: FlyteRemote, client: SynchronousFlyteClient, project: str
) -> None:
    """validation.go: validateParameterMap — a default whose value does not match its declared type."""
    spec = _spec(client, project)
    spec.default_inputs.parameters["factor"].default.CopyFrom(_text("two"))
    code, message = status_of(lambda: _create(client, _lp_id(project, "badtype"), spec))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("Type mismatch for Parameter factor in default_inputs")


def test_scheduled_launch_plan_registers(registered: FlyteRemote, project: str) -> None:
    """launch_plan_validator.go: a schedule is fine once every required input is bound."""
    plan = LaunchPlan.get_or_create(
        scaled, name="nightly", fixed_inputs={"x": 1}, schedule=CronSchedule(schedule="0 2 * * *")
    )
    registered.register_launch_plan(plan, version="v1", serialization_settings=_settings(project))
    fetched = registered.fetch_launch_plan(name="nightly", version="v1")
    assert fetched.entity_metadata.schedule.cron_schedule.schedule == "0 2 * * *"


def test_identical_and_different_launch_plans(
    registered: FlyteRemote, client: SynchronousFlyteClient, project: str
) -> None:
    """errors.go: launch plan with identical structure → ALREADY_EXISTS; different → INVALID_ARGUMENT."""
    spec = _spec(client, project)
    _create(client, _lp_id(project, "twice"), spec)
    assert status_of(lambda: _create(client, _lp_id(project, "twice"), spec)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "launch plan with identical structure already exists",
    )
    spec.labels.values["team"] = "ml"
    code, message = status_of(lambda: _create(client, _lp_id(project, "twice"), spec))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("twice launch plan with different structure already exists.")
    assert "/labels/values:" in message
