"""Status, plan and diff over in-memory domain snapshots."""

from __future__ import annotations

import pytest

from tasks.core.promote_admin import ExecutionSettings
from tasks.core.promote_decide import PromotionExecution
from tasks.core.status import diff_domains, domain_status, plan_promotion, read_domain_state
from tasks.core.validate import ValidationRequest, run_validation
from tasks.core.vocabulary import Phase
from tests.unit.core.promote_fakes import FakeExecutions, FakeLaunchPlans, config

pytestmark = pytest.mark.unit

V1, V2 = "aaaaaaaaaaaa", "bbbbbbbbbbbb"


def _plans() -> FakeLaunchPlans:
    plans = FakeLaunchPlans()
    plans.add("development", V1)
    plans.add("development", V2)
    plans.add("staging", V1)
    plans.set_active("development", "tinypkg.nightly", V2)
    plans.set_active("staging", "tinypkg.nightly", V1)
    plans.settings["staging"] = ExecutionSettings("s3://data/staging", "old-account", labels={"team": "ml"})
    return plans


def test_plan_lists_what_would_change_and_changes_nothing() -> None:
    plans = _plans()
    writes = plans.writes
    cfg = config()
    source = read_domain_state(plans, "tiny", "development")
    target = read_domain_state(plans, "tiny", "staging")
    plan = plan_promotion(cfg, V2, "staging", source, target, "promote")
    assert plan.register == ["tinypkg.flows.hello", "tinypkg.nightly"]
    assert not plan.already_registered
    assert [(c.key, c.current, c.planned) for c in plan.activate] == [
        ("tinypkg.flows.hello", "", V2), ("tinypkg.nightly", V1, V2),
    ]  # fmt: skip
    changed = {change.key: (change.current, change.planned) for change in plan.configure}
    assert changed["service_account"] == ("old-account", "tiny-staging")
    assert changed["labels.taxiway.dev/pipeline"] == ("", "tiny")
    assert plan.validate == ["smoke", "quality"]
    assert plans.writes == writes


def test_diff_shows_versions_schedules_and_settings() -> None:
    plans = _plans()
    entries = diff_domains(read_domain_state(plans, "tiny", "development"), read_domain_state(plans, "tiny", "staging"))
    kinds = {(entry.kind, entry.key): (entry.left, entry.right) for entry in entries}
    assert kinds[("version", "tinypkg.nightly")] == (V2, V1)
    assert kinds[("setting", "execution config: service_account")] == ("", "old-account")
    assert kinds[("setting", "tinypkg.nightly: labels.taxiway.dev/domain")] == ("development", "staging")
    same = diff_domains(read_domain_state(plans, "tiny", "staging"), read_domain_state(plans, "tiny", "staging"))
    assert same == []


class _History:
    def promotions(self, pipeline: str, domain: str, limit: int = 200) -> list[PromotionExecution]:
        return [
            PromotionExecution("meta/dev/promote-x", V1, "2030-01-02T00:00:00Z", "FAILED"),
            PromotionExecution("meta/dev/promote-y", V1, "2030-01-01T00:00:00Z", "SUCCEEDED"),
        ]


def test_status_names_the_active_version_its_promotion_and_verdict() -> None:
    plans = _plans()
    executions = FakeExecutions({"tinypkg.flows.hello": (Phase.SUCCEEDED, {"o0": "hello ci"})})
    cfg = config()
    staging = read_domain_state(plans, "tiny", "staging")
    status = domain_status(cfg, staging, executions, _History())
    assert (status.active_version, status.promoted_by, status.validation) == (V1, "meta/dev/promote-y", "NOT RUN")
    dev = read_domain_state(plans, "tiny", "development")
    request = ValidationRequest("tiny", "tiny", V2, "development", cfg.validations_in("development"))
    run_validation(request, executions, sleep=lambda _: None)
    assert domain_status(cfg, dev, executions, None).validation == "PASSED"
    empty = domain_status(cfg, read_domain_state(plans, "tiny", "production"), executions, None)
    assert empty.active_version == "" and empty.active_launch_plans == []
