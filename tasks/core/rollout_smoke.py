"""Smoke checks: a serving target's JSON response against a smoke request's expectations from taxiway.yaml."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tasks.core.config_models import SmokeRequest
from tasks.core.rollout_records import SmokeResult


def check_response(request: SmokeRequest, response: Any) -> SmokeResult:
    """Evaluate every expectation of ``request`` on ``response`` (a decoded JSON body)."""
    if not isinstance(response, Mapping):
        return SmokeResult(
            request.name, False, [], f"expected a JSON object as response, got {type(response).__name__}"
        )
    checks: list[str] = []
    passed = True
    for expectation in request.expectations:
        value = expectation.lookup(response)
        checks.append(expectation.explain(value))
        passed = passed and expectation.check(value)
    return SmokeResult(request.name, passed, checks)


def failed(name: str, error: str) -> SmokeResult:
    """A smoke request that got no usable answer (an HTTP error, a model error, a timeout)."""
    return SmokeResult(name, False, [], error)


def all_passed(results: Sequence[SmokeResult]) -> bool:
    """True when every result passed (no smoke requests configured passes: readiness was checked)."""
    return all(result.passed for result in results)


def summary(results: Sequence[SmokeResult]) -> str:
    """One line: ``2/3 smoke requests passed; failed: one-point (outputs.0.data exists: NOT met ...)``."""
    failures = [result for result in results if not result.passed]
    text = f"{len(results) - len(failures)}/{len(results)} smoke requests passed"
    if failures:
        details = []
        for result in failures:
            reasons = [check for check in result.checks if ": NOT met" in check]
            details.append(f"{result.name} ({result.error or '; '.join(reasons)})")
        text += "; failed: " + ", ".join(details)
    return text
