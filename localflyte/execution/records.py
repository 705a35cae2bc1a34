"""Stored executions: one typed row per workflow execution, and the SQL that reads and writes it."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, fields, replace
from typing import Any

from flyteidl.admin import execution_pb2, matchable_resource_pb2
from flyteidl.core import identifier_pb2

from localflyte.errors import already_exists
from localflyte.execution.common import missing_entity
from localflyte.store import Row, Store


@dataclass(frozen=True)
class ExecutionRecord:
    """A workflow execution as stored; ``spec`` and ``closure`` are admin protobufs, serialized.

    ``resolved_config`` and ``labels``/``annotations`` are what flyteadmin hands propeller in the
    FlyteWorkflow CRD (the effective settings after precedence), kept for the executor.
    """

    project: str
    domain: str
    name: str
    phase: str
    spec: bytes
    closure: bytes
    resolved_config: bytes
    launch_entity: str
    launch_plan_name: str = ""
    workflow_name: str = ""
    task_name: str = ""
    labels: str = "{}"
    annotations: str = "{}"
    inputs_uri: str = ""
    user_inputs_uri: str = ""
    cluster: str = ""
    user: str = ""
    abort_cause: str = ""
    error_kind: str | None = None
    error_code: str | None = None
    parent_node_execution: str = ""
    source_execution_seq: int | None = None
    state: int = 0
    mode: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0
    started_at: float | None = None
    duration: float = 0.0
    seq: int = 0

    @property
    def identifier(self) -> identifier_pb2.WorkflowExecutionIdentifier:
        return identifier_pb2.WorkflowExecutionIdentifier(project=self.project, domain=self.domain, name=self.name)

    def spec_proto(self) -> execution_pb2.ExecutionSpec:
        return execution_pb2.ExecutionSpec.FromString(self.spec)

    def closure_proto(self) -> execution_pb2.ExecutionClosure:
        return execution_pb2.ExecutionClosure.FromString(self.closure)

    def config_proto(self) -> matchable_resource_pb2.WorkflowExecutionConfig:
        return matchable_resource_pb2.WorkflowExecutionConfig.FromString(self.resolved_config)

    def label_map(self) -> dict[str, str]:
        return dict(json.loads(self.labels))

    def annotation_map(self) -> dict[str, str]:
        return dict(json.loads(self.annotations))

    def to_admin(self) -> execution_pb2.Execution:
        """``transformers.FromExecutionModel`` (with the default namespace filled in)."""
        spec = self.spec_proto()
        if not spec.metadata.system_metadata.namespace:
            spec.metadata.system_metadata.namespace = f"{self.project}-{self.domain}"
        closure = self.closure_proto()
        if self.phase == "ABORTED" and not closure.HasField("abort_metadata"):
            closure.abort_metadata.cause = self.abort_cause
        return execution_pb2.Execution(id=self.identifier, spec=spec, closure=closure)

    def with_changes(self, **changes: Any) -> ExecutionRecord:
        return replace(self, **changes)


_COLUMNS = tuple(field.name for field in fields(ExecutionRecord) if field.name != "seq")


def _from_row(row: Row) -> ExecutionRecord:
    return ExecutionRecord(**{name: row[name] for name in (*_COLUMNS, "seq")})


class ExecutionTable:
    """SQL over the ``executions`` table; callers hold ``store.transaction()`` for read-modify-write."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def insert(self, record: ExecutionRecord) -> ExecutionRecord:
        placeholders = ",".join("?" for _ in _COLUMNS)
        try:
            seq = self.store.insert(
                f"INSERT INTO executions ({','.join(_COLUMNS)}) VALUES ({placeholders})",
                [getattr(record, name) for name in _COLUMNS],
            )
        except sqlite3.IntegrityError as error:
            # flyteadmin: the unique key violation (pg 23505) becomes AlreadyExists.
            raise already_exists(f"value with matching already exists ({error})") from None
        return replace(record, seq=seq)

    def get(self, project: str, domain: str, name: str) -> ExecutionRecord:
        row = self.store.query_one(
            "SELECT * FROM executions WHERE project=? AND domain=? AND name=?", (project, domain, name)
        )
        if row is None:
            raise missing_entity("execution", identifier_pb2.Identifier(project=project, domain=domain, name=name))
        return _from_row(row)

    def find(self, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> ExecutionRecord:
        return self.get(identifier.project, identifier.domain, identifier.name)

    def get_by_seq(self, seq: int) -> ExecutionRecord | None:
        row = self.store.query_one("SELECT * FROM executions WHERE seq=?", (seq,))
        return None if row is None else _from_row(row)

    def update(self, record: ExecutionRecord) -> None:
        assignments = ",".join(f"{name}=?" for name in _COLUMNS)
        self.store.execute(
            f"UPDATE executions SET {assignments} WHERE seq=?",
            [*(getattr(record, name) for name in _COLUMNS), record.seq],
        )

    def select(
        self, where: str, parameters: tuple[Any, ...], order: str, limit: int, offset: int
    ) -> list[ExecutionRecord]:
        rows = self.store.query(
            f"SELECT * FROM executions WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            (*parameters, limit, offset),
        )
        return [_from_row(row) for row in rows]

    def in_phases(self, phases: tuple[str, ...]) -> list[ExecutionRecord]:
        placeholders = ",".join("?" for _ in phases)
        rows = self.store.query(f"SELECT * FROM executions WHERE phase IN ({placeholders}) ORDER BY seq", phases)
        return [_from_row(row) for row in rows]
