"""A light workflow compiler: references resolved, start/end nodes added, connections computed.

It mirrors what flytepropeller's compiler (``flytepropeller/pkg/compiler/requirements.go`` and
``workflow_compiler.go``) puts into a ``CompiledWorkflowClosure``: every referenced task, sub-workflow
and launch plan must be known; the primary and sub-workflow templates gain the ``start-node`` and
``end-node``; ``connections`` hold upstream/downstream edges from ``upstream_node_ids`` and from the
promise bindings of node inputs. Type checking of bindings is not done (the Go compiler does it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from flyteidl.core import compiler_pb2, identifier_pb2, literals_pb2, tasks_pb2, workflow_pb2

from localflyte.registration.validation import go_text

START_NODE = "start-node"
END_NODE = "end-node"

IdentifierKey = tuple[str, str, str, str]


class CompileError(Exception):
    """A workflow that does not compile; the message lists the errors like the Go compiler's."""

    def __init__(self, errors: list[str]) -> None:
        lines = "".join(f"\tError {index}: {error}\n" for index, error in enumerate(errors))
        super().__init__(f"Collected Errors: {len(errors)}\n{lines}")
        self.errors = errors


def key(identifier: identifier_pb2.Identifier) -> IdentifierKey:
    return (identifier.project, identifier.domain, identifier.name, identifier.version)


@dataclass
class Requirements:
    """``WorkflowExecutionRequirements``: what the workflow needs registered, in first-seen order."""

    task_ids: list[identifier_pb2.Identifier] = field(default_factory=list)
    launch_plan_ids: list[identifier_pb2.Identifier] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, target: list[identifier_pb2.Identifier], identifier: identifier_pb2.Identifier) -> None:
        if all(key(existing) != key(identifier) for existing in target):
            target.append(identifier)


def _child_nodes(node: workflow_pb2.Node) -> Iterator[workflow_pb2.Node]:
    kind = node.WhichOneof("target")
    if kind == "branch_node":
        if_else = node.branch_node.if_else
        yield if_else.case.then_node
        for case in if_else.other:
            yield case.then_node
        if if_else.HasField("else_node"):
            yield if_else.else_node
    elif kind == "array_node":
        yield node.array_node.node


def requirements(
    template: workflow_pb2.WorkflowTemplate, sub_workflows: Iterable[workflow_pb2.WorkflowTemplate]
) -> Requirements:
    """``GetRequirements``: task and launch-plan ids, following sub-workflow references."""
    index = {key(sub.id): sub for sub in sub_workflows}
    found = Requirements()
    visited: set[IdentifierKey] = set()

    def visit_node(node: workflow_pb2.Node) -> None:
        kind = node.WhichOneof("target")
        if kind == "task_node" and node.task_node.HasField("reference_id"):
            found.add(found.task_ids, node.task_node.reference_id)
        elif kind == "workflow_node":
            reference = node.workflow_node.WhichOneof("reference")
            if reference == "launchplan_ref":
                found.add(found.launch_plan_ids, node.workflow_node.launchplan_ref)
            elif reference == "sub_workflow_ref":
                sub_id = node.workflow_node.sub_workflow_ref
                sub = index.get(key(sub_id))
                if sub is None:
                    found.errors.append(
                        f"Code: WorkflowReferenceNotFound, Node Id: {node.id}, "
                        f"Description: Referenced Workflow [{go_text(sub_id)}] not found."
                    )
                elif key(sub_id) not in visited:
                    visited.add(key(sub_id))
                    visit_workflow(sub)
        for child in _child_nodes(node):
            visit_node(child)

    def visit_workflow(workflow: workflow_pb2.WorkflowTemplate) -> None:
        for node in workflow.nodes:
            visit_node(node)
        if workflow.HasField("failure_node"):
            visit_node(workflow.failure_node)

    visit_workflow(template)
    return found


def _promise_nodes(binding: literals_pb2.BindingData) -> Iterator[str]:
    kind = binding.WhichOneof("value")
    if kind == "promise":
        yield binding.promise.node_id or START_NODE
    elif kind == "collection":
        for item in binding.collection.bindings:
            yield from _promise_nodes(item)
    elif kind == "map":
        for item in binding.map.bindings.values():
            yield from _promise_nodes(item)


class _Graph:
    def __init__(self) -> None:
        self.upstream: dict[str, set[str]] = {}
        self.downstream: dict[str, set[str]] = {}

    def edge(self, provider: str, dependent: str) -> None:
        provider = provider or START_NODE
        self.downstream.setdefault(provider, set()).add(dependent)
        self.upstream.setdefault(dependent, set()).add(provider)

    def connections(self) -> compiler_pb2.ConnectionSet:
        result = compiler_pb2.ConnectionSet()
        for node, ids in self.upstream.items():
            result.upstream[node].ids.extend(sorted(ids))
        for node, ids in self.downstream.items():
            result.downstream[node].ids.extend(sorted(ids))
        return result


def compile_template(template: workflow_pb2.WorkflowTemplate) -> compiler_pb2.CompiledWorkflow:
    """``ValidateWorkflow``: add start/end nodes and compute the connections of one workflow template."""
    if not template.nodes:
        raise CompileError(
            [f"Code: NoNodesFound, Node Id: {go_text(template.id)}, "
             f"Description: Can't find any nodes in workflow [{go_text(template.id)}]."]
        )  # fmt: skip
    compiled = workflow_pb2.WorkflowTemplate()
    compiled.CopyFrom(template)
    del compiled.nodes[:]
    compiled.nodes.add(id=START_NODE)
    end = compiled.nodes.add(id=END_NODE)
    end.inputs.extend(template.outputs)
    compiled.nodes.extend(template.nodes)

    graph = _Graph()
    known = {node.id for node in template.nodes} | {START_NODE}
    errors: list[str] = []
    user_nodes = sorted(template.nodes, key=lambda node: node.id)
    for node in [*user_nodes, end]:
        for upstream in node.upstream_node_ids:
            graph.edge(upstream, node.id)
        for binding in node.inputs:
            for provider in _promise_nodes(binding.binding):
                if provider not in known:
                    errors.append(
                        f"Code: NodeReferenceNotFound, Node Id: {node.id}, "
                        f"Description: Referenced node [{provider}] not found."
                    )
                graph.edge(provider, node.id)
    if errors:
        raise CompileError(errors)
    for node in user_nodes:
        if node.id not in graph.upstream:
            graph.edge(START_NODE, node.id)
        if node.id not in graph.downstream:
            graph.edge(node.id, END_NODE)
    return compiler_pb2.CompiledWorkflow(template=compiled, connections=graph.connections())


def compile_workflow(
    template: workflow_pb2.WorkflowTemplate,
    sub_workflows: Iterable[workflow_pb2.WorkflowTemplate],
    tasks: Iterable[tasks_pb2.TaskTemplate],
) -> compiler_pb2.CompiledWorkflowClosure:
    """``CompileWorkflow``: the closure FlyteAdmin stores and returns from GetWorkflow.

    ``tasks`` are the registered templates of :func:`requirements` ``task_ids`` (looked up by the caller,
    which reports missing ones with FlyteAdmin's NOT_FOUND message first, as flyteadmin does).
    """
    subs = list(sub_workflows)
    found = requirements(template, subs)
    if found.errors:
        raise CompileError(found.errors)
    unique: dict[IdentifierKey, tasks_pb2.TaskTemplate] = {}
    for task in tasks:
        unique.setdefault(key(task.id), task)
    return compiler_pb2.CompiledWorkflowClosure(
        primary=compile_template(template),
        sub_workflows=[compile_template(sub) for sub in subs],
        tasks=[compiler_pb2.CompiledTask(template=task) for task in unique.values()],
    )
