"""Literal types of values and whether one type can be passed where another is expected.

A deliberately smaller version of flytepropeller's ``compiler/validators/typing.go``
(``AreTypesCastable``) and ``validators/utils.go`` (``LiteralTypeForLiteral``): simple types must match,
collections and maps compare their element types, unions accept any castable variant, blobs, schemas
and structured datasets match by kind. Where a literal's type cannot be told (an empty collection, a
generic struct), it is accepted; the Go compiler is stricter in some corner cases.
"""

from __future__ import annotations

from flyteidl.core import literals_pb2, types_pb2
from google.protobuf import text_format

SimpleType = types_pb2.SimpleType

_PRIMITIVE_TYPES = {
    "integer": SimpleType.INTEGER,
    "float_value": SimpleType.FLOAT,
    "string_value": SimpleType.STRING,
    "boolean": SimpleType.BOOLEAN,
    "datetime": SimpleType.DATETIME,
    "duration": SimpleType.DURATION,
}


def go_text(literal_type: types_pb2.LiteralType) -> str:
    """A type as Go's ``%v`` prints it (``simple:INTEGER``), for error messages."""
    return text_format.MessageToString(literal_type, as_one_line=True).replace(": ", ":")


def literal_type_for_literal(literal: literals_pb2.Literal) -> types_pb2.LiteralType | None:
    """The type of a literal value, or ``None`` when it cannot be told from the value alone."""
    kind = literal.WhichOneof("value")
    if kind == "scalar":
        return _scalar_type(literal.scalar)
    if kind == "collection":
        items = [literal_type_for_literal(item) for item in literal.collection.literals]
        if not items or any(item is None for item in items) or len({i.SerializeToString() for i in items}) != 1:  # type: ignore[union-attr]
            return None
        return types_pb2.LiteralType(collection_type=items[0])
    if kind == "map":
        values = [literal_type_for_literal(item) for item in literal.map.literals.values()]
        if not values or any(value is None for value in values) or len({v.SerializeToString() for v in values}) != 1:  # type: ignore[union-attr]
            return None
        return types_pb2.LiteralType(map_value_type=values[0])
    return None


def _scalar_type(scalar: literals_pb2.Scalar) -> types_pb2.LiteralType | None:
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        return types_pb2.LiteralType(simple=_PRIMITIVE_TYPES[scalar.primitive.WhichOneof("value")])
    if kind == "none_type":
        return types_pb2.LiteralType(simple=SimpleType.NONE)
    if kind == "blob":
        return types_pb2.LiteralType(blob=scalar.blob.metadata.type)
    if kind == "binary":
        return types_pb2.LiteralType(simple=SimpleType.BINARY)
    if kind == "error":
        return types_pb2.LiteralType(simple=SimpleType.ERROR)
    if kind == "union":
        return scalar.union.type
    return None


def are_types_castable(upstream: types_pb2.LiteralType | None, downstream: types_pb2.LiteralType) -> bool:
    """Whether a value of type ``upstream`` may bind to a variable of type ``downstream``."""
    if upstream is None:
        return True
    up_kind, down_kind = upstream.WhichOneof("type"), downstream.WhichOneof("type")
    if down_kind is None or up_kind is None:
        return True
    if down_kind == "union_type":
        if up_kind == "union_type":
            return all(
                any(are_types_castable(variant, target) for target in downstream.union_type.variants)
                for variant in upstream.union_type.variants
            )
        return any(are_types_castable(upstream, variant) for variant in downstream.union_type.variants)
    if up_kind == "union_type":
        return all(are_types_castable(variant, downstream) for variant in upstream.union_type.variants)
    if up_kind != down_kind:
        return up_kind == "simple" and upstream.simple == SimpleType.STRING and down_kind == "enum_type"
    if up_kind == "simple":
        return upstream.simple == downstream.simple
    if up_kind == "collection_type":
        return are_types_castable(upstream.collection_type, downstream.collection_type)
    if up_kind == "map_value_type":
        return are_types_castable(upstream.map_value_type, downstream.map_value_type)
    return True
