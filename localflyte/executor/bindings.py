"""Node inputs from bindings (flytepropeller ``pkg/controller/nodes/resolve.go``), and the dependencies they imply."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flyteidl.core import compiler_pb2, literals_pb2, types_pb2, workflow_pb2

from localflyte.executor.layout import START_NODE

# (node id, output variable) → the literal that node produced; raises BindingError when absent.
OutputLookup = Callable[[str, str], literals_pb2.Literal]


class BindingError(ValueError):
    """A binding refers to something that does not exist (a node, an output or an attribute)."""


def resolve_bindings(bindings: Iterable[literals_pb2.Binding], lookup: OutputLookup) -> literals_pb2.LiteralMap:
    """The LiteralMap a node receives: one literal per binding variable."""
    resolved = literals_pb2.LiteralMap()
    for binding in bindings:
        try:
            resolved.literals[binding.var].CopyFrom(resolve_binding_data(binding.binding, lookup))
        except BindingError as error:
            raise BindingError(f"cannot bind input {binding.var!r}: {error}") from error
    return resolved


def resolve_binding_data(data: literals_pb2.BindingData, lookup: OutputLookup) -> literals_pb2.Literal:
    kind = data.WhichOneof("value")
    literal = literals_pb2.Literal()
    if kind == "scalar":
        literal.scalar.CopyFrom(data.scalar)
    elif kind == "collection":
        for item in data.collection.bindings:
            literal.collection.literals.add().CopyFrom(resolve_binding_data(item, lookup))
        if not data.collection.bindings:
            literal.collection.SetInParent()
    elif kind == "map":
        for key, item in data.map.bindings.items():
            literal.map.literals[key].CopyFrom(resolve_binding_data(item, lookup))
        if not data.map.bindings:
            literal.map.SetInParent()
    elif kind == "promise":
        # flytekit leaves the start node's id empty; propeller's compiler fills in "start-node".
        node_id = data.promise.node_id or START_NODE
        literal.CopyFrom(lookup(node_id, data.promise.var))
        for step in data.promise.attr_path:
            literal = _attribute(literal, step, f"{node_id}.{data.promise.var}")
    elif kind == "offloaded_metadata":
        raise BindingError("offloaded literals in bindings are not supported by localflyte yet")
    else:
        raise BindingError("binding has no value (expected scalar, collection, map or promise)")
    return literal


def _attribute(literal: literals_pb2.Literal, step: types_pb2.PromiseAttribute, where: str) -> literals_pb2.Literal:
    """One step of a promise's ``attr_path`` into a map (by key) or a list (by index)."""
    kind = step.WhichOneof("value")
    if kind == "string_value" and literal.HasField("map"):
        if step.string_value not in literal.map.literals:
            raise BindingError(f"{where} has no key {step.string_value!r}")
        return literal.map.literals[step.string_value]
    if kind == "int_value" and literal.HasField("collection"):
        items = literal.collection.literals
        if not 0 <= step.int_value < len(items):
            raise BindingError(f"{where} has no index {step.int_value} (length {len(items)})")
        return items[step.int_value]
    raise BindingError(
        f"{where}: attribute access into {literal.WhichOneof('value')} values (dataclasses, structs) "
        "is not supported by localflyte yet"
    )


def outputs_lookup(outputs: dict[str, literals_pb2.LiteralMap]) -> OutputLookup:
    """A lookup over the outputs of finished nodes, keyed by (spec) node id."""

    def lookup(node_id: str, var: str) -> literals_pb2.Literal:
        if node_id not in outputs:
            raise BindingError(f"node {node_id!r} has no outputs (not run, skipped or unknown)")
        literals = outputs[node_id].literals
        if var not in literals:
            raise BindingError(f"node {node_id!r} has no output {var!r} (it has {sorted(literals)})")
        return literals[var]

    return lookup


def dependencies(node: workflow_pb2.Node, connections: compiler_pb2.ConnectionSet | None = None) -> set[str]:
    """Upstream node ids: compiled connections, declared ``upstream_node_ids`` and promise bindings.

    A branch node also waits for whatever its cases' nodes read, since they run in this scope.
    """
    upstream = set(node.upstream_node_ids)
    if connections is not None and node.id in connections.upstream:
        upstream.update(connections.upstream[node.id].ids)
    for binding in node.inputs:
        upstream.update(_promised_nodes(binding.binding))
    if node.HasField("branch_node"):
        if_else = node.branch_node.if_else
        cases = [if_else.case.then_node, *(case.then_node for case in if_else.other)]
        if if_else.HasField("else_node"):
            cases.append(if_else.else_node)
        for case_node in cases:
            upstream.update(dependencies(case_node))
    upstream.discard(node.id)
    upstream.discard("")
    upstream.discard(START_NODE)
    return upstream


def _promised_nodes(data: literals_pb2.BindingData) -> set[str]:
    kind = data.WhichOneof("value")
    if kind == "promise":
        return {data.promise.node_id}
    if kind == "collection":
        return set().union(*(_promised_nodes(item) for item in data.collection.bindings))
    if kind == "map":
        return set().union(*(_promised_nodes(item) for item in data.map.bindings.values()))
    return set()
