"""The promotion gate as data: ``decide_promotion(...) -> Promote | Refuse``, a pure function of facts.

The facts (is the release known, where is it registered, did it pass validation in the previous
domain, who else is promoting into the target) are read from Flyte by :mod:`tasks.core.promote`;
this module only decides, so every rule is unit-tested on plain values and the reason of a refusal
reaches the log, the Deck and Slack verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from tasks.core.config import PipelineConfig
from tasks.core.validate import ValidationReport


@dataclass(frozen=True)
class PromotionExecution:
    """A promotion meta-workflow execution (``project/domain/name``), its version and phase."""

    execution: str
    version: str
    created_at: str
    phase: str = "RUNNING"

    @property
    def order(self) -> tuple[str, str]:
        """Who came first holds the lock: creation time, then execution name as the tie-breaker."""
        return (self.created_at, self.execution)


@dataclass(frozen=True)
class PromotionFacts:
    """What Flyte says about a release and a target domain, gathered before deciding.

    :param version: the release version asked for.
    :param release_known: a release record (``ci_pipeline`` output) exists for it.
    :param is_pr: it is a PR release (never promoted, never activated).
    :param package_present: its entity package is still in the blob store.
    :param registered_in: domains its launch plans are registered in.
    :param previous_validation: its validation report read back from the previous domain (None: never ran).
    :param running: unfinished promotions into the target domain, this one included when it runs in Flyte.
    :param claim: this promotion's own execution (None when not run as a Flyte execution).
    """

    version: str
    release_known: bool
    is_pr: bool = False
    package_present: bool = True
    registered_in: frozenset[str] = frozenset()
    previous_validation: ValidationReport | None = None
    running: tuple[PromotionExecution, ...] = ()
    claim: str | None = None


@dataclass(frozen=True)
class Promote:
    """Go ahead: promote ``version`` from ``from_domain`` into ``to_domain``."""

    version: str
    from_domain: str
    to_domain: str
    requires_approval: bool
    approval_timeout: timedelta
    override_reason: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Refuse:
    """Do nothing, and say why (what, and how to fix it)."""

    reason: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.reason}; fix: {self.fix}" if self.fix else self.reason


Decision = Promote | Refuse


def decide_promotion(
    config: PipelineConfig, to_domain: str, facts: PromotionFacts, override_reason: str = ""
) -> Decision:
    """Whether ``facts.version`` may be promoted into ``to_domain`` now.

    Refuses: an unknown domain or version, a PR release, a missing package, skipping a domain or going
    backwards (unless ``override_reason`` is given: it is recorded), a release not validated in the
    previous domain (same override), and a second promotion into the domain while one runs.
    """
    version = facts.version
    if to_domain not in config.domain_names:
        return Refuse(f"unknown domain {to_domain!r}", f"use one of {', '.join(config.domain_names)}")
    if not facts.release_known:
        return Refuse(
            f"unknown version {version!r} of pipeline {config.pipeline}: no release was built for it",
            "build it first with ci_pipeline, or check the version (`taxiway status` lists them)",
        )
    if facts.is_pr:
        return Refuse(
            f"{version} is a pull-request release: PR releases are never promoted or activated",
            "merge the pull request and promote the release built from the main branch",
        )
    if not facts.package_present:
        return Refuse(
            f"the entity package of release {version} is missing from the blob store",
            "rebuild the release with ci_pipeline (it re-creates the package under the same version)",
        )
    override = override_reason.strip()
    notes: list[str] = []
    index = config.domain_names.index(to_domain)
    previous = config.domains[index - 1].name if index > 0 else ""
    later = [name for name in config.domain_names[index + 1 :] if name in facts.registered_in]
    if later:
        problem = Refuse(
            f"promoting backwards: release {version} already reached {later[-1]}, after {to_domain}",
            f"use `taxiway rollback --domain {to_domain} --to {version}` to re-activate it there",
        )
        if not override:
            return problem
        notes.append(f"override: {problem.reason} (reason: {override})")
    skipped = _previous_domain_problem(version, previous, to_domain, facts) if previous else None
    if skipped is not None:
        if not override:
            return skipped
        notes.append(f"override: {skipped.reason} (reason: {override})")
    ahead = _ahead_of_claim(facts)
    if ahead:
        holder = ahead[0]
        return Refuse(
            f"another promotion into {to_domain} is running: {holder.execution} (version {holder.version}); "
            "one promotion per pipeline and domain at a time",
            "wait for it to finish, then promote again",
        )
    target = config.domain(to_domain)
    return Promote(
        version, previous, to_domain, target.requires_approval, target.approval_timeout, override, tuple(notes)
    )


def _previous_domain_problem(version: str, previous: str, to_domain: str, facts: PromotionFacts) -> Refuse | None:
    if previous not in facts.registered_in:
        return Refuse(
            f"skipping {previous}: release {version} is not in {previous}, the domain before {to_domain}",
            f"promote it to {previous} first",
        )
    report = facts.previous_validation
    if report is None:
        return Refuse(
            f"release {version} was never validated in {previous}",
            f"promote it to {previous} (which validates it there) or run its validation in {previous}",
        )
    if not report.passed:
        failures = "; ".join(report.failures()) or "verdict FAILED"
        return Refuse(
            f"release {version} did not pass validation in {previous}: {failures}",
            "fix the pipeline and build a new release",
        )
    return None


def _ahead_of_claim(facts: PromotionFacts) -> list[PromotionExecution]:
    """Unfinished promotions that hold the lock before this one (all of them when there is no claim)."""
    running = sorted(facts.running, key=lambda item: item.order)
    if facts.claim is None:
        return running
    mine = [item for item in running if item.execution == facts.claim]
    if not mine:
        return running
    return [item for item in running if item.order < mine[0].order]
