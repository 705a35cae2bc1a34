"""Registration logic without a server: the light compiler (flytepropeller ``compiler/workflow_compiler.go``),
digests and diffs (flyteadmin ``util/digests.go``, ``errors.go``), launch-plan input checks
(``validation/launch_plan_validator.go``) and identifier validation (``validation/validation.go``)."""

from __future__ import annotations

import pytest
from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2, workflow_pb2

from localflyte.errors import AdminError
from localflyte.registration import compiler, digests, launch_plan_validation, types, validation

pytestmark = pytest.mark.unit
INT = types_pb2.LiteralType(simple=types_pb2.INTEGER)


def _task_id(name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=identifier_pb2.TASK, project="p", domain="d", name=name, version="v")


def _node(node_id: str, upstream: str | None = None) -> workflow_pb2.Node:
    node = workflow_pb2.Node(id=node_id, task_node=workflow_pb2.TaskNode(reference_id=_task_id("t")))
    if upstream is not None:
        promise = types_pb2.OutputReference(node_id=upstream, var="o0")
        node.inputs.add(var="x", binding=literals_pb2.BindingData(promise=promise))
    return node


def test_compile_adds_start_end_nodes_and_edges() -> None:
    template = workflow_pb2.WorkflowTemplate(nodes=[_node("n0", upstream=""), _node("n1", upstream="n0")])
    template.outputs.add(var="o0", binding=literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id="n1")))
    closure = compiler.compile_workflow(template, [], [tasks_pb2.TaskTemplate(id=_task_id("t"))] * 2)
    connections = closure.primary.connections
    assert [node.id for node in closure.primary.template.nodes] == ["start-node", "end-node", "n0", "n1"]
    assert list(connections.downstream["start-node"].ids) == ["n0"]
    assert list(connections.upstream["n1"].ids) == ["n0"]
    assert list(connections.upstream["end-node"].ids) == ["n1"]
    assert len(closure.tasks) == 1


def test_requirements_follow_sub_workflows_and_report_missing_ones() -> None:
    sub_id = identifier_pb2.Identifier(
        resource_type=identifier_pb2.WORKFLOW, project="p", domain="d", name="sub", version="v"
    )
    sub = workflow_pb2.WorkflowTemplate(id=sub_id, nodes=[_node("s0")])
    parent = workflow_pb2.WorkflowTemplate(
        nodes=[workflow_pb2.Node(id="n0", workflow_node=workflow_pb2.WorkflowNode(sub_workflow_ref=sub_id))]
    )
    assert [task.name for task in compiler.requirements(parent, [sub]).task_ids] == ["t"]
    missing = compiler.requirements(parent, [])
    assert missing.errors and "Referenced Workflow" in missing.errors[0]
    with pytest.raises(compiler.CompileError, match="Collected Errors: 1"):
        compiler.compile_workflow(parent, [], [])


def test_diff_lines_name_the_changed_path() -> None:
    old = tasks_pb2.TaskTemplate(container=tasks_pb2.Container(image="a"))
    new = tasks_pb2.TaskTemplate(container=tasks_pb2.Container(image="b"))
    assert digests.digest(old) != digests.digest(new)
    assert digests.diff_lines(old, new) == ["/container/image:\n\t- a \n\t+ b"]


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("0 * * * *", None),
        ("@daily", None),
        ("@every 1h30m", None),
        ("0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"),
        ("61 * * * *", "failed to parse cron expression: 61 * * * *"),
        ("@sometimes", "unrecognized descriptor: @sometimes"),
    ],
)
def test_cron_error(expression: str, error: str | None) -> None:
    assert launch_plan_validation.cron_error(expression) == error


def test_expected_inputs_marks_unbound_inputs_required() -> None:
    variables = interface_pb2.VariableMap(
        variables={"a": interface_pb2.Variable(type=INT), "b": interface_pb2.Variable(type=INT)}
    )
    fixed = literals_pb2.LiteralMap(
        literals={"a": literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=1)))}
    )
    expected = launch_plan_validation.expected_inputs(variables, fixed, interface_pb2.ParameterMap())
    assert list(expected.parameters) == ["b"]
    assert expected.parameters["b"].required


@pytest.mark.parametrize(
    ("upstream", "downstream", "castable"),
    [
        (INT, INT, True),
        (INT, types_pb2.LiteralType(simple=types_pb2.STRING), False),
        (INT, types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=[INT])), True),
        (types_pb2.LiteralType(collection_type=INT), types_pb2.LiteralType(collection_type=INT), True),
        (types_pb2.LiteralType(collection_type=INT), INT, False),
        (None, INT, True),
    ],
)
def test_are_types_castable(
    upstream: types_pb2.LiteralType | None, downstream: types_pb2.LiteralType, castable: bool
) -> None:
    assert types.are_types_castable(upstream, downstream) is castable


@pytest.mark.parametrize("version", ["v1", "abc-123_4.5~x", "Zm9vYmFy"])
def test_url_safe_versions_pass(version: str) -> None:
    validation.validate_version(version)


@pytest.mark.parametrize("version", ["v1:2", "a b", "x/y", "q=1", "v+1"])
def test_unsafe_versions_fail(version: str) -> None:
    with pytest.raises(AdminError, match="must be url safe"):
        validation.validate_version(version)
