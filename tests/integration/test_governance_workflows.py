"""Workflows for the governance integration tests: the promotion's approval gate, without the promotion.

``approval_gate`` waits exactly like ``tasks.promote.await_approval`` (``wait_for_input("approval", str)``)
and hands the answer to a task that, like ``record_approval``, fails on ``reject: ...``.
"""

from __future__ import annotations

from datetime import timedelta

from flytekit import task, wait_for_input, workflow


@task
def record_answer(answer: str) -> str:
    """Fail on a rejection (nothing after the gate runs); return the approval otherwise."""
    if answer.strip().lower().startswith("reject"):
        raise ValueError(f"promotion rejected by the approver ({answer})")
    return answer


@workflow
def approval_gate() -> str:
    """Wait up to five minutes for the approval answer."""
    answer = wait_for_input("approval", timeout=timedelta(minutes=5), expected_type=str)
    return record_answer(answer=answer)


@workflow
def approval_gate_short() -> str:
    """Wait three seconds: the approval timeout."""
    answer = wait_for_input("approval", timeout=timedelta(seconds=3), expected_type=str)
    return record_answer(answer=answer)
