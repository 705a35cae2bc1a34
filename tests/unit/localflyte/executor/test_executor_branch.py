"""Branch conditions over literals, with propeller's comparator rules."""

from __future__ import annotations

import pytest
from flyteidl.core import condition_pb2, literals_pb2, workflow_pb2
from google.protobuf import timestamp_pb2

from localflyte.executor.branch import BranchError, decide, evaluate

pytestmark = pytest.mark.unit

Op = condition_pb2.ComparisonExpression
P = literals_pb2.Primitive


def _var(name: str) -> condition_pb2.Operand:
    return condition_pb2.Operand(var=name)


def _prim(primitive: literals_pb2.Primitive) -> condition_pb2.Operand:
    return condition_pb2.Operand(primitive=primitive)


def _compare(left: condition_pb2.Operand, op: int, right: condition_pb2.Operand) -> condition_pb2.BooleanExpression:
    return condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(operator=op, left_value=left, right_value=right)  # type: ignore[arg-type]
    )


def _and_or(
    left: condition_pb2.BooleanExpression, op: int, right: condition_pb2.BooleanExpression
) -> condition_pb2.BooleanExpression:
    return condition_pb2.BooleanExpression(
        conjunction=condition_pb2.ConjunctionExpression(operator=op, left_expression=left, right_expression=right)  # type: ignore[arg-type]
    )


def _inputs(**values: literals_pb2.Primitive) -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap(
        literals={k: literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=v)) for k, v in values.items()}
    )


INPUTS = _inputs(
    n=P(integer=12),
    x=P(float_value=0.5),
    s=P(string_value="abc"),
    flag=P(boolean=True),
    t=P(datetime=timestamp_pb2.Timestamp(seconds=100, nanos=5)),
)
AND = condition_pb2.ConjunctionExpression.AND
OR = condition_pb2.ConjunctionExpression.OR


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (_compare(_var("n"), Op.GT, _prim(P(integer=10))), True),
        (_compare(_var("n"), Op.GTE, _prim(P(integer=12))), True),
        (_compare(_var("n"), Op.LT, _prim(P(integer=12))), False),
        (_compare(_var("n"), Op.LTE, _prim(P(integer=12))), True),
        (_compare(_var("n"), Op.EQ, _var("n")), True),
        (_compare(_var("n"), Op.NEQ, _prim(P(integer=12))), False),
        (_compare(_prim(P(integer=3)), Op.LT, _var("n")), True),
        (_compare(_var("x"), Op.LT, _prim(P(float_value=1.0))), True),
        (_compare(_var("s"), Op.GT, _prim(P(string_value="abb"))), True),
        (_compare(_var("flag"), Op.EQ, _prim(P(boolean=True))), True),
        (_compare(_var("flag"), Op.NEQ, _prim(P(boolean=True))), False),
        # datetimes compare by whole seconds, as propeller does
        (_compare(_var("t"), Op.EQ, _prim(P(datetime=timestamp_pb2.Timestamp(seconds=100)))), True),
        (
            _and_or(
                _compare(_var("n"), Op.GT, _prim(P(integer=10))),
                AND,
                _compare(_var("x"), Op.GT, _prim(P(float_value=1))),
            ),
            False,
        ),
        (
            _and_or(
                _compare(_var("n"), Op.GT, _prim(P(integer=10))),
                OR,
                _compare(_var("x"), Op.GT, _prim(P(float_value=1))),
            ),
            True,
        ),
    ],
)
def test_evaluate(expression: condition_pb2.BooleanExpression, expected: bool) -> None:
    assert evaluate(expression, INPUTS) is expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (_compare(_var("missing"), Op.EQ, _prim(P(integer=1))), r"Failed to find Value for Variable \[missing\]"),
        (_compare(_var("n"), Op.EQ, _prim(P(float_value=12.0))), "different primitives types"),
        (_compare(_var("flag"), Op.GT, _prim(P(boolean=False))), r"\[GT\] not defined for boolean operands"),
        (condition_pb2.BooleanExpression(), "No Comparison or Conjunction"),
    ],
)
def test_malformed_conditions_are_errors(expression: condition_pb2.BooleanExpression, message: str) -> None:
    with pytest.raises(BranchError, match=message):
        evaluate(expression, INPUTS)


def _branch(threshold: int, with_else: bool) -> workflow_pb2.BranchNode:
    if_else = workflow_pb2.IfElseBlock(
        case=workflow_pb2.IfBlock(
            condition=_compare(_var("n"), Op.GT, _prim(P(integer=threshold))), then_node=workflow_pb2.Node(id="big")
        ),
        other=[
            workflow_pb2.IfBlock(
                condition=_compare(_var("n"), Op.GT, _prim(P(integer=threshold - 5))),
                then_node=workflow_pb2.Node(id="medium"),
            )
        ],
    )
    if with_else:
        if_else.else_node.CopyFrom(workflow_pb2.Node(id="small"))
    else:
        if_else.error.message = "n is too small"
    return workflow_pb2.BranchNode(if_else=if_else)


@pytest.mark.parametrize(
    ("threshold", "with_else", "taken"),
    [(10, True, "big"), (15, True, "medium"), (30, True, "small"), (30, False, None)],
)
def test_decide_takes_the_first_matching_case(threshold: int, with_else: bool, taken: str | None) -> None:
    decision = decide(_branch(threshold, with_else), INPUTS)
    assert (decision.taken.id if decision.taken else None) == taken
    if taken is None:
        assert decision.failure_message == "n is too small"
