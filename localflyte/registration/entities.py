"""Storing and listing versioned entities (tasks, workflows, launch plans) the way flyteadmin does.

The create path is one transaction: look for the same id, compare digests, insert. That is what makes
parallel registration of the same entity end in exactly one row and ALREADY_EXISTS for the others
(flyteadmin gets the same from its unique keys).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flyteidl.admin import common_pb2
from flyteidl.core import identifier_pb2
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from localflyte import filters
from localflyte.errors import missing_argument
from localflyte.registration.digests import different_structure, identical_structure
from localflyte.registration.repository import EntityRecord, record_from_row
from localflyte.registration.validation import require, validate_limit
from localflyte.store import Store

ENTITY_COLUMNS = {
    "project": "project",
    "domain": "domain",
    "name": "name",
    "version": "version",
    "created_at": "created_at",
}
LAUNCH_PLAN_COLUMNS = {**ENTITY_COLUMNS, "state": "COALESCE(state, 0)"}


@dataclass(frozen=True)
class NewEntity:
    """One version to register: what is stored and the structure its digest was taken over."""

    identifier: identifier_pb2.Identifier
    spec: bytes
    closure: bytes
    digest: bytes
    created_at: float
    state: int | None = None


def find(store: Store, identifier: identifier_pb2.Identifier) -> EntityRecord | None:
    row = store.query_one(
        "SELECT * FROM entities WHERE resource_type=? AND project=? AND domain=? AND name=? AND version=?",
        (identifier.resource_type, identifier.project, identifier.domain, identifier.name, identifier.version),
    )
    return record_from_row(row) if row else None


def register(
    store: Store,
    kind: str,
    entity: NewEntity,
    new_structure: Message,
    old_structure: Callable[[EntityRecord], Message],
) -> None:
    """Insert a new version, or raise FlyteAdmin's identical / different-structure error.

    ``kind`` is ``task``, ``workflow`` or ``launch plan`` (it appears in the messages); ``old_structure``
    rebuilds, from the stored record, the structure that ``new_structure`` is compared with in the diff.
    """
    identifier = entity.identifier
    with store.transaction():
        existing = find(store, identifier)
        if existing is not None:
            if existing.digest == entity.digest:
                raise identical_structure(kind)
            raise different_structure(kind, identifier.name, old_structure(existing), new_structure)
        store.execute(
            "INSERT INTO entities (resource_type, project, domain, name, version, org, digest, spec, closure, "
            "state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                identifier.resource_type,
                identifier.project,
                identifier.domain,
                identifier.name,
                identifier.version,
                identifier.org,
                entity.digest,
                entity.spec,
                entity.closure,
                entity.state,
                entity.created_at,
            ),
        )


def _sort(request: Message) -> common_pb2.Sort | None:
    return request.sort_by if request.HasField("sort_by") else None  # type: ignore[attr-defined]


def list_records(
    store: Store,
    resource_type: int,
    request: Message,
    rpc: str,
    entity: str,
    columns: dict[str, str] = ENTITY_COLUMNS,
) -> tuple[list[EntityRecord], str]:
    """``List{Tasks,Workflows,LaunchPlans}`` over a ``ResourceListRequest``: filters, sort, limit, token."""
    named = request.id  # type: ignore[attr-defined]
    if not request.HasField("id"):
        raise missing_argument("id")
    require(named.project, "project")
    require(named.domain, "domain")
    validate_limit(request.limit)  # type: ignore[attr-defined]
    where = filters.parse_filters(request.filters, columns, entity=entity)  # type: ignore[attr-defined]
    order = filters.order_by(_sort(request), columns, default="created_at DESC, seq DESC")
    limit, offset = filters.page(request.limit, request.token, rpc)  # type: ignore[attr-defined]
    conditions = ["resource_type = ?", "project = ?", "domain = ?"]
    parameters: list[object] = [resource_type, named.project, named.domain]
    if named.name:
        conditions.append("name = ?")
        parameters.append(named.name)
    rows = store.query(
        f"SELECT * FROM entities WHERE {' AND '.join(conditions)} AND ({where.sql}) ORDER BY {order} LIMIT ? OFFSET ?",
        (*parameters, *where.parameters, limit, offset),
    )
    records = [record_from_row(row) for row in rows]
    return records, filters.next_token(offset, limit, records)


def list_names(
    store: Store, resource_type: int, request: Message, rpc: str, entity: str
) -> tuple[list[tuple[str, str, str]], str]:
    """``ListUnique*Identifiers``: one (project, domain, name) per registered name."""
    project, domain = request.project, request.domain  # type: ignore[attr-defined]
    require(project, "project")
    require(domain, "domain")
    validate_limit(request.limit)  # type: ignore[attr-defined]
    columns = {**ENTITY_COLUMNS, "created_at": "MAX(created_at)", "version": "MAX(version)"}
    where = filters.parse_filters(getattr(request, "filters", ""), ENTITY_COLUMNS, entity=entity)
    order = filters.order_by(_sort(request), columns, default="name ASC")
    order = order.replace(", seq ASC", "").replace(", seq DESC", "")
    limit, offset = filters.page(request.limit, request.token, rpc)  # type: ignore[attr-defined]
    rows = store.query(
        f"SELECT project, domain, name FROM entities WHERE resource_type = ? AND project = ? AND domain = ? "
        f"AND ({where.sql}) GROUP BY project, domain, name ORDER BY {order} LIMIT ? OFFSET ?",
        (resource_type, project, domain, *where.parameters, limit, offset),
    )
    names = [(row["project"], row["domain"], row["name"]) for row in rows]
    return names, filters.next_token(offset, limit, names)


def identifier_list(
    store: Store, resource_type: int, request: common_pb2.NamedEntityIdentifierListRequest, rpc: str, entity: str
) -> common_pb2.NamedEntityIdentifierList:
    """``List{Task,Workflow,LaunchPlan}Ids``."""
    names, token = list_names(store, resource_type, request, rpc, entity)
    return common_pb2.NamedEntityIdentifierList(
        entities=[
            common_pb2.NamedEntityIdentifier(project=project, domain=domain, name=name)
            for project, domain, name in names
        ],
        token=token,
    )


def timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def urn(identifier: identifier_pb2.Identifier) -> str:
    """``project:domain:name:version``, for log lines."""
    return f"{identifier.project}:{identifier.domain}:{identifier.name}:{identifier.version}"
