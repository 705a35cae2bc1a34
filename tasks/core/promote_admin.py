"""What is live in a domain, read from and written to FlyteAdmin: launch plans and the domain's execution config.

Flyte is the system of record: a domain's active release is what its active launch plans' versions
say; its settings are its launch plans' settings and the project-domain ``WORKFLOW_EXECUTION_CONFIG``
matchable attribute. Activating one launch-plan version deactivates the previously active version of
that name (FlyteAdmin does it in the same transaction).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flyteidl.admin import (
    common_pb2,
    launch_plan_pb2,
    matchable_resource_pb2,
    project_domain_attributes_pb2,
    schedule_pb2,
)
from flyteidl.core import identifier_pb2
from flytekit.clients.raw import RawSynchronousFlyteClient
from flytekit.exceptions.user import FlyteEntityNotExistException

from tasks.core.config_models import DomainSpec
from tasks.core.promote_flyte import RemoteFactory, admin_errors
from tasks.core.register_concurrent import DEFAULT_MAX_WORKERS, call_each
from tasks.core.vocabulary import MANAGED_BY_TAXIWAY, LabelKey

logger = logging.getLogger(__name__)

_PAGE = 200
WORKFLOW_EXECUTION_CONFIG = matchable_resource_pb2.MatchableResource.WORKFLOW_EXECUTION_CONFIG


@dataclass(frozen=True)
class ExecutionSettings:
    """A domain's execution settings: on a launch plan, or as its project-domain matchable attribute."""

    raw_data_prefix: str = ""
    service_account: str = ""
    iam_role: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_domain(cls, domain: DomainSpec, pipeline: str) -> ExecutionSettings:
        """What taxiway.yaml says for ``domain``, with Taxiway's pipeline/domain labels (no version:
        the matchable attribute is per project-domain, not per release)."""
        labels = {
            **domain.labels,
            LabelKey.PIPELINE.value: pipeline,
            LabelKey.DOMAIN.value: domain.name,
            LabelKey.MANAGED_BY.value: MANAGED_BY_TAXIWAY,
        }
        return cls(
            domain.raw_data_prefix, domain.service_account or "", domain.iam_role or "", labels,
            dict(domain.annotations),
        )  # fmt: skip

    def to_proto(self) -> matchable_resource_pb2.WorkflowExecutionConfig:
        config = matchable_resource_pb2.WorkflowExecutionConfig()
        if self.raw_data_prefix:
            config.raw_output_data_config.output_location_prefix = self.raw_data_prefix
        if self.service_account:
            config.security_context.run_as.k8s_service_account = self.service_account
        if self.iam_role:
            config.security_context.run_as.iam_role = self.iam_role
        config.labels.values.update(self.labels)
        config.annotations.values.update(self.annotations)
        return config

    @classmethod
    def from_proto(cls, config: matchable_resource_pb2.WorkflowExecutionConfig) -> ExecutionSettings:
        run_as = config.security_context.run_as
        return cls(
            config.raw_output_data_config.output_location_prefix, run_as.k8s_service_account, run_as.iam_role,
            dict(config.labels.values), dict(config.annotations.values),
        )  # fmt: skip


@dataclass(frozen=True)
class LaunchPlanInfo:
    """One registered launch-plan version in a domain and the settings it carries."""

    name: str
    version: str
    active: bool
    schedule: str
    settings: ExecutionSettings
    created_at: str = ""

    @property
    def pipeline(self) -> str:
        return self.settings.labels.get(LabelKey.PIPELINE.value, "")

    @classmethod
    def from_proto(cls, plan: launch_plan_pb2.LaunchPlan) -> LaunchPlanInfo:
        spec = plan.spec
        run_as = spec.security_context.run_as
        settings = ExecutionSettings(
            spec.raw_output_data_config.output_location_prefix, run_as.k8s_service_account, run_as.iam_role,
            dict(spec.labels.values), dict(spec.annotations.values),
        )  # fmt: skip
        return cls(
            plan.id.name, plan.id.version, plan.closure.state == launch_plan_pb2.ACTIVE,
            _schedule(spec.entity_metadata.schedule), settings,
            plan.closure.created_at.ToJsonString() if plan.closure.HasField("created_at") else "",
        )  # fmt: skip


def _schedule(schedule: schedule_pb2.Schedule) -> str:
    kind = schedule.WhichOneof("ScheduleExpression")
    if kind == "cron_schedule":
        return schedule.cron_schedule.schedule
    if kind == "cron_expression":
        return schedule.cron_expression
    if kind == "rate":
        return f"every {schedule.rate.value} {schedule_pb2.FixedRateUnit.Name(schedule.rate.unit)}"
    return ""


class FlyteLaunchPlans:
    """Launch plans and execution settings of one project, across domains (one remote per domain).

    :param remote_for: ``domain -> FlyteRemote``.
    :param project: the pipeline's Flyte project.
    """

    def __init__(self, remote_for: RemoteFactory, project: str) -> None:
        self.remote_for = remote_for
        self.project = project

    def _client(self, domain: str) -> RawSynchronousFlyteClient:
        return self.remote_for(domain).client

    def registered(self, domain: str, version: str = "") -> list[LaunchPlanInfo]:
        """Every launch-plan version registered in ``domain`` (only ``version`` when given), newest first."""
        filters = f"eq(version,{version})" if version else ""
        plans: list[LaunchPlanInfo] = []
        token = ""
        while True:
            request = common_pb2.ResourceListRequest(
                id=common_pb2.NamedEntityIdentifier(project=self.project, domain=domain),
                limit=_PAGE, token=token, filters=filters,
                sort_by=common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING),
            )  # fmt: skip
            with admin_errors("ListLaunchPlans", f"{self.project}/{domain}"):
                page = RawSynchronousFlyteClient.list_launch_plans_paginated(self._client(domain), request)
            plans.extend(LaunchPlanInfo.from_proto(plan) for plan in page.launch_plans)
            token = page.token
            if not token:
                return plans

    def active(self, domain: str) -> list[LaunchPlanInfo]:
        """The active launch-plan versions in ``domain`` (at most one per name)."""
        plans: list[LaunchPlanInfo] = []
        token = ""
        while True:
            request = launch_plan_pb2.ActiveLaunchPlanListRequest(
                project=self.project, domain=domain, limit=_PAGE, token=token
            )
            with admin_errors("ListActiveLaunchPlans", f"{self.project}/{domain}"):
                page = RawSynchronousFlyteClient.list_active_launch_plans_paginated(self._client(domain), request)
            plans.extend(LaunchPlanInfo.from_proto(plan) for plan in page.launch_plans)
            token = page.token
            if not token:
                return sorted(plans, key=lambda plan: plan.name)

    def set_active(self, domain: str, name: str, version: str, active: bool = True) -> None:
        """Activate (FlyteAdmin deactivates the previous version of ``name``) or deactivate one version."""
        identifier = identifier_pb2.Identifier(
            resource_type=identifier_pb2.LAUNCH_PLAN, project=self.project, domain=domain, name=name, version=version
        )
        state = launch_plan_pb2.ACTIVE if active else launch_plan_pb2.INACTIVE
        request = launch_plan_pb2.LaunchPlanUpdateRequest(id=identifier, state=state)
        with admin_errors("UpdateLaunchPlan", f"{self.project}/{domain}"):
            RawSynchronousFlyteClient.update_launch_plan(self._client(domain), request)
        logger.info("launch plan %s domain=%s name=%s version=%s", "activated" if active else "deactivated",
                    domain, name, version)  # fmt: skip

    def set_states(
        self, domain: str, states: Sequence[tuple[str, str, bool]], max_workers: int = DEFAULT_MAX_WORKERS
    ) -> None:
        """:meth:`set_active` for several launch plans at once: ``(name, version, active)`` each.

        Every call is attempted; the error names every launch plan that failed. The names must be
        distinct: two versions of one name would race for the active slot.

        :raises ValueError: if a name appears twice.
        :raises AdminUnavailable: if FlyteAdmin kept failing (naming the launch plans).
        """
        names = [name for name, _, _ in states]
        if len(set(names)) != len(names):
            raise ValueError(f"set_states needs distinct launch-plan names, got {sorted(names)}")
        self._client(domain)  # the remote's client is created lazily: create it once, before the threads
        call_each(
            list(states),
            lambda state: self.set_active(domain, state[0], state[1], active=state[2]),
            lambda state: f"launch plan {state[0]}@{state[1]}",
            what="activation" if all(active for _, _, active in states) else "launch-plan update",
            max_workers=max_workers,
        )

    def execution_settings(self, domain: str) -> ExecutionSettings | None:
        """The project-domain ``WORKFLOW_EXECUTION_CONFIG``, or None when none is set."""
        request = project_domain_attributes_pb2.ProjectDomainAttributesGetRequest(
            project=self.project, domain=domain, resource_type=WORKFLOW_EXECUTION_CONFIG
        )
        try:
            with admin_errors("GetProjectDomainAttributes", f"{self.project}/{domain}"):
                found = RawSynchronousFlyteClient.get_project_domain_attributes(self._client(domain), request)
        except FlyteEntityNotExistException:
            return None
        matching = found.attributes.matching_attributes
        if not matching.HasField("workflow_execution_config"):
            return None
        return ExecutionSettings.from_proto(matching.workflow_execution_config)

    def set_execution_settings(self, domain: str, settings: ExecutionSettings) -> None:
        """Write the project-domain ``WORKFLOW_EXECUTION_CONFIG`` (create or replace: idempotent)."""
        attributes = project_domain_attributes_pb2.ProjectDomainAttributes(
            project=self.project,
            domain=domain,
            matching_attributes=matchable_resource_pb2.MatchingAttributes(
                workflow_execution_config=settings.to_proto()
            ),
        )
        request = project_domain_attributes_pb2.ProjectDomainAttributesUpdateRequest(attributes=attributes)
        with admin_errors("UpdateProjectDomainAttributes", f"{self.project}/{domain}"):
            RawSynchronousFlyteClient.update_project_domain_attributes(self._client(domain), request)
        logger.info("execution settings applied project=%s domain=%s", self.project, domain)
