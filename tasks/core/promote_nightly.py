"""The nightly choice: the newest release validated in one domain that the next domain does not have yet."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tasks.core.config import PipelineConfig
from tasks.core.promote import LaunchPlanPort
from tasks.core.promote_rollback import PR_VERSION, is_validated, release_versions
from tasks.core.validate import ExecutionPort

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NightlyChoice:
    """The version to promote (``""`` when there is none) and why."""

    version: str
    from_domain: str
    to_domain: str
    reason: str


def choose_nightly_version(
    config: PipelineConfig, to_domain: str, launch_plans: LaunchPlanPort, executions: ExecutionPort
) -> NightlyChoice:
    """The newest non-PR release validated in the domain before ``to_domain`` and not registered in ``to_domain``.

    Releases older than the newest one ``to_domain`` already has are not candidates: a nightly never
    promotes backwards in time.
    """
    previous = config.previous_domain(to_domain)
    if previous is None:
        return NightlyChoice("", "", to_domain, f"{to_domain} is the first domain: nothing is promoted into it")
    present = release_versions(launch_plans, config.pipeline, to_domain)
    for version in release_versions(launch_plans, config.pipeline, previous.name):
        if version in present:
            return NightlyChoice("", previous.name, to_domain, f"{to_domain} already has the newest release {version}")
        if PR_VERSION.match(version):
            continue
        if is_validated(config, version, previous.name, executions):
            return NightlyChoice(version, previous.name, to_domain, f"newest release validated in {previous.name}")
        logger.info("nightly skips version=%s domain=%s: not validated", version, previous.name)
    return NightlyChoice(
        "", previous.name, to_domain, f"no release validated in {previous.name} is missing in {to_domain}"
    )
