"""The execution page: phase, inputs/outputs, node executions with their task attempts, logs and Decks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flyteidl.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import literals_pb2

from localflyte.console import literals
from localflyte.console.html import Html, crumbs, join, link, path, phase_badge, table, tag
from localflyte.console.pages import execution_phase, when

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"})
REFRESH_SECONDS = 2
# Propeller's start/end nodes only move data; flyteconsole does not list them either.
_BOOKKEEPING_NODES = frozenset({"start-node", "end-node"})


@dataclass(frozen=True)
class NodeView:
    """A node execution with what the page shows beside it (gathered by the request handler)."""

    node: node_execution_pb2.NodeExecution
    attempts: tuple[task_execution_pb2.TaskExecution, ...] = ()
    children: tuple[NodeView, ...] = ()
    has_deck: bool = False


def node_phase(node: node_execution_pb2.NodeExecution) -> str:
    return core_execution_pb2.NodeExecution.Phase.Name(node.closure.phase)


def _duration(node: node_execution_pb2.NodeExecution) -> str:
    seconds = node.closure.duration.ToTimedelta().total_seconds()
    return f"{seconds:.1f}s" if seconds else ""


def _logs(attempt: task_execution_pb2.TaskExecution) -> Html:
    parts: list[Html] = [tag("span", f"attempt {attempt.id.retry_attempt}: ")]
    parts.append(phase_badge(core_execution_pb2.TaskExecution.Phase.Name(attempt.closure.phase)))
    for task_log in attempt.closure.logs:
        # file:// links are for the host's shell; a browser page cannot open them.
        if task_log.uri.startswith(("http://", "https://")):
            parts.append(join([" ", link(task_log.uri, task_log.name or "logs")]))
    return tag("div", join(parts))


def _node_rows(execution: execution_pb2.Execution, view: NodeView, depth: int) -> list[list[Html | str]]:
    node = view.node
    ident = execution.id
    label = node.metadata.spec_node_id or node.id.node_id
    links: list[Html] = [_logs(attempt) for attempt in view.attempts]
    if view.has_deck:
        deck = path("projects", ident.project, "domains", ident.domain, "executions", ident.name,
                    "nodes", node.id.node_id, "deck")  # fmt: skip
        links.append(tag("div", link(deck, "Deck")))
    # The admin proto names this field in camelCase (``executionId``), unlike the event's.
    child = node.closure.workflow_node_metadata.executionId
    if child.name:
        child_url = path("projects", child.project, "domains", child.domain, "executions", child.name)
        links.append(tag("div", join(["child execution ", link(child_url, child.name)])))
    error = tag("pre", node.closure.error.message) if node.closure.HasField("error") else Html("")
    indent = Html("&nbsp;&nbsp;" * depth)
    row: list[Html | str] = [
        join([indent, tag("code", label)]), phase_badge(node_phase(node)), when(node.closure.started_at),
        _duration(node), join([*links, error]),
    ]  # fmt: skip
    rows = [row]
    for nested in view.children:
        rows.extend(_node_rows(execution, nested, depth + 1))
    return rows


def _literal_table(literal_map: literals_pb2.LiteralMap, empty: str) -> Html:
    rows = [[tag("code", name), tag("pre", text)] for name, text in literals.render_map(literal_map)]
    return table(["name", "value"], rows, empty)


def is_terminal(execution: execution_pb2.Execution) -> bool:
    return execution_phase(execution) in TERMINAL


def execution_page(
    execution: execution_pb2.Execution,
    data: execution_pb2.WorkflowExecutionGetDataResponse,
    nodes: Sequence[NodeView],
) -> Html:
    ident = execution.id
    closure = execution.closure
    plan = execution.spec.launch_plan
    plan_url = path("projects", plan.project, "domains", plan.domain, "launch_plans", plan.name)
    summary = [
        ["phase", phase_badge(execution_phase(execution))],
        ["launch plan", join([link(plan_url, plan.name), " ", tag("code", plan.version)])],
        ["created", when(closure.created_at)],
        ["started", when(closure.started_at)],
        ["duration", f"{closure.duration.ToTimedelta().total_seconds():.1f}s" if closure.started_at.seconds else ""],
    ]
    error = Html("")
    if closure.HasField("error"):
        error = tag("div", join([tag("b", f"{closure.error.code or 'error'}: "), tag("pre", closure.error.message)]),
                    class_="error", id="error")  # fmt: skip
    elif closure.abort_cause:
        error = tag("div", f"aborted: {closure.abort_cause}", class_="error", id="error")
    outputs = _literal_table(data.full_outputs, "no outputs yet" if not is_terminal(execution) else "no outputs")
    shown = [view for view in nodes if view.node.id.node_id not in _BOOKKEEPING_NODES]
    node_rows = [row for view in shown for row in _node_rows(execution, view, 0)]
    return join([
        crumbs(("projects", "/console"), (ident.project, path("projects", ident.project)),
               (ident.domain, path("projects", ident.project, "domains", ident.domain)), (ident.name, "")),
        tag("h1", ident.name),
        table([], summary),
        error,
        tag("h2", "Inputs"), _literal_table(data.full_inputs, "no inputs"),
        tag("h2", "Outputs"), outputs,
        tag("h2", "Nodes"),
        table(["node", "phase", "started", "duration", "task attempts, logs, Decks"], node_rows, "no nodes yet"),
    ])  # fmt: skip
