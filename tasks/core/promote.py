"""Promotion: move one release into the next domain, validate it there, and only then activate it.

Steps (each idempotent, so a retried task is harmless):

1. gather the facts from Flyte and decide (:func:`tasks.core.promote_decide.decide_promotion`):
   a refusal changes nothing;
2. (meta-workflow) wait for approval when the domain ``requires_approval``;
3. register the *same* package and version into the target domain with its settings;
4. write the domain's ``WORKFLOW_EXECUTION_CONFIG`` matchable attribute for the project;
5. validate there (:func:`tasks.core.validate.run_validation`);
6. only if the validation passed: activate the release's launch plans (FlyteAdmin deactivates the
   previous versions) and deactivate the pipeline's launch plans the release no longer has.

On any failure before or during step 6 the previously active release stays (or is made) active again.
Rollback re-activates an earlier validated release: :mod:`tasks.core.promote_rollback`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from tasks.core.config import PipelineConfig
from tasks.core.config_models import DomainSpec
from tasks.core.errors import PromotionRefused, SourceNotFound
from tasks.core.promote_admin import ExecutionSettings, LaunchPlanInfo
from tasks.core.promote_decide import Decision, Promote, PromotionExecution, PromotionFacts, decide_promotion
from tasks.core.records import DomainRegistration, Release
from tasks.core.validate import ExecutionPort, ValidationReport, ValidationRequest, inspect_validation, run_validation
from tasks.core.vocabulary import Event, Phase

logger = logging.getLogger(__name__)


class LaunchPlanPort(Protocol):
    """Launch plans and execution settings of the pipeline's project (``promote_admin.FlyteLaunchPlans``)."""

    def registered(self, domain: str, version: str = "") -> list[LaunchPlanInfo]: ...

    def active(self, domain: str) -> list[LaunchPlanInfo]: ...

    def set_active(self, domain: str, name: str, version: str, active: bool = True) -> None: ...

    def execution_settings(self, domain: str) -> ExecutionSettings | None: ...

    def set_execution_settings(self, domain: str, settings: ExecutionSettings) -> None: ...


class LockPort(Protocol):
    """Unfinished promotion executions of a pipeline into a domain (``promote_lock.FlytePromotions``)."""

    def running(self, pipeline: str, domain: str) -> list[PromotionExecution]: ...


@dataclass(frozen=True)
class PromotionPorts:
    """Everything a promotion talks to, passed in so tests use real or in-memory parts.

    :param executions: validation executions, per domain.
    :param launch_plans: launch plans and matchable attributes of the project.
    :param lock: running promotions (the lock).
    :param register: registers the release's package into a domain (``tasks.core.register.register_package``).
    :param package_present: whether the package URI still exists in the blob store.
    """

    executions: ExecutionPort
    launch_plans: LaunchPlanPort
    lock: LockPort
    register: Callable[[DomainSpec], DomainRegistration]
    package_present: Callable[[str], bool]


@dataclass(frozen=True)
class ApprovalVote:
    """One recorded approval decision (``tasks.core.governance_policy.ApprovalDecision`` as a record)."""

    person: str
    identity: str
    verdict: str
    at: str
    comment: str = ""


@dataclass(frozen=True)
class Approval:
    """Who approved a promotion into a ``requires_approval`` domain, and when (ISO 8601), with every decision."""

    approved_by: str
    approved_at: str
    decisions: list[ApprovalVote] = field(default_factory=list)


@dataclass(frozen=True)
class PromotionRecord:
    """What a promotion did (a record; the policy is taxiway.yaml)."""

    pipeline: str
    project: str
    version: str
    from_domain: str
    to_domain: str
    phase: Phase
    reason: str = ""
    override_reason: str = ""
    previous_version: str = ""
    registration: DomainRegistration | None = None
    validation: ValidationReport | None = None
    activated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    approved_by: str = ""
    approved_at: str = ""
    approvals: list[ApprovalVote] = field(default_factory=list)
    execution: str = ""
    started_at: str = ""
    finished_at: str = ""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def pipeline_plans(plans: list[LaunchPlanInfo], pipeline: str) -> list[LaunchPlanInfo]:
    """The launch plans Taxiway registered for ``pipeline`` (by their ``taxiway.dev/pipeline`` label)."""
    return [plan for plan in plans if plan.pipeline == pipeline]


def active_version(plans: list[LaunchPlanInfo]) -> str:
    """The release version the active launch plans belong to ("" when none; the newest when mixed)."""
    active = [plan for plan in plans if plan.active]
    return max(active, key=lambda plan: plan.created_at).version if active else ""


def validation_request(config: PipelineConfig, version: str, domain: str) -> ValidationRequest:
    """The validation of ``version`` in ``domain`` with taxiway.yaml's cases for that domain."""
    return ValidationRequest(config.pipeline, config.project, version, domain, config.validations_in(domain))


def gather_facts(
    config: PipelineConfig, release: Release | None, version: str, to_domain: str, ports: PromotionPorts,
    claim: str | None = None,
) -> PromotionFacts:  # fmt: skip
    """Read what :func:`decide_promotion` needs from Flyte (and the blob store); writes nothing."""
    if to_domain not in config.domain_names or release is None:
        return PromotionFacts(version, release_known=release is not None, claim=claim)
    registered = frozenset(
        domain
        for domain in config.domain_names
        if pipeline_plans(ports.launch_plans.registered(domain, version), config.pipeline)
    )
    previous = config.previous_domain(to_domain)
    report = None
    if previous is not None and previous.name in registered:
        report = inspect_validation(validation_request(config, version, previous.name), ports.executions)
    return PromotionFacts(
        version=version,
        release_known=True,
        is_pr=release.is_pr,
        package_present=ports.package_present(release.package.uri),
        registered_in=registered,
        previous_validation=report,
        running=tuple(ports.lock.running(config.pipeline, to_domain)),
        claim=claim,
    )


def check_promotion(
    config: PipelineConfig, release: Release | None, version: str, to_domain: str, ports: PromotionPorts,
    override_reason: str = "", claim: str | None = None,
) -> Decision:  # fmt: skip
    """Gather the facts and decide; logs a refusal as ``PromotionRefused``."""
    facts = gather_facts(config, release, version, to_domain, ports, claim)
    decision = decide_promotion(config, to_domain, facts, override_reason)
    if not isinstance(decision, Promote):
        logger.warning(
            "%s pipeline=%s version=%s domain=%s reason=%s",
            Event.PROMOTION_REFUSED, config.pipeline, version, to_domain, decision,
        )  # fmt: skip
    return decision


def apply_promotion(
    config: PipelineConfig, release: Release, decision: Promote, ports: PromotionPorts,
    approval: Approval | None = None, execution: str = "",
) -> PromotionRecord:  # fmt: skip
    """Steps 3-6 for a decided promotion; returns the record (FAILED when validation failed).

    :raises PromotionRefused: if the domain requires approval and none is given, or for a PR release.
    """
    to_domain = decision.to_domain
    if decision.requires_approval and approval is None:
        raise PromotionRefused(f"promotion into {to_domain} requires approval and was not approved",
                               where=f"{config.pipeline} {release.version}")  # fmt: skip
    if release.is_pr:
        raise PromotionRefused("PR releases are never activated", where=release.version)
    started_at = now_iso()
    target = config.domain(to_domain)
    before = pipeline_plans(ports.launch_plans.active(to_domain), config.pipeline)
    logger.info("%s pipeline=%s version=%s from=%s to=%s previous=%s", Event.PROMOTION_STARTED, config.pipeline,
                release.version, decision.from_domain, to_domain, active_version(before))  # fmt: skip
    registration = ports.register(target)
    ports.launch_plans.set_execution_settings(to_domain, ExecutionSettings.for_domain(target, config.pipeline))
    report = run_validation(validation_request(config, release.version, to_domain), ports.executions)
    record = PromotionRecord(
        config.pipeline, config.project, release.version, decision.from_domain, to_domain, Phase.FAILED,
        override_reason=decision.override_reason, previous_version=active_version(before),
        registration=registration, validation=report, approved_by=approval.approved_by if approval else "",
        approved_at=approval.approved_at if approval else "", approvals=list(approval.decisions) if approval else [],
        execution=execution, started_at=started_at,
    )  # fmt: skip
    if not report.passed:
        reason = f"validation failed in {to_domain}: {'; '.join(report.failures())}"
        logger.warning("%s pipeline=%s version=%s domain=%s reason=%s", Event.PROMOTION_FAILED,
                       config.pipeline, release.version, to_domain, reason)  # fmt: skip
        return replace(record, reason=reason, finished_at=now_iso())
    activated, deactivated = activate_release(ports.launch_plans, config.pipeline, to_domain, release.version)
    logger.info("%s pipeline=%s version=%s domain=%s activated=%s deactivated=%s", Event.PROMOTION_SUCCEEDED,
                config.pipeline, release.version, to_domain, activated, deactivated)  # fmt: skip
    return replace(record, phase=Phase.SUCCEEDED, activated=activated, deactivated=deactivated, finished_at=now_iso())


def activate_release(
    launch_plans: LaunchPlanPort, pipeline: str, domain: str, version: str
) -> tuple[list[str], list[str]]:
    """Make ``version``'s launch plans the active ones of ``pipeline`` in ``domain``.

    Activating a version deactivates the previous version of the same name (FlyteAdmin); the
    pipeline's launch plans that ``version`` no longer has are deactivated here. If any call fails,
    the launch plans active before are re-activated and the error is raised.

    :returns: the activated launch-plan names and the ``name@version`` entries that stopped being active.
    :raises SourceNotFound: if ``version`` has no launch plan of the pipeline in ``domain``.
    """
    new = pipeline_plans(launch_plans.registered(domain, version), pipeline)
    if not new:
        raise SourceNotFound(
            f"release {version} of {pipeline} has no launch plan registered in {domain}",
            where=domain, fix="register the release into the domain first (promotion does it)",
        )  # fmt: skip
    before = pipeline_plans(launch_plans.active(domain), pipeline)
    names = {plan.name for plan in new}
    stale = [plan for plan in before if plan.name not in names]
    try:
        for plan in sorted(new, key=lambda item: item.name):
            launch_plans.set_active(domain, plan.name, version)
        for plan in stale:
            launch_plans.set_active(domain, plan.name, plan.version, active=False)
    except Exception:
        logger.exception("activation failed; restoring the previous release domain=%s version=%s", domain, version)
        _restore(launch_plans, domain, before, names)
        raise
    activated = sorted(names)
    deactivated = sorted(f"{plan.name}@{plan.version}" for plan in before if plan.version != version)
    logger.info("%s pipeline=%s domain=%s version=%s", Event.LAUNCH_PLANS_ACTIVATED, pipeline, domain, version)
    return activated, deactivated


def _restore(launch_plans: LaunchPlanPort, domain: str, before: list[LaunchPlanInfo], names: set[str]) -> None:
    previous = {plan.name for plan in before}
    for plan in before:
        launch_plans.set_active(domain, plan.name, plan.version)
    current = {plan.name: plan for plan in launch_plans.active(domain)}
    for name in names - previous:
        if name in current:
            launch_plans.set_active(domain, name, current[name].version, active=False)
