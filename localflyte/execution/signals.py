"""SignalService: gate-node signals keyed by execution and signal id.

Port of ``flyteadmin/pkg/manager/impl/signal_manager.go`` and ``validation/signal_validator.go``.
Setting a signal that already has a value overwrites it, as flyteadmin's ``SignalRepo.Update`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flyteidl.admin import signal_pb2
from flyteidl.core import identifier_pb2, literals_pb2, types_pb2

from localflyte.context import AppContext
from localflyte.errors import invalid_argument, missing_argument
from localflyte.execution.common import as_text, require_execution_id
from localflyte.execution.inputs import is_castable, literal_type_for
from localflyte.filters import next_token, order_by, page, parse_filters
from localflyte.store import Row

Handler = Callable[[Any], Any]
_COLUMNS = {"signal_id": "signal_id", "created_at": "created_at", "updated_at": "updated_at"}
_KEY = "project=? AND domain=? AND name=? AND signal_id=?"


def _validate_id(identifier: identifier_pb2.SignalIdentifier, present: bool) -> None:
    if not present:
        raise missing_argument("id")
    if not identifier.HasField("execution_id"):
        raise missing_argument("execution_id")
    if not identifier.signal_id:
        raise missing_argument("signal_id")
    require_execution_id(identifier.execution_id)


def _key(identifier: identifier_pb2.SignalIdentifier) -> tuple[str, str, str, str]:
    execution = identifier.execution_id
    return (execution.project, execution.domain, execution.name, identifier.signal_id)


class SignalManager:
    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._store = context.store

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "SignalService.GetOrCreateSignal": self.get_or_create_signal,
            "SignalService.ListSignals": self.list_signals,
            "SignalService.SetSignal": self.set_signal,
        }

    @staticmethod
    def to_admin(row: Row) -> signal_pb2.Signal:
        signal = signal_pb2.Signal(
            id=identifier_pb2.SignalIdentifier(
                signal_id=row["signal_id"],
                execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                    project=row["project"], domain=row["domain"], name=row["name"]
                ),
            ),
            type=types_pb2.LiteralType.FromString(row["type"]),
        )
        if row["value"] is not None:
            signal.value.ParseFromString(row["value"])
        return signal

    def get_or_create_signal(self, request: signal_pb2.SignalGetOrCreateRequest) -> Any:
        _validate_id(request.id, request.HasField("id"))
        if not request.HasField("type"):
            raise missing_argument("type")
        now = self._context.clock.now()
        with self._store.transaction():
            self._store.execute(
                "INSERT INTO signals (project, domain, name, signal_id, type, value, created_at, updated_at)"
                " VALUES (?,?,?,?,?,NULL,?,?) ON CONFLICT (project, domain, name, signal_id) DO NOTHING",
                (*_key(request.id), request.type.SerializeToString(), now, now),
            )
            row = self._store.query_one(f"SELECT * FROM signals WHERE {_KEY}", _key(request.id))
        assert row is not None  # inserted or already there, inside one transaction
        return self.to_admin(row)

    def list_signals(self, request: signal_pb2.SignalListRequest) -> Any:
        execution = request.workflow_execution_id
        if not request.HasField("workflow_execution_id") or not (
            execution.project and execution.domain and execution.name
        ):
            raise missing_argument("execution_id")
        limit, offset = page(request.limit, request.token)
        where = parse_filters(request.filters, _COLUMNS)
        order = order_by(request.sort_by if request.HasField("sort_by") else None, _COLUMNS, "seq ASC")
        rows = self._store.query(
            f"SELECT * FROM signals WHERE project=? AND domain=? AND name=? AND ({where.sql})"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            (execution.project, execution.domain, execution.name, *where.parameters, limit, offset),
        )
        return signal_pb2.SignalList(
            signals=[self.to_admin(row) for row in rows], token=next_token(offset, limit, rows)
        )

    def set_signal(self, request: signal_pb2.SignalSetRequest) -> Any:
        """``SetSignal``: the signal must exist and the value must fit its type."""
        _validate_id(request.id, request.HasField("id"))
        if not request.HasField("value"):
            raise missing_argument("value")
        key = _key(request.id)
        with self._store.transaction():
            row = self._store.query_one(f"SELECT * FROM signals WHERE {_KEY}", key)
            if row is None:
                raise invalid_argument(
                    f"failed to validate that signal [{{{' '.join(key)}}}] exists, err: [signal does not exist]"
                )
            expected = types_pb2.LiteralType.FromString(row["type"])
            if not is_castable(literal_type_for(request.value), expected):
                raise invalid_argument(
                    f"requested signal value [{as_text(request.value)}] is not castable to existing signal type "
                    f"[{as_text(expected)}]"
                )
            self._store.execute(
                f"UPDATE signals SET value=?, updated_at=? WHERE {_KEY}",
                (request.value.SerializeToString(), self._context.clock.now(), *key),
            )
        return signal_pb2.SignalSetResponse()

    def value(self, identifier: identifier_pb2.SignalIdentifier) -> literals_pb2.Literal | None:
        """The signal's value for an executor's gate node, or None while unset."""
        row = self._store.query_one(f"SELECT value FROM signals WHERE {_KEY}", _key(identifier))
        if row is None or row["value"] is None:
            return None
        return literals_pb2.Literal.FromString(row["value"])
