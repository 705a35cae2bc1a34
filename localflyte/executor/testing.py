"""Test support: a ``CompiledWorkflowClosure`` from serialized templates, shaped like propeller's compiler output.

Not a compiler: no type checking, no reference validation. It does what the executor relies on and
what ``flytepropeller/pkg/compiler`` does to a flytekit-serialized workflow: empty promise node ids
become ``start-node``, branch case nodes are renamed ``<branch id>-<case id>``
(``validators/node.go: branchNodeIDFormatter``), ``start-node`` / ``end-node`` are added and the
upstream/downstream connections are filled. The registration side builds real closures in the server.
"""

from __future__ import annotations

from collections.abc import Iterable

from flyteidl.core import compiler_pb2, identifier_pb2, literals_pb2, tasks_pb2, workflow_pb2

from localflyte.executor.bindings import dependencies
from localflyte.executor.layout import END_NODE, START_NODE


def compile_closure(
    primary: identifier_pb2.Identifier,
    workflows: Iterable[workflow_pb2.WorkflowTemplate],
    tasks: Iterable[tasks_pb2.TaskTemplate],
) -> compiler_pb2.CompiledWorkflowClosure:
    """The closure of ``primary``; every other workflow given becomes a sub-workflow."""
    closure = compiler_pb2.CompiledWorkflowClosure()
    found = False
    for template in workflows:
        compiled = compile_workflow(template)
        if template.id == primary:
            closure.primary.CopyFrom(compiled)
            found = True
        else:
            closure.sub_workflows.append(compiled)
    if not found:
        raise ValueError(f"primary workflow {primary.name}:{primary.version} is not among the workflows given")
    for task in tasks:
        closure.tasks.add().template.CopyFrom(task)
    return closure


def compile_workflow(template: workflow_pb2.WorkflowTemplate) -> compiler_pb2.CompiledWorkflow:
    compiled = compiler_pb2.CompiledWorkflow()
    compiled.template.CopyFrom(template)
    compiled_template = compiled.template
    for node in compiled_template.nodes:
        _normalise_node(node)
    for binding in compiled_template.outputs:
        _normalise_binding(binding.binding)
    user_nodes = list(compiled_template.nodes)
    del compiled_template.nodes[:]
    compiled_template.nodes.add(id=START_NODE)
    compiled_template.nodes.extend(user_nodes)
    end = compiled_template.nodes.add(id=END_NODE)
    end.inputs.extend(compiled_template.outputs)

    edges: dict[str, set[str]] = {}
    for node in user_nodes:
        edges[node.id] = dependencies(node) or {START_NODE}
        if any(_reads_start(binding.binding) for binding in node.inputs):
            edges[node.id].add(START_NODE)
    has_downstream = {up for ups in edges.values() for up in ups}
    end_upstream = dependencies(end) | {node.id for node in user_nodes if node.id not in has_downstream}
    edges[END_NODE] = end_upstream or {START_NODE}
    for node_id, upstream in edges.items():
        compiled.connections.upstream[node_id].ids.extend(sorted(upstream))
        for up in upstream:
            compiled.connections.downstream[up].ids.append(node_id)
    for ids in compiled.connections.downstream.values():
        ids.ids.sort()
    return compiled


def _normalise_node(node: workflow_pb2.Node) -> None:
    for binding in node.inputs:
        _normalise_binding(binding.binding)
    if node.HasField("branch_node"):
        if_else = node.branch_node.if_else
        cases = [if_else.case.then_node, *(case.then_node for case in if_else.other)]
        if if_else.HasField("else_node"):
            cases.append(if_else.else_node)
        for case_node in cases:
            case_node.id = f"{node.id}-{case_node.id}"
            _normalise_node(case_node)


def _normalise_binding(data: literals_pb2.BindingData) -> None:
    kind = data.WhichOneof("value")
    if kind == "promise" and not data.promise.node_id:
        data.promise.node_id = START_NODE
    elif kind == "collection":
        for item in data.collection.bindings:
            _normalise_binding(item)
    elif kind == "map":
        for item in data.map.bindings.values():
            _normalise_binding(item)


def _reads_start(data: literals_pb2.BindingData) -> bool:
    kind = data.WhichOneof("value")
    if kind == "promise":
        return data.promise.node_id == START_NODE
    if kind == "collection":
        return any(_reads_start(item) for item in data.collection.bindings)
    if kind == "map":
        return any(_reads_start(item) for item in data.map.bindings.values())
    return False
