"""Raw container tasks' data directories: inputs laid out and outputs read back as Flyte's copilot does.

Only primitives, collections and simple-type outputs here, so the blob store is never called (its
endpoint answers nothing); blobs go through S3 in ``tests/integration/test_executor_docker_kinds.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flyteidl.core import interface_pb2, literals_pb2, tasks_pb2, types_pb2
from flytekit import ContainerTask, kwtypes

from localflyte.executor import copilot
from localflyte.executor.data_dirs import runtime_with_data_dirs
from localflyte.executor.runtimes import ProcessRuntime, TaskRun
from localflyte.executor.storage import BlobStore

pytestmark = pytest.mark.unit

UNUSED_BLOBS = BlobStore("http://127.0.0.1:9", "unused", "unused")
SIMPLE = types_pb2.SimpleType


def integer(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def text(value: str) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=value)))


def task_with_outputs(**outputs: int) -> tasks_pb2.TaskTemplate:
    variables = {
        name: interface_pb2.Variable(type=types_pb2.LiteralType(simple=simple)) for name, simple in outputs.items()
    }
    return tasks_pb2.TaskTemplate(
        interface=interface_pb2.TypedInterface(outputs=interface_pb2.VariableMap(variables=variables))
    )


def test_flytekit_container_task_is_recognised() -> None:
    from flytekit.configuration import ImageConfig, SerializationSettings
    from flytekit.tools.translator import get_serializable

    task = ContainerTask(
        name="t", image="img", command=["true"], inputs=kwtypes(a=int), outputs=kwtypes(b=int),
        input_data_dir="/var/inputs", output_data_dir="/var/outputs",
    )  # fmt: skip
    settings = SerializationSettings(image_config=ImageConfig.auto_default_image())
    template = get_serializable({}, settings, task).template.to_flyte_idl()  # type: ignore[arg-type]

    assert copilot.uses_data_dirs(template)
    assert (template.container.data_config.input_path, template.container.data_config.output_path) == (
        "/var/inputs",
        "/var/outputs",
    )
    assert not copilot.uses_data_dirs(tasks_pb2.TaskTemplate(container=tasks_pb2.Container(image="img")))


def test_inputs_are_files_named_after_them_plus_the_whole_map(tmp_path: Path) -> None:
    collection = literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[integer(1), integer(2)]))
    inputs = literals_pb2.LiteralMap(literals={"a": integer(7), "name": text("x y"), "xs": collection})

    copilot.download_inputs(UNUSED_BLOBS, inputs, tmp_path, tasks_pb2.DataLoadingConfig.JSON)

    assert (tmp_path / "a").read_text() == "7"
    assert (tmp_path / "name").read_text() == "x y"
    assert [(tmp_path / "xs" / str(i)).read_text() for i in range(2)] == ["1", "2"]
    assert json.loads((tmp_path / "inputs.json").read_text()) == {"a": 7, "name": "x y", "xs": [1, 2]}
    assert literals_pb2.LiteralMap.FromString((tmp_path / "inputs.pb").read_bytes()) == inputs


@pytest.mark.parametrize(
    ("simple", "content", "field", "expected"),
    [
        (SIMPLE.INTEGER, "12\n", "integer", 12),
        (SIMPLE.FLOAT, " 0.5 ", "float_value", 0.5),
        (SIMPLE.STRING, "summed\n", "string_value", "summed"),
        (SIMPLE.BOOLEAN, "true\n", "boolean", True),
    ],
)
def test_simple_outputs_are_parsed_from_trimmed_text(
    tmp_path: Path, simple: int, content: str, field: str, expected: object
) -> None:
    (tmp_path / "out").write_text(content)

    outputs = copilot.read_outputs(UNUSED_BLOBS, task_with_outputs(out=simple), tmp_path, "s3://bucket/raw")

    assert getattr(outputs.literals["out"].scalar.primitive, field) == expected


def test_missing_output_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(copilot.OutputError, match="output 'total' not found"):
        copilot.read_outputs(UNUSED_BLOBS, task_with_outputs(total=SIMPLE.INTEGER), tmp_path, "s3://bucket/raw")


def test_unreadable_output_says_what_it_read(tmp_path: Path) -> None:
    (tmp_path / "total").write_text("twelve")
    with pytest.raises(copilot.OutputError, match="cannot read 'twelve' as INTEGER"):
        copilot.read_outputs(UNUSED_BLOBS, task_with_outputs(total=SIMPLE.INTEGER), tmp_path, "s3://bucket/raw")


def test_error_file_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "total").write_text("12")
    (tmp_path / copilot.ERROR_FILE).write_text("bad input")
    with pytest.raises(copilot.UserError, match="User Error: bad input"):
        copilot.read_outputs(UNUSED_BLOBS, task_with_outputs(total=SIMPLE.INTEGER), tmp_path, "s3://bucket/raw")


def test_process_runtime_sees_host_dirs_at_the_container_paths(tmp_path: Path) -> None:
    dirs = copilot.DataDirs(tmp_path / "in", tmp_path / "out", "/var/inputs", "/var/outputs")
    dirs.host_inputs.mkdir()
    dirs.host_outputs.mkdir()
    (dirs.host_inputs / "b").write_text("5")
    runtime = runtime_with_data_dirs(ProcessRuntime(tmp_path / "runs"), dirs)

    command = "echo $(( 7 + $(cat /var/inputs/b) )) > /var/outputs/total"
    run = TaskRun(run_id="r", image="unused", command=("sh", "-c"), args=(command,), env={}, log_path=tmp_path / "log")
    result = runtime.run(run)

    assert result.exit_code == 0, (tmp_path / "log").read_text()
    outputs = copilot.read_outputs(UNUSED_BLOBS, task_with_outputs(total=SIMPLE.INTEGER), dirs.host_outputs, "s3://b/r")
    assert outputs.literals["total"].scalar.primitive.integer == 12
