"""The executor's values: what to run, how it ended, and the cancellation that flows down a run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flyteidl.core import compiler_pb2, execution_pb2, identifier_pb2, literals_pb2
from flyteidl.event import event_pb2

from localflyte.executor.templates import ClusterEnvironment

NodePhase = execution_pb2.NodeExecution.Phase
WorkflowPhase = execution_pb2.WorkflowExecution.Phase


@dataclass(frozen=True)
class ExecutorSettings:
    """Fixed for a localflyte instance.

    :param cluster: the environment every task gets (FlyteAdmin endpoint, S3 endpoint and keys).
    :param bucket: the metadata bucket node inputs/outputs go to.
    :param log_dir: where each task attempt's stdout/stderr is kept.
    :param system_retries: retries for recoverable SYSTEM errors, apart from the task's own
        (propeller's ``max-node-retries-system-failures``, default 3).
    :param log_url_prefix: when set, task logs are also linked as ``<prefix>/<path under log_dir>``
        (localflyte's HTTP endpoint serves them), next to the ``file://`` link.
    """

    cluster: ClusterEnvironment
    bucket: str
    log_dir: Path
    system_retries: int = 3
    log_url_prefix: str = ""

    def task_logs(self, log_path: Path, name: str) -> list[execution_pb2.TaskLog]:
        """The log links of one task attempt, as a task execution's ``logs``."""
        links = [execution_pb2.TaskLog(uri=log_path.as_uri(), name=f"{name} (file)")]
        if self.log_url_prefix:
            relative = log_path.relative_to(self.log_dir).as_posix()
            links.append(execution_pb2.TaskLog(uri=f"{self.log_url_prefix.rstrip('/')}/{relative}", name=name))
        return links


@dataclass(frozen=True)
class ExecutionRequest:
    """One workflow execution to run.

    :param raw_output_prefix: the execution's raw output data prefix (empty: ``s3://<bucket>/raw``).
    :param max_parallelism: task nodes running at once across the whole execution; ``0`` is unbounded.
    :param env: extra environment for every task (the execution spec's ``envs``).
    :param overwrite_cache: run cached tasks anyway and replace their cache entries.
    """

    execution_id: identifier_pb2.WorkflowExecutionIdentifier
    closure: compiler_pb2.CompiledWorkflowClosure
    inputs: literals_pb2.LiteralMap
    raw_output_prefix: str = ""
    max_parallelism: int = 25
    env: Mapping[str, str] = field(default_factory=dict)
    overwrite_cache: bool = False


@dataclass(frozen=True)
class NodeOutcome:
    """How a node ended: a terminal node phase, its outputs (on success) or its error.

    ``task_node_metadata`` (cache status and key), ``child_execution`` (a launch-plan node's execution)
    and ``deck_uri`` (the task's ``deck.html``) go into the node's terminal event, where FlyteAdmin
    records them on the node execution.
    """

    phase: int
    outputs: literals_pb2.LiteralMap | None = None
    output_uri: str = ""
    error: execution_pb2.ExecutionError | None = None
    task_node_metadata: event_pb2.TaskNodeMetadata | None = None
    child_execution: identifier_pb2.WorkflowExecutionIdentifier | None = None
    deck_uri: str = ""

    @property
    def succeeded(self) -> bool:
        return self.phase == NodePhase.SUCCEEDED


@dataclass(frozen=True)
class WorkflowOutcome:
    """How a workflow execution ended."""

    phase: int
    outputs: literals_pb2.LiteralMap = field(default_factory=literals_pb2.LiteralMap)
    output_uri: str = ""
    error: execution_pb2.ExecutionError | None = None

    @property
    def phase_name(self) -> str:
        return WorkflowPhase.Name(self.phase)  # type: ignore[arg-type]


class CancelToken:
    """Cancellation that cascades to child tokens and fires callbacks (e.g. terminate a container)."""

    def __init__(self, parent: CancelToken | None = None) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._children: list[CancelToken] = []
        self._next = 0
        self.reason = ""
        if parent is not None:
            parent._adopt(self)

    def _adopt(self, child: CancelToken) -> None:
        with self._lock:
            self._children.append(child)
            cancelled = self._event.is_set()
        if cancelled:
            child.cancel(self.reason)

    def child(self) -> CancelToken:
        return CancelToken(self)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when cancelled meanwhile."""
        return self._event.wait(seconds)

    def on_cancel(self, callback: Callable[[], None]) -> int:
        """Register a callback; runs at once if already cancelled. Returns a handle for :meth:`remove`."""
        with self._lock:
            handle = self._next
            self._next += 1
            self._callbacks[handle] = callback
            cancelled = self._event.is_set()
        if cancelled:
            callback()
        return handle

    def remove(self, handle: int) -> None:
        with self._lock:
            self._callbacks.pop(handle, None)

    def cancel(self, reason: str) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self.reason = reason
            self._event.set()
            callbacks = list(self._callbacks.values())
            children = list(self._children)
        for callback in callbacks:
            callback()
        for child in children:
            child.cancel(reason)
