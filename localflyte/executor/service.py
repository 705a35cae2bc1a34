"""The executor as a localflyte component: it hears about new executions and runs them (propeller's place).

Top-level executions run on a bounded pool (``max_running_executions``; the rest wait QUEUED, as
on a busy propeller). Child executions of launch-plan nodes get their own thread: their parent holds
a pool slot while it waits for them, so queuing them behind it could deadlock. ``TerminateExecution``
cancels the run's token: running processes/containers are killed and the run records ABORTED.

On start, executions a previous localflyte left behind are settled: QUEUED ones are run now; RUNNING
ones are marked FAILED (their processes died with that localflyte; nodes are not resumed); ABORTING
ones are marked ABORTED.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all

from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.core import execution_pb2

from localflyte.context import AppContext
from localflyte.execution import ExecutionPlane
from localflyte.execution.records import ExecutionRecord
from localflyte.executor import plane as bridge
from localflyte.executor.array_node import array_handler
from localflyte.executor.cache import SqliteTaskCache, cached_task_handler
from localflyte.executor.events import execution_error, workflow_event
from localflyte.executor.gate_node import gate_handler
from localflyte.executor.graph import WorkflowExecutor
from localflyte.executor.launch_plan_node import launch_plan_handler, with_launch_plans
from localflyte.executor.model import CancelToken, ExecutorSettings, WorkflowPhase
from localflyte.executor.nodes import NodeHandler, default_handlers
from localflyte.executor.runtimes import Runtime
from localflyte.executor.task_node import handle_task

log = logging.getLogger(__name__)

Key = tuple[str, str, str]
RESTART_MESSAGE = (
    "localflyte stopped while this execution was running and does not resume executions; "
    "relaunch it (FlyteRemote.relaunch or pyflyte run again)"
)


def _key(record: ExecutionRecord) -> Key:
    return (record.project, record.domain, record.name)


class ExecutorService:
    """Subscribes to ``plane.sink`` on :meth:`start`; :meth:`stop` aborts what still runs."""

    def __init__(
        self,
        context: AppContext,
        plane: ExecutionPlane,
        settings: ExecutorSettings,
        runtime: Runtime,
        max_running: int = 4,
    ) -> None:
        self._context = context
        self._plane = plane
        self._events = bridge.AdminEvents(plane)
        self.executor = WorkflowExecutor(settings, runtime, plane.blobs, self._events, self._handlers(context, plane))
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_running), thread_name_prefix="execution")
        self._tokens: dict[Key, CancelToken] = {}
        self._runs: dict[Key, Future[None] | threading.Thread] = {}
        self._lock = threading.Lock()
        self._stopping = False

    @staticmethod
    def _handlers(context: AppContext, plane: ExecutionPlane) -> Mapping[str, NodeHandler]:
        base = default_handlers(handle_task)
        cache = SqliteTaskCache(context.store, context.clock)
        launch_plans = launch_plan_handler(bridge.AdminChildExecutions(plane))
        return {
            **base,
            "task_node": cached_task_handler(base["task_node"], cache),
            "workflow_node": with_launch_plans(base["workflow_node"], launch_plans),
            "gate_node": gate_handler(bridge.AdminSignals(plane), base["gate_node"]),
            "array_node": array_handler(handle_task, launch_plans),
        }

    # lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self._settle_leftovers()
        self._plane.sink.subscribe(self)

    def stop(self, grace: float = 15.0) -> None:
        self._plane.sink.unsubscribe(self)
        with self._lock:
            self._stopping = True
            tokens = list(self._tokens.values())
            runs = list(self._runs.values())
        for token in tokens:
            token.cancel("localflyte is stopping")
        futures = [run for run in runs if isinstance(run, Future)]
        wait_all(futures, timeout=grace)
        for run in runs:
            if isinstance(run, threading.Thread):
                run.join(timeout=grace)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _settle_leftovers(self) -> None:
        table = self._plane.executions.table
        for record in table.in_phases(("UNDEFINED", "QUEUED", "RUNNING", "ABORTING")):
            if record.phase in ("UNDEFINED", "QUEUED"):
                log.info("running execution=%s left QUEUED by a previous localflyte", record.name)
                self.execution_created(record)
            elif record.phase == "RUNNING":
                log.warning("execution=%s was RUNNING when localflyte stopped: marking it FAILED", record.name)
                error = execution_error("LocalflyteRestarted", RESTART_MESSAGE, execution_pb2.ExecutionError.SYSTEM)
                self._record_final(record, WorkflowPhase.FAILED, error)
            else:
                self._record_final(record, WorkflowPhase.ABORTED)

    # ExecutionListener -------------------------------------------------------------------------------

    def execution_created(self, record: ExecutionRecord) -> None:
        key = _key(record)
        with self._lock:
            if self._stopping or key in self._tokens:
                return
            token = CancelToken()
            self._tokens[key] = token
            if record.parent_node_execution:
                thread = threading.Thread(target=self._run, args=(record, token), name=f"child-{record.name}")
                self._runs[key] = thread
                thread.start()
            else:
                self._runs[key] = self._pool.submit(self._run, record, token)

    def abort_requested(self, record: ExecutionRecord) -> None:
        with self._lock:
            token = self._tokens.get(_key(record))
        if token is None:
            # Nothing of ours runs it (ended meanwhile, or left by a previous localflyte): settle it now.
            self._record_final(record, WorkflowPhase.ABORTED)
            return
        token.cancel(record.abort_cause or "terminated")

    # running -----------------------------------------------------------------------------------------

    def _run(self, record: ExecutionRecord, token: CancelToken) -> None:
        key = _key(record)
        try:
            if token.cancelled:
                self._record_final(record, WorkflowPhase.ABORTED)
                return
            try:
                request = bridge.build_request(self._context.store, self._plane, record)
            except Exception as error:  # e.g. the workflow or its inputs cannot be read
                log.exception("execution=%s cannot start", record.name)
                failure = execution_error("LocalflyteCannotStart", f"localflyte could not start it: {error}")
                self._record_final(record, WorkflowPhase.FAILED, failure)
                return
            outcome = self.executor.execute(request, token)
            log.info("execution=%s ended phase=%s", record.name, outcome.phase_name)
            self._ensure_terminal(record, outcome.phase)
        except Exception:  # the pool would swallow it: make it visible
            log.exception("execution=%s: executor service error", record.name)
            self._ensure_terminal(record, WorkflowPhase.FAILED)
        finally:
            with self._lock:
                self._tokens.pop(key, None)
                self._runs.pop(key, None)

    def _ensure_terminal(self, record: ExecutionRecord, phase: int) -> None:
        """The run's last event may have been refused (e.g. a race with Terminate): never leave it open."""
        current = self._plane.executions.fetch(record.identifier)
        if bridge.is_terminal(current):
            return
        final = WorkflowPhase.ABORTED if current.phase == "ABORTING" else phase
        error = None
        if final == WorkflowPhase.FAILED:
            error = execution_error("LocalflyteInternalError", "the executor ended without a terminal event")
        self._record_final(current, final, error)

    def _record_final(
        self, record: ExecutionRecord, phase: int, error: execution_pb2.ExecutionError | None = None
    ) -> None:
        event = workflow_event(record.identifier, phase, error=error)
        try:
            self._plane.executions.create_workflow_event(admin_event_pb2.WorkflowExecutionEventRequest(event=event))
        except Exception as failure:  # already terminal: nothing to settle
            log.info("execution=%s not moved to %s: %s", record.name, WorkflowPhase.Name(phase), failure)  # type: ignore[arg-type]
