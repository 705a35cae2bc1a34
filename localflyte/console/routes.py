"""The console's request handling: URL → admin calls → page; the Launch form → ``CreateExecution``.

URLs follow flyteconsole's, which is what ``FlyteRemote.generate_console_url`` builds when
``console.endpoint`` points at this endpoint: ``/console/projects/<p>/domains/<d>/executions/<name>``
and ``/console/projects/<p>/domains/<d>/{launch_plan,workflow,task}/<name>/version/<v>``.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote

import grpc
from flyteidl.admin import execution_pb2, launch_plan_pb2, node_execution_pb2, task_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from localflyte.console import literals
from localflyte.console.admin import Admin, HasHandlers
from localflyte.console.execution_page import REFRESH_SECONDS, NodeView, execution_page, is_terminal
from localflyte.console.html import Html, page, path, tag
from localflyte.console.pages import (
    LaunchPlanSummary,
    domain_page,
    entity_page,
    home,
    is_active,
    launch_plan_page,
    project_page,
)  # fmt: skip
from localflyte.errors import AdminError

log = logging.getLogger(__name__)

PRINCIPAL = "localflyte-console"
_MAX_NODE_DEPTH = 4
_HTTP_STATUS = {grpc.StatusCode.NOT_FOUND: 404, grpc.StatusCode.INVALID_ARGUMENT: 400}


class Blobs(Protocol):
    """The part of localflyte's blob store the console reads (Decks)."""

    def size(self, uri: str) -> int | None: ...

    def get_bytes(self, uri: str) -> bytes: ...


@dataclass(frozen=True)
class ConsoleRequest:
    """One HTTP request, decoded: ``path`` without the query; ``form`` for a POST body."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsoleResponse:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


def _html(title: str, body: Html, status: int = 200, refresh: int | None = None) -> ConsoleResponse:
    return ConsoleResponse(status, page(title, body, refresh))


def _error_page(status: int, title: str, message: str) -> ConsoleResponse:
    return _html(title, tag("div", message, class_="error", id="error"), status)


def deck_candidates(node: node_execution_pb2.NodeExecution, attempt_output_uris: Iterable[str]) -> list[str]:
    """Where a node's Deck may be: the recorded ``deck_uri``, else ``deck.html`` beside an attempt's outputs
    (flytekit writes it to its output prefix; propeller reports it as ``deck_uri``)."""
    candidates = [node.closure.deck_uri] if node.closure.deck_uri else []
    for output_uri in [node.closure.output_uri, *attempt_output_uris]:
        if output_uri:
            candidates.append(posixpath.join(posixpath.dirname(output_uri), "deck.html"))
    return list(dict.fromkeys(candidates))


class Console:
    """Serves ``/console...``; construct with the admin handlers and the blob store."""

    def __init__(self, admin: Admin, blobs: Blobs) -> None:
        self._admin = admin
        self._blobs = blobs

    @classmethod
    def from_components(cls, components: Iterable[HasHandlers], blobs: Blobs) -> Console:
        return cls(Admin.from_components(components), blobs)

    def handle(self, request: ConsoleRequest) -> ConsoleResponse:
        segments = [unquote(part) for part in request.path.removeprefix("/console").split("/") if part]
        try:
            return self._route(request, segments)
        except AdminError as error:
            log.info("console path=%s code=%s", request.path, error.code.name)
            return _error_page(_HTTP_STATUS.get(error.code, 500), error.code.name, error.message)

    def _route(self, request: ConsoleRequest, segments: list[str]) -> ConsoleResponse:
        if request.method == "POST":
            if len(segments) == 7 and segments[4] == "launch_plans" and segments[6] == "launch":
                return self._launch(request, segments[1], segments[3], segments[5])
            return _error_page(405, "not allowed", f"nothing to POST at {request.path}")
        if not segments:
            return _html("projects", home(self._admin.projects(), self._admin.domains()))
        if segments[0] != "projects" or len(segments) == 3 or len(segments) > 9:
            return _error_page(404, "not found", f"the console has no page at {request.path}")
        if len(segments) == 2:
            return _html(segments[1], project_page(segments[1], self._admin.domains()))
        project, domain, rest = segments[1], segments[3], segments[4:]
        if segments[2] != "domains":
            return _error_page(404, "not found", f"the console has no page at {request.path}")
        if not rest:
            return self._domain(project, domain)
        if rest[0] == "launch_plans" and len(rest) == 2:
            return self._launch_plan(project, domain, rest[1], request.query.get("version", ""))
        if rest[0] in ("launch_plan", "workflow", "task") and len(rest) == 4 and rest[2] == "version":
            return self._versioned(project, domain, rest[0], rest[1], rest[3])
        if rest[0] == "executions" and len(rest) == 2:
            return self._execution(
                identifier_pb2.WorkflowExecutionIdentifier(project=project, domain=domain, name=rest[1])
            )
        if rest[0] == "executions" and len(rest) == 5 and rest[2] == "nodes" and rest[4] == "deck":
            execution = identifier_pb2.WorkflowExecutionIdentifier(project=project, domain=domain, name=rest[1])
            return self._deck(identifier_pb2.NodeExecutionIdentifier(execution_id=execution, node_id=rest[3]))
        return _error_page(404, "not found", f"the console has no page at {request.path}")

    def _domain(self, project: str, domain: str) -> ConsoleResponse:
        summaries = []
        for name in self._admin.launch_plan_names(project, domain):
            versions = self._admin.launch_plan_versions(project, domain, name)
            active = next((plan for plan in versions if is_active(plan)), None)
            summaries.append(LaunchPlanSummary(name, active, versions[0] if versions else None))
        executions = self._admin.executions(project, domain)
        return _html(f"{project} {domain}", domain_page(project, domain, summaries, executions))

    def _launch_plan(
        self,
        project: str,
        domain: str,
        name: str,
        version: str,
        error: str = "",
        values: Mapping[str, str] | None = None,
    ) -> ConsoleResponse:
        versions = self._admin.launch_plan_versions(project, domain, name)
        if not versions:
            return _error_page(404, "not found", f"no launch plan {name!r} in {project}/{domain}")
        chosen = [plan for plan in versions if plan.id.version == version] if version else []
        if version and not chosen:
            return _error_page(
                404, "not found", f"launch plan {name!r} has no version {version!r} in {project}/{domain}"
            )
        plan = (chosen or [plan for plan in versions if is_active(plan)] or versions)[0]
        body = launch_plan_page(plan, versions, error, values)
        return _html(name, body, 400 if error else 200)

    def _versioned(self, project: str, domain: str, kind: str, name: str, version: str) -> ConsoleResponse:
        if kind == "launch_plan":
            return self._launch_plan(project, domain, name, version)
        resource = identifier_pb2.TASK if kind == "task" else identifier_pb2.WORKFLOW
        identifier = identifier_pb2.Identifier(
            resource_type=resource, project=project, domain=domain, name=name, version=version
        )
        entity = self._admin.entity(identifier)
        template = (
            entity.closure.compiled_task.template
            if kind == "task"
            else entity.closure.compiled_workflow.primary.template
        )
        return _html(name, entity_page(identifier, template.interface))

    def _launch(self, request: ConsoleRequest, project: str, domain: str, name: str) -> ConsoleResponse:
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if origin and origin not in (f"http://{host}", f"https://{host}"):
            # A page on another site may not launch executions through a browser visiting this one.
            return _error_page(403, "forbidden", f"launch refused: the form came from {origin}, not {host}")
        version = request.form.get("version", "")
        identifier = identifier_pb2.Identifier(
            resource_type=identifier_pb2.LAUNCH_PLAN, project=project, domain=domain, name=name, version=version
        )
        plan = self._admin.launch_plan(identifier)
        values = {key.removeprefix("input."): text for key, text in request.form.items() if key.startswith("input.")}
        try:
            inputs = form_inputs(plan, values)
        except literals.InputError as error:
            return self._launch_plan(project, domain, name, version, str(error), values)
        metadata = execution_pb2.ExecutionMetadata(mode=execution_pb2.ExecutionMetadata.MANUAL, principal=PRINCIPAL)
        create = execution_pb2.ExecutionCreateRequest(
            project=project, domain=domain, inputs=inputs,
            spec=execution_pb2.ExecutionSpec(
                launch_plan=plan.id,
                metadata=metadata,
            ),
        )  # fmt: skip
        try:
            created = self._admin.create_execution(create)
        except AdminError as error:
            return self._launch_plan(project, domain, name, version, f"{error.code.name}: {error.message}", values)
        log.info("console launched launch_plan=%s version=%s execution=%s", name, version, created.name)
        location = path("projects", created.project, "domains", created.domain, "executions", created.name)
        return ConsoleResponse(303, b"", "text/plain", {"Location": location})

    def _nodes(self, execution: identifier_pb2.WorkflowExecutionIdentifier, parent: str, depth: int) -> list[NodeView]:
        views = []
        for node in self._admin.node_executions(execution, parent):
            attempts = tuple(self._admin.task_executions(node.id))
            children: tuple[NodeView, ...] = ()
            if node.metadata.is_parent_node and depth < _MAX_NODE_DEPTH:
                children = tuple(self._nodes(execution, node.id.node_id, depth + 1))
            has_deck = bool(attempts) and self._deck_uri(node, attempts) is not None
            views.append(NodeView(node, attempts, children, has_deck))
        return views

    def _deck_uri(
        self, node: node_execution_pb2.NodeExecution, attempts: Iterable[task_execution_pb2.TaskExecution]
    ) -> str | None:
        uris = [attempt.closure.output_uri for attempt in attempts]
        return next((uri for uri in deck_candidates(node, uris) if self._blobs.size(uri) is not None), None)

    def _execution(self, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> ConsoleResponse:
        execution = self._admin.execution(identifier)
        data = self._admin.execution_data(identifier)
        nodes = self._nodes(identifier, "", 0)
        refresh = None if is_terminal(execution) else REFRESH_SECONDS
        return _html(identifier.name, execution_page(execution, data, nodes), refresh=refresh)

    def _deck(self, identifier: node_execution_pb2.NodeExecutionIdentifier) -> ConsoleResponse:
        node = self._admin.node_execution(identifier)
        uri = self._deck_uri(node, self._admin.task_executions(identifier))
        if uri is None:
            return _error_page(
                404, "no Deck", f"node {identifier.node_id} of {identifier.execution_id.name} has no Deck"
            )
        # The Deck is the task's own HTML (with scripts): sandboxed, it cannot act as the console's origin.
        headers = {"Content-Security-Policy": "sandbox allow-scripts allow-popups"}
        return ConsoleResponse(200, self._blobs.get_bytes(uri), "text/html; charset=utf-8", headers)


def form_inputs(plan: launch_plan_pb2.LaunchPlan, values: Mapping[str, str]) -> literals_pb2.LiteralMap:
    """Typed literals for the submitted text of editable inputs; the rest keep their defaults (left out)."""
    parameters = plan.spec.default_inputs.parameters
    unknown = sorted(set(values) - set(parameters))
    if unknown:
        raise literals.InputError(f"launch plan {plan.id.name} has no input {', '.join(unknown)}")
    inputs = literals_pb2.LiteralMap()
    for name, text in values.items():
        literal_type = parameters[name].var.type
        if not literals.is_editable(literal_type):
            raise literals.InputError(f"input {name!r} of type {literals.type_name(literal_type)} keeps its default")
        inputs.literals[name].CopyFrom(literals.parse(literals.FormInput(name, literal_type, text)))
    return inputs


Route = Callable[[ConsoleRequest], ConsoleResponse]
__all__ = ["Console", "ConsoleRequest", "ConsoleResponse", "Route", "deck_candidates", "form_inputs"]
