"""FlyteAdmin filter expressions, sort keys and tokens (flyteadmin ``pkg/manager/impl/util/filters.go``,
``pkg/common/filters.go``, ``pkg/common/sorting.go``)."""

from __future__ import annotations

import pytest
from flyteidl.admin import common_pb2

from localflyte import filters
from localflyte.errors import AdminError

pytestmark = pytest.mark.unit
COLUMNS = {"version": "version", "phase": "phase", "name": "name", "created_at": "created_at"}


@pytest.mark.parametrize(
    ("expression", "sql", "parameters"),
    [
        ("", "1=1", ()),
        ("eq(version,v1)", "version = ?", ("v1",)),
        ("eq(task.version,v1)", "version = ?", ("v1",)),
        ("ne(phase,3)+gte(phase,1)", "phase != ? AND phase >= ?", (3, 1)),
        ("value_in(phase,3;4)", "phase IN (?,?)", (3, 4)),
        ("value_not_in(name,a;b)", "name NOT IN (?,?)", ("a", "b")),
        ("contains(name,train)", "name LIKE ?", ("%train%",)),
        ("eq(version, v2)", "version = ?", ("v2",)),
        ("gt(created_at,1970-01-01T00:01:40Z)", "created_at > ?", (100.0,)),
    ],
)
def test_parse_filters(expression: str, sql: str, parameters: tuple[object, ...]) -> None:
    where = filters.parse_filters(expression, COLUMNS, entity="task")
    assert (where.sql, where.parameters) == (sql, parameters)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("version=v1", "invalid value for filters"),
        ("eq(colour,red)", "'task.colour' is invalid filter"),
        ("like(name,x)", "unrecognized filter function: like"),
        ("gt(created_at,yesterday)", "Timestamp yesterday must conform to RFC3339 Nano spec"),
    ],
)
def test_parse_filters_rejects(expression: str, message: str) -> None:
    with pytest.raises(AdminError) as raised:
        filters.parse_filters(expression, COLUMNS, entity="task")
    assert raised.value.message == message


def test_order_by_and_sort_key() -> None:
    ascending = common_pb2.Sort(key="version", direction=common_pb2.Sort.ASCENDING)
    assert filters.order_by(ascending, COLUMNS, "created_at DESC") == "version ASC, seq ASC"
    assert filters.order_by(None, COLUMNS, "created_at DESC") == "created_at DESC"
    with pytest.raises(AdminError, match="invalid sort key 'colour'"):
        filters.order_by(common_pb2.Sort(key="colour"), COLUMNS, "x")


@pytest.mark.parametrize(
    ("limit", "token", "expected"),
    [(10, "", (10, 0)), (10, "20", (10, 20)), (50_000, "", (filters.MAX_LIMIT, 0))],
)
def test_page(limit: int, token: str, expected: tuple[int, int]) -> None:
    assert filters.page(limit, token, "ListTasks") == expected


@pytest.mark.parametrize(("limit", "token"), [(0, ""), (5, "x"), (5, "-1")])
def test_page_rejects(limit: int, token: str) -> None:
    with pytest.raises(AdminError):
        filters.page(limit, token, "ListTasks")


def test_next_token() -> None:
    assert filters.next_token(0, 2, [1, 2]) == "2"
    assert filters.next_token(2, 2, [3]) == ""
