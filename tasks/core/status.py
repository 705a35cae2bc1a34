"""``taxiway status``, ``plan`` and ``diff``: what is live where, what a promotion would do, how domains differ.

Everything is read from Flyte (active launch plans, registered versions, matchable attributes,
promotion and validation executions); nothing here writes. The pure functions over
:class:`DomainState` snapshots are what the unit tests exercise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

from tasks.core.config import PipelineConfig
from tasks.core.promote import LaunchPlanPort, active_version, pipeline_plans, validation_request
from tasks.core.promote_admin import ExecutionSettings, LaunchPlanInfo
from tasks.core.promote_decide import PromotionExecution
from tasks.core.validate import ExecutionPort, inspect_validation
from tasks.core.vocabulary import Phase


@dataclass(frozen=True)
class DomainState:
    """A snapshot of one domain: the pipeline's registered launch plans (all versions) and its settings."""

    domain: str
    launch_plans: list[LaunchPlanInfo]
    settings: ExecutionSettings | None

    @property
    def active(self) -> list[LaunchPlanInfo]:
        return [plan for plan in self.launch_plans if plan.active]

    @property
    def active_version(self) -> str:
        return active_version(self.launch_plans)

    def versions(self) -> list[str]:
        """Registered versions, newest first."""
        seen: list[str] = []
        for plan in sorted(self.launch_plans, key=lambda p: p.created_at, reverse=True):
            if plan.version not in seen:
                seen.append(plan.version)
        return seen


def read_domain_state(launch_plans: LaunchPlanPort, pipeline: str, domain: str) -> DomainState:
    """The snapshot of ``domain`` as Flyte has it now."""
    plans = pipeline_plans(launch_plans.registered(domain), pipeline)
    return DomainState(domain, plans, launch_plans.execution_settings(domain))


class HistoryPort(Protocol):
    """Promotion executions (``promote_lock.FlytePromotions``)."""

    def promotions(self, pipeline: str, domain: str, limit: int = 200) -> list[PromotionExecution]: ...


@dataclass(frozen=True)
class DomainStatus:
    """One line of ``taxiway status``."""

    domain: str
    active_version: str
    active_launch_plans: list[str]
    promoted_by: str = ""
    promoted_at: str = ""
    validation: str = ""


def domain_status(
    config: PipelineConfig, state: DomainState, executions: ExecutionPort, history: HistoryPort | None
) -> DomainStatus:
    """The active version of a domain, the promotion that activated it and its validation verdict there."""
    version = state.active_version
    promoted_by = promoted_at = verdict = ""
    if version:
        report = inspect_validation(validation_request(config, version, state.domain), executions)
        verdict = "NOT RUN" if report is None else report.verdict.value
        for item in history.promotions(config.pipeline, state.domain) if history else []:
            if item.version == version and item.phase == Phase.SUCCEEDED.value:
                promoted_by, promoted_at = item.execution, item.created_at
                break
    names = sorted(f"{plan.name}@{plan.version}" for plan in state.active)
    return DomainStatus(state.domain, version, names, promoted_by, promoted_at, verdict)


@dataclass(frozen=True)
class SettingChange:
    """One setting as it is and as it would (or does, in a diff) differ."""

    key: str
    current: str
    planned: str


@dataclass(frozen=True)
class PromotionPlan:
    """What ``promote <version> --to <domain>`` would do; computing it changes nothing."""

    version: str
    to_domain: str
    decision: str
    register: list[str] = field(default_factory=list)
    already_registered: bool = False
    configure: list[SettingChange] = field(default_factory=list)
    validate: list[str] = field(default_factory=list)
    activate: list[SettingChange] = field(default_factory=list)
    deactivate: list[str] = field(default_factory=list)


def flatten_settings(settings: ExecutionSettings | None) -> dict[str, str]:
    """Settings as ``key -> value`` rows (``labels.team``, ``raw_data_prefix``...)."""
    if settings is None:
        return {}
    rows: dict[str, str] = {}
    for key, value in asdict(settings).items():
        if isinstance(value, dict):
            rows.update({f"{key}.{name}": str(item) for name, item in value.items()})
        elif value:
            rows[key] = str(value)
    return rows


def setting_changes(current: dict[str, str], planned: dict[str, str]) -> list[SettingChange]:
    """Rows whose value differs (missing on one side is ``""``)."""
    keys = sorted(set(current) | set(planned))
    return [
        SettingChange(key, current.get(key, ""), planned.get(key, ""))
        for key in keys
        if current.get(key, "") != planned.get(key, "")
    ]


def plan_promotion(
    config: PipelineConfig, version: str, to_domain: str, source: DomainState, target: DomainState, decision: str
) -> PromotionPlan:
    """The promotion of ``version`` from ``source`` (the previous domain) into ``target``, as a plan.

    :param decision: the gate's answer (``str`` of a Promote note or a Refuse reason).
    """
    names = sorted({plan.name for plan in source.launch_plans if plan.version == version})
    in_target = {plan.name for plan in target.launch_plans if plan.version == version}
    current = {plan.name: plan.version for plan in target.active}
    planned_settings = ExecutionSettings.for_domain(config.domain(to_domain), config.pipeline)
    return PromotionPlan(
        version=version,
        to_domain=to_domain,
        decision=decision,
        register=[name for name in names if name not in in_target],
        already_registered=bool(names) and set(names) <= in_target,
        configure=setting_changes(flatten_settings(target.settings), flatten_settings(planned_settings)),
        validate=[case.name for case in config.validations_in(to_domain)],
        activate=[
            SettingChange(name, current.get(name, ""), version) for name in names if current.get(name) != version
        ],
        deactivate=sorted(f"{name}@{current[name]}" for name in current if name not in names),
    )


@dataclass(frozen=True)
class DiffEntry:
    """One difference between two domains."""

    kind: str
    key: str
    left: str
    right: str


def diff_domains(left: DomainState, right: DomainState) -> list[DiffEntry]:
    """Entities, active versions, schedules and settings that differ between two domains."""
    entries: list[DiffEntry] = []
    left_names = {plan.name for plan in left.launch_plans}
    right_names = {plan.name for plan in right.launch_plans}
    for name in sorted(left_names ^ right_names):
        entries.append(DiffEntry("entity", name, _yes(name in left_names), _yes(name in right_names)))
    left_active = {plan.name: plan for plan in left.active}
    right_active = {plan.name: plan for plan in right.active}
    for name in sorted(set(left_active) | set(right_active)):
        a, b = left_active.get(name), right_active.get(name)
        if (a.version if a else "") != (b.version if b else ""):
            entries.append(DiffEntry("version", name, a.version if a else "", b.version if b else ""))
        if (a.schedule if a else "") != (b.schedule if b else ""):
            entries.append(DiffEntry("schedule", name, a.schedule if a else "", b.schedule if b else ""))
        if a and b:
            for change in setting_changes(flatten_settings(a.settings), flatten_settings(b.settings)):
                entries.append(DiffEntry("setting", f"{name}: {change.key}", change.current, change.planned))
    for change in setting_changes(flatten_settings(left.settings), flatten_settings(right.settings)):
        entries.append(DiffEntry("setting", f"execution config: {change.key}", change.current, change.planned))
    return entries


def _yes(present: bool) -> str:
    return "registered" if present else "absent"
