"""A validation execution hanging past its timeout during a promotion: terminated, promotion not applied.

Runs against the promotion world of ``tests/integration/test_promotion.py`` (a real localflyte + moto,
no executor): an execution nobody finishes is exactly a hanging one from Taxiway's side, since
Taxiway only sees it through FlyteAdmin. The staging validation case gets a 2 s timeout; the test
asserts the record, the execution's final phase in FlyteAdmin, and that the domain's active launch
plans are still the previous release's, and that a re-run once validation passes does promote.
"""

from __future__ import annotations

import pytest

from tasks.core.config import parse_pipeline_config
from tasks.core.vocabulary import Phase

# The promotion world (localflyte + moto, a tiny registered pipeline, helpers that play propeller).
from tests.integration.test_promotion import (  # noqa: F401 - fixtures are used by name
    CONFIG,
    World,
    _promote,
    package,
    settings,
    world,
)

pytestmark = pytest.mark.integration

V0, V1 = "c0c0c0c0c0c0", "c1c1c1c1c1c1"
STAGING = "staging"
TIMEOUT_S = 2


def test_validation_hanging_past_its_timeout_is_terminated_and_activates_nothing(world: World) -> None:  # noqa: F811
    world.config = parse_pipeline_config(
        CONFIG.format(project=world.project).replace("timeout: 20s", f"timeout: {TIMEOUT_S}s")
    )
    for version in (V0, V1):
        world.register(version, "development")
        world.finish_validation(version, "development")
    world.finish_validation(V0, STAGING)
    assert _promote(world, V0, STAGING).phase is Phase.SUCCEEDED
    before = world.snapshot()[STAGING][0]  # every launch plan version and its state
    active_before = world.active(STAGING)

    record = _promote(world, V1, STAGING)  # its staging validation execution is created and never finishes

    assert record.phase is Phase.FAILED and record.activated == [], record
    assert "timed out" in record.reason and f"{TIMEOUT_S}" in record.reason, record.reason
    assert record.validation is not None and not record.validation.passed
    (case,) = record.validation.cases
    assert case.phase is Phase.TIMED_OUT
    request = world.config_request(V1, STAGING)
    ref = request.execution_of(request.cases[0])
    state = world.executions.state(ref)
    assert state is not None and state.phase.is_terminal and state.phase is not Phase.SUCCEEDED, state
    assert world.active(STAGING) == active_before, "the previous release stays active"
    after = world.snapshot()[STAGING][0]
    assert [p for p in after if p[2]] == [p for p in before if p[2]], "no launch plan activated or deactivated"
    assert {p[1] for p in after} == {V0, V1}, "V1 is registered (inactive) in staging, nothing else changed"
