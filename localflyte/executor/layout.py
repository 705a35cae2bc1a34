"""Where an execution's data lives, and the unique ids of nested nodes, as propeller lays them out.

Node ids: flytepropeller ``pkg/controller/nodes/common/utils.go: GenerateUniqueID`` joins the parent's
unique id, the parent's attempt and the node id with ``-`` and, past 20 characters, replaces the
result by ``f`` + base32(fnv32a) in flyteplugins' alphabet (``pluginmachinery/encoding/encoder.go``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from flyteidl.core import identifier_pb2

START_NODE = "start-node"
END_NODE = "end-node"

_MAX_UNIQUE_ID_LENGTH = 20
_STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_FLYTE = "abcdefghijklmnopqrstuvwxyz123456"


def _fnv32a(data: bytes) -> bytes:
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value.to_bytes(4, "big")


def fixed_length_unique_id(parts: list[str], max_length: int = _MAX_UNIQUE_ID_LENGTH) -> str:
    """``FixedLengthUniqueIDForParts``: empty leading parts add no separator."""
    joined = ""
    for index, part in enumerate(parts):
        if index > 0 and joined:
            joined += "-"
        joined += part
    if len(joined) <= max_length:
        return joined
    encoded = base64.b32encode(_fnv32a(joined.encode())).decode().rstrip("=")
    return "f" + encoded.translate(str.maketrans(_STANDARD, _FLYTE))


@dataclass(frozen=True)
class ParentInfo:
    """The node that owns a nested scope (sub-workflow, branch): its unique id and current attempt."""

    unique_id: str
    attempt: int


def unique_node_id(parent: ParentInfo | None, node_id: str) -> str:
    if parent is None:
        return node_id
    return fixed_length_unique_id([parent.unique_id, str(parent.attempt), node_id])


@dataclass(frozen=True)
class ExecutionLayout:
    """Blob-store paths of one workflow execution.

    :param metadata_prefix: inputs/outputs/errors of nodes, e.g. ``s3://bucket/metadata/<project>-<domain>-<name>``.
    :param raw_output_prefix: offloaded data written by tasks (the execution's raw output data config).
    """

    metadata_prefix: str
    raw_output_prefix: str

    @classmethod
    def for_execution(
        cls, bucket: str, execution_id: identifier_pb2.WorkflowExecutionIdentifier, raw_output_prefix: str = ""
    ) -> ExecutionLayout:
        name = f"{execution_id.project}-{execution_id.domain}-{execution_id.name}"
        raw = raw_output_prefix.rstrip("/") or f"s3://{bucket}/raw"
        return cls(metadata_prefix=f"s3://{bucket}/metadata/propeller/{name}", raw_output_prefix=f"{raw}/{name}")

    @property
    def workflow_inputs(self) -> str:
        return f"{self.metadata_prefix}/inputs.pb"

    def node_dir(self, unique_id: str) -> str:
        return f"{self.metadata_prefix}/{unique_id}/data"

    def node_inputs(self, unique_id: str) -> str:
        return f"{self.node_dir(unique_id)}/inputs.pb"

    def attempt_dir(self, unique_id: str, attempt: int) -> str:
        """Output prefix of one attempt: the task writes ``outputs.pb`` / ``error.pb`` here."""
        return f"{self.node_dir(unique_id)}/{attempt}"

    def node_outputs(self, unique_id: str, attempt: int = 0) -> str:
        return f"{self.attempt_dir(unique_id, attempt)}/outputs.pb"

    def raw_dir(self, unique_id: str, attempt: int) -> str:
        return f"{self.raw_output_prefix}/{unique_id}/{attempt}"

    def checkpoint_dir(self, unique_id: str, attempt: int) -> str:
        return f"{self.raw_dir(unique_id, attempt)}/_flytecheckpoints"
