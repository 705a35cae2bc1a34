"""Bindings, node ids, dependencies and resource quantities: the executor's pure parts."""

from __future__ import annotations

import pytest
from flyteidl.core import literals_pb2, types_pb2, workflow_pb2

from localflyte.executor.bindings import BindingError, dependencies, outputs_lookup, resolve_bindings
from localflyte.executor.layout import ParentInfo, fixed_length_unique_id, unique_node_id
from localflyte.executor.runtimes import cpu_to_nano_cpus, memory_to_bytes

pytestmark = pytest.mark.unit


def _int(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def _promise(node_id: str, var: str, *path: str | int) -> literals_pb2.BindingData:
    attrs = [
        types_pb2.PromiseAttribute(int_value=p) if isinstance(p, int) else types_pb2.PromiseAttribute(string_value=p)
        for p in path
    ]
    return literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=node_id, var=var, attr_path=attrs))


OUTPUTS = {
    "start-node": literals_pb2.LiteralMap(literals={"a": _int(1)}),
    "n0": literals_pb2.LiteralMap(
        literals={
            "o0": _int(5),
            "m": literals_pb2.Literal(map=literals_pb2.LiteralMap(literals={"k": _int(7)})),
            "l": literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[_int(8), _int(9)])),
        }
    ),
}


def test_resolve_bindings_of_every_kind() -> None:
    bindings = [
        literals_pb2.Binding(var="from_input", binding=_promise("", "a")),  # flytekit's empty start-node id
        literals_pb2.Binding(var="from_node", binding=_promise("n0", "o0")),
        literals_pb2.Binding(var="literal", binding=literals_pb2.BindingData(scalar=_int(3).scalar)),
        literals_pb2.Binding(
            var="listed",
            binding=literals_pb2.BindingData(
                collection=literals_pb2.BindingDataCollection(
                    bindings=[_promise("n0", "o0"), _promise("start-node", "a")]
                )
            ),
        ),
        literals_pb2.Binding(
            var="mapped",
            binding=literals_pb2.BindingData(map=literals_pb2.BindingDataMap(bindings={"x": _promise("n0", "o0")})),
        ),
        literals_pb2.Binding(var="by_key", binding=_promise("n0", "m", "k")),
        literals_pb2.Binding(var="by_index", binding=_promise("n0", "l", 1)),
    ]
    resolved = resolve_bindings(bindings, outputs_lookup(OUTPUTS)).literals

    assert resolved["from_input"] == _int(1)
    assert resolved["from_node"] == _int(5)
    assert resolved["literal"] == _int(3)
    assert list(resolved["listed"].collection.literals) == [_int(5), _int(1)]
    assert resolved["mapped"].map.literals["x"] == _int(5)
    assert resolved["by_key"] == _int(7)
    assert resolved["by_index"] == _int(9)


@pytest.mark.parametrize(
    ("binding", "message"),
    [
        (_promise("n9", "o0"), "'n9' has no outputs"),
        (_promise("n0", "o9"), "no output 'o9'"),
        (_promise("n0", "l", 5), "no index 5"),
        (_promise("n0", "o0", "field"), "not supported"),
    ],
)
def test_unresolvable_bindings_name_the_input(binding: literals_pb2.BindingData, message: str) -> None:
    with pytest.raises(BindingError, match=f"input 'x'.*{message}"):
        resolve_bindings([literals_pb2.Binding(var="x", binding=binding)], outputs_lookup(OUTPUTS))


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (["", "", "n0"], "n0"),
        (["n1", "0", "n0"], "n1-0-n0"),
        # flyteplugins encoding/encoder_test.go
        (["xxxxxxxxxxxxxxxxxxxxxxxx"], "fuaa3aji"),
    ],
)
def test_unique_ids_like_propeller(parts: list[str], expected: str) -> None:
    assert fixed_length_unique_id(parts) == expected


def test_unique_node_id_nests_under_parent_attempt() -> None:
    assert unique_node_id(None, "n3") == "n3"
    assert unique_node_id(ParentInfo("n2", 1), "n0") == "n2-1-n0"


def test_dependencies_from_upstream_ids_bindings_and_branch_cases() -> None:
    case = workflow_pb2.Node(id="n2-n0", inputs=[literals_pb2.Binding(var="x", binding=_promise("n1", "o0"))])
    node = workflow_pb2.Node(
        id="n2",
        upstream_node_ids=["n0"],
        inputs=[literals_pb2.Binding(var="a", binding=_promise("", "a"))],
        branch_node=workflow_pb2.BranchNode(
            if_else=workflow_pb2.IfElseBlock(case=workflow_pb2.IfBlock(then_node=case))
        ),
    )
    assert dependencies(node) == {"n0", "n1"}


@pytest.mark.parametrize(("quantity", "nano"), [("500m", 500_000_000), ("2", 2_000_000_000), ("0.5", 500_000_000)])
def test_cpu_quantities(quantity: str, nano: int) -> None:
    assert cpu_to_nano_cpus(quantity) == nano


@pytest.mark.parametrize(
    ("quantity", "size"), [("1Gi", 2**30), ("512Mi", 512 * 2**20), ("500M", 500 * 10**6), ("1024", 1024)]
)
def test_memory_quantities(quantity: str, size: int) -> None:
    assert memory_to_bytes(quantity) == size


@pytest.mark.parametrize("quantity", ["lots", "1Xi"])
def test_bad_quantities_say_what_was_expected(quantity: str) -> None:
    with pytest.raises(ValueError, match=r"expected e\.g\."):
        memory_to_bytes(quantity)
