"""Promotion against a real localflyte + moto started by the test (no executor: the test plays propeller).

A real ``pyflyte package --fast`` package is registered with ``register_package``; validation
executions are created with their deterministic names and finished with workflow events, so that
validation, the lock, activation, rollback, plan and diff all run through FlyteAdmin's gRPC API.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flyteidl.core import literals_pb2
from flytekit import task, workflow
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.models.project import Project

from localflyte.testing import LocalFlyteProcess, MotoServer
from tasks.core.config import PipelineConfig, parse_pipeline_config
from tasks.core.config_models import DomainSpec
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.promote import Promote, PromotionPorts, apply_promotion, check_promotion, validation_request
from tasks.core.promote_admin import FlyteLaunchPlans
from tasks.core.promote_flyte import FlyteExecutions
from tasks.core.promote_lock import FlytePromotions
from tasks.core.promote_rollback import rollback
from tasks.core.records import DomainRegistration
from tasks.core.register import RegistrationRequest, register_package
from tasks.core.register_admin import FlyteAdminGateway
from tasks.core.register_package import EntityPackage, load_package
from tasks.core.status import diff_domains, plan_promotion, read_domain_state
from tasks.core.validate import ExecutionRef, LaunchRequest, ValidationRequest
from tasks.core.vocabulary import Phase
from taxiway.cli_release import attach_release_commands
from tests.conformance import executions_support as support
from tests.unit.core.promote_fakes import release
from tests.unit.core.test_register_package import build_package

pytestmark = pytest.mark.integration

V1, V2 = "aaaaaaaaaaaa", "bbbbbbbbbbbb"
CONFIG = """
version: 1
pipeline: tiny
project: {project}
packages: [tinypkg]
domains:
  development: {{raw_data_prefix: "s3://taxiway-data/dev"}}
  staging: {{raw_data_prefix: "s3://taxiway-data/staging", service_account: tiny-staging, labels: {{team: ml}}}}
  production: {{raw_data_prefix: "s3://taxiway-data/prod", service_account: tiny-prod}}
validation:
  smoke:
    launch_plan: tinypkg.flows.hello
    inputs: {{name: ci}}
    expectations: ['o0 == "HELLO, HELLO, CI"']
    timeout: 20s
"""


@task
def _hold(pipeline: str, version: str, to_domain: str) -> str:
    """Stands in for the promotion meta-workflow: never runs here."""
    return pipeline


@workflow
def promotion_stand_in(pipeline: str, version: str, to_domain: str) -> str:
    return _hold(pipeline=pipeline, version=version, to_domain=to_domain)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlyteSettings]:
    moto = MotoServer(tmp_path_factory.mktemp("moto"))
    admin = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=moto.endpoint)
    yield FlyteSettings(admin.endpoint, True, moto.endpoint, "testing", "testing")
    admin.stop()
    moto.stop()


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> EntityPackage:
    root = tmp_path_factory.mktemp("pkg")
    return load_package(build_package(root), root / "out")


class World:
    """One project with the tiny pipeline; helpers to register, validate and promote."""

    def __init__(self, settings: FlyteSettings, package: EntityPackage) -> None:
        self.client = SynchronousFlyteClient(settings.to_config().platform)
        self.project = f"tiny{uuid.uuid4().hex[:8]}"
        self.client.register_project(Project(id=self.project, name=self.project, description="promotion tests"))
        self.remotes = FlyteRemotes(settings)
        self.package = package
        self.config: PipelineConfig = parse_pipeline_config(CONFIG.format(project=self.project))
        self.executions = FlyteExecutions(lambda domain: self.remotes.for_domain(self.project, domain))
        self.launch_plans = FlyteLaunchPlans(lambda domain: self.remotes.for_domain(self.project, domain), self.project)
        meta = self.remotes.for_domain(self.project, "development")
        meta.register_workflow(
            promotion_stand_in,
            serialization_settings=SerializationSettings(
                image_config=ImageConfig.auto_default_image(), project=self.project, domain="development", version="m1"
            ),
            version="m1",
        )
        self.lock = FlytePromotions(meta, workflow=promotion_stand_in.name)

    def register(self, version: str, domain: str) -> DomainRegistration:
        spec = self.config.domain(domain)
        request = RegistrationRequest("tiny", self.project, spec, version, version + "0" * 28)
        return register_package(self.package, request, FlyteAdminGateway(self.remotes.for_domain(self.project, domain)))

    def ports(self, version: str) -> PromotionPorts:
        def register(domain: DomainSpec) -> DomainRegistration:
            return self.register(version, domain.name)

        return PromotionPorts(self.executions, self.launch_plans, self.lock, register, lambda uri: True)

    def finish_validation(self, version: str, domain: str, greeting: str = "HELLO, HELLO, CI") -> None:
        """Create the validation execution under its deterministic name and finish it as propeller would.

        Registers the release into ``domain`` first (idempotent: the promotion's own registration then
        creates nothing), so the execution exists before the promotion validates and is reused by it.
        """
        self.register(version, domain)
        request = self.config_request(version, domain)
        for case in request.cases:
            ref = request.execution_of(case)
            self.executions.launch(LaunchRequest(ref, case.launch_plan, version, case.inputs, request.labels_of(case)))
            _succeed(self.client, ref, greeting)

    def config_request(self, version: str, domain: str) -> ValidationRequest:
        return validation_request(self.config, version, domain)

    def active(self, domain: str) -> dict[str, str]:
        return {plan.name: plan.version for plan in self.launch_plans.active(domain)}

    def snapshot(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for domain in self.config.domain_names:
            state[domain] = (
                sorted((p.name, p.version, p.active) for p in self.launch_plans.registered(domain)),
                self.launch_plans.execution_settings(domain),
                sorted(e.id.name for e in self.client.list_executions_paginated(self.project, domain, limit=100)[0]),
            )
        return state


def _succeed(client: SynchronousFlyteClient, ref: ExecutionRef, greeting: str) -> None:
    execution = support.identifier_pb2.WorkflowExecutionIdentifier(
        project=ref.project, domain=ref.domain, name=ref.name
    )
    outputs = literals_pb2.LiteralMap(
        literals={
            "o0": literals_pb2.Literal(
                scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=greeting))
            )
        }
    )
    support.workflow_event(client, execution, support.WorkflowPhase.RUNNING)
    support.workflow_event(client, execution, support.WorkflowPhase.SUCCEEDED, output_data=outputs)


@pytest.fixture
def world(settings: FlyteSettings, package: EntityPackage) -> World:
    return World(settings, package)


def _promote(world: World, version: str, domain: str, claim: str | None = None, known: bool = True) -> Any:
    found = release(version) if known else None
    decision = check_promotion(world.config, found, version, domain, world.ports(version), claim=claim)
    if not isinstance(decision, Promote):
        return decision
    return apply_promotion(world.config, release(version), decision, world.ports(version))


def test_promotion_activates_the_release_and_rollback_restores_the_previous(world: World) -> None:
    for version in (V1, V2):
        world.register(version, "development")
        world.finish_validation(version, "development")
        world.finish_validation(version, "staging")  # what the promotion's validation will find and reuse
    first = _promote(world, V1, "staging")
    assert first.phase is Phase.SUCCEEDED, first
    assert world.active("staging") == {name: V1 for name in first.activated}
    assert "tinypkg.nightly" in first.activated
    settings = world.launch_plans.execution_settings("staging")
    assert settings is not None and settings.service_account == "tiny-staging" and settings.labels["team"] == "ml"
    second = _promote(world, V2, "staging")
    assert second.phase is Phase.SUCCEEDED and second.previous_version == V1
    assert set(world.active("staging").values()) == {V2}
    back = rollback(world.config, "staging", world.launch_plans, world.executions)
    assert (back.from_version, back.to_version) == (V2, V1)
    assert set(world.active("staging").values()) == {V1}
    # The development domain was never activated by any of this.
    assert world.active("development") == {}


def test_failed_validation_in_the_target_activates_nothing(world: World) -> None:
    world.register(V1, "development")
    world.finish_validation(V1, "development")
    world.finish_validation(V1, "staging", greeting="wrong")
    record = _promote(world, V1, "staging")
    assert record.phase is Phase.FAILED and 'o0 == "HELLO, HELLO, CI"' in record.reason
    assert world.active("staging") == {}
    refused = _promote(world, V1, "production")
    assert "did not pass validation in staging" in refused.reason


@pytest.mark.parametrize(
    ("version", "domain", "known", "message"),
    [
        (V1, "production", True, "skipping staging"),
        ("cccccccccccc", "staging", True, "skipping development: release cccccccccccc is not in development"),
        ("cccccccccccc", "staging", False, "unknown version 'cccccccccccc'"),
        (V1, "qa", True, "unknown domain"),
        (V1, "development", True, "promoting backwards: release aaaaaaaaaaaa already reached staging"),
    ],
)
def test_refusals_change_nothing(world: World, version: str, domain: str, known: bool, message: str) -> None:
    world.register(V1, "development")
    world.finish_validation(V1, "development")
    if domain == "development":  # going backwards needs the release further along first
        world.finish_validation(V1, "staging")
    before = world.snapshot()
    refused = _promote(world, version, domain, known=known)
    assert message in refused.reason
    assert world.snapshot() == before


def test_plan_changes_nothing_and_diff_shows_a_changed_setting(world: World) -> None:
    world.register(V1, "development")
    world.finish_validation(V1, "development")
    before = world.snapshot()
    source = read_domain_state(world.launch_plans, "tiny", "development")
    target = read_domain_state(world.launch_plans, "tiny", "staging")
    plan = plan_promotion(world.config, V1, "staging", source, target, "promote")
    assert "tinypkg.nightly" in plan.register and plan.validate == ["smoke"]
    assert world.snapshot() == before
    world.finish_validation(V1, "staging")
    assert _promote(world, V1, "staging").phase is Phase.SUCCEEDED
    entries = diff_domains(
        read_domain_state(world.launch_plans, "tiny", "development"),
        read_domain_state(world.launch_plans, "tiny", "staging"),
    )
    keys = {(entry.kind, entry.key): (entry.left, entry.right) for entry in entries}
    assert keys[("setting", "execution config: service_account")] == ("", "tiny-staging")
    assert keys[("version", "tinypkg.nightly")] == ("", V1)


def test_two_concurrent_promotions_into_one_domain_exactly_one_applies(world: World) -> None:
    for version in (V1, V2):
        world.register(version, "development")
        world.finish_validation(version, "development")
        world.finish_validation(version, "staging")
    meta = world.remotes.for_domain(world.project, "development")
    plan = meta.fetch_launch_plan(world.project, "development", promotion_stand_in.name, "m1")
    claims = {}
    for version in (V1, V2):
        execution = meta.execute(plan, inputs={"pipeline": "tiny", "version": version, "to_domain": "staging"})
        claims[version] = f"{world.project}/development/{execution.id.name}"
    results: dict[str, Any] = {}

    def run(version: str) -> None:
        results[version] = _promote(world, version, "staging", claim=claims[version])

    threads = [threading.Thread(target=run, args=(version,)) for version in (V1, V2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    applied = [v for v, r in results.items() if getattr(r, "phase", None) is Phase.SUCCEEDED]
    refused = [r for r in results.values() if not hasattr(r, "phase")]
    assert len(applied) == 1 and len(refused) == 1, results
    assert "another promotion into staging is running" in refused[0].reason
    assert set(world.active("staging").values()) == {applied[0]}


def test_cli_status_plan_and_diff_read_flyte_and_change_nothing(
    world: World, settings: FlyteSettings, tmp_path: Path
) -> None:
    world.register(V1, "development")
    world.finish_validation(V1, "development")
    world.finish_validation(V1, "staging")
    assert _promote(world, V1, "staging").phase is Phase.SUCCEEDED
    config_file = tmp_path / "taxiway.yaml"
    config_file.write_text(CONFIG.format(project=world.project))
    cli = click.Group("taxiway")
    attach_release_commands(cli)
    env = {"FLYTE_PLATFORM_URL": settings.endpoint, "FLYTE_PLATFORM_INSECURE": "True",
           "FLYTE_AWS_ENDPOINT": settings.s3_endpoint}  # fmt: skip
    common = ["--config", str(config_file), "--meta-project", world.project]
    before = world.snapshot()
    runner = CliRunner()
    status = runner.invoke(cli, ["status", *common], env=env)
    assert status.exit_code == 0, status.output
    assert f"staging      {V1}" in status.output and "validation=PASSED" in status.output
    plan = runner.invoke(cli, ["plan", V1, "--to", "production", *common], env=env)
    assert plan.exit_code == 0, plan.output
    assert "configure service_account: - -> tiny-prod" in plan.output
    assert f"activate tinypkg.nightly: - -> {V1}" in plan.output
    diff = runner.invoke(cli, ["diff", "staging", "production", *common], env=env)
    assert diff.exit_code == 0, diff.output
    assert "setting   execution config: service_account: staging=tiny-staging production=-" in diff.output
    assert world.snapshot() == before
    unknown = runner.invoke(cli, ["diff", "staging", "qa", *common], env=env)
    assert unknown.exit_code == 2 and "unknown domain 'qa'" in unknown.output
