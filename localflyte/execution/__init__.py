"""Executions, node and task executions, events, the data proxy, signals and identity.

:func:`build` returns an :class:`ExecutionPlane`; its ``sink`` is the hook an in-process executor
uses (subscribe to new executions, record events through the RPC code path).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from localflyte.context import AppContext
from localflyte.execution.dataproxy import DataProxy
from localflyte.execution.executions import ExecutionManager
from localflyte.execution.identity import Identity
from localflyte.execution.nodes import NodeExecutionManager
from localflyte.execution.schema import SCHEMA
from localflyte.execution.signals import SignalManager
from localflyte.execution.sink import EventRecorder, ExecutionListener, ExecutionSink
from localflyte.execution.tasks import TaskExecutionManager
from localflyte.server import Component
from localflyte.storage import BlobStore

__all__ = ["EventRecorder", "ExecutionListener", "ExecutionPlane", "ExecutionSink", "build"]


class _Events:
    """Binds the sink to the managers' event handlers."""

    def __init__(self, executions: ExecutionManager, nodes: NodeExecutionManager, tasks: TaskExecutionManager) -> None:
        self.create_workflow_event = executions.create_workflow_event
        self.create_node_event = nodes.create_node_event
        self.create_task_event = tasks.create_task_event
        self.fetch = executions.fetch


@dataclass(frozen=True)
class ExecutionPlane:
    """Everything this package serves, plus the executor's hook (``sink``) and direct accessors."""

    sink: ExecutionSink
    blobs: BlobStore
    executions: ExecutionManager
    nodes: NodeExecutionManager
    tasks: TaskExecutionManager
    signals: SignalManager
    data_proxy: DataProxy
    identity: Identity

    @property
    def components(self) -> list[Component]:
        return [self.executions, self.nodes, self.tasks, self.signals, self.data_proxy, self.identity]


def build(context: AppContext, registration_handlers: Mapping[str, Callable[[Any], Any]]) -> ExecutionPlane:
    """The execution side; ``registration_handlers`` are the registration RPCs, used to register the
    generated workflow and launch plan of a single-task launch exactly as a client would
    (``util/single_task_execution.go``)."""
    context.store.ensure_schema(SCHEMA)
    blobs = BlobStore.from_settings(context.settings)
    sink = ExecutionSink()
    executions = ExecutionManager(context, blobs, sink, registration_handlers.get)
    nodes = NodeExecutionManager(context, blobs)
    tasks = TaskExecutionManager(context, blobs, nodes)
    sink.bind(_Events(executions, nodes, tasks))
    return ExecutionPlane(
        sink=sink, blobs=blobs, executions=executions, nodes=nodes, tasks=tasks,
        signals=SignalManager(context), data_proxy=DataProxy(context, blobs, nodes), identity=Identity(context),
    )  # fmt: skip
