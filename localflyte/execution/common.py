"""Small helpers shared by the execution managers: identifiers, timestamps, messages."""

from __future__ import annotations

from typing import Any

from flyteidl.core import identifier_pb2
from google.protobuf import duration_pb2, text_format, timestamp_pb2

from localflyte.errors import AdminError, missing_argument, not_found

WorkflowExecutionIdentifier = identifier_pb2.WorkflowExecutionIdentifier
NodeExecutionIdentifier = identifier_pb2.NodeExecutionIdentifier
TaskExecutionIdentifier = identifier_pb2.TaskExecutionIdentifier


def as_text(message: Any) -> str:
    """A protobuf the way Go's ``%v`` prints it (compact text format)."""
    return text_format.MessageToString(message, as_one_line=True)


def missing_entity(entity_type: str, identifier: Any) -> AdminError:
    """``repositories/errors.GetMissingEntityError``."""
    return not_found(f"missing entity of type {entity_type} with identifier {as_text(identifier)}")


def require_execution_id(identifier: identifier_pb2.WorkflowExecutionIdentifier, present: bool = True) -> None:
    """``validation.ValidateWorkflowExecutionIdentifier``."""
    if not present:
        raise missing_argument("id")
    for field in ("project", "domain", "name"):
        if not getattr(identifier, field):
            raise missing_argument(field)


def timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def seconds_of(stamp: timestamp_pb2.Timestamp) -> float:
    return float(stamp.seconds) + stamp.nanos / 1e9


def duration(seconds: float) -> duration_pb2.Duration:
    value = duration_pb2.Duration()
    value.FromNanoseconds(int(seconds * 1e9))
    return value


def event_time(stamp: timestamp_pb2.Timestamp, now: float) -> float:
    """An event's occurred_at in seconds; events without one count as happening now."""
    return seconds_of(stamp) if stamp.seconds or stamp.nanos else now


def trim_error_message(message: str) -> str:
    """``transformers.TrimErrorMessage``: list responses keep the first 100 bytes of an error."""
    encoded = message.encode()
    return message if len(encoded) <= 100 else encoded[:100].decode(errors="ignore")
