"""Digests of registered structures and the "different structure" errors that quote a diff.

flyteadmin hashes the compiled task, the compiled workflow closure and the launch plan
(``pkg/manager/impl/util/digests.go``) and, when a re-registration differs, reports the JSON paths that
changed (``pkg/errors/errors.go``: ``compareJsons`` over two jsondiff patches, then
``truncateErrorMessage``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from localflyte.errors import AdminError, already_exists, invalid_argument

# flyteadmin keeps the message under gRPC's default 4 MiB; the diff is the part that gets cut.
MAX_ERROR_MESSAGE_BYTES = 4 * 1024 * 1024 - 1024
_TRUNCATED_SUFFIX = "\n\n... [diff truncated — exceeded gRPC max message size]"
_MISSING = object()


def digest(message: Message) -> bytes:
    """A stable hash of a protobuf: deterministic serialization (map entries sorted), then SHA-256."""
    return hashlib.sha256(message.SerializeToString(deterministic=True)).digest()


def _as_tree(message: Message) -> Any:
    # Go's jsondiff walks the struct's JSON form, whose keys are the proto field names.
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _pointer(parts: list[str]) -> str:
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _show(value: Any) -> str:
    if value is _MISSING:
        return "<nil>"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def diff_lines(old: Message, new: Message) -> list[str]:
    """``path:\\n\\t- old \\n\\t+ new`` for every leaf that differs, in path order."""
    lines: list[str] = []

    def walk(before: Any, after: Any, path: list[str]) -> None:
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted(set(before) | set(after)):
                walk(before.get(key, _MISSING), after.get(key, _MISSING), [*path, key])
        elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
            for index, (item_before, item_after) in enumerate(zip(before, after, strict=True)):
                walk(item_before, item_after, [*path, str(index)])
        elif before != after:
            lines.append(f"{_pointer(path)}:\n\t- {_show(before)} \n\t+ {_show(after)}")

    walk(_as_tree(old), _as_tree(new), [])
    return lines


def _truncate(message: str) -> str:
    encoded = message.encode()
    if len(encoded) <= MAX_ERROR_MESSAGE_BYTES:
        return message
    cut = encoded[: MAX_ERROR_MESSAGE_BYTES - len(_TRUNCATED_SUFFIX.encode())]
    return cut.decode(errors="ignore") + _TRUNCATED_SUFFIX


def different_structure(kind: str, name: str, old: Message, new: Message) -> AdminError:
    """``New{Task,Workflow,LaunchPlan}ExistsDifferentStructureError``: INVALID_ARGUMENT with a diff."""
    header = f"{name} {kind} with different structure already exists. (Please register a new version of the {kind}):\n"
    return invalid_argument(_truncate(header + "\n".join(diff_lines(old, new))))


def identical_structure(kind: str) -> AdminError:
    """``New{Task,Workflow,LaunchPlan}ExistsIdenticalStructureError``: ALREADY_EXISTS."""
    return already_exists(f"{kind} with identical structure already exists")
