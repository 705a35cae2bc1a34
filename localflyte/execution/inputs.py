"""Execution inputs: ``validation.CheckAndFetchInputsForExecution`` and a literal type check.

The type check is a conservative port of propeller's ``validators.LiteralTypeForLiteral`` /
``AreTypesCastable`` (``flytepropeller/pkg/compiler/validators/typing.go``): it refuses what is
certainly wrong (a string for an integer, a list for a scalar, ...) and accepts shapes it cannot
judge (structured datasets, generics, unions of complex types) rather than refuse valid input.
"""

from __future__ import annotations

from flyteidl.core import interface_pb2, literals_pb2, types_pb2
from google.protobuf import text_format

from localflyte.errors import invalid_argument

SimpleType = types_pb2.SimpleType
_PRIMITIVE_TO_SIMPLE = {
    "integer": SimpleType.INTEGER,
    "float_value": SimpleType.FLOAT,
    "string_value": SimpleType.STRING,
    "boolean": SimpleType.BOOLEAN,
    "datetime": SimpleType.DATETIME,
    "duration": SimpleType.DURATION,
}


def literal_type_for(literal: literals_pb2.Literal) -> types_pb2.LiteralType | None:
    """The type a literal carries, or None when it cannot be told from the value alone."""
    kind = literal.WhichOneof("value")
    if kind == "scalar":
        scalar = literal.scalar
        scalar_kind = scalar.WhichOneof("value")
        if scalar_kind == "primitive":
            primitive_kind = scalar.primitive.WhichOneof("value")
            simple = _PRIMITIVE_TO_SIMPLE.get(primitive_kind or "")
            return types_pb2.LiteralType(simple=simple) if simple is not None else None
        if scalar_kind == "none_type":
            return types_pb2.LiteralType(simple=SimpleType.NONE)
        if scalar_kind == "generic":
            return types_pb2.LiteralType(simple=SimpleType.STRUCT)
        if scalar_kind == "blob":
            return types_pb2.LiteralType(blob=scalar.blob.metadata.type)
        return None
    if kind == "collection":
        items = [literal_type_for(item) for item in literal.collection.literals]
        known = [item for item in items if item is not None]
        if len(known) != len(items) or not known:
            return None
        return types_pb2.LiteralType(collection_type=known[0])
    if kind == "map":
        values = [literal_type_for(value) for value in literal.map.literals.values()]
        known = [value for value in values if value is not None]
        if len(known) != len(values) or not known:
            return None
        return types_pb2.LiteralType(map_value_type=known[0])
    return None


def is_castable(source: types_pb2.LiteralType | None, target: types_pb2.LiteralType) -> bool:
    """Whether a value of ``source`` type may bind to ``target``; unknown shapes are accepted."""
    if source is None:
        return True
    target_kind = target.WhichOneof("type")
    source_kind = source.WhichOneof("type")
    if target_kind == "union_type":
        return any(is_castable(source, variant) for variant in target.union_type.variants) or source_kind is None
    if target_kind == "enum_type":
        return source_kind == "simple" and source.simple == SimpleType.STRING
    if target_kind == "simple":
        if target.simple in (SimpleType.STRUCT, SimpleType.BINARY, SimpleType.ERROR, SimpleType.NONE):
            return source_kind == "simple" and source.simple in (target.simple, SimpleType.NONE, SimpleType.STRUCT)
        return source_kind == "simple" and source.simple == target.simple
    if target_kind == "collection_type":
        return source_kind == "collection_type" and is_castable(source.collection_type, target.collection_type)
    if target_kind == "map_value_type":
        return source_kind == "map_value_type" and is_castable(source.map_value_type, target.map_value_type)
    if target_kind == "blob":
        return source_kind == "blob" and (
            not target.blob.format or not source.blob.format or target.blob.format == source.blob.format
        )
    # structured datasets, schemas and other complex targets: accepted, the task will judge.
    return source_kind != "simple" or source.simple in (SimpleType.STRUCT, SimpleType.NONE)


def _text(message: types_pb2.LiteralType | None) -> str:
    return "<nil>" if message is None else text_format.MessageToString(message, as_one_line=True)


def check_and_fetch_inputs(
    user_inputs: literals_pb2.LiteralMap,
    fixed_inputs: literals_pb2.LiteralMap,
    expected_inputs: interface_pb2.ParameterMap,
) -> literals_pb2.LiteralMap:
    """The execution's inputs: user inputs, defaults for omitted optional ones, then fixed inputs."""
    expected = expected_inputs.parameters
    execution_inputs: dict[str, literals_pb2.Literal] = {}
    for name, value in user_inputs.literals.items():
        if name not in expected:
            raise invalid_argument(f"invalid input {name}")
        execution_inputs[name] = value
    for name, parameter in expected.items():
        if name not in execution_inputs:
            if parameter.required:
                raise invalid_argument(f"expected_inputs {name} missing")
            execution_inputs[name] = parameter.default
            continue
        given = literal_type_for(execution_inputs[name])
        if not is_castable(given, parameter.var.type):
            raise invalid_argument(
                f"invalid {name} input wrong type. Expected {_text(parameter.var.type)}, but got {_text(given)}"
            )
    for name, value in fixed_inputs.literals.items():
        if name in execution_inputs:
            raise invalid_argument(f"fixed_inputs {name} cannot be overridden")
        execution_inputs[name] = value
    return literals_pb2.LiteralMap(literals=execution_inputs)
