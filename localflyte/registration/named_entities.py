"""Named entities (a task, workflow or launch-plan name across its versions) and their metadata:
flyteadmin ``pkg/manager/impl/named_entity_manager.go`` and ``validation/named_entity_validator.go``.
"""

from __future__ import annotations

from collections.abc import Mapping

from flyteidl.admin import common_pb2
from flyteidl.core import identifier_pb2

from localflyte import filters
from localflyte.context import AppContext
from localflyte.errors import invalid_argument, missing_argument, not_found
from localflyte.registration.repository import validate_project_and_domain
from localflyte.registration.validation import require, validate_limit, validate_named_entity_identifier
from localflyte.server import Handler

_ARCHIVABLE = {identifier_pb2.TASK, identifier_pb2.WORKFLOW, identifier_pb2.LAUNCH_PLAN}
_COLUMNS = {"name": "e.name", "state": "COALESCE(m.state, 0)", "description": "COALESCE(m.description, '')"}
_SELECT = (
    "SELECT e.project, e.domain, e.name, COALESCE(m.description, '') AS description, COALESCE(m.state, 0) AS state "
    "FROM (SELECT DISTINCT resource_type, project, domain, name FROM entities) e "
    "LEFT JOIN named_entity_metadata m ON m.resource_type = e.resource_type AND m.project = e.project "
    "AND m.domain = e.domain AND m.name = e.name "
    "WHERE e.resource_type = ? AND e.project = ? AND e.domain = ?"
)


def _validate_resource_type(resource_type: int) -> None:
    """``ValidateResourceType``."""
    if resource_type == identifier_pb2.UNSPECIFIED or resource_type not in identifier_pb2.ResourceType.values():
        raise invalid_argument("invalid value for resource_type")


class NamedEntityManager:
    """GetNamedEntity, UpdateNamedEntity and ListNamedEntities."""

    def __init__(self, context: AppContext) -> None:
        self._context = context

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "AdminService.GetNamedEntity": self.get,
            "AdminService.UpdateNamedEntity": self.update,
            "AdminService.ListNamedEntities": self.list,
        }

    def _entity(self, resource_type: int, row: object) -> common_pb2.NamedEntity:
        return common_pb2.NamedEntity(
            resource_type=resource_type,  # type: ignore[arg-type]
            id=common_pb2.NamedEntityIdentifier(project=row["project"], domain=row["domain"], name=row["name"]),  # type: ignore[index]
            metadata=common_pb2.NamedEntityMetadata(description=row["description"], state=row["state"]),  # type: ignore[index]
        )

    def get(self, request: common_pb2.NamedEntityGetRequest) -> common_pb2.NamedEntity:
        _validate_resource_type(request.resource_type)
        named = request.id
        validate_named_entity_identifier(named.project, named.domain, named.name)
        context = self._context
        validate_project_and_domain(context.store, context.settings.domains, named.project, named.domain)
        row = context.store.query_one(
            f"{_SELECT} AND e.name = ?", (request.resource_type, named.project, named.domain, named.name)
        )
        if row is None:
            kind = identifier_pb2.ResourceType.Name(request.resource_type)
            raise not_found(
                f'missing entity of type {kind} with identifier project:"{named.project}" '
                f'domain:"{named.domain}" name:"{named.name}"'
            )
        return self._entity(request.resource_type, row)

    def update(self, request: common_pb2.NamedEntityUpdateRequest) -> common_pb2.NamedEntityUpdateResponse:
        _validate_resource_type(request.resource_type)
        named = request.id
        validate_named_entity_identifier(named.project, named.domain, named.name)
        if not request.HasField("metadata"):
            raise missing_argument("metadata")
        if request.metadata.state != common_pb2.NAMED_ENTITY_ACTIVE and request.resource_type not in _ARCHIVABLE:
            kind = identifier_pb2.ResourceType.Name(request.resource_type)
            raise invalid_argument(f"Resource [{kind}] cannot have its state updated")
        context = self._context
        validate_project_and_domain(context.store, context.settings.domains, named.project, named.domain)
        context.store.execute(
            "INSERT INTO named_entity_metadata (resource_type, project, domain, name, description, state) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (resource_type, project, domain, name) "
            "DO UPDATE SET description = excluded.description, state = excluded.state",
            (request.resource_type, named.project, named.domain, named.name, request.metadata.description,
             request.metadata.state),
        )  # fmt: skip
        return common_pb2.NamedEntityUpdateResponse()

    def list(self, request: common_pb2.NamedEntityListRequest) -> common_pb2.NamedEntityList:
        require(request.project, "project")
        require(request.domain, "domain")
        _validate_resource_type(request.resource_type)
        validate_limit(request.limit)
        where = filters.parse_filters(request.filters, _COLUMNS, entity="named_entity_metadata")
        sort = request.sort_by if request.HasField("sort_by") else None
        order = filters.order_by(sort, _COLUMNS, default="e.name ASC").replace(", seq ", ", e.name ")
        limit, offset = filters.page(request.limit, request.token, "ListNamedEntities")
        rows = self._context.store.query(
            f"{_SELECT} AND ({where.sql}) ORDER BY {order} LIMIT ? OFFSET ?",
            (request.resource_type, request.project, request.domain, *where.parameters, limit, offset),
        )
        found = [self._entity(request.resource_type, row) for row in rows]
        return common_pb2.NamedEntityList(entities=found, token=filters.next_token(offset, limit, found))
