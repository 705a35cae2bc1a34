"""Hydration of a real ``pyflyte package --fast`` output: placeholders, domain settings, ordering.

Tasks and workflows must be the package's bytes apart from their identity and code-bundle location;
only launch plans carry a domain's settings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2

from tasks.core.config_models import DomainSpec
from tasks.core.register_hydrate import (
    HydratedEntity,
    LaunchPlanSettings,
    RegistrationTarget,
    ResourceKind,
    hydrate_task,
    node_references,
    workflow_nodes,
)
from tasks.core.register_package import EntityPackage, InvalidPackage, load_package
from tasks.core.register_plan import RegistrationPlan, plan_registration
from tests.unit.core.test_register_package import PACKAGE_IMAGE, tiny_package  # noqa: F401 (fixture)

pytestmark = pytest.mark.unit

VERSION = "pr7-0123456789ab"
SHA = "0123456789ab" + "c" * 28
DEV = DomainSpec(
    name="development",
    raw_data_prefix="s3://taxiway-data/development/raw",
    service_account="tiny-development",
    labels={"team": "ml", "environment": "development"},
    annotations={"example.com/owner": "ml@example.com"},
)
PROD = DomainSpec(
    name="production",
    raw_data_prefix="s3://taxiway-data/production/raw",
    service_account="tiny-production",
    iam_role="arn:aws:iam::123456789012:role/tiny-production",
    labels={"team": "ml", "environment": "production"},
)


def bundle_uri(domain: str) -> str:
    return f"s3://taxiway-data/uploads/tiny/{domain}/ABCDEF/fast0123.tar.gz"


def plan_for(package: EntityPackage, domain: DomainSpec, project: str = "tiny") -> RegistrationPlan:
    target = RegistrationTarget(project, domain.name, VERSION, bundle_uri(domain.name), "/root")
    settings = LaunchPlanSettings.for_domain(domain, pipeline="tiny", version=VERSION, git_sha=SHA, content_hash="h1")
    return plan_registration(package, target, settings)


@pytest.fixture
def package(tiny_package: Path, tmp_path: Path) -> EntityPackage:  # noqa: F811
    return load_package(tiny_package, tmp_path)


def _by_name(plan: RegistrationPlan, kind: ResourceKind) -> dict[str, HydratedEntity]:
    return {entity.name: entity for entity in plan.entities if entity.kind is kind}


def _dehydrated(entity: HydratedEntity) -> bytes:
    """The entity with its identity blanked and its bundle location put back to the placeholder."""
    spec = type(entity.spec)()
    spec.CopyFrom(entity.spec)
    identifiers: list[identifier_pb2.Identifier] = []
    if isinstance(spec, task_pb2.TaskSpec):
        identifiers.append(spec.template.id)
        args = spec.template.container.args
        for index, arg in enumerate(list(args)):
            if arg.startswith("s3://taxiway-data/uploads/"):
                args[index] = "{{ .remote_package_path }}"
    elif isinstance(spec, workflow_pb2.WorkflowSpec):
        for template in (spec.template, *spec.sub_workflows):
            identifiers.append(template.id)
            for node in workflow_nodes(template):
                identifiers.extend(node_references(node))
    for identifier in identifiers:
        identifier.project = identifier.domain = identifier.version = ""
    return spec.SerializeToString(deterministic=True)


def test_every_identity_is_filled_with_project_domain_and_version(package: EntityPackage) -> None:
    plan = plan_for(package, DEV)
    for entity in plan.entities:
        ident = entity.identifier
        assert (ident.project, ident.domain, ident.version) == ("tiny", "development", VERSION), entity.label
        assert ident.resource_type == identifier_pb2.ResourceType.Value(entity.kind.value)
    hello = _by_name(plan, ResourceKind.WORKFLOW)["tinypkg.flows.hello"].spec
    assert isinstance(hello, workflow_pb2.WorkflowSpec)
    references = [
        ref for tpl in (hello.template, *hello.sub_workflows) for n in workflow_nodes(tpl) for ref in node_references(n)
    ]
    assert {ref.name for ref in references} >= {"tinypkg.flows.greet", "tinypkg.polite_lp", "tinypkg.flows.polite"}
    assert all((ref.project, ref.domain, ref.version) == ("tiny", "development", VERSION) for ref in references)
    lp = _by_name(plan, ResourceKind.LAUNCH_PLAN)["tinypkg.nightly"].spec
    assert isinstance(lp, launch_plan_pb2.LaunchPlanSpec)
    assert (lp.workflow_id.project, lp.workflow_id.domain, lp.workflow_id.version) == ("tiny", "development", VERSION)


def test_task_args_get_the_domain_bundle_and_destination(package: EntityPackage) -> None:
    for domain in (DEV, PROD):
        plan = plan_for(package, domain)
        for entity in plan.tasks:
            assert isinstance(entity.spec, task_pb2.TaskSpec)
            args = list(entity.spec.template.container.args)
            assert args[:5] == [
                "pyflyte-fast-execute",
                "--additional-distribution",
                bundle_uri(domain.name),
                "--dest-dir",
                "/root",
            ]
            assert not any("{{ .remote_package_path }}" in arg for arg in args)
            assert entity.spec.template.container.image == PACKAGE_IMAGE


def test_launch_plans_get_the_domain_settings_and_taxiway_labels(package: EntityPackage) -> None:
    for domain in (DEV, PROD):
        for entity in _by_name(plan_for(package, domain), ResourceKind.LAUNCH_PLAN).values():
            spec = entity.spec
            assert isinstance(spec, launch_plan_pb2.LaunchPlanSpec)
            assert spec.raw_output_data_config.output_location_prefix == domain.raw_data_prefix
            assert spec.security_context.run_as.k8s_service_account == domain.service_account
            assert spec.security_context.run_as.iam_role == (domain.iam_role or "")
            assert dict(spec.labels.values) == {
                **domain.labels,
                "taxiway.dev/pipeline": "tiny",
                "taxiway.dev/release-version": VERSION,
                "taxiway.dev/git-sha": SHA,
                "taxiway.dev/domain": domain.name,
                "app.kubernetes.io/managed-by": "taxiway",
            }
            assert dict(spec.annotations.values) == {**domain.annotations, "taxiway.dev/content-hash": "h1"}
    # The schedule and the authored default inputs survive hydration.
    nightly = _by_name(plan_for(package, PROD), ResourceKind.LAUNCH_PLAN)["tinypkg.nightly"].spec
    assert isinstance(nightly, launch_plan_pb2.LaunchPlanSpec)
    assert nightly.entity_metadata.schedule.cron_schedule.schedule == "@daily"
    assert nightly.default_inputs.parameters["name"].default.scalar.primitive.string_value == "night"


def test_tasks_and_workflows_are_the_package_bytes_in_every_domain(package: EntityPackage) -> None:
    originals = {task.name: task.spec.SerializeToString(deterministic=True) for task in package.tasks}
    originals |= {wf.name: wf.spec.SerializeToString(deterministic=True) for wf in package.workflows}
    for domain in (DEV, PROD):
        plan = plan_for(package, domain)
        for entity in plan.entities:
            if entity.kind is not ResourceKind.LAUNCH_PLAN:
                assert _dehydrated(entity) == originals[entity.name], f"{entity.label} in {domain.name}"


def test_launch_plans_differ_across_domains_only_in_settings(package: EntityPackage) -> None:
    dev = _by_name(plan_for(package, DEV), ResourceKind.LAUNCH_PLAN)
    prod = _by_name(plan_for(package, PROD), ResourceKind.LAUNCH_PLAN)
    for name, entity in dev.items():
        left, right = launch_plan_pb2.LaunchPlanSpec(), launch_plan_pb2.LaunchPlanSpec()
        left.CopyFrom(entity.spec)
        right.CopyFrom(prod[name].spec)
        assert left != right
        for spec in (left, right):
            spec.workflow_id.domain = ""
            for field in ("raw_output_data_config", "security_context", "labels", "annotations"):
                spec.ClearField(field)
        assert left.SerializeToString(deterministic=True) == right.SerializeToString(deterministic=True), name


def test_hydration_never_changes_the_package(package: EntityPackage) -> None:
    before = [task.spec.SerializeToString(deterministic=True) for task in package.tasks]
    plan_for(package, DEV)
    plan_for(package, PROD)
    assert [task.spec.SerializeToString(deterministic=True) for task in package.tasks] == before


def test_order_tasks_then_workflows_then_launch_plans_with_called_plans_first(package: EntityPackage) -> None:
    plan = plan_for(package, DEV)
    assert [entity.kind for entity in plan.tasks] == [ResourceKind.TASK, ResourceKind.TASK]
    order = [(entity.kind.value, entity.name) for entity in plan.ordered]
    position = {item: index for index, item in enumerate(order)}
    # hello calls the launch plan polite_lp, which needs the workflow polite: polite, polite_lp, hello.
    assert position[("WORKFLOW", "tinypkg.flows.polite")] < position[("LAUNCH_PLAN", "tinypkg.polite_lp")]
    assert position[("LAUNCH_PLAN", "tinypkg.polite_lp")] < position[("WORKFLOW", "tinypkg.flows.hello")]
    assert position[("WORKFLOW", "tinypkg.flows.hello")] < position[("LAUNCH_PLAN", "tinypkg.nightly")]
    # Apart from that, workflows come before launch plans.
    assert order[0] == ("WORKFLOW", "tinypkg.flows.polite")
    assert plan.external == ()


def test_a_task_outside_the_package_is_an_external_reference(package: EntityPackage) -> None:
    trimmed = EntityPackage(package.tasks[1:], package.workflows, package.launch_plans, package.code_bundle)
    plan = plan_for(trimmed, DEV)
    assert [(ref.kind, ref.identifier.name, ref.needed_by) for ref in plan.external] == [
        (ResourceKind.TASK, "tinypkg.flows.greet", "workflow tinypkg.flows.polite")
    ]


def test_fast_task_without_a_bundle_location_is_invalid(package: EntityPackage) -> None:
    target = RegistrationTarget("tiny", "development", VERSION, code_bundle_uri="")
    with pytest.raises(InvalidPackage, match=r"greet is fast-registered .* has no code bundle"):
        hydrate_task(package.tasks[0], target)


def test_a_name_twice_is_invalid(package: EntityPackage) -> None:
    doubled = EntityPackage(package.tasks * 2, package.workflows, package.launch_plans, package.code_bundle)
    with pytest.raises(InvalidPackage, match=r"task tinypkg\.flows\.greet appears twice"):
        plan_for(doubled, DEV)


def test_waves_put_each_entity_after_everything_it_needs(package: EntityPackage) -> None:
    plan = plan_for(package, DEV)
    waves = plan.waves()
    assert waves[0] == plan.tasks
    assert sorted(entity.name for wave in waves for entity in wave) == sorted(entity.name for entity in plan.entities)
    wave_of = {(entity.kind.value, entity.name): index for index, wave in enumerate(waves) for entity in wave}
    # polite -> polite_lp -> hello -> its launch plans: four waves after the tasks.
    assert wave_of[("WORKFLOW", "tinypkg.flows.polite")] == 1
    assert wave_of[("LAUNCH_PLAN", "tinypkg.polite_lp")] == 2
    assert wave_of[("WORKFLOW", "tinypkg.flows.hello")] == 3
    assert wave_of[("LAUNCH_PLAN", "tinypkg.nightly")] == wave_of[("LAUNCH_PLAN", "tinypkg.flows.hello")] == 4
