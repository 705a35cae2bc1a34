"""FlyteAdmin's phase-transition rules and input checks, as pure functions.

Mirrors ``flyteadmin/pkg/manager/impl/execution_manager.go`` (CreateWorkflowEvent),
``node_execution_manager.go``, ``task_execution_manager.go`` and ``validation/execution_validator.go``.
"""

from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import matchable_resource_pb2
from flyteidl.core import interface_pb2, literals_pb2, types_pb2

from localflyte.errors import AdminError
from localflyte.execution import phases
from localflyte.execution.config import merge_into
from localflyte.execution.inputs import check_and_fetch_inputs

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("current", "new", "code"),
    [
        ("UNDEFINED", "QUEUED", None),
        ("QUEUED", "QUEUED", None),  # re-announced on cluster reassignment
        ("QUEUED", "RUNNING", None),
        ("RUNNING", "SUCCEEDED", None),
        ("RUNNING", "RUNNING", grpc.StatusCode.ALREADY_EXISTS),
        ("RUNNING", "QUEUED", grpc.StatusCode.FAILED_PRECONDITION),
        ("SUCCEEDED", "RUNNING", grpc.StatusCode.FAILED_PRECONDITION),
        ("ABORTING", "RUNNING", grpc.StatusCode.FAILED_PRECONDITION),
        ("ABORTING", "ABORTED", None),
    ],
)
def test_workflow_transitions(current: str, new: str, code: grpc.StatusCode | None) -> None:
    if code is None:
        phases.check_workflow_transition(current, new, "e")
        return
    with pytest.raises(AdminError) as raised:
        phases.check_workflow_transition(current, new, "e")
    assert raised.value.code == code


def test_terminal_refusal_carries_the_failure_reason() -> None:
    with pytest.raises(phases.TerminalStateError) as raised:
        phases.check_workflow_transition("FAILED", "SUCCEEDED", "e")
    assert raised.value.details.already_in_terminal_state.current_phase == "FAILED"


@pytest.mark.parametrize(
    ("current", "new", "code"),
    [
        ("QUEUED", "RUNNING", None),
        ("RUNNING", "RUNNING", grpc.StatusCode.ALREADY_EXISTS),
        ("SKIPPED", "RUNNING", grpc.StatusCode.FAILED_PRECONDITION),
        ("RECOVERED", "SUCCEEDED", grpc.StatusCode.FAILED_PRECONDITION),
    ],
)
def test_node_transitions(current: str, new: str, code: grpc.StatusCode | None) -> None:
    if code is None:
        phases.check_node_transition(current, new, "n")
        return
    with pytest.raises(AdminError) as raised:
        phases.check_node_transition(current, new, "n")
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("current", "version", "new", "new_version", "code"),
    [
        ("RUNNING", 0, "RUNNING", 1, None),
        ("RUNNING", 1, "RUNNING", 1, grpc.StatusCode.ALREADY_EXISTS),
        ("FAILED", 0, "RUNNING", 0, grpc.StatusCode.FAILED_PRECONDITION),
        ("QUEUED", 0, "SUCCEEDED", 0, None),
    ],
)
def test_task_transitions(current: str, version: int, new: str, new_version: int, code: grpc.StatusCode | None) -> None:
    if code is None:
        phases.check_task_transition(current, version, new, new_version, "t")
        return
    with pytest.raises(AdminError) as raised:
        phases.check_task_transition(current, version, new, new_version, "t")
    assert raised.value.code == code


def _int(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def _expected(**required: bool) -> interface_pb2.ParameterMap:
    integer = types_pb2.LiteralType(simple=types_pb2.SimpleType.INTEGER)
    return interface_pb2.ParameterMap(
        parameters={
            name: interface_pb2.Parameter(
                var=interface_pb2.Variable(type=integer), required=is_required, default=_int(9)
            )
            for name, is_required in required.items()
        }
    )


def test_fixed_input_that_is_also_expected_cannot_be_overridden() -> None:
    """execution_validator.go: 'fixed_inputs %s cannot be overridden'."""
    with pytest.raises(AdminError, match="fixed_inputs b cannot be overridden"):
        check_and_fetch_inputs(
            literals_pb2.LiteralMap(literals={"b": _int(1)}),
            literals_pb2.LiteralMap(literals={"b": _int(2)}),
            _expected(b=False),
        )


def test_defaults_fill_optional_inputs() -> None:
    inputs = check_and_fetch_inputs(literals_pb2.LiteralMap(literals={"a": _int(1)}), literals_pb2.LiteralMap(),
                                    _expected(a=True, b=False))  # fmt: skip
    assert inputs.literals["b"].scalar.primitive.integer == 9


def test_merge_only_fills_unset_fields() -> None:
    """util/shared.go MergeIntoExecConfig: higher priority values are never replaced."""
    config = matchable_resource_pb2.WorkflowExecutionConfig(max_parallelism=3)
    lower = matchable_resource_pb2.WorkflowExecutionConfig(max_parallelism=7, overwrite_cache=True)
    lower.raw_output_data_config.output_location_prefix = "s3://raw"
    lower.security_context.run_as.k8s_service_account = "sa"
    merge_into(config, lower)
    assert config.max_parallelism == 3
    assert config.overwrite_cache
    assert config.raw_output_data_config.output_location_prefix == "s3://raw"
    assert config.security_context.run_as.k8s_service_account == "sa"
