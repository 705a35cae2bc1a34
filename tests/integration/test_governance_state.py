"""Freezes and holds kept in a real localflyte (workflow attributes), driving the governance decisions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from flytekit.remote import FlyteRemote

from localflyte.testing import LocalFlyteProcess, MotoServer
from tasks.core.config_governance import DenySpec, GovernanceSpec, WindowSpec
from tasks.core.governance import Proceed, Trigger, Wait, decide_governance
from tasks.core.governance_state import FlyteGovernanceState, Freeze, GovernanceState, Hold, set_freeze, set_hold
from tasks.core.promote_decide import Refuse
from tests.integration.test_localflyte_executor import remote_for

pytestmark = pytest.mark.integration

PROJECT = "flytesnacks"
SPEC = GovernanceSpec(
    windows=(WindowSpec(days="mon-fri", hours="09:00-16:00", timezone="Europe/Berlin"),),
    deny=(DenySpec(start=date(2030, 12, 24), end=date(2030, 12, 26), reason="holidays", timezone="Europe/Berlin"),),
)
MONDAY = datetime(2030, 1, 7, 10, tzinfo=UTC)
CHRISTMAS = datetime(2030, 12, 24, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlyteRemote]:
    moto = MotoServer(tmp_path_factory.mktemp("moto"), buckets=("taxiway-data",))
    flyte = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=moto.endpoint)
    yield remote_for(flyte.endpoint, moto.endpoint)
    flyte.stop()
    moto.stop()


def test_freeze_stops_manual_and_scheduled_until_unfrozen(remote: FlyteRemote) -> None:
    state = FlyteGovernanceState(lambda domain: remote, PROJECT, "training")
    set_freeze(state, "production", Freeze("incident 42", "alice", "2030-01-07T09:00:00+00:00"))
    reread = FlyteGovernanceState(lambda domain: remote, PROJECT, "training").read("production")
    assert reread.freeze is not None and reread.freeze.reason == "incident 42"
    assert state.read("staging") == GovernanceState()  # per domain
    assert isinstance(decide_governance(SPEC, reread, MONDAY, Trigger.MANUAL, "production", "override"), Refuse)
    assert isinstance(decide_governance(SPEC, reread, MONDAY, Trigger.SCHEDULED, "production"), Wait)
    set_freeze(state, "production", None)
    assert decide_governance(SPEC, state.read("production"), MONDAY, Trigger.MANUAL, "production") == Proceed()


def test_deny_window_makes_the_nightly_wait(remote: FlyteRemote) -> None:
    state = FlyteGovernanceState(lambda domain: remote, PROJECT, "deny")
    waits = decide_governance(SPEC, state.read("staging"), CHRISTMAS, Trigger.SCHEDULED, "staging")
    assert isinstance(waits, Wait) and "holidays" in waits.reason and waits.until.startswith("2030-12-27")
    assert decide_governance(SPEC, state.read("staging"), MONDAY, Trigger.SCHEDULED, "staging") == Proceed()


def test_rollback_hold_survives_the_next_nightly(remote: FlyteRemote) -> None:
    state = FlyteGovernanceState(lambda domain: remote, PROJECT, "held")
    set_freeze(state, "production", Freeze("f", "a", "t"))
    set_hold(state, "production", Hold("v1", "rollback from v2", "rollback x", "2030-01-07T09:00:00+00:00"))
    set_freeze(state, "production", None)  # lifting the freeze keeps the hold
    for _ in range(2):  # two nightly runs in a row: both wait, the hold stays
        ruling = decide_governance(SPEC, state.read("production"), MONDAY, Trigger.SCHEDULED, "production")
        assert isinstance(ruling, Wait) and "held at v1" in ruling.reason
    explicit = decide_governance(SPEC, state.read("production"), MONDAY, Trigger.MANUAL, "production")
    assert isinstance(explicit, Proceed) and explicit.lifts_hold
    set_hold(state, "production", None)
    assert state.read("production") == GovernanceState()
