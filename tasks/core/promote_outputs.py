"""Execution outputs as plain Python values, so expectations can look into them (``metrics.accuracy``).

Validation reads outputs of launch plans whose Python types Taxiway does not have (the user's
dataclasses live in the user's package), so it converts the flyteidl literals structurally instead of
through flytekit's type engine: primitives become Python scalars, collections lists, maps dicts,
dataclasses (msgpack binaries or JSON structs) dicts, and blobs or structured datasets their URI.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

import msgpack
from flyteidl.core import literals_pb2
from google.protobuf import json_format

logger = logging.getLogger(__name__)

JsonLike = Any


def literal_to_python(literal: literals_pb2.Literal) -> JsonLike:
    """One literal as a plain value (see the module docstring); unknown kinds become ``None``."""
    kind = literal.WhichOneof("value")
    if kind == "collection":
        return [literal_to_python(item) for item in literal.collection.literals]
    if kind == "map":
        return {key: literal_to_python(value) for key, value in literal.map.literals.items()}
    if kind == "offloaded_metadata":
        # The value lives in blob storage; the URI is what a report can show.
        return literal.offloaded_metadata.uri
    if kind == "scalar":
        return _scalar(literal.scalar)
    return None


def _scalar(scalar: literals_pb2.Scalar) -> JsonLike:
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        return _primitive(scalar.primitive)
    if kind == "none_type":
        return None
    if kind == "generic":
        return json_format.MessageToDict(scalar.generic)
    if kind == "binary":
        return _binary(scalar.binary)
    if kind == "blob":
        return scalar.blob.uri
    if kind == "structured_dataset":
        return scalar.structured_dataset.uri
    if kind == "schema":
        return scalar.schema.uri
    if kind == "union":
        return literal_to_python(scalar.union.value)
    if kind == "error":
        return {"failed_node_id": scalar.error.failed_node_id, "message": scalar.error.message}
    return None


def _primitive(primitive: literals_pb2.Primitive) -> JsonLike:
    kind = primitive.WhichOneof("value")
    if kind == "integer":
        return int(primitive.integer)
    if kind == "float_value":
        return float(primitive.float_value)
    if kind == "string_value":
        return primitive.string_value
    if kind == "boolean":
        return bool(primitive.boolean)
    if kind == "datetime":
        return primitive.datetime.ToDatetime(tzinfo=datetime.UTC).isoformat()
    if kind == "duration":
        return primitive.duration.ToTimedelta().total_seconds()
    return None


def _binary(binary: literals_pb2.Binary) -> JsonLike:
    # flytekit >= 1.14 serializes dataclasses, dicts and pydantic models as msgpack binaries.
    if binary.tag == "msgpack":
        try:
            return msgpack.unpackb(binary.value, raw=False, strict_map_key=False)
        except (ValueError, msgpack.UnpackException) as err:
            logger.warning("msgpack output could not be decoded error=%s", err)
            return None
    return None


def outputs_to_python(literals: Mapping[str, literals_pb2.Literal]) -> dict[str, JsonLike]:
    """A whole output map (``o0``, or named outputs) as plain values."""
    return {name: literal_to_python(literal) for name, literal in literals.items()}


def with_single_output_alias(outputs: Mapping[str, JsonLike]) -> dict[str, JsonLike]:
    """Make a sole output reachable by its fields too: ``accuracy`` as well as ``o0.accuracy``.

    A workflow returning one dataclass has the single output ``o0``; taxiway.yaml users write
    ``metrics.accuracy`` (a named output) or ``accuracy`` (the field of the only output). Named
    outputs win over fields on a name clash.
    """
    result = dict(outputs)
    if len(outputs) == 1:
        (only,) = outputs.values()
        if isinstance(only, Mapping):
            for key, value in only.items():
                result.setdefault(str(key), value)
    return result
