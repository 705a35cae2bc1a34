"""The console's pure parts: escaping, literal rendering, form parsing and page markup."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from flyteidl.admin import execution_pb2, launch_plan_pb2, node_execution_pb2, task_execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2, types_pb2
from google.protobuf import struct_pb2, timestamp_pb2

from localflyte.console import literals
from localflyte.console.execution_page import NodeView, execution_page, is_terminal
from localflyte.console.html import Html, esc, link, page, path, tag
from localflyte.console.pages import launch_plan_page, schedule_text
from localflyte.console.routes import form_inputs

pytestmark = pytest.mark.unit

EVIL = '<script>alert("x")</script>&\''


def _int(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def _str(value: str) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=value)))


def _simple(simple: int) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(simple=simple)  # type: ignore[arg-type]


class _Elements(HTMLParser):
    """Collects start tags with their attributes, and the text, as a browser would parse them."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)

    def handle_starttag(self, name: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((name, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag_name, attrs in self.tags if tag_name == name]


def test_text_and_attributes_are_escaped_and_html_is_not_escaped_twice() -> None:
    markup = tag("a", EVIL, href=f'/x?"{EVIL}')
    assert "<script>" not in markup
    parsed = _Elements(markup)
    assert parsed.named("a") == [{"href": f'/x?"{EVIL}'}]
    assert "".join(parsed.text) == EVIL
    assert esc(markup) == markup  # already markup: left alone
    assert esc(EVIL).count("&lt;") == 2


def test_paths_percent_encode_each_segment() -> None:
    assert path("projects", "a/b", "domains", "d?x#y") == "/console/projects/a%2Fb/domains/d%3Fx%23y"
    assert _Elements(link(path("x", '"><b>'), "t")).named("a") == [{"href": "/console/x/%22%3E%3Cb%3E"}]


def test_page_refreshes_only_when_asked() -> None:
    assert b'http-equiv="refresh" content="2"' in page("t", Html(""), refresh_seconds=2)
    assert b"refresh" not in page(EVIL, Html(""))
    assert b"<script>" not in page(EVIL, Html(""))


def _map(**values: literals_pb2.Literal) -> literals_pb2.Literal:
    return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=values))


def _generic() -> literals_pb2.Literal:
    struct = struct_pb2.Struct()
    struct.update({"b": 1, "a": "x"})
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(generic=struct))


@pytest.mark.parametrize(
    ("literal", "text"),
    [
        (_int(-3), "-3"),
        (literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(float_value=0.1))), "0.1"),
        (_str("a, b"), "a, b"),
        (literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(boolean=True))), "true"),
        (literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void())), "None"),
        (literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[_str("a, b"), _str("c")])),
         "['a, b', 'c']"),
        (_map(z=_int(1), a=_str("q")), "{'a': 'q', 'z': 1}"),
        (literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="s3://b/k"))), "blob s3://b/k"),
        (_generic(), '{"a": "x", "b": 1.0}'),
        (literals_pb2.Literal(scalar=literals_pb2.Scalar(union=literals_pb2.Union(value=_int(7)))), "7"),
        (literals_pb2.Literal(), "<empty>"),
    ],
)  # fmt: skip
def test_literals_render_as_text(literal: literals_pb2.Literal, text: str) -> None:
    assert literals.render(literal) == text


def test_datetime_literal_renders_in_utc() -> None:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(dt.datetime(2030, 1, 2, 3, 4, 5))
    literal = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(datetime=stamp)))
    assert literals.render(literal) == "2030-01-02T03:04:05Z"


@pytest.mark.parametrize(
    ("literal_type", "name"),
    [
        (types_pb2.LiteralType(collection_type=_simple(types_pb2.INTEGER)), "list[int]"),
        (types_pb2.LiteralType(map_value_type=_simple(types_pb2.FLOAT)), "dict[str, float]"),
        (types_pb2.LiteralType(enum_type=types_pb2.EnumType(values=["a", "b"])), "enum(a, b)"),
        (types_pb2.LiteralType(blob=types_pb2.BlobType()), "blob"),
    ],
)
def test_type_names(literal_type: types_pb2.LiteralType, name: str) -> None:
    assert literals.type_name(literal_type) == name


@pytest.mark.parametrize(
    ("simple", "text", "value"),
    [
        (types_pb2.INTEGER, " 42 ", ("integer", 42)),
        (types_pb2.FLOAT, "2.5", ("float_value", 2.5)),
        (types_pb2.STRING, " keep spaces ", ("string_value", " keep spaces ")),
        (types_pb2.BOOLEAN, "True", ("boolean", True)),
        (types_pb2.BOOLEAN, "off", ("boolean", False)),
    ],
)
def test_form_text_parses_to_typed_literals(simple: int, text: str, value: tuple[str, object]) -> None:
    primitive = literals.parse(literals.FormInput("n", _simple(simple), text)).scalar.primitive
    assert (primitive.WhichOneof("value"), getattr(primitive, value[0])) == value


@pytest.mark.parametrize(
    ("literal_type", "text", "message"),
    [
        (_simple(types_pb2.INTEGER), "4.5", "input 'n' expects an integer, got '4.5'"),
        (_simple(types_pb2.FLOAT), "nan", "input 'n' expects a finite number"),
        (_simple(types_pb2.BOOLEAN), "maybe", "input 'n' expects true or false"),
        (types_pb2.LiteralType(enum_type=types_pb2.EnumType(values=["a", "b"])), "c", "'c' is not one of a, b"),
        (types_pb2.LiteralType(blob=types_pb2.BlobType()), "s3://x", "cannot be typed into the form"),
    ],
)
def test_bad_form_text_names_the_input(literal_type: types_pb2.LiteralType, text: str, message: str) -> None:
    with pytest.raises(literals.InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        literals.parse(literals.FormInput("n", literal_type, text))


def _plan(
    parameters: dict[str, interface_pb2.Parameter], state: int = launch_plan_pb2.ACTIVE
) -> launch_plan_pb2.LaunchPlan:
    identifier = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project="p", domain="development", name=f"lp{EVIL}", version="v1"
    )
    spec = launch_plan_pb2.LaunchPlanSpec(default_inputs=interface_pb2.ParameterMap(parameters=parameters))
    spec.entity_metadata.schedule.cron_schedule.schedule = "0 2 * * *"
    closure = launch_plan_pb2.LaunchPlanClosure(state=state)  # type: ignore[arg-type]
    return launch_plan_pb2.LaunchPlan(id=identifier, spec=spec, closure=closure)


def _parameter(literal_type: types_pb2.LiteralType, default: literals_pb2.Literal | None) -> interface_pb2.Parameter:
    variable = interface_pb2.Variable(type=literal_type)
    if default is None:
        return interface_pb2.Parameter(var=variable, required=True)
    return interface_pb2.Parameter(var=variable, default=default)


def test_launch_plan_page_escapes_names_and_defaults_and_prefills_the_form() -> None:
    plan = _plan({
        "x": _parameter(_simple(types_pb2.INTEGER), _int(4)),
        "label": _parameter(_simple(types_pb2.STRING), _str(EVIL)),
        "data": _parameter(types_pb2.LiteralType(blob=types_pb2.BlobType()), literals_pb2.Literal(
            scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="s3://b/data")))),
    })  # fmt: skip
    markup = launch_plan_page(plan, [plan])
    assert "<script>" not in markup
    parsed = _Elements(markup)
    boxes = {attrs["name"]: attrs["value"] for attrs in parsed.named("input") if attrs["type"] == "text"}
    assert boxes == {"input.x": "4", "input.label": EVIL}  # the blob keeps its default: no box
    [form] = parsed.named("form")
    assert (
        form["action"]
        == "/console/projects/p/domains/development/launch_plans/"
        + "lp%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E%26%27/launch"
    )
    assert "cron 0 2 * * *" in "".join(parsed.text) and "ACTIVE" in "".join(parsed.text)


def test_a_required_input_the_form_cannot_type_blocks_the_launch() -> None:
    plan = _plan({"data": _parameter(types_pb2.LiteralType(blob=types_pb2.BlobType()), None)})
    parsed = _Elements(launch_plan_page(plan, [plan]))
    assert parsed.named("button") == [] and parsed.named("form") == []
    assert any("data has no default" in text for text in parsed.text)


def test_form_inputs_types_the_submitted_scalars_only() -> None:
    plan = _plan({
        "x": _parameter(_simple(types_pb2.INTEGER), _int(4)),
        "data": _parameter(types_pb2.LiteralType(blob=types_pb2.BlobType()), literals_pb2.Literal()),
    })  # fmt: skip
    assert dict(form_inputs(plan, {"x": "6"}).literals) == {"x": _int(6)}
    with pytest.raises(literals.InputError, match="has no input nope"):
        form_inputs(plan, {"nope": "1"})
    with pytest.raises(literals.InputError, match="'data' of type blob keeps its default"):
        form_inputs(plan, {"data": "s3://elsewhere"})


def test_schedule_text() -> None:
    spec = launch_plan_pb2.LaunchPlanSpec()
    assert schedule_text(spec) == ""
    spec.entity_metadata.schedule.rate.value = 2
    spec.entity_metadata.schedule.rate.unit = 1  # HOUR
    assert schedule_text(spec) == "every 2 hour"


def _execution(phase: int, error: str = "") -> execution_pb2.Execution:
    identifier = identifier_pb2.WorkflowExecutionIdentifier(project="p", domain="d", name="e1")
    closure = execution_pb2.ExecutionClosure(phase=phase)  # type: ignore[arg-type]
    if error:
        closure.error.message = error
        closure.error.code = "USER:Boom"
    return execution_pb2.Execution(id=identifier, closure=closure)


def _node(node_id: str, deck: bool = False) -> NodeView:
    identifier = identifier_pb2.NodeExecutionIdentifier(node_id=node_id)
    node = node_execution_pb2.NodeExecution(
        id=identifier, closure=node_execution_pb2.NodeExecutionClosure(phase=core_execution_pb2.NodeExecution.FAILED)
    )
    node.closure.error.message = EVIL
    logs = [
        core_execution_pb2.TaskLog(name="http log", uri="http://127.0.0.1:1/logs/e1/n0-0.log"),
        core_execution_pb2.TaskLog(name="file log", uri="file:///state/logs/e1/n0-0.log"),
    ]
    attempt = task_execution_pb2.TaskExecution(closure=task_execution_pb2.TaskExecutionClosure(logs=logs))
    return NodeView(node, (attempt,), (), deck)


def test_execution_page_escapes_errors_links_http_logs_and_decks_and_hides_bookkeeping_nodes() -> None:
    execution = _execution(core_execution_pb2.WorkflowExecution.FAILED, error=EVIL)
    data = execution_pb2.WorkflowExecutionGetDataResponse(
        full_inputs=literals_pb2.LiteralMap(literals={"s": _str(EVIL)})
    )
    markup = execution_page(execution, data, [_node("start-node"), _node("n0", deck=True)])
    assert "<script>" not in markup
    parsed = _Elements(markup)
    hrefs = [attrs["href"] for attrs in parsed.named("a")]
    assert "http://127.0.0.1:1/logs/e1/n0-0.log" in hrefs
    assert not any(str(href).startswith("file:") for href in hrefs)
    assert "/console/projects/p/domains/d/executions/e1/nodes/n0/deck" in hrefs
    assert "start-node" not in "".join(parsed.text)
    assert "".join(parsed.text).count(EVIL) == 3  # the input, the execution error, the node error: as text
    assert is_terminal(execution) and not is_terminal(_execution(core_execution_pb2.WorkflowExecution.RUNNING))
