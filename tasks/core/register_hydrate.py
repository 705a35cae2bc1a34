"""Hydrate a package for one (project, domain, version): pure functions over copies of the protos.

What changes per domain, and nothing else:

- every identifier left blank (or a ``{{ registration.* }}`` placeholder) gets the project, domain and
  version, as ``pyflyte register`` / ``flytectl register files`` do (flytekit ``clis/helpers.py``
  ``hydrate_registration_parameters``);
- task args ``{{ .remote_package_path }}`` / ``{{ .dest_dir }}`` become the code bundle uploaded into
  that domain's storage and the directory it is extracted to;
- launch plans (only they) get the domain's settings: raw output data prefix, service account / IAM
  role, labels and annotations, plus Taxiway's ``taxiway.dev/*`` labels. Like flytekit's registration
  ``Options``, the domain's settings win over values written in the launch plan, key by key.

Tasks and workflows therefore stay the package's bytes apart from their identity and bundle location.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2
from flytekit.configuration import DOMAIN_PLACEHOLDER, PROJECT_PLACEHOLDER, VERSION_PLACEHOLDER
from google.protobuf import struct_pb2

from tasks.core.config_models import DomainSpec
from tasks.core.register_package import InvalidPackage, PackagedLaunchPlan, PackagedTask, PackagedWorkflow
from tasks.core.vocabulary import MANAGED_BY_TAXIWAY, AnnotationKey, LabelKey

REMOTE_PACKAGE_PATH = re.compile(r"\{\{\s*\.remote_package_path\s*\}\}")
DEST_DIR = re.compile(r"\{\{\s*\.dest_dir\s*\}\}")


class ResourceKind(StrEnum):
    """The kinds of registered entity, named as FlyteAdmin's ``ResourceType``."""

    TASK = "TASK"
    WORKFLOW = "WORKFLOW"
    LAUNCH_PLAN = "LAUNCH_PLAN"


@dataclass(frozen=True)
class RegistrationTarget:
    """Where a package is hydrated for.

    :param project: the Flyte project.
    :param domain: the Flyte domain.
    :param version: the release version (``<sha12>`` or ``pr<N>-<sha12>``).
    :param code_bundle_uri: the code bundle's location in this domain's storage ("" for a non-fast package).
    :param destination_dir: where tasks extract the bundle (``{{ .dest_dir }}``).
    """

    project: str
    domain: str
    version: str
    code_bundle_uri: str = ""
    destination_dir: str = "."


@dataclass(frozen=True)
class LaunchPlanSettings:
    """A domain's launch-plan settings (from taxiway.yaml) plus Taxiway's own labels and annotations."""

    raw_data_prefix: str = ""
    service_account: str = ""
    iam_role: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_domain(
        cls, domain: DomainSpec, *, pipeline: str, version: str, git_sha: str, content_hash: str = ""
    ) -> LaunchPlanSettings:
        """The settings of ``domain`` with the ``taxiway.dev/*`` vocabulary labels of this release.

        :param domain: the domain's section of taxiway.yaml.
        :param pipeline: the pipeline name.
        :param version: the release version.
        :param git_sha: the release's commit.
        :param content_hash: the package's content hash, recorded as an annotation when given.
        """
        labels = {
            **domain.labels,
            LabelKey.PIPELINE.value: pipeline,
            LabelKey.RELEASE_VERSION.value: version,
            LabelKey.GIT_SHA.value: git_sha,
            LabelKey.DOMAIN.value: domain.name,
            LabelKey.MANAGED_BY.value: MANAGED_BY_TAXIWAY,
        }
        annotations = dict(domain.annotations)
        if content_hash:
            annotations[AnnotationKey.CONTENT_HASH.value] = content_hash
        return cls(
            raw_data_prefix=domain.raw_data_prefix,
            service_account=domain.service_account or "",
            iam_role=domain.iam_role or "",
            labels=labels,
            annotations=annotations,
        )


@dataclass(frozen=True)
class HydratedEntity:
    """One entity ready to register: its full identifier and the spec to send."""

    kind: ResourceKind
    identifier: identifier_pb2.Identifier
    spec: task_pb2.TaskSpec | workflow_pb2.WorkflowSpec | launch_plan_pb2.LaunchPlanSpec
    source_file: str

    @property
    def name(self) -> str:
        return self.identifier.name

    @property
    def label(self) -> str:
        """``task training.train.fit`` etc., for messages."""
        return f"{self.kind.value.lower().replace('_', ' ')} {self.identifier.name}"


def fill_identifier(identifier: identifier_pb2.Identifier, target: RegistrationTarget) -> None:
    """Fill the blank or placeholder project, domain and version of a (reference) identifier in place."""
    if not identifier.project or identifier.project == PROJECT_PLACEHOLDER:
        identifier.project = target.project
    if not identifier.domain or identifier.domain == DOMAIN_PLACEHOLDER:
        identifier.domain = target.domain
    if not identifier.version or identifier.version == VERSION_PLACEHOLDER:
        identifier.version = target.version


def _own_identifier(
    identifier: identifier_pb2.Identifier, kind: ResourceKind, target: RegistrationTarget
) -> identifier_pb2.Identifier:
    # An entity of the package is always registered under the target, whatever it was serialized with.
    identifier.resource_type = identifier_pb2.ResourceType.Value(kind.value)
    identifier.project, identifier.domain, identifier.version = target.project, target.domain, target.version
    return identifier


def hydrate_task(packaged: PackagedTask, target: RegistrationTarget) -> HydratedEntity:
    """The task for ``target``: identity filled, code bundle placeholders replaced."""
    spec = task_pb2.TaskSpec()
    spec.CopyFrom(packaged.spec)
    template = spec.template
    _own_identifier(template.id, ResourceKind.TASK, target)
    if template.HasField("container"):
        args = template.container.args
        for index, arg in enumerate(list(args)):
            args[index] = _replace(arg, packaged, target)
    if template.HasField("k8s_pod"):
        for container in _pod_containers(template.k8s_pod.pod_spec):
            args = container.fields.get("args")
            if args is not None and args.HasField("list_value"):
                for value in args.list_value.values:
                    if value.HasField("string_value"):
                        value.string_value = _replace(value.string_value, packaged, target)
    return HydratedEntity(ResourceKind.TASK, _copy(template.id), spec, packaged.file)


def _pod_containers(pod_spec: struct_pb2.Struct) -> Iterator[struct_pb2.Struct]:
    for key in ("containers", "initContainers"):
        value = pod_spec.fields.get(key)
        if value is not None and value.HasField("list_value"):
            for item in value.list_value.values:
                if item.HasField("struct_value"):
                    yield item.struct_value


def _replace(arg: str, packaged: PackagedTask, target: RegistrationTarget) -> str:
    if REMOTE_PACKAGE_PATH.search(arg):
        if not target.code_bundle_uri:
            raise InvalidPackage(
                f"task {packaged.name} is fast-registered ({{{{ .remote_package_path }}}} in its args) "
                "but the package has no code bundle (fast*.tar.gz)",
                where=packaged.file,
            )
        arg = REMOTE_PACKAGE_PATH.sub(lambda _: target.code_bundle_uri, arg)
    return DEST_DIR.sub(lambda _: target.destination_dir, arg)


def hydrate_workflow(packaged: PackagedWorkflow, target: RegistrationTarget) -> HydratedEntity:
    """The workflow for ``target``: its identity, its sub-workflows' and every node reference filled."""
    spec = workflow_pb2.WorkflowSpec()
    spec.CopyFrom(packaged.spec)
    _own_identifier(spec.template.id, ResourceKind.WORKFLOW, target)
    _fill_template(spec.template, target)
    for sub_workflow in spec.sub_workflows:
        fill_identifier(sub_workflow.id, target)
        _fill_template(sub_workflow, target)
    return HydratedEntity(ResourceKind.WORKFLOW, _copy(spec.template.id), spec, packaged.file)


def _fill_template(template: core_workflow_pb2.WorkflowTemplate, target: RegistrationTarget) -> None:
    for node in workflow_nodes(template):
        for reference in node_references(node):
            fill_identifier(reference, target)


def workflow_nodes(template: core_workflow_pb2.WorkflowTemplate) -> Iterator[core_workflow_pb2.Node]:
    """Every node of a template, nested ones (branches, array nodes) and the failure node included."""
    stack = list(template.nodes)
    if template.HasField("failure_node"):
        stack.append(template.failure_node)
    while stack:
        node = stack.pop(0)
        yield node
        target = node.WhichOneof("target")
        if target == "branch_node":
            if_else = node.branch_node.if_else
            stack.append(if_else.case.then_node)
            stack.extend(case.then_node for case in if_else.other)
            if if_else.HasField("else_node"):
                stack.append(if_else.else_node)
        elif target == "array_node":
            stack.append(node.array_node.node)


def node_references(node: core_workflow_pb2.Node) -> list[identifier_pb2.Identifier]:
    """The identifiers a node points at (task, launch plan or sub-workflow), as mutable sub-messages."""
    target = node.WhichOneof("target")
    if target == "task_node" and node.task_node.HasField("reference_id"):
        return [node.task_node.reference_id]
    if target == "workflow_node":
        reference = node.workflow_node.WhichOneof("reference")
        if reference == "launchplan_ref":
            return [node.workflow_node.launchplan_ref]
        if reference == "sub_workflow_ref":
            return [node.workflow_node.sub_workflow_ref]
    return []


def hydrate_launch_plan(
    packaged: PackagedLaunchPlan, target: RegistrationTarget, settings: LaunchPlanSettings
) -> HydratedEntity:
    """The launch plan for ``target`` with the domain's settings applied."""
    plan = launch_plan_pb2.LaunchPlan()
    plan.CopyFrom(packaged.launch_plan)
    _own_identifier(plan.id, ResourceKind.LAUNCH_PLAN, target)
    spec = plan.spec
    fill_identifier(spec.workflow_id, target)
    if settings.raw_data_prefix:
        spec.raw_output_data_config.output_location_prefix = settings.raw_data_prefix
    if settings.service_account:
        spec.security_context.run_as.k8s_service_account = settings.service_account
    if settings.iam_role:
        spec.security_context.run_as.iam_role = settings.iam_role
    for key, value in settings.labels.items():
        spec.labels.values[key] = value
    for key, value in settings.annotations.items():
        spec.annotations.values[key] = value
    return HydratedEntity(ResourceKind.LAUNCH_PLAN, _copy(plan.id), spec, packaged.file)


def _copy(identifier: identifier_pb2.Identifier) -> identifier_pb2.Identifier:
    result = identifier_pb2.Identifier()
    result.CopyFrom(identifier)
    return result
