"""Translate pydantic's validation errors into ``<file>: <dotted.key.path>: <expected>, got <value>``.

Paths use entry names instead of list indexes (``domains.staging`` rather than ``domains[1]``),
drop the tags pydantic adds for tagged unions, and unknown keys list the keys allowed there.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator, Mapping, Sequence, Sized
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from tasks.core.config_yaml import format_path, short_repr
from tasks.core.errors import ConfigProblem

#: Error type of the cross-reference check; its ctx carries ``problems``: (path, message) pairs.
CROSS_REFERENCE_ERROR = "taxiway_cross_reference"

_MESSAGES = {
    "missing": "required key is missing",
    "string_type": "expected a string (quote values such as 3.11, yes or 2024-01-01)",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
}


def problems_from_validation_error(
    error: ValidationError, raw: Mapping[str, Any], root: type[BaseModel], source: str
) -> list[ConfigProblem]:
    """One :class:`ConfigProblem` per pydantic error (cross-reference errors expand to several)."""
    problems: list[ConfigProblem] = []
    for detail in error.errors(include_url=False):
        if _is_echo_of_item_errors(detail):
            continue
        if detail["type"] == CROSS_REFERENCE_ERROR:
            ctx = detail.get("ctx") or {}
            problems.extend(ConfigProblem(source, path, message) for path, message in ctx.get("problems", ()))
            continue
        path, message = _translate(detail, raw, root)
        problems.append(ConfigProblem(source, path, message))
    return problems


def _is_echo_of_item_errors(detail: ErrorDetails) -> bool:
    """Pydantic adds "too short after validation" to a long-enough tuple whose items failed."""
    value, ctx = detail.get("input"), detail.get("ctx") or {}
    return detail["type"] == "too_short" and isinstance(value, Sized) and len(value) >= int(ctx.get("min_length", 0))


def _translate(detail: ErrorDetails, raw: Mapping[str, Any], root: type[BaseModel]) -> tuple[str, str]:
    loc = tuple(detail["loc"])
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    value = detail.get("input")
    if kind == "extra_forbidden":
        return _render_loc(loc, raw), _unknown_key_message(loc, root)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        field = str(ctx.get("discriminator", "'kind'")).strip("'")
        tags = ctx.get("expected_tags") or _union_tags(root, loc)
        if kind == "union_tag_invalid":
            message = f"expected one of {tags}, got {short_repr(ctx.get('tag'))}"
        else:
            message = f"required key is missing; expected one of {tags}"
        return _render_loc((*loc, field), raw), message
    if kind == "value_error":
        message = str(ctx.get("error", detail["msg"]))
    elif kind == "too_short":
        message = f"expected at least {ctx.get('min_length')} entry" + ("" if ctx.get("min_length") == 1 else "s")
    elif kind in ("greater_than_equal", "greater_than"):
        message = f"expected a number {'>=' if kind.endswith('equal') else '>'} {ctx.get('ge', ctx.get('gt'))}"
    else:
        message = _MESSAGES.get(kind) or detail["msg"].replace("Input should be", "expected")
    # Show the offending value when the message states an expectation and the value is small.
    if message.startswith("expected") and ", got " not in message and not isinstance(value, Mapping):
        message += f", got {short_repr(value)}"
    return _render_loc(loc, raw), message


def _render_loc(loc: Sequence[str | int], raw: Any) -> str:
    """Follow ``loc`` through the raw YAML data, naming list entries by their ``name``."""
    segments: list[str | int] = []
    cursor: Any = raw
    for element in loc:
        if element == "[key]":
            continue  # pydantic's marker for "the key itself"; the message already says "key"
        if isinstance(element, int):
            if isinstance(cursor, list) and 0 <= element < len(cursor):
                cursor = cursor[element]
                name = cursor.get("name") if isinstance(cursor, Mapping) else None
                segments.append(name if isinstance(name, str) and name else element)
            elif isinstance(cursor, Mapping) and 0 <= element < len(cursor):
                # The mapping form of a named list (`domains: {staging: {...}}`), turned into a list.
                name, cursor = list(cursor.items())[element]
                segments.append(str(name))
            else:
                segments.append(element)
                cursor = None
        elif isinstance(cursor, Mapping) and element not in cursor and cursor.get("kind") == element:
            continue  # the tag pydantic adds for a tagged union (`serving.oip.url`)
        else:
            segments.append(element)
            cursor = cursor.get(element) if isinstance(cursor, Mapping) else None
    return format_path(segments)


def _unknown_key_message(loc: Sequence[str | int], root: type[BaseModel]) -> str:
    model = _model_at(root, loc[:-1])
    if model is None:
        return "unknown key"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}allowed: {', '.join(allowed)}"


def _model_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that validates the value at ``loc``, found by walking the annotations."""
    current: Any = root
    for element in loc:
        current = _step(_unwrap(current), element)
        if current is None:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _step(annotation: Any, element: str | int) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(element))
        return field.annotation if field is not None else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (tuple, list) and isinstance(element, int) and args:
        return args[0]
    if origin in (dict, Mapping) and len(args) == 2:
        return args[1]
    if origin in (typing.Union, types.UnionType):
        for member in _union_members(annotation):
            kind = member.model_fields.get("kind")
            if kind is not None and element in typing.get_args(kind.annotation):
                return member
    return None


def _union_tags(root: type[BaseModel], loc: Sequence[str | int]) -> str:
    """The tags of the tagged union at ``loc``, e.g. ``'oip', 'sagemaker'``."""
    current: Any = root
    for element in loc:
        current = _step(_unwrap(current), element)
        if current is None:
            return "the documented kinds"
    tags = [
        repr(tag)
        for member in _union_members(_unwrap(current))
        if (kind := member.model_fields.get("kind")) is not None
        for tag in typing.get_args(kind.annotation)
    ]
    return ", ".join(tags) or "the documented kinds"


def _union_members(annotation: Any) -> Iterator[type[BaseModel]]:
    for arg in typing.get_args(annotation):
        arg = _unwrap(arg)
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            yield arg
