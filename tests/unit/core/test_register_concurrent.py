"""Concurrent FlyteAdmin calls: results in order, bounded concurrency, every failure named."""

from __future__ import annotations

import threading
import time

import pytest

from tasks.core.errors import AdminUnavailable, SourceNotFound, VersionConflict
from tasks.core.register_concurrent import call_each

pytestmark = pytest.mark.unit


def _label(item: int) -> str:
    return f"task t{item}"


def test_results_come_back_in_item_order_whatever_order_calls_finish_in() -> None:
    def call(item: int) -> int:
        time.sleep(0.001 * (10 - item))  # the first items finish last
        return item * item

    assert call_each(list(range(10)), call, _label, what="register", max_workers=4) == [i * i for i in range(10)]


@pytest.mark.parametrize("max_workers", [1, 3, 8])
def test_at_most_max_workers_calls_run_at_once(max_workers: int) -> None:
    running, peak, lock = 0, 0, threading.Lock()

    def call(item: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return item

    call_each(list(range(12)), call, _label, what="check", max_workers=max_workers)
    assert 1 <= peak <= max_workers
    if max_workers > 1:
        assert peak > 1  # the calls overlapped


def test_one_failure_is_raised_as_it_is_after_the_other_calls_finished() -> None:
    done: list[int] = []
    conflict = VersionConflict("task t3 version v1 is already registered with a different structure", where="p/d")

    def call(item: int) -> int:
        if item == 3:
            raise conflict
        time.sleep(0.005)
        done.append(item)
        return item

    with pytest.raises(VersionConflict) as caught:
        call_each(list(range(6)), call, _label, what="register", max_workers=3)
    assert caught.value is conflict
    assert sorted(done) == [0, 1, 2, 4, 5]


def test_several_failures_name_every_entity_and_a_permanent_error_wins() -> None:
    def call(item: int) -> int:
        if item == 1:
            raise AdminUnavailable("CreateTask failed 3 times: unavailable", where="127.0.0.1:1")
        if item in (2, 4):
            raise SourceNotFound(f"t{item} needs a missing task", where="proj/development")
        return item

    with pytest.raises(SourceNotFound) as caught:
        call_each(list(range(5)), call, _label, what="register", max_workers=4)
    message = str(caught.value)
    assert "register failed for 3 of 5 entities" in message
    for expected in ("task t1: CreateTask failed 3 times", "task t2: t2 needs", "task t4: t4 needs"):
        assert expected in message
    assert caught.value.where == "proj/development"
    assert not caught.value.retryable


def test_only_transient_failures_stay_transient() -> None:
    def call(item: int) -> int:
        raise AdminUnavailable(f"Get TASK t{item} failed 3 times", where="127.0.0.1:1")

    with pytest.raises(AdminUnavailable, match=r"check failed for 2 of 2 entities") as caught:
        call_each([0, 1], call, _label, what="check", max_workers=2)
    assert caught.value.retryable


def test_an_error_outside_taxiways_tree_is_a_bug_and_raised_unchanged() -> None:
    def call(item: int) -> int:
        if item == 0:
            raise AdminUnavailable("down", where="x")
        raise KeyError("bug")

    with pytest.raises(KeyError, match="bug"):
        call_each([0, 1], call, _label, what="register", max_workers=2)


def test_no_items_no_calls() -> None:
    assert call_each([], _label, _label, what="register") == []
