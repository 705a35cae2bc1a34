"""Two promotions and a rollback racing on one domain, against a real localflyte (+ moto) of this module.

The promotion lock is Flyte itself: unfinished executions of the promotion meta-workflow (here a
stand-in workflow whose executions stay running until terminated). The core functions run from threads
at once, as three meta-workflow executions would. Exactly one wins; the others are refused with a
message naming the holder; the domain is never half-promoted (every launch plan of the pipeline is
active at one version); once the promotions finish, the rollback goes through.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tasks.core.errors import PromotionRefused
from tasks.core.promote_rollback import rollback
from tasks.core.vocabulary import Phase

# The promotion world (localflyte + moto, a tiny registered pipeline, helpers that play propeller).
from tests.integration.test_promotion import (  # noqa: F401 - fixtures are used by name
    World,
    _promote,
    package,
    promotion_stand_in,
    settings,
    world,
)

pytestmark = pytest.mark.integration

V0, V1, V2, V3 = "a0a0a0a0a0a0", "a1a1a1a1a1a1", "a2a2a2a2a2a2", "a3a3a3a3a3a3"
STAGING = "staging"


def pipeline_versions(of: World) -> set[str]:
    return set(of.active(STAGING).values())


def test_two_promotions_and_a_rollback_exactly_one_wins_and_the_domain_is_never_half_promoted(world: World) -> None:  # noqa: F811
    for version in (V0, V1, V2, V3):
        world.register(version, "development")
        world.finish_validation(version, "development")
        world.finish_validation(version, STAGING)
    for version in (V0, V1):
        assert _promote(world, version, STAGING).phase is Phase.SUCCEEDED
    assert pipeline_versions(world) == {V1}

    meta = world.remotes.for_domain(world.project, "development")
    plan = meta.fetch_launch_plan(world.project, "development", promotion_stand_in.name, "m1")
    claims = {}
    for version in (V2, V3):  # V2's execution is created first, so it holds the lock
        execution = meta.execute(plan, inputs={"pipeline": "tiny", "version": version, "to_domain": STAGING})
        claims[version] = f"{world.project}/development/{execution.id.name}"
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            if name == "rollback":
                results[name] = rollback(world.config, STAGING, world.launch_plans, world.executions, lock=world.lock)
            else:
                results[name] = _promote(world, name, STAGING, claim=claims[name])
        except PromotionRefused as err:
            results[name] = err

    threads = [threading.Thread(target=run, args=(name,)) for name in (V2, V3, "rollback")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads)

    assert getattr(results[V2], "phase", None) is Phase.SUCCEEDED, results
    assert "another promotion into staging is running" in results[V3].reason and claims[V2] in results[V3].reason
    refusal = results["rollback"]
    assert isinstance(refusal, PromotionRefused), refusal
    assert "another promotion into staging is running" in str(refusal) and claims[V2] in str(refusal)
    assert "then roll back" in str(refusal)
    active = world.active(STAGING)
    registered = {plan.name for plan in world.launch_plans.registered(STAGING, V2)}
    assert set(active.values()) == {V2} and set(active) == registered, f"half-promoted: {active}"

    # Once the promotions have finished, nothing holds the lock and the rollback goes through.
    for claim in claims.values():
        project, domain, name = claim.split("/")
        meta.terminate(meta.fetch_execution(project=project, domain=domain, name=name), "test: promotion finished")
    assert world.lock.running("tiny", STAGING) == []
    back = rollback(world.config, STAGING, world.launch_plans, world.executions, lock=world.lock)
    assert (back.from_version, back.to_version) == (V2, V1)
    assert pipeline_versions(world) == {V1}
