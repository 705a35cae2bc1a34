"""Flyte literals as text for the console, and the few input types a person can type into a form.

Rendering is total: every ``Literal`` shape becomes some text (an unknown one says so) because a
page that fails on one odd output would hide all the others.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from flyteidl.core import literals_pb2, types_pb2
from google.protobuf import json_format

_SIMPLE_NAMES = {
    types_pb2.NONE: "none", types_pb2.INTEGER: "int", types_pb2.FLOAT: "float", types_pb2.STRING: "str",
    types_pb2.BOOLEAN: "bool", types_pb2.DATETIME: "datetime", types_pb2.DURATION: "timedelta",
    types_pb2.BINARY: "binary", types_pb2.ERROR: "error", types_pb2.STRUCT: "struct",
}  # fmt: skip
EDITABLE = (types_pb2.INTEGER, types_pb2.FLOAT, types_pb2.STRING, types_pb2.BOOLEAN)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class InputError(ValueError):
    """A value typed into the launch form that does not fit the input's type."""


def type_name(literal_type: types_pb2.LiteralType) -> str:
    """A short Python-like name of a Flyte type (``int``, ``list[str]``, ``dict[str, float]``, ``blob``)."""
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        return _SIMPLE_NAMES.get(literal_type.simple, "simple")
    if kind == "collection_type":
        return f"list[{type_name(literal_type.collection_type)}]"
    if kind == "map_value_type":
        return f"dict[str, {type_name(literal_type.map_value_type)}]"
    if kind == "enum_type":
        return "enum(" + ", ".join(literal_type.enum_type.values) + ")"
    if kind == "union_type":
        return " | ".join(type_name(variant) for variant in literal_type.union_type.variants)
    if kind == "structured_dataset_type":
        return "structured dataset"
    return kind or "unknown"


def _primitive(primitive: literals_pb2.Primitive) -> str:
    kind = primitive.WhichOneof("value")
    if kind == "integer":
        return str(primitive.integer)
    if kind == "float_value":
        return repr(primitive.float_value)
    if kind == "string_value":
        return primitive.string_value
    if kind == "boolean":
        return "true" if primitive.boolean else "false"
    if kind == "datetime":
        return primitive.datetime.ToJsonString()
    if kind == "duration":
        return primitive.duration.ToJsonString()
    return ""


def _scalar(scalar: literals_pb2.Scalar) -> str:
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        return _primitive(scalar.primitive)
    if kind == "none_type":
        return "None"
    if kind == "blob":
        return f"blob {scalar.blob.uri}"
    if kind == "structured_dataset":
        return f"structured dataset {scalar.structured_dataset.uri}"
    if kind == "schema":
        return f"schema {scalar.schema.uri}"
    if kind == "generic":
        return json.dumps(json_format.MessageToDict(scalar.generic), sort_keys=True)
    if kind == "union":
        return render(scalar.union.value)
    if kind == "error":
        return f"error in {scalar.error.failed_node_id}: {scalar.error.message}"
    if kind == "binary":
        tag = f" ({scalar.binary.tag})" if scalar.binary.tag else ""
        return f"<{len(scalar.binary.value)} bytes{tag}>"
    return f"<unknown scalar {kind}>"


def render(literal: literals_pb2.Literal) -> str:
    """One line (or a few) of text for a literal; collections and maps render like Python's repr."""
    kind = literal.WhichOneof("value")
    if kind == "scalar":
        return _scalar(literal.scalar)
    if kind == "collection":
        return "[" + ", ".join(_nested(item) for item in literal.collection.literals) + "]"
    if kind == "map":
        return (
            "{" + ", ".join(f"{key!r}: {_nested(value)}" for key, value in sorted(literal.map.literals.items())) + "}"
        )
    if kind == "offloaded_metadata":
        return f"offloaded {literal.offloaded_metadata.uri} ({literal.offloaded_metadata.size_bytes} bytes)"
    return "<empty>"


def _nested(literal: literals_pb2.Literal) -> str:
    # Strings inside a list or map are quoted so that ["a, b"] and ["a", "b"] read differently.
    if literal.scalar.primitive.WhichOneof("value") == "string_value":
        return repr(literal.scalar.primitive.string_value)
    return render(literal)


def render_map(literal_map: literals_pb2.LiteralMap) -> list[tuple[str, str]]:
    """``(name, text)`` per entry, sorted by name."""
    return [(name, render(value)) for name, value in sorted(literal_map.literals.items())]


def is_editable(literal_type: types_pb2.LiteralType) -> bool:
    """int / float / str / bool and enums are typed into a text box; the rest keep their defaults."""
    kind = literal_type.WhichOneof("type")
    return (kind == "simple" and literal_type.simple in EDITABLE) or kind == "enum_type"


def form_text(literal: literals_pb2.Literal | None) -> str:
    """What a text box shows for a default value (empty when there is none)."""
    if literal is None or literal.scalar.WhichOneof("value") != "primitive":
        return ""
    return _primitive(literal.scalar.primitive)


@dataclass(frozen=True)
class FormInput:
    """One launch-form field: an input's name, type and the text submitted for it."""

    name: str
    literal_type: types_pb2.LiteralType
    text: str


def parse(field: FormInput) -> literals_pb2.Literal:
    """The literal for a typed value; :class:`InputError` names the input and what it expects."""
    text = field.text.strip()
    literal_type = field.literal_type
    if literal_type.WhichOneof("type") == "enum_type":
        if text not in literal_type.enum_type.values:
            allowed = ", ".join(literal_type.enum_type.values)
            raise InputError(f"input {field.name!r}: {text!r} is not one of {allowed}")
        return _literal(literals_pb2.Primitive(string_value=text))
    simple = literal_type.simple
    if simple == types_pb2.STRING:
        return _literal(literals_pb2.Primitive(string_value=field.text))
    if simple == types_pb2.INTEGER:
        try:
            return _literal(literals_pb2.Primitive(integer=int(text)))
        except ValueError:
            raise InputError(f"input {field.name!r} expects an integer, got {text!r}") from None
    if simple == types_pb2.FLOAT:
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"input {field.name!r} expects a number, got {text!r}") from None
        if not math.isfinite(value):
            raise InputError(f"input {field.name!r} expects a finite number, got {text!r}")
        return _literal(literals_pb2.Primitive(float_value=value))
    if simple == types_pb2.BOOLEAN:
        if text.lower() in _TRUE | _FALSE:
            return _literal(literals_pb2.Primitive(boolean=text.lower() in _TRUE))
        raise InputError(f"input {field.name!r} expects true or false, got {text!r}")
    raise InputError(f"input {field.name!r} of type {type_name(literal_type)} cannot be typed into the form")


def _literal(primitive: literals_pb2.Primitive) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=primitive))
