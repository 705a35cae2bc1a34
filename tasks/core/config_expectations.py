"""Expectations on outputs, written in taxiway.yaml as short strings and parsed at load time.

Forms (the subject is an output name, with ``.``-separated keys or indexes into nested values)::

    accuracy >= 0.8            loss < 1.5             status == "ok"        retrained != false
    accuracy between 0.8 and 1.0                      model exists          outputs.0.data exists

``Expectation.check(value)`` decides on one already-fetched value; ``evaluate(outputs)`` first looks
the subject up in a mapping of outputs. A missing output is :data:`MISSING`, which only fails.
"""

from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class _Missing:
    """The value of a subject that is not among the outputs."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()

EXPECTATION_EXAMPLES = (
    "accuracy >= 0.8",
    "loss < 1.5",
    "model exists",
    "accuracy between 0.8 and 1.0",
    'status == "ok"',
)
_EXPECTED = "an expectation such as " + ", ".join(repr(example) for example in EXPECTATION_EXAMPLES)

_SUBJECT = r"[A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+))*"
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_EXISTS = re.compile(rf"\s*(?P<subject>{_SUBJECT})\s+exists\s*")
_BETWEEN = re.compile(rf"\s*(?P<subject>{_SUBJECT})\s+between\s+(?P<low>{_NUMBER})\s+and\s+(?P<high>{_NUMBER})\s*")
_COMPARISON = re.compile(rf"\s*(?P<subject>{_SUBJECT})\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<operand>\S.*?)\s*")


class Operator(StrEnum):
    """A comparison operator, with the words used to describe it."""

    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="
    NE = "!="

    @property
    def words(self) -> str:
        return _OPERATOR_WORDS[self]

    @property
    def is_ordering(self) -> bool:
        return self not in (Operator.EQ, Operator.NE)


_OPERATOR_WORDS = {
    Operator.GE: "at least",
    Operator.GT: "greater than",
    Operator.LE: "at most",
    Operator.LT: "less than",
    Operator.EQ: "equal to",
    Operator.NE: "not equal to",
}

Scalar = bool | int | float | str


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def _show(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, str) else repr(value)


@dataclass(frozen=True)
class Expectation(ABC):
    """An expectation on one output (the subject), e.g. ``accuracy >= 0.8``."""

    subject: tuple[str, ...]

    @property
    def subject_text(self) -> str:
        return ".".join(self.subject)

    @abstractmethod
    def check(self, value: Any) -> bool:
        """Whether ``value`` (the subject's value, or :data:`MISSING`) meets the expectation."""

    @abstractmethod
    def describe(self) -> str:
        """A human description, e.g. ``accuracy is at least 0.8``."""

    def lookup(self, outputs: Mapping[str, Any]) -> Any:
        """The subject's value in ``outputs`` (nested mappings and lists), or :data:`MISSING`."""
        current: Any = outputs
        for key in self.subject:
            if isinstance(current, Mapping) and key in current:
                current = current[key]
            elif isinstance(current, Sequence) and not isinstance(current, str) and key.isdigit():
                if int(key) >= len(current):
                    return MISSING
                current = current[int(key)]
            else:
                return MISSING
        return current

    def evaluate(self, outputs: Mapping[str, Any]) -> bool:
        """``check`` the subject's value looked up in ``outputs``."""
        return self.check(self.lookup(outputs))

    def explain(self, value: Any) -> str:
        """One line for a report: the expectation, the value seen and the verdict."""
        seen = "missing" if value is MISSING else repr(value)
        verdict = "met" if self.check(value) else "NOT met"
        return f"{self.describe()}: {verdict} ({self.subject_text} = {seen})"


@dataclass(frozen=True)
class Exists(Expectation):
    """The output is present and not null."""

    def check(self, value: Any) -> bool:
        return value is not MISSING and value is not None

    def describe(self) -> str:
        return f"{self.subject_text} exists"

    def __str__(self) -> str:
        return f"{self.subject_text} exists"


@dataclass(frozen=True)
class Comparison(Expectation):
    """``<subject> <operator> <operand>``; ordering operators compare numbers only."""

    operator: Operator
    operand: Scalar

    def check(self, value: Any) -> bool:
        left: Any
        right: Any
        if _is_number(self.operand) and _is_number(value):
            left, right = float(value), float(self.operand)
        elif type(value) is type(self.operand) and not self.operator.is_ordering:
            left, right = value, self.operand
        else:
            # A type mismatch (or a missing value) never meets an expectation, not even `!=`.
            return False
        return {
            Operator.GE: left >= right,
            Operator.GT: left > right,
            Operator.LE: left <= right,
            Operator.LT: left < right,
            Operator.EQ: left == right,
            Operator.NE: left != right,
        }[self.operator]

    def describe(self) -> str:
        return f"{self.subject_text} is {self.operator.words} {_show(self.operand)}"

    def __str__(self) -> str:
        return f"{self.subject_text} {self.operator.value} {_show(self.operand)}"


@dataclass(frozen=True)
class Between(Expectation):
    """``<subject> between <low> and <high>``, both ends included."""

    low: float
    high: float

    def check(self, value: Any) -> bool:
        return _is_number(value) and self.low <= value <= self.high

    def describe(self) -> str:
        return f"{self.subject_text} is between {_show(self.low)} and {_show(self.high)} (inclusive)"

    def __str__(self) -> str:
        return f"{self.subject_text} between {_show(self.low)} and {_show(self.high)}"


def _number(text: str) -> int | float:
    return int(text) if re.fullmatch(r"[-+]?[0-9]+", text) else float(text)


def _operand(text: str) -> Scalar:
    if re.fullmatch(_NUMBER, text):
        return _number(text)
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r'"(?:[^"\\]|\\.)*"', text):
        return str(json.loads(text))
    if re.fullmatch(r"'[^']*'", text):
        return text[1:-1]
    raise ValueError(f"expected a number, true, false or a quoted string after the operator, got {text!r}")


def parse_expectation(text: str) -> Expectation:
    """Parse one expectation string.

    :raises ValueError: with a message starting "expected", naming the accepted forms.
    """
    if match := _EXISTS.fullmatch(text):
        return Exists(tuple(match["subject"].split(".")))
    if match := _BETWEEN.fullmatch(text):
        low, high = _number(match["low"]), _number(match["high"])
        if low > high:
            raise ValueError(f"expected 'between <low> and <high>' with low <= high, got {low} > {high}")
        return Between(tuple(match["subject"].split(".")), low, high)
    if match := _COMPARISON.fullmatch(text):
        operator = Operator(match["op"])
        operand = _operand(match["operand"])
        if operator.is_ordering and not _is_number(operand):
            raise ValueError(f"expected a number after {operator.value!r}, got {match['operand']!r}")
        return Comparison(tuple(match["subject"].split(".")), operator, operand)
    raise ValueError(f"expected {_EXPECTED}")


def _validate(value: Any) -> Expectation:
    if isinstance(value, Expectation):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected {_EXPECTED} (a string)")
    return parse_expectation(value)


class _ExpectationField:
    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "description": "<output> <op> <value> (op: >= > <= < == !=), <output> between <a> and <b>, "
            "or <output> exists.",
            "examples": list(EXPECTATION_EXAMPLES),
        }


#: The pydantic field type: a string in YAML, an :class:`Expectation` in Python.
ExpectationField = Annotated[Expectation, _ExpectationField()]
