"""Branch conditions over literals, as flytepropeller ``pkg/controller/nodes/branch/{evaluator,comparator}.go``.

Only primitives compare; both sides must be the same primitive type; booleans support ``EQ``/``NEQ``
only; datetimes and durations compare by whole seconds, as in propeller.
"""

from __future__ import annotations

from dataclasses import dataclass

from flyteidl.core import condition_pb2, literals_pb2, workflow_pb2

Operator = condition_pb2.ComparisonExpression.Operator


class BranchError(ValueError):
    """A malformed branch: a missing variable, a non-primitive operand or mismatched types."""


def _primitive_of(operand: condition_pb2.Operand, inputs: literals_pb2.LiteralMap, side: str) -> literals_pb2.Primitive:
    kind = operand.WhichOneof("val")
    if kind == "primitive":
        return operand.primitive
    if kind == "scalar":
        if operand.scalar.WhichOneof("value") != "primitive":
            raise BranchError(f"Only primitives can be compared. {side} is a non-primitive scalar.")
        return operand.scalar.primitive
    if kind == "var":
        if operand.var not in inputs.literals:
            raise BranchError(f"Failed to find Value for Variable [{operand.var}]")
        literal = inputs.literals[operand.var]
        if literal.WhichOneof("value") != "scalar" or literal.scalar.WhichOneof("value") != "primitive":
            raise BranchError(f"Only primitives can be compared. {side} Variable is non primitive.")
        return literal.scalar.primitive
    raise BranchError(f"{side} operand has no value")


def _comparable(primitive: literals_pb2.Primitive) -> tuple[str, object]:
    kind = primitive.WhichOneof("value")
    if kind == "datetime":
        return kind, primitive.datetime.seconds
    if kind == "duration":
        return kind, primitive.duration.seconds
    if kind is None:
        raise BranchError("primitive operand has no value")
    return kind, getattr(primitive, kind)


def evaluate_comparison(expression: condition_pb2.ComparisonExpression, inputs: literals_pb2.LiteralMap) -> bool:
    left_kind, left = _comparable(_primitive_of(expression.left_value, inputs, "LHS"))
    right_kind, right = _comparable(_primitive_of(expression.right_value, inputs, "RHS"))
    if left_kind != right_kind:
        raise BranchError(f"Comparison between different primitives types. lVal[{left_kind}]:rVal[{right_kind}]")
    operator = expression.operator
    if operator == Operator.EQ:
        return left == right
    if operator == Operator.NEQ:
        return left != right
    if left_kind == "boolean":
        raise BranchError(f"[{Operator.Name(operator)}] not defined for boolean operands.")
    if operator == Operator.GT:
        return left > right  # type: ignore[operator]
    if operator == Operator.GTE:
        return left >= right  # type: ignore[operator]
    if operator == Operator.LT:
        return left < right  # type: ignore[operator]
    if operator == Operator.LTE:
        return left <= right  # type: ignore[operator]
    raise BranchError(f"Unsupported operator [{operator}]")


def evaluate(expression: condition_pb2.BooleanExpression, inputs: literals_pb2.LiteralMap) -> bool:
    """Evaluate a branch condition against the branch node's inputs (both sides always evaluated)."""
    kind = expression.WhichOneof("expr")
    if kind == "comparison":
        return evaluate_comparison(expression.comparison, inputs)
    if kind != "conjunction":
        raise BranchError("No Comparison or Conjunction found in Branch node expression.")
    left = evaluate(expression.conjunction.left_expression, inputs)
    right = evaluate(expression.conjunction.right_expression, inputs)
    if expression.conjunction.operator == condition_pb2.ConjunctionExpression.OR:
        return left or right
    return left and right


@dataclass(frozen=True)
class BranchDecision:
    """The node a branch takes, or the user's ``else_fail`` message when none matched."""

    taken: workflow_pb2.Node | None
    failure_message: str = ""


def decide(branch: workflow_pb2.BranchNode, inputs: literals_pb2.LiteralMap) -> BranchDecision:
    """The first case whose condition holds, else the ``else`` node, else the ``error``."""
    if_else = branch.if_else
    for case in [if_else.case, *if_else.other]:
        if evaluate(case.condition, inputs):
            return BranchDecision(taken=case.then_node)
    if if_else.HasField("else_node"):
        return BranchDecision(taken=if_else.else_node)
    message = if_else.error.message if if_else.HasField("error") else "no branch condition matched and no else"
    return BranchDecision(taken=None, failure_message=message)
