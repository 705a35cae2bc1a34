"""Projects, domains and the version endpoint: flyteadmin ``pkg/manager/impl/project_manager.go``,
``validation/project_validator.go`` and ``gormimpl/project_repo.go``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib import metadata

from flyteidl.admin import common_pb2, project_pb2, version_pb2

from localflyte import filters
from localflyte.context import AppContext
from localflyte.errors import already_exists, invalid_argument, missing_argument, not_found
from localflyte.registration.validation import (
    MAX_PROJECT_DESCRIPTION_LENGTH,
    MAX_PROJECT_NAME_LENGTH,
    dns1123_label_errors,
    max_length,
    require,
    validate_labels,
)
from localflyte.server import Handler
from localflyte.store import Row, Store

log = logging.getLogger(__name__)

PROJECT_COLUMNS = {
    "identifier": "id",
    "name": "name",
    "description": "description",
    "state": "state",
    "created_at": "created_at",
}


def validate_project(project: project_pb2.Project) -> None:
    """``ValidateProject``."""
    require(project.id, "project_id")
    validate_labels(dict(project.labels.values))
    if errors := dns1123_label_errors(project.id):
        raise invalid_argument(f"invalid project id [{project.id}]: [{' '.join(errors)}]")
    max_length(project.name, "project_name", MAX_PROJECT_NAME_LENGTH)
    max_length(project.description, "project_description", MAX_PROJECT_DESCRIPTION_LENGTH)
    if project.domains:
        raise invalid_argument(
            "Domains are currently only set system wide. Please retry without domains included in your request."
        )


def create_project(store: Store, project: project_pb2.Project, now: float) -> None:
    """Insert a project, or ALREADY_EXISTS (the unique-key violation flyteadmin reports)."""
    with store.transaction():
        if store.query_one("SELECT 1 FROM projects WHERE id = ?", (project.id,)):
            raise already_exists(
                'value with matching already exists (duplicate key value violates unique constraint "projects_pkey")'
            )
        store.execute(
            "INSERT INTO projects (id, name, description, labels, state, org, created_at, seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM projects))",
            (project.id, project.name, project.description, project.labels.SerializeToString(), project.state,
             project.org, now),
        )  # fmt: skip


class ProjectManager:
    """RegisterProject, ListProjects, GetProject, UpdateProject, GetDomains and GetVersion."""

    def __init__(self, context: AppContext) -> None:
        self._context = context

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "AdminService.RegisterProject": self.register,
            "AdminService.ListProjects": self.list,
            "AdminService.GetProject": self.get,
            "AdminService.UpdateProject": self.update,
            "AdminService.GetDomains": self.domains,
            "AdminService.GetVersion": self.version,
        }

    def seed(self) -> None:
        """Create the configured seed projects (FlyteAdmin's single binary seeds ``flytesnacks``)."""
        for project_id in self._context.settings.seed_projects:
            if not self._context.store.query_one("SELECT 1 FROM projects WHERE id = ?", (project_id,)):
                project = project_pb2.Project(id=project_id, name=project_id, description=project_id)
                create_project(self._context.store, project, self._context.clock.now())
                log.info("seeded project=%s", project_id)

    def register(self, request: project_pb2.ProjectRegisterRequest) -> project_pb2.ProjectRegisterResponse:
        if not request.HasField("project"):
            raise missing_argument("project")
        require(request.project.name, "project_name")
        validate_project(request.project)
        create_project(self._context.store, request.project, self._context.clock.now())
        log.info("registered project=%s", request.project.id)
        return project_pb2.ProjectRegisterResponse()

    def _domains(self) -> list[project_pb2.Domain]:
        return [project_pb2.Domain(id=domain, name=domain) for domain in self._context.settings.domains]

    def _project(self, row: Row) -> project_pb2.Project:
        return project_pb2.Project(
            id=row["id"],
            name=row["name"],
            description=row["description"],
            labels=common_pb2.Labels.FromString(row["labels"] or b""),
            state=row["state"],
            org=row["org"],
            domains=self._domains(),
        )

    def _row(self, project_id: str) -> Row:
        row = self._context.store.query_one("SELECT * FROM projects WHERE id = ?", (project_id,))
        if row is None:
            raise not_found(f"project [{project_id}] not found")
        return row

    def list(self, request: project_pb2.ProjectListRequest) -> project_pb2.Projects:
        where = filters.parse_filters(request.filters, PROJECT_COLUMNS, entity="project")
        if not request.filters:
            # gormimpl/project_repo.go: without filters, archived projects are left out.
            where = filters.Where("state != ?", (project_pb2.Project.ARCHIVED,))
        sort = request.sort_by if request.HasField("sort_by") else None
        order = filters.order_by(sort, PROJECT_COLUMNS, default="id ASC")
        _, offset = filters.page(1, request.token, "ListProjects")
        limit = request.limit or -1  # flyteadmin applies no limit when it is 0
        rows = self._context.store.query(
            f"SELECT * FROM projects WHERE {where.sql} ORDER BY {order} LIMIT ? OFFSET ?",
            (*where.parameters, limit, offset),
        )
        projects = [self._project(row) for row in rows]
        token = str(offset + len(projects)) if request.limit and len(projects) == request.limit else ""
        return project_pb2.Projects(projects=projects, token=token)

    def get(self, request: project_pb2.ProjectGetRequest) -> project_pb2.Project:
        require(request.id, "project_id")
        return self._project(self._row(request.id))

    def update(self, request: project_pb2.Project) -> project_pb2.ProjectUpdateResponse:
        """``UpdateProject``: like gorm's ``Updates``, empty name/description/labels are left unchanged."""
        store = self._context.store
        with store.transaction():
            self._row(request.id)
            validate_project(request)
            store.execute("UPDATE projects SET state = ? WHERE id = ?", (request.state, request.id))
            if request.name:
                store.execute("UPDATE projects SET name = ? WHERE id = ?", (request.name, request.id))
            if request.description:
                store.execute("UPDATE projects SET description = ? WHERE id = ?", (request.description, request.id))
            if request.HasField("labels"):
                store.execute(
                    "UPDATE projects SET labels = ? WHERE id = ?", (request.labels.SerializeToString(), request.id)
                )
        log.info("updated project=%s state=%s", request.id, project_pb2.Project.ProjectState.Name(request.state))
        return project_pb2.ProjectUpdateResponse()

    def domains(self, _request: project_pb2.GetDomainRequest) -> project_pb2.GetDomainsResponse:
        return project_pb2.GetDomainsResponse(domains=self._domains())

    def version(self, _request: version_pb2.GetVersionRequest) -> version_pb2.GetVersionResponse:
        try:
            release = metadata.version("taxiway")
        except metadata.PackageNotFoundError:
            release = "dev"
        return version_pb2.GetVersionResponse(
            control_plane_version=version_pb2.Version(Build="localflyte", Version=release, BuildTime="")
        )
