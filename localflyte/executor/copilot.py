"""Raw container tasks' data, as Flyte's copilot sidecars move it (``flytecopilot/data/{download,upload}.go``).

A task whose container has ``data_config.enabled`` (flytekit's ``ContainerTask`` with
``input_data_dir``/``output_data_dir``) never talks to the blob store itself. Before it starts, each
input is written under the input directory: a primitive as its text (``7``, ``true``, RFC 3339 for a
datetime), none as ``null``, a blob as the downloaded file (a directory for a multipart blob), a
collection as a directory of ``0``, ``1``… and a map as a directory; plus ``inputs.pb`` and, by
``format``, ``inputs.json`` / ``inputs.yaml`` of the plain values. After it exits, the output directory
is read back: a file named ``error`` fails the task (``User Error: <contents>``); each declared output
is a file named after it: simple types are parsed from the trimmed text, blobs are uploaded under the
attempt's raw output prefix; the task node writes them as ``outputs.pb``.

The directories are host directories; :mod:`localflyte.executor.data_dirs` makes the task see them at
the container paths the template declares.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from flyteidl.core import literals_pb2, tasks_pb2, types_pb2

from localflyte.executor.storage import BlobNotFoundError, BlobStore, split_uri

log = logging.getLogger(__name__)

ERROR_FILE = "error"  # copilot's default ``--err-file``
MAX_PRIMITIVE_BYTES = 1024  # copilot's limit on a simple-type output file
_FORMAT = tasks_pb2.DataLoadingConfig.LiteralMapFormat
_SIMPLE = types_pb2.SimpleType


class OutputError(ValueError):
    """The task's output directory does not hold what its interface declares."""


class UserError(RuntimeError):
    """The task wrote an ``error`` file: a USER error, not retried."""


@dataclass(frozen=True)
class DataDirs:
    """Where a container task's data lives: on the host, and as the container sees it."""

    host_inputs: Path
    host_outputs: Path
    container_inputs: str
    container_outputs: str


def uses_data_dirs(task: tasks_pb2.TaskTemplate) -> bool:
    """True for a raw container task whose data goes through mounted directories."""
    return task.HasField("container") and task.container.data_config.enabled


def download_inputs(blobs: BlobStore, inputs: literals_pb2.LiteralMap, directory: Path, fmt: int) -> None:
    """Lay the task's inputs out in ``directory`` as copilot's downloader does."""
    directory.mkdir(parents=True, exist_ok=True)
    values = {name: _write_literal(blobs, literal, directory / name) for name, literal in inputs.literals.items()}
    (directory / "inputs.pb").write_bytes(inputs.SerializeToString())
    if fmt == _FORMAT.JSON:
        (directory / "inputs.json").write_text(json.dumps(values))
    elif fmt == _FORMAT.YAML:
        (directory / "inputs.yaml").write_text(yaml.safe_dump(values))


def read_outputs(
    blobs: BlobStore, task: tasks_pb2.TaskTemplate, directory: Path, raw_prefix: str
) -> literals_pb2.LiteralMap:
    """The task's outputs, read back from its output directory (blobs uploaded under ``raw_prefix``).

    :raises UserError: the task wrote an ``error`` file.
    :raises OutputError: an output is missing or cannot be read as its type.
    """
    error_file = directory / ERROR_FILE
    if error_file.is_file():
        raise UserError(f"User Error: {error_file.read_text(errors='replace')[: 1024 * 1024]}")
    outputs = literals_pb2.LiteralMap()
    for name, variable in task.interface.outputs.variables.items():
        path = directory / name
        kind = variable.type.WhichOneof("type")
        if kind == "simple":
            outputs.literals[name].CopyFrom(_read_simple(variable.type.simple, path))
        elif kind == "blob":
            outputs.literals[name].CopyFrom(_upload_blob(blobs, path, f"{raw_prefix.rstrip('/')}/{name}"))
        else:
            raise OutputError(f"output {name!r} is a {kind}: container tasks return simple types and blobs only")
    return outputs


def _write_literal(blobs: BlobStore, literal: literals_pb2.Literal, path: Path) -> Any:
    kind = literal.WhichOneof("value")
    if kind == "collection":
        path.mkdir(parents=True, exist_ok=True)
        return [_write_literal(blobs, item, path / str(i)) for i, item in enumerate(literal.collection.literals)]
    if kind == "map":
        path.mkdir(parents=True, exist_ok=True)
        return {key: _write_literal(blobs, item, path / key) for key, item in literal.map.literals.items()}
    scalar = literal.scalar
    which = scalar.WhichOneof("value")
    if which == "blob":
        _download_blob(blobs, scalar.blob, path)
        return str(path)
    if which == "primitive":
        value, text = _primitive(scalar.primitive)
        path.write_text(text)
        return value
    if which == "none_type":
        path.write_text("null")
        return None
    if which == "error":
        path.write_text(scalar.error.message)
        return scalar.error.message
    if which == "binary":
        path.write_bytes(scalar.binary.value)
        return None
    raise OutputError(f"input {path.name!r}: copilot does not lay out {which or kind} literals")


def _primitive(primitive: literals_pb2.Primitive) -> tuple[Any, str]:
    which = primitive.WhichOneof("value")
    if which == "integer":
        return primitive.integer, str(primitive.integer)
    if which == "float_value":
        return primitive.float_value, repr(primitive.float_value)
    if which == "boolean":
        return primitive.boolean, "true" if primitive.boolean else "false"
    if which == "string_value":
        return primitive.string_value, primitive.string_value
    if which == "datetime":
        text = primitive.datetime.ToJsonString()
        return text, text
    if which == "duration":
        seconds = primitive.duration.ToTimedelta().total_seconds()
        return seconds, f"{seconds:g}s"
    return None, "null"


def _download_blob(blobs: BlobStore, blob: literals_pb2.Blob, path: Path) -> None:
    if blob.metadata.type.dimensionality == types_pb2.BlobType.MULTIPART:
        bucket, prefix = split_uri(blob.uri.rstrip("/") + "/")
        pages = blobs.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        if not keys:
            raise BlobNotFoundError(f"multipart blob {blob.uri} has no parts")
        for key in keys:
            target = path / key[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blobs.read(f"s3://{bucket}/{key}"))
        return
    path.write_bytes(blobs.read(blob.uri))


def _read_simple(simple: int, path: Path) -> literals_pb2.Literal:
    if not path.is_file():
        raise OutputError(f"output {path.name!r} not found: the task must write the file {path.name!r}")
    if path.stat().st_size > MAX_PRIMITIVE_BYTES:
        raise OutputError(f"output {path.name!r} is over {MAX_PRIMITIVE_BYTES} bytes, copilot's limit for simple types")
    text = path.read_text().strip()
    literal = literals_pb2.Literal()
    primitive = literal.scalar.primitive
    try:
        if simple == _SIMPLE.INTEGER:
            primitive.integer = int(text)
        elif simple == _SIMPLE.FLOAT:
            primitive.float_value = float(text)
        elif simple == _SIMPLE.STRING:
            primitive.string_value = text
        elif simple == _SIMPLE.BOOLEAN:
            primitive.boolean = {"true": True, "false": False, "1": True, "0": False}[text.lower()]
        elif simple == _SIMPLE.DATETIME:
            primitive.datetime.FromDatetime(datetime.fromisoformat(text.replace("Z", "+00:00")))
        elif simple == _SIMPLE.NONE:
            literal.scalar.none_type.SetInParent()
        else:
            raise OutputError(f"output {path.name!r}: simple type {_SIMPLE.Name(simple)} is not read from files")  # type: ignore[arg-type]
    except (KeyError, ValueError) as error:
        if isinstance(error, OutputError):
            raise
        name = _SIMPLE.Name(simple)  # type: ignore[arg-type]
        raise OutputError(f"output {path.name!r}: cannot read {text[:80]!r} as {name}") from error
    return literal


def _upload_blob(blobs: BlobStore, path: Path, uri: str) -> literals_pb2.Literal:
    literal = literals_pb2.Literal()
    blob = literal.scalar.blob
    blob.uri = uri
    if path.is_dir():
        blob.metadata.type.dimensionality = types_pb2.BlobType.MULTIPART
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            blobs.write(f"{uri}/{item.relative_to(path).as_posix()}", item.read_bytes())
    elif path.is_file():
        blob.metadata.type.dimensionality = types_pb2.BlobType.SINGLE
        blobs.write(uri, path.read_bytes())
    else:
        raise OutputError(f"output {path.name!r} not found: the task must write the file or directory {path.name!r}")
    return literal
