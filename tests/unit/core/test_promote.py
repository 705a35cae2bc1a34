"""Promotion decisions, activation, rollback and the nightly choice, over in-memory ports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tasks.core.errors import PromotionRefused
from tasks.core.promote import Approval, apply_promotion, check_promotion
from tasks.core.promote_decide import Promote, PromotionExecution, PromotionFacts, Refuse, decide_promotion
from tasks.core.promote_nightly import choose_nightly_version
from tasks.core.promote_rollback import rollback
from tasks.core.validate import ValidationReport, ValidationRequest, run_validation
from tasks.core.vocabulary import Phase, Verdict
from tests.unit.core.promote_fakes import FakeExecutions, FakeLaunchPlans, FakeLock, config, ports, release

pytestmark = pytest.mark.unit

V1, V2 = "aaaaaaaaaaaa", "bbbbbbbbbbbb"
PASSED = ValidationReport("tiny", "tiny", V1, "development", Verdict.PASSED)
FAILED = ValidationReport("tiny", "tiny", V1, "development", Verdict.FAILED)
GOOD: dict[str, tuple[Phase, dict[str, Any]]] = {
    "tinypkg.flows.hello": (Phase.SUCCEEDED, {"o0": "hello ci"}),
    "tinypkg.flows.score": (Phase.SUCCEEDED, {"metrics": {"accuracy": 0.9}}),
}


def _facts(**changes: object) -> PromotionFacts:
    base: dict[str, object] = {
        "version": V1, "release_known": True, "registered_in": frozenset({"development"}),
        "previous_validation": PASSED,
    }  # fmt: skip
    return PromotionFacts(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("to_domain", "facts", "override", "expected"),
    [
        ("qa", _facts(), "", "unknown domain 'qa'"),
        ("staging", _facts(release_known=False), "", "unknown version"),
        ("staging", _facts(is_pr=True), "", "pull-request release"),
        ("staging", _facts(package_present=False), "", "package of release"),
        ("production", _facts(), "", "skipping staging"),
        ("staging", _facts(registered_in=frozenset({"development", "production"})), "", "promoting backwards"),
        ("staging", _facts(previous_validation=None), "", "never validated in development"),
        ("staging", _facts(previous_validation=FAILED), "", "did not pass validation in development"),
        ("production", _facts(), "   ", "skipping staging"),
    ],
)
def test_refusals_say_why(to_domain: str, facts: PromotionFacts, override: str, expected: str) -> None:
    decision = decide_promotion(config(), to_domain, facts, override)
    assert isinstance(decision, Refuse), decision
    assert expected in decision.reason
    assert decision.fix


def test_promote_carries_approval_policy_and_override_reason() -> None:
    decision = decide_promotion(config(), "staging", _facts())
    assert decision == Promote(V1, "development", "staging", False, timedelta(hours=24))
    skipped = decide_promotion(config(), "production", _facts(), override_reason="hotfix INC-42")
    assert isinstance(skipped, Promote)
    assert skipped.requires_approval and skipped.approval_timeout == timedelta(hours=2)
    assert skipped.override_reason == "hotfix INC-42" and "skipping staging" in skipped.notes[0]


def test_lock_first_created_wins_and_others_are_refused() -> None:
    first = PromotionExecution("meta/dev/promote-a", V1, "2030-01-01T00:00:01Z")
    second = PromotionExecution("meta/dev/promote-b", V2, "2030-01-01T00:00:02Z")
    running = (second, first)
    assert isinstance(decide_promotion(config(), "staging", _facts(running=running, claim=first.execution)), Promote)
    refused = decide_promotion(config(), "staging", _facts(running=running, claim=second.execution))
    assert isinstance(refused, Refuse) and "promote-a" in refused.reason and "one promotion" in refused.reason
    # Outside Flyte (no claim), any running promotion holds the lock.
    assert isinstance(decide_promotion(config(), "staging", _facts(running=(first,))), Refuse)


def _validated_in_dev(executions: FakeExecutions, version: str = V1) -> None:
    cfg = config()
    request = ValidationRequest("tiny", "tiny", version, "development", cfg.validations_in("development"))
    assert run_validation(request, executions, sleep=lambda _: None).passed


def test_promotion_registers_configures_validates_then_activates_replacing_the_previous_release() -> None:
    executions, plans = FakeExecutions(dict(GOOD)), FakeLaunchPlans()
    for version in (V1, V2):
        plans.add("development", version)
        _validated_in_dev(executions, version)
    cfg = config()
    first = check_promotion(cfg, release(V1), V1, "staging", ports(executions, plans, version=V1))
    assert isinstance(first, Promote)
    record = apply_promotion(cfg, release(V1), first, ports(executions, plans, version=V1))
    assert record.phase is Phase.SUCCEEDED and record.previous_version == ""
    assert {p.version for p in plans.active("staging")} == {V1}
    assert plans.settings["staging"].service_account == "tiny-staging"
    second = check_promotion(cfg, release(V2), V2, "staging", ports(executions, plans, version=V2))
    assert isinstance(second, Promote)
    record = apply_promotion(cfg, release(V2), second, ports(executions, plans, version=V2))
    assert {p.version for p in plans.active("staging")} == {V2}
    assert record.previous_version == V1 and record.deactivated == [
        f"tinypkg.flows.hello@{V1}",
        f"tinypkg.nightly@{V1}",
    ]
    # Rollback restores the previous release's launch plans.
    back = rollback(cfg, "staging", plans, executions)
    assert (back.from_version, back.to_version) == (V2, V1)
    assert {p.version for p in plans.active("staging")} == {V1}


def test_failed_validation_in_the_target_leaves_the_previous_release_active() -> None:
    executions, plans = FakeExecutions(dict(GOOD)), FakeLaunchPlans()
    plans.add("development", V1)
    plans.add("staging", V1)
    plans.set_active("staging", "tinypkg.nightly", V1)
    plans.add("development", V2)
    _validated_in_dev(executions, V2)
    executions.outcomes["tinypkg.flows.score"] = (Phase.SUCCEEDED, {"metrics": {"accuracy": 0.2}})
    decision = check_promotion(config(), release(V2), V2, "staging", ports(executions, plans, version=V2))
    assert isinstance(decision, Promote)
    record = apply_promotion(config(), release(V2), decision, ports(executions, plans, version=V2))
    assert record.phase is Phase.FAILED and "metrics.accuracy >= 0.8" in record.reason
    assert [(p.name, p.version) for p in plans.active("staging")] == [("tinypkg.nightly", V1)]
    # production refuses it: it did not pass validation in staging.
    refused = check_promotion(config(), release(V2), V2, "production", ports(executions, plans, version=V2))
    assert isinstance(refused, Refuse) and "did not pass validation in staging" in refused.reason


def test_refusal_writes_nothing_and_approval_is_required_where_configured() -> None:
    executions, plans = FakeExecutions(dict(GOOD)), FakeLaunchPlans()
    plans.add("development", V1)
    _validated_in_dev(executions, V1)
    refused = check_promotion(config(), release(V1), V1, "production", ports(executions, plans))
    assert isinstance(refused, Refuse) and plans.writes == 0
    decision = check_promotion(config(), release(V1), V1, "production", ports(executions, plans), "urgent")
    assert isinstance(decision, Promote)
    with pytest.raises(PromotionRefused, match="requires approval"):
        apply_promotion(config(), release(V1), decision, ports(executions, plans))
    assert plans.writes == 0
    record = apply_promotion(config(), release(V1), decision, ports(executions, plans), Approval("alice", "t0"))
    assert record.approved_by == "alice" and record.override_reason == "urgent"


def test_lock_reaches_the_decision_through_the_port() -> None:
    executions, plans = FakeExecutions(dict(GOOD)), FakeLaunchPlans()
    plans.add("development", V1)
    _validated_in_dev(executions, V1)
    lock = FakeLock([PromotionExecution("meta/dev/promote-x", V2, "2030-01-01T00:00:00Z")])
    refused = check_promotion(config(), release(V1), V1, "staging", ports(executions, plans, lock))
    assert isinstance(refused, Refuse) and "promote-x" in refused.reason


def test_nightly_picks_the_newest_validated_release_staging_lacks() -> None:
    executions, plans = FakeExecutions(dict(GOOD)), FakeLaunchPlans()
    plans.add("development", V1)
    plans.add("development", V2)
    plans.add("development", "pr7-cccccccccccc")
    _validated_in_dev(executions, V1)
    choice = choose_nightly_version(config(), "staging", plans, executions)
    assert choice.version == V1  # V2 is newer but not validated; the PR release never counts
    _validated_in_dev(executions, V2)
    assert choose_nightly_version(config(), "staging", plans, executions).version == V2
    plans.add("staging", V2)
    none = choose_nightly_version(config(), "staging", plans, executions)
    assert none.version == "" and "already has" in none.reason


def test_rollback_refuses_unknown_or_unvalidated_versions() -> None:
    executions, plans = FakeExecutions(dict(GOOD)), FakeLaunchPlans()
    plans.add("development", V1)
    with pytest.raises(PromotionRefused, match="unknown version 'nope'"):
        rollback(config(), "development", plans, executions, to_version="nope")
    with pytest.raises(PromotionRefused, match="did not pass validation"):
        rollback(config(), "development", plans, executions, to_version=V1)
    with pytest.raises(PromotionRefused, match="no earlier validated release"):
        rollback(config(), "development", plans, executions)
    assert plans.writes == 0
