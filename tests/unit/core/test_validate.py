"""Validation: deterministic names, expectations over outputs, timeouts and reuse of executions."""

from __future__ import annotations

import re

import pytest
from flyteidl.core import literals_pb2
from google.protobuf import struct_pb2

from tasks.core.promote_names import (
    EXECUTION_NAME,
    label_value,
    promotion_execution_name,
    validation_execution_name,
)
from tasks.core.promote_outputs import literal_to_python, with_single_output_alias
from tasks.core.validate import ValidationRequest, check_expectations, inspect_validation, run_validation
from tasks.core.vocabulary import LabelKey, Phase, Verdict
from tests.unit.core.promote_fakes import FakeExecutions, config

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("version", "case"),
    [
        ("0123456789ab", "smoke"),
        ("pr12-0123456789ab", "accuracy_gate"),
        ("V" * 80, "x" * 80),
        ("1.2.3+build", "Case With Spaces"),
    ],
)
def test_validation_names_are_deterministic_and_valid(version: str, case: str) -> None:
    first = validation_execution_name("tiny", version, case, "lp", {"a": 1, "b": [1, 2]})
    again = validation_execution_name("tiny", version, case, "lp", {"b": [1, 2], "a": 1})
    assert first == again
    assert len(first) <= 63 and EXECUTION_NAME.match(first), first
    assert first.startswith("val-")
    assert validation_execution_name("tiny", version, case, "lp", {"a": 2, "b": [1, 2]}) != first
    assert validation_execution_name("tiny", version, case, "lp", {"a": 1, "b": [1, 2]}, attempt=1) != first


def test_promotion_names_differ_per_domain_and_version() -> None:
    names = {promotion_execution_name("tiny", v, d) for v in ("a1", "b2") for d in ("staging", "production")}
    assert len(names) == 4
    assert all(re.fullmatch(r"promote-[a-z0-9-]+", name) and len(name) <= 63 for name in names)
    assert promotion_execution_name("tiny", "a1", "staging") == promotion_execution_name("tiny", "a1", "staging")


def test_label_values_are_kubernetes_safe() -> None:
    assert label_value("accuracy_gate") == "accuracy_gate"
    assert label_value("-weird value!-") == "weird-value"
    assert len(label_value("x" * 100)) == 63


def _msgpack_literal(value: object) -> literals_pb2.Literal:
    import msgpack

    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(binary=literals_pb2.Binary(value=msgpack.packb(value), tag="msgpack"))
    )


def test_dataclass_outputs_become_dicts_whose_fields_expectations_reach() -> None:
    struct = struct_pb2.Struct()
    struct.update({"accuracy": 0.91, "loss": 0.2})
    outputs = {
        "metrics": literal_to_python(literals_pb2.Literal(scalar=literals_pb2.Scalar(generic=struct))),
        "o0": literal_to_python(_msgpack_literal({"accuracy": 0.5})),
    }
    assert outputs["metrics"] == {"accuracy": 0.91, "loss": 0.2}
    assert outputs["o0"] == {"accuracy": 0.5}
    case = config().validation[1]  # metrics.accuracy >= 0.8
    (check,) = check_expectations(case, outputs)
    assert check.passed and check.value == "0.91"
    (low,) = check_expectations(case, {"metrics": {"accuracy": 0.5}})
    assert not low.passed and low.expectation == "metrics.accuracy >= 0.8"
    (missing,) = check_expectations(case, {})
    assert not missing.passed and missing.value == "missing"


def test_a_sole_dataclass_output_is_reachable_by_its_fields() -> None:
    assert with_single_output_alias({"o0": {"accuracy": 0.9}})["accuracy"] == 0.9
    assert "accuracy" not in with_single_output_alias({"o0": {"accuracy": 0.9}, "o1": 1})


def _request(domain: str = "staging", version: str = "aaaaaaaaaaaa") -> ValidationRequest:
    cfg = config()
    return ValidationRequest(cfg.pipeline, cfg.project, version, domain, cfg.validations_in(domain))


def test_passing_validation_reports_every_case_with_labels_and_links() -> None:
    executions = FakeExecutions(
        {
            "tinypkg.flows.hello": (Phase.SUCCEEDED, {"o0": "hello ci"}),
            "tinypkg.flows.score": (Phase.SUCCEEDED, {"metrics": {"accuracy": 0.85}}),
        }
    )
    report = run_validation(_request(), executions, sleep=lambda _: None)
    assert report.verdict is Verdict.PASSED
    assert [case.case for case in report.cases] == ["smoke", "quality"]
    assert all(case.console_url.startswith("http://console/val-") for case in report.cases)
    request, _ = executions.executions[report.cases[0].execution_id]
    assert request.labels[LabelKey.VALIDATION.value] == "smoke"
    assert request.labels[LabelKey.RELEASE_VERSION.value] == "aaaaaaaaaaaa"
    assert request.labels[LabelKey.DOMAIN.value] == "staging"
    # A re-run reuses the executions: nothing new is launched.
    again = run_validation(_request(), executions, sleep=lambda _: None)
    assert executions.launches == 2 and all(case.reused for case in again.cases)
    assert again.verdict is Verdict.PASSED


def test_unmet_expectation_and_failed_execution_fail_the_verdict() -> None:
    executions = FakeExecutions(
        {
            "tinypkg.flows.hello": (Phase.FAILED, {}),
            "tinypkg.flows.score": (Phase.SUCCEEDED, {"metrics": {"accuracy": 0.1}}),
        }
    )
    report = run_validation(_request(), executions, sleep=lambda _: None)
    assert report.verdict is Verdict.FAILED
    failures = report.failures()
    assert "execution FAILED" in failures[0]
    assert "not met: metrics.accuracy >= 0.8" in failures[1]


def test_a_case_past_its_timeout_is_terminated_and_timed_out() -> None:
    executions = FakeExecutions({"tinypkg.flows.hello": (Phase.RUNNING, {})})
    ticks = iter(range(0, 1000, 3))
    report = run_validation(_request("development"), executions, clock=lambda: float(next(ticks)), sleep=lambda _: None)
    (case,) = report.cases
    assert case.phase is Phase.TIMED_OUT and case.verdict is Verdict.FAILED
    assert executions.terminated == [case.execution_id]


def test_missing_launch_plan_is_a_failed_case_not_a_crash() -> None:
    report = run_validation(_request("development"), FakeExecutions({}), sleep=lambda _: None)
    assert report.verdict is Verdict.FAILED
    assert "not registered" in report.cases[0].error


def test_inspect_reads_back_without_launching() -> None:
    executions = FakeExecutions({"tinypkg.flows.hello": (Phase.SUCCEEDED, {"o0": "hello ci"})})
    assert inspect_validation(_request("development"), executions) is None
    run_validation(_request("development"), executions, sleep=lambda _: None)
    report = inspect_validation(_request("development"), executions)
    assert report is not None and report.passed and executions.launches == 1
