"""FlyteAdmin's list filters, sort keys and pagination tokens, as SQL.

Filter strings look like ``eq(version,v1)+value_in(phase,3;4)`` (flyteadmin
``pkg/manager/impl/util/filters.go``: ``ParseFilters``; the ``+`` joins clauses with AND, ``value_in``
takes ``;``-separated values). Each list endpoint passes the fields it allows and the column each maps
to, so a filter on an unknown field is refused instead of silently matching everything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flyteidl.admin import common_pb2

from localflyte.errors import invalid_argument

_CLAUSE = re.compile(r"^(?P<function>[a-z_]+)\((?P<field>[^,()]+),(?P<value>.*)\)$")
_OPERATORS = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_LIST_OPERATORS = {"value_in": "IN", "value_not_in": "NOT IN"}
MAX_LIMIT = 10_000
_TIMESTAMP_FIELDS = frozenset({"created_at", "updated_at", "started_at"})


@dataclass(frozen=True)
class Where:
    """A SQL condition with its parameters (``"1=1"`` when there is nothing to filter on)."""

    sql: str
    parameters: tuple[Any, ...]


def _split_clauses(expression: str) -> list[str]:
    clauses: list[str] = []
    current: list[str] = []
    depth = 0
    for character in expression:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        if character == "+" and depth == 0:
            clauses.append("".join(current))
            current = []
        else:
            current.append(character)
    clauses.append("".join(current))
    return [clause.strip() for clause in clauses if clause.strip()]


def parse_filters(expression: str, columns: Mapping[str, str], entity: str = "") -> Where:
    """Turn a FlyteAdmin filter expression into SQL over the given field → column mapping.

    ``entity`` is the primary entity (``task``, ``execution``, ...): a field may carry it as a prefix
    (``task.version``), and it names the field in the "is invalid filter" message.
    """
    conditions: list[str] = []
    parameters: list[Any] = []
    for clause in _split_clauses(expression or ""):
        match = _CLAUSE.match(clause)
        if not match:
            raise invalid_argument("invalid value for filters")
        function, field, value = match["function"], match["field"].strip(), match["value"].strip()
        if entity and field.startswith(f"{entity}."):
            field = field[len(entity) + 1 :]
        column = columns.get(field)
        if column is None:
            raise invalid_argument(f"'{entity or 'entity'}.{field}' is invalid filter")
        timestamp = field in _TIMESTAMP_FIELDS
        if function in _OPERATORS:
            conditions.append(f"{column} {_OPERATORS[function]} ?")
            parameters.append(_coerce(value, timestamp))
        elif function in _LIST_OPERATORS:
            values = [_coerce(item, timestamp) for item in value.split(";") if item != ""]
            placeholders = ",".join("?" for _ in values) or "NULL"
            conditions.append(f"{column} {_LIST_OPERATORS[function]} ({placeholders})")
            parameters.extend(values)
        elif function in ("contains", "not_like"):
            conditions.append(f"{column} {'LIKE' if function == 'contains' else 'NOT LIKE'} ?")
            parameters.append(f"%{value}%")
        else:
            raise invalid_argument(f"unrecognized filter function: {function}")
    return Where(" AND ".join(conditions) or "1=1", tuple(parameters))


def _coerce(value: str, timestamp: bool = False) -> Any:
    """Filter values arrive as text; numeric columns (phase, state) compare as numbers.

    Timestamp fields take RFC 3339 values (flyteadmin ``prepareValues``) and are stored as epoch seconds.
    """
    if timestamp:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise invalid_argument(f"Timestamp {value} must conform to RFC3339 Nano spec") from None
    return int(value) if re.fullmatch(r"-?\d+", value) else value


def order_by(sort_by: common_pb2.Sort | None, columns: Mapping[str, str], default: str) -> str:
    """An ORDER BY clause for the request's sort key (FlyteAdmin defaults to newest first)."""
    if sort_by is None or not sort_by.key:
        return default
    column = columns.get(sort_by.key)
    if column is None:
        raise invalid_argument(f"invalid sort key '{sort_by.key}'")
    direction = "ASC" if sort_by.direction == common_pb2.Sort.ASCENDING else "DESC"
    return f"{column} {direction}, seq {direction}"


def page(limit: int, token: str, rpc: str = "") -> tuple[int, int]:
    """Limit and offset from a request; FlyteAdmin's tokens are the next offset as text.

    ``rpc`` names the call in the bad-token message (``invalid pagination token x for ListTasks``).
    """
    if limit <= 0:
        raise invalid_argument("invalid value for limit")
    suffix = f" for {rpc}" if rpc else ""
    try:
        offset = int(token) if token else 0
    except ValueError:
        raise invalid_argument(f"invalid pagination token {token}{suffix}") from None
    if offset < 0:
        raise invalid_argument(f"invalid pagination token {token}{suffix}")
    return min(limit, MAX_LIMIT), offset


def next_token(offset: int, limit: int, returned: Sequence[Any]) -> str:
    """The token for the next page, empty when this page was the last."""
    return str(offset + limit) if len(returned) == limit else ""
