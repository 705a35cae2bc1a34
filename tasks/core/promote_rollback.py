"""Rollback: re-activate an earlier validated release's launch plans in one domain.

The candidates are the pipeline's release versions registered in the domain, newest first (by their
launch plans' creation time, as FlyteAdmin lists them). Without ``to_version`` the newest release
older than the active one that passed validation in that domain is chosen; PR releases never are.
Given the promotion lock, a rollback is refused while a promotion into the domain is running: the
promotion would otherwise activate its release over the rollback once its validation finishes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from tasks.core.config import PipelineConfig
from tasks.core.errors import PromotionRefused
from tasks.core.promote import (
    LaunchPlanPort,
    LockPort,
    activate_release,
    active_version,
    pipeline_plans,
    validation_request,
)
from tasks.core.validate import ExecutionPort, inspect_validation
from tasks.core.vocabulary import Event, Phase

logger = logging.getLogger(__name__)

PR_VERSION = re.compile(r"^pr[0-9]+-")


@dataclass(frozen=True)
class RollbackRecord:
    """What a rollback did."""

    pipeline: str
    domain: str
    from_version: str
    to_version: str
    phase: Phase
    activated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    reason: str = ""


def release_versions(launch_plans: LaunchPlanPort, pipeline: str, domain: str) -> list[str]:
    """The pipeline's versions registered in ``domain``, newest first."""
    versions: list[str] = []
    for plan in sorted(pipeline_plans(launch_plans.registered(domain), pipeline), key=lambda p: p.created_at,
                       reverse=True):  # fmt: skip
        if plan.version not in versions:
            versions.append(plan.version)
    return versions


def is_validated(config: PipelineConfig, version: str, domain: str, executions: ExecutionPort) -> bool:
    """Whether ``version`` passed validation in ``domain`` (read back from its validation executions)."""
    report = inspect_validation(validation_request(config, version, domain), executions)
    return report is not None and report.passed


def choose_rollback_version(
    config: PipelineConfig, domain: str, to_version: str, launch_plans: LaunchPlanPort, executions: ExecutionPort
) -> tuple[str, str]:
    """``(current, target)`` versions of a rollback in ``domain``.

    :raises PromotionRefused: unknown domain or version, a PR or unvalidated version, or nothing to roll back to.
    """
    config.domain(domain)
    where = f"{config.pipeline} in {domain}"
    current = active_version(pipeline_plans(launch_plans.active(domain), config.pipeline))
    versions = release_versions(launch_plans, config.pipeline, domain)
    if to_version:
        if to_version not in versions:
            raise PromotionRefused(f"unknown version {to_version!r}: it is not registered in {domain}", where=where,
                                   fix=f"pick one of {', '.join(versions) or '(none)'}")  # fmt: skip
        if PR_VERSION.match(to_version):
            raise PromotionRefused(f"{to_version} is a PR release and is never activated", where=where)
        if not is_validated(config, to_version, domain, executions):
            raise PromotionRefused(f"release {to_version} did not pass validation in {domain}", where=where,
                                   fix="roll back to a release that passed validation there")  # fmt: skip
        return current, to_version
    older = versions[versions.index(current) + 1 :] if current in versions else versions
    for version in older:
        if not PR_VERSION.match(version) and is_validated(config, version, domain, executions):
            return current, version
    raise PromotionRefused(f"no earlier validated release to roll back to (active: {current or 'none'})",
                           where=where, fix="promote a release instead")  # fmt: skip


def rollback(
    config: PipelineConfig, domain: str, launch_plans: LaunchPlanPort, executions: ExecutionPort, to_version: str = "",
    lock: LockPort | None = None,
) -> RollbackRecord:  # fmt: skip
    """Re-activate the previous (or ``to_version``'s) validated release's launch plans in ``domain``.

    :param lock: the running promotions; when given, a promotion into ``domain`` that is running refuses the rollback.
    :raises PromotionRefused: see :func:`choose_rollback_version`; or a promotion into ``domain`` is running.
    """
    running = sorted(lock.running(config.pipeline, domain), key=lambda item: item.order) if lock else []
    if running:
        holder = running[0]
        raise PromotionRefused(
            f"another promotion into {domain} is running: {holder.execution} (version {holder.version}); "
            "a rollback would be overwritten when it activates", where=f"{config.pipeline} in {domain}",
            fix="wait for it to finish (or abort it), then roll back",
        )  # fmt: skip
    current, target = choose_rollback_version(config, domain, to_version, launch_plans, executions)
    activated, deactivated = activate_release(launch_plans, config.pipeline, domain, target)
    logger.info("%s pipeline=%s domain=%s from=%s to=%s", Event.ROLLBACK_SUCCEEDED, config.pipeline, domain,
                current, target)  # fmt: skip
    return RollbackRecord(config.pipeline, domain, current, target, Phase.SUCCEEDED, activated, deactivated)
