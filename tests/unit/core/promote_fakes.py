"""Small in-memory implementations of the promotion ports (FlyteAdmin's semantics, no server)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from tasks.core.config import PipelineConfig, parse_pipeline_config
from tasks.core.config_models import DomainSpec
from tasks.core.errors import SourceNotFound
from tasks.core.promote import PromotionPorts
from tasks.core.promote_admin import ExecutionSettings, LaunchPlanInfo
from tasks.core.promote_decide import PromotionExecution
from tasks.core.records import DomainRegistration, PackageRef, Release
from tasks.core.validate import ExecutionRef, ExecutionState, LaunchRequest
from tasks.core.vocabulary import LabelKey, Phase

CONFIG = """
version: 1
pipeline: tiny
packages: [tinypkg]
domains:
  development: {raw_data_prefix: "s3://data/dev"}
  staging: {raw_data_prefix: "s3://data/staging", service_account: tiny-staging, labels: {team: ml}}
  production: {raw_data_prefix: "s3://data/prod", requires_approval: true, approval_timeout: 2h}
validation:
  smoke:
    launch_plan: tinypkg.flows.hello
    inputs: {name: ci}
    expectations: ["o0 == \\"hello ci\\""]
    timeout: 10s
  quality:
    launch_plan: tinypkg.flows.score
    expectations: ["metrics.accuracy >= 0.8"]
    domains: [staging, production]
"""


def config() -> PipelineConfig:
    return parse_pipeline_config(CONFIG)


def release(version: str = "aaaaaaaaaaaa", pr: int = 0) -> Release:
    return Release(
        "tiny", "tiny", version, version + "0" * 28, pr, [], PackageRef(f"s3://pkgs/{version}.tgz", "sha256:x", 3)
    )


@dataclass
class FakeExecutions:
    """Executions that finish as ``outcomes[launch_plan]`` says: (phase, outputs)."""

    outcomes: dict[str, tuple[Phase, dict[str, Any]]] = field(default_factory=dict)
    executions: dict[str, tuple[LaunchRequest, Phase]] = field(default_factory=dict)
    launches: int = 0
    terminated: list[str] = field(default_factory=list)

    def launch(self, request: LaunchRequest) -> bool:
        key = str(request.execution)
        if key in self.executions:
            return False
        if request.launch_plan not in self.outcomes:
            raise SourceNotFound(f"launch plan {request.launch_plan} is not registered")
        self.launches += 1
        self.executions[key] = (request, self.outcomes[request.launch_plan][0])
        return True

    def state(self, execution: ExecutionRef) -> ExecutionState | None:
        found = self.executions.get(str(execution))
        return ExecutionState(found[1]) if found else None

    def outputs(self, execution: ExecutionRef) -> dict[str, Any]:
        request, _ = self.executions[str(execution)]
        return self.outcomes[request.launch_plan][1]

    def terminate(self, execution: ExecutionRef, cause: str) -> None:
        request, _ = self.executions[str(execution)]
        self.executions[str(execution)] = (request, Phase.ABORTED)
        self.terminated.append(str(execution))

    def console_url(self, execution: ExecutionRef) -> str:
        return f"http://console/{execution.name}"


@dataclass
class FakeLaunchPlans:
    """Launch plans per domain with FlyteAdmin's one-active-version-per-name rule."""

    plans: dict[str, list[LaunchPlanInfo]] = field(default_factory=dict)
    settings: dict[str, ExecutionSettings] = field(default_factory=dict)
    clock: int = 0
    writes: int = 0

    def add(
        self, domain: str, version: str, names: tuple[str, ...] = ("tinypkg.nightly", "tinypkg.flows.hello")
    ) -> None:
        for name in names:
            self.clock += 1
            labels = {LabelKey.PIPELINE.value: "tiny", LabelKey.DOMAIN.value: domain}
            info = LaunchPlanInfo(name, version, False, "@daily" if "nightly" in name else "",
                                  ExecutionSettings(labels=labels), f"2030-01-01T00:00:{self.clock:02d}Z")  # fmt: skip
            self.plans.setdefault(domain, []).append(info)

    def registered(self, domain: str, version: str = "") -> list[LaunchPlanInfo]:
        return [plan for plan in self.plans.get(domain, []) if not version or plan.version == version]

    def active(self, domain: str) -> list[LaunchPlanInfo]:
        return [plan for plan in self.plans.get(domain, []) if plan.active]

    def set_active(self, domain: str, name: str, version: str, active: bool = True) -> None:
        self.writes += 1
        updated = []
        for plan in self.plans.get(domain, []):
            if plan.name == name and plan.version == version:
                plan = replace(plan, active=active)
            elif plan.name == name and active:
                plan = replace(plan, active=False)
            updated.append(plan)
        self.plans[domain] = updated

    def execution_settings(self, domain: str) -> ExecutionSettings | None:
        return self.settings.get(domain)

    def set_execution_settings(self, domain: str, settings: ExecutionSettings) -> None:
        self.writes += 1
        self.settings[domain] = settings


@dataclass
class FakeLock:
    running_promotions: list[PromotionExecution] = field(default_factory=list)

    def running(self, pipeline: str, domain: str) -> list[PromotionExecution]:
        return list(self.running_promotions)


def ports(
    executions: FakeExecutions,
    launch_plans: FakeLaunchPlans,
    lock: FakeLock | None = None,
    package: bool = True,
    version: str = "aaaaaaaaaaaa",
) -> PromotionPorts:
    """Ports whose ``register`` registers ``version``'s launch plans into a domain (idempotently)."""

    def register(domain: DomainSpec) -> DomainRegistration:
        if not launch_plans.registered(domain.name, version):
            launch_plans.add(domain.name, version)
        return DomainRegistration("tiny", domain.name, version, [])

    return PromotionPorts(executions, launch_plans, lock or FakeLock(), register, lambda uri: package)
