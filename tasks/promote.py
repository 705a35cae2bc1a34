"""Flyte tasks that promote, approve, roll back and pick the nightly release (logic: ``tasks.core.promote*``)."""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flytekit
from flytekit import FlyteContextManager, dynamic, task, wait_for_input
from flytekit.exceptions.user import FlyteRecoverableException

from tasks.core.config_models import DomainSpec
from tasks.core.errors import PromotionRefused, TransientError
from tasks.core.flyte_clients import FlyteRemotes
from tasks.core.governance import Proceed, Trigger, decide_governance
from tasks.core.governance_requests import GATE_GRACE
from tasks.core.governance_state import FlyteGovernanceState, Hold, set_hold
from tasks.core.promote import Approval, ApprovalVote, PromotionPorts, PromotionRecord, apply_promotion, check_promotion
from tasks.core.promote_admin import FlyteLaunchPlans
from tasks.core.promote_decide import Promote
from tasks.core.promote_flyte import FlyteExecutions
from tasks.core.promote_lock import FlytePromotions
from tasks.core.promote_nightly import choose_nightly_version
from tasks.core.promote_releases import find_release
from tasks.core.promote_report import promotion_deck, promotion_run, rollback_deck, rollback_run
from tasks.core.promote_rollback import RollbackRecord, rollback
from tasks.core.records import DomainRegistration
from tasks.core.register import RegistrationRequest, register_package
from tasks.core.register_admin import FlyteAdminGateway
from tasks.core.register_package import load_package
from tasks.core.vocabulary import Phase
from tasks.notify import execution_link
from tasks.validate import ReleaseContext, meta_remote, remotes

logger = logging.getLogger(__name__)

#: The signal an approver sets: their name to approve, ``reject: <who>: <why>`` to reject.
APPROVAL_SIGNAL = "approval"


@dataclass(frozen=True)
class PromotionCheck:
    """A promotion the gate let through (a refusal fails the task with its reason instead)."""

    version: str
    from_domain: str
    to_domain: str
    requires_approval: bool
    approval_timeout_seconds: int
    override_reason: str = ""
    notes: list[str] = field(default_factory=list)


def _ports(context: ReleaseContext, all_remotes: FlyteRemotes) -> PromotionPorts:
    config, release = context.config(), context.release
    remote_for = lambda domain: all_remotes.for_domain(config.project, domain)  # noqa: E731

    def register(domain: DomainSpec) -> DomainRegistration:
        request = RegistrationRequest(config.pipeline, config.project, domain, release.version, release.git_sha,
                                      content_hash=release.package.content_hash)  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="taxiway-promote-") as workdir:
            archive = Path(workdir) / "flyte-package.tgz"
            FlyteContextManager.current_context().file_access.get_data(release.package.uri, str(archive))
            package = load_package(archive, Path(workdir) / "package")
            return register_package(package, request, FlyteAdminGateway(remote_for(domain.name)))

    def package_present(uri: str) -> bool:
        return bool(FlyteContextManager.current_context().file_access.exists(uri))

    lock = FlytePromotions(meta_remote(all_remotes))
    return PromotionPorts(FlyteExecutions(remote_for), FlyteLaunchPlans(remote_for, config.project), lock, register,
                          package_present)  # fmt: skip


def _governance(context: ReleaseContext) -> FlyteGovernanceState:
    config, all_remotes = context.config(), remotes()
    return FlyteGovernanceState(lambda domain: all_remotes.for_domain(config.project, domain), config.project,
                                config.pipeline)  # fmt: skip


def _claim() -> str:
    execution = flytekit.current_context().execution_id
    return f"{execution.project}/{execution.domain}/{execution.name}"


@task(retries=3, cache=False)
def check_promotion_gate(context: ReleaseContext, to_domain: str, override_reason: str = "") -> PromotionCheck:
    """Refuse (fail with the reason) unless the release may be promoted into ``to_domain`` now: known,
    not a PR, package present, validated in the previous domain, no skipping or going backwards without an
    override reason, and no other promotion into that domain running.

    :param context: the release and its taxiway.yaml.
    :param to_domain: the target domain.
    :param override_reason: recorded reason to allow skipping a domain or promoting backwards.
    """
    config, release = context.config(), context.release
    try:
        decision = check_promotion(config, release, release.version, to_domain, _ports(context, remotes()),
                                   override_reason, claim=_claim())  # fmt: skip
    except TransientError as err:
        raise FlyteRecoverableException(str(err)) from err
    if not isinstance(decision, Promote):
        raise PromotionRefused(decision.reason, where=f"{config.pipeline} {release.version}", fix=decision.fix)
    # Windows, freeze and hold (issue 13): checked when the promotion starts, never while it runs.
    governance = _governance(context)
    ruling = decide_governance(config.domain(to_domain).governance, governance.read(to_domain), datetime.now(UTC),
                               Trigger.MANUAL, to_domain, override_reason)  # fmt: skip
    if not isinstance(ruling, Proceed):
        raise PromotionRefused(ruling.reason, where=f"{config.pipeline} {release.version}",
                               fix=getattr(ruling, "fix", ""))  # fmt: skip
    decision = dataclasses.replace(decision, notes=(*decision.notes, *ruling.notes))
    return PromotionCheck(
        decision.version, decision.from_domain, decision.to_domain, decision.requires_approval,
        int(decision.approval_timeout.total_seconds()), decision.override_reason, list(decision.notes),
    )  # fmt: skip


@task(cache=False)
def record_approval(answer: str) -> Approval:
    """Turn the approver's answer into a record; ``reject...`` fails the promotion (nothing is activated).

    :param answer: the approver's name, or ``reject: <who>: <why>``.
    """
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if not answer.strip() or answer.strip().lower().startswith("reject"):
        raise PromotionRefused(f"promotion rejected by the approver ({answer.strip() or 'empty answer'})")
    if answer.lstrip().startswith("{"):  # the approvals policy path: approvers and every decision
        met = json.loads(answer)
        votes = [ApprovalVote(item.get("person", ""), item["identity"], item["verdict"], item["at"],
                              item.get("comment", "")) for item in met.get("decisions", [])]  # fmt: skip
        return Approval(", ".join(met["approved_by"]), now, votes)
    return Approval(answer.strip(), now)


@task(cache=False)
def no_approval_needed() -> Approval:
    """The record for a domain that does not require approval."""
    return Approval("", "")


@dynamic
def await_approval(check: PromotionCheck) -> Approval:
    """Wait at a gate node for an approver (``requires_approval`` domains) with the domain's timeout.

    :param check: the promotion the gate let through.
    """
    if not check.requires_approval:
        return no_approval_needed()
    # The request's deadline is the domain's timeout; the approvals service records the expiry as a rejection
    # then. The grace keeps the gate open long enough for that record; without the service it times out.
    timeout = timedelta(seconds=check.approval_timeout_seconds) + GATE_GRACE
    answer = wait_for_input(APPROVAL_SIGNAL, timeout=timeout, expected_type=str)
    return record_approval(answer=answer)


@task(retries=3, cache=False, enable_deck=True)
def apply_promotion_task(context: ReleaseContext, check: PromotionCheck, approval: Approval) -> PromotionRecord:
    """Register the release into the target domain with its settings, validate there, then activate.

    :param context: the release and its taxiway.yaml.
    :param check: the promotion the gate let through.
    :param approval: who approved (empty when not required).
    """
    timeout = timedelta(seconds=check.approval_timeout_seconds)
    decision = Promote(check.version, check.from_domain, check.to_domain, check.requires_approval, timeout,
                       check.override_reason, tuple(check.notes))  # fmt: skip
    approved = approval if approval.approved_by else None
    try:
        record = apply_promotion(context.config(), context.release, decision, _ports(context, remotes()), approved,
                                 execution=_claim())  # fmt: skip
        if record.phase is Phase.SUCCEEDED:  # an explicit promotion lifts the domain's hold
            governance = _governance(context)
            if governance.read(check.to_domain).hold is not None:
                set_hold(governance, check.to_domain, None)
    except TransientError as err:
        raise FlyteRecoverableException(str(err)) from err
    run = promotion_run(record.pipeline, record.version, record.from_domain, record.to_domain, execution_link(),
                        context.release.git_sha)  # fmt: skip
    flytekit.Deck("promotion", promotion_deck(run.with_approval(record.approved_by), record))
    return record


@task(retries=3, cache=False, enable_deck=True)
def rollback_task(context: ReleaseContext, domain: str, to_version: str = "") -> RollbackRecord:
    """Re-activate the previous (or ``to_version``'s) validated release's launch plans in ``domain``.

    :param context: any release of the pipeline (for its taxiway.yaml and project).
    :param domain: the domain to roll back.
    :param to_version: the release to re-activate; empty for the one before the active release.
    """
    ports = _ports(context, remotes())
    record = rollback(context.config(), domain, ports.launch_plans, ports.executions, to_version, lock=ports.lock)
    # The nightly must not promote over a rollback: hold the domain at the re-activated release.
    hold = Hold(record.to_version, f"rollback from {record.from_version}", f"rollback {_claim()}",
                datetime.now(UTC).isoformat(timespec="seconds"))  # fmt: skip
    set_hold(_governance(context), domain, hold)
    run = rollback_run(record.pipeline, domain, record.to_version, execution_link())
    flytekit.Deck("rollback", rollback_deck(run, record))
    return record


@task(retries=3, cache=False)
def choose_nightly(context: ReleaseContext, to_domain: str) -> str:
    """The newest release validated in the domain before ``to_domain`` that ``to_domain`` lacks ("" if none).

    :param context: any release of the pipeline (for its taxiway.yaml and project).
    :param to_domain: where the nightly promotes to.
    """
    config = context.config()
    ruling = decide_governance(config.domain(to_domain).governance, _governance(context).read(to_domain),
                               datetime.now(UTC), Trigger.SCHEDULED, to_domain)  # fmt: skip
    if not isinstance(ruling, Proceed):
        # Do nothing now; the next run picks the newest validated release then (coalescing).
        logger.info("nightly waits to=%s reason=%s", to_domain, getattr(ruling, "reason", ""))
        return ""
    ports = _ports(context, remotes())
    choice = choose_nightly_version(config, to_domain, ports.launch_plans, ports.executions)
    logger.info("nightly choice version=%s to=%s reason=%s", choice.version, to_domain, choice.reason)
    return choice.version


__all__ = ["ReleaseContext", "find_release"]
