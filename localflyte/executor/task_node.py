"""Task nodes: attempts, retries and timeouts around a runtime, as propeller's task handler and node executor.

Per attempt: render the container's command/args, run them, then read ``outputs.pb`` or
``error.pb`` from the attempt's output prefix (flyteplugins ``ioutils`` / ``k8s`` plugin manager).
Retry rules follow ``flytepropeller/pkg/controller/nodes/executor.go``: only RECOVERABLE errors retry;
USER ones spend the node's ``retries``, SYSTEM ones a separate budget. An attempt longer than the
node's timeout is a retryable USER error; when no retry is left the node ends TIMED_OUT (propeller
would report FAILED "RetriesExhausted|TimeoutExpired" there; issue 4 asks for TIMED_OUT).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flyteidl.core import errors_pb2, execution_pb2, literals_pb2, tasks_pb2

from localflyte.executor import copilot, pytorch, templates
from localflyte.executor.data_dirs import data_dirs, runtime_with_data_dirs
from localflyte.executor.dynamic_node import FUTURES_FILE, run_dynamic
from localflyte.executor.events import TaskPhase, execution_error, task_event
from localflyte.executor.model import NodeOutcome, NodePhase
from localflyte.executor.nodes import SYSTEM, USER, NodeContext, aborted, failed
from localflyte.executor.runtimes import ResourceLimits, Runtime, RuntimeStartError, TaskResult, TaskRun
from localflyte.executor.storage import BlobNotFoundError

log = logging.getLogger(__name__)

RECOVERABLE = errors_pb2.ContainerError.RECOVERABLE
DECK_FILE = "deck.html"  # flytekit's DECK_FILE_NAME, written to the attempt's output prefix


@dataclass(frozen=True)
class AttemptResult:
    """One attempt's ending: outputs, or an error and whether it may be retried."""

    outputs: literals_pb2.LiteralMap | None = None
    output_uri: str = ""
    error: execution_pb2.ExecutionError | None = None
    retryable: bool = False
    timed_out: bool = False
    aborted: bool = False
    futures_uri: str = ""  # a dynamic task's DynamicJobSpec, instead of outputs
    deck_uri: str = ""  # flytekit's deck.html beside the outputs (``enable_deck=True``)


def find_task(context: NodeContext) -> tasks_pb2.TaskTemplate | None:
    reference = context.node.task_node.reference_id
    for compiled in context.services.request.closure.tasks:
        if compiled.template.id == reference:
            return compiled.template
    return None


def handle_task(context: NodeContext) -> NodeOutcome:
    """Run a task node to a terminal phase, retrying recoverable failures."""
    task = find_task(context)
    if task is None:
        ref = context.node.task_node.reference_id
        return failed("TaskNotFound", f"task {ref.name}:{ref.version} is not in the compiled closure's tasks")
    task = pytorch.with_primary_container(task)
    if not task.HasField("container"):
        return failed("UnsupportedTask", f"localflyte runs container tasks only; {task.id.name} is {task.type!r}")
    retries = _retries(context, task)
    user_failures = system_failures = 0
    attempt = 0
    while True:
        result = _run_attempt(context, task, attempt)
        if result.aborted:
            return aborted(context.token.reason)
        if result.futures_uri:
            return run_dynamic(context, task, attempt, result.futures_uri)
        if result.error is None:
            outputs, output_uri = result.outputs, result.output_uri
            return NodeOutcome(NodePhase.SUCCEEDED, outputs=outputs, output_uri=output_uri, deck_uri=result.deck_uri)
        if not result.retryable:
            return NodeOutcome(phase=NodePhase.FAILED, error=result.error, deck_uri=result.deck_uri)
        if result.error.kind == SYSTEM:
            system_failures += 1
            eligible = system_failures <= context.services.settings.system_retries
        else:
            user_failures += 1
            eligible = user_failures <= retries
        if not eligible:
            return dataclasses.replace(_retries_exhausted(result, user_failures, retries + 1), deck_uri=result.deck_uri)
        log.info("retrying node=%s attempt=%s after %s", context.unique_id, attempt + 1, result.error.code)
        attempt += 1


def _retries_exhausted(result: AttemptResult, done: int, max_attempts: int) -> NodeOutcome:
    assert result.error is not None
    error = execution_pb2.ExecutionError()
    error.CopyFrom(result.error)
    if result.timed_out:
        return NodeOutcome(phase=NodePhase.TIMED_OUT, error=error)
    error.code = f"RetriesExhausted|{result.error.code}"
    kind = execution_pb2.ExecutionError.ErrorKind.Name(result.error.kind)
    error.message = f"[{done}/{max_attempts}] currentAttempt done. Last Error: {kind}::{result.error.message}"
    return NodeOutcome(phase=NodePhase.FAILED, error=error)


def _retries(context: NodeContext, task: tasks_pb2.TaskTemplate) -> int:
    # propeller's compiler: the node's retry strategy when set, else the task's.
    return context.node.metadata.retries.retries or task.metadata.retries.retries


def _timeout(context: NodeContext, task: tasks_pb2.TaskTemplate) -> float | None:
    for duration in (context.node.metadata.timeout, task.metadata.timeout):
        seconds = duration.ToTimedelta().total_seconds()
        if seconds > 0:
            return seconds
    return None


def _limits(context: NodeContext, task: tasks_pb2.TaskTemplate) -> ResourceLimits:
    resources = task.container.resources
    if context.node.task_node.overrides.HasField("resources"):
        resources = context.node.task_node.overrides.resources
    # Kubernetes defaults limits to requests; do the same when only requests are given.
    values = {entry.name: entry.value for entry in resources.requests}
    values.update({entry.name: entry.value for entry in resources.limits})
    name = tasks_pb2.Resources.ResourceName
    return ResourceLimits(cpu=values.get(name.CPU, ""), memory=values.get(name.MEMORY, ""))


def _run_attempt(context: NodeContext, task: tasks_pb2.TaskTemplate, attempt: int) -> AttemptResult:
    services = context.services
    layout = services.layout
    output_prefix = layout.attempt_dir(context.unique_id, attempt)
    values = templates.TemplateValues(
        input_path=context.events.input_uri,
        output_prefix=output_prefix,
        raw_output_prefix=layout.raw_dir(context.unique_id, attempt),
        checkpoint_prefix=layout.checkpoint_dir(context.unique_id, attempt),
        previous_checkpoint_prefix=layout.checkpoint_dir(context.unique_id, attempt - 1) if attempt else "",
        per_retry_unique_key=f"{services.request.execution_id.name}-{context.unique_id}-{attempt}",
        namespace=f"{services.request.execution_id.project}-{services.request.execution_id.domain}",
        inputs=context.inputs,
    )
    run_id = values.per_retry_unique_key
    log_path = services.settings.log_dir / services.request.execution_id.name / f"{context.unique_id}-{attempt}.log"
    logs = services.settings.task_logs(log_path, f"{context.unique_id} attempt {attempt} (stdout/stderr)")

    def emit(phase: int, version: int, **fields: Any) -> None:
        event = task_event(
            context.events, task.id, task.type, attempt, phase, phase_version=version, logs=logs, **fields
        )
        services.sink.task_phase(event)

    emit(TaskPhase.QUEUED, 0)
    try:
        task_run = TaskRun(
            run_id=run_id,
            image=context.node.task_node.overrides.container_image or task.container.image,
            command=tuple(templates.render(task.container.command, values)),
            args=tuple(templates.render(task.container.args, values)),
            env=_environment(context, task, attempt),
            log_path=log_path,
            limits=_limits(context, task),
            timeout=_timeout(context, task),
        )
    except (templates.TemplateError, ValueError) as error:
        result = AttemptResult(error=execution_error("BadTaskSpecification", str(error), USER))
        emit(TaskPhase.FAILED, 1, error=result.error)
        return result
    emit(TaskPhase.RUNNING, 1)
    with data_dirs(task, run_id) as dirs:
        runtime = services.runtime
        try:
            if dirs is not None:
                fmt = task.container.data_config.format
                copilot.download_inputs(services.blobs, context.inputs, dirs.host_inputs, fmt)
                runtime = runtime_with_data_dirs(runtime, dirs)
            with _slot(context), _terminate_on_cancel(context, runtime, run_id):
                if context.token.cancelled:
                    return _aborted(emit)
                outcome = pytorch.run_task(runtime, services.blobs, task, task_run, output_prefix)
        except RuntimeStartError as error:
            result = AttemptResult(error=execution_error("RuntimeStartError", str(error), SYSTEM))
            emit(TaskPhase.FAILED, 2, error=result.error)
            return result
        result = _read_result(context, task, outcome, output_prefix, dirs, values.raw_output_prefix)
    deck_uri = f"{output_prefix}/{DECK_FILE}"
    if not result.aborted and services.blobs.exists(deck_uri):
        # As propeller's task handler: a deck the task wrote becomes the node execution's deck_uri.
        result = dataclasses.replace(result, deck_uri=deck_uri)
    if result.aborted:
        return _aborted(emit)
    if result.error is None:
        emit(TaskPhase.SUCCEEDED, 2, output_uri=result.output_uri)
    else:
        emit(TaskPhase.FAILED, 2, error=result.error)
    return result


def _aborted(emit: Callable[..., None]) -> AttemptResult:
    emit(TaskPhase.ABORTED, 3)
    return AttemptResult(aborted=True)


def _environment(context: NodeContext, task: tasks_pb2.TaskTemplate, attempt: int) -> dict[str, str]:
    execution_id = context.services.request.execution_id
    identity = templates.TaskIdentity(
        execution_project=execution_id.project,
        execution_domain=execution_id.domain,
        execution_name=execution_id.name,
        task_project=task.id.project,
        task_domain=task.id.domain,
        task_name=task.id.name,
        task_version=task.id.version,
        attempt=attempt,
        workflow_name=context.services.request.closure.primary.template.id.name,
    )
    task_env = {**context.services.request.env, **{pair.key: pair.value for pair in task.container.env}}
    return templates.task_environment(
        identity, context.services.settings.cluster, task_env, secrets=task.security_context.secrets
    )


@contextlib.contextmanager
def _slot(context: NodeContext) -> Iterator[None]:
    """Hold one of the execution's ``max_parallelism`` slots while the task runs."""
    slots = context.services.slots
    if slots is None:
        yield
        return
    with slots:
        yield


@contextlib.contextmanager
def _terminate_on_cancel(context: NodeContext, runtime: Runtime, run_id: str) -> Iterator[None]:
    handle = context.token.on_cancel(lambda: runtime.terminate(run_id))
    try:
        yield
    finally:
        context.token.remove(handle)


def _read_result(
    context: NodeContext,
    task: tasks_pb2.TaskTemplate,
    outcome: TaskResult,
    output_prefix: str,
    dirs: copilot.DataDirs | None = None,
    raw_prefix: str = "",
) -> AttemptResult:
    blobs = context.services.blobs
    if outcome.terminated or context.token.cancelled:
        return AttemptResult(aborted=True)
    if outcome.timed_out:
        timeout = _timeout(context, task)
        message = f"task execution timeout [{timeout}s] expired"
        return AttemptResult(error=execution_error("TimeoutExpired", message, USER), retryable=True, timed_out=True)
    if dirs is not None:
        return _read_data_dirs(context, task, outcome, output_prefix, dirs, raw_prefix)
    # Like propeller's remote output reader: error.pb wins, whatever the exit code (flytekit exits 0 after
    # writing it); then outputs.pb; then the exit code.
    try:
        document = blobs.read_proto(f"{output_prefix}/error.pb", errors_pb2.ErrorDocument)
    except BlobNotFoundError:
        pass
    else:
        container_error = document.error
        kind = USER if container_error.origin != SYSTEM else SYSTEM
        error = execution_error(container_error.code, container_error.message, kind)
        error.error_uri = f"{output_prefix}/error.pb"
        return AttemptResult(error=error, retryable=container_error.kind == RECOVERABLE)
    outputs_uri = f"{output_prefix}/outputs.pb"
    try:
        outputs = blobs.read_proto(outputs_uri, literals_pb2.LiteralMap)
    except BlobNotFoundError:
        if outcome.exit_code == 0:
            return _missing_outputs(context, task, output_prefix, outcome)
        message = f"task exited with code {outcome.exit_code} and wrote no error.pb; see {outcome.log_path}"
        return AttemptResult(error=execution_error("ContainerFailed", message, SYSTEM), retryable=True)
    return AttemptResult(outputs=outputs, output_uri=outputs_uri)


def _missing_outputs(
    context: NodeContext, task: tasks_pb2.TaskTemplate, output_prefix: str, outcome: TaskResult
) -> AttemptResult:
    futures_uri = f"{output_prefix}/{FUTURES_FILE}"
    if context.services.blobs.exists(futures_uri):
        return AttemptResult(outputs=literals_pb2.LiteralMap(), futures_uri=futures_uri)
    if not task.interface.outputs.variables:
        return AttemptResult(outputs=literals_pb2.LiteralMap())
    message = f"task exited 0 but wrote no {output_prefix}/outputs.pb; see {outcome.log_path}"
    return AttemptResult(error=execution_error("OutputsNotFound", message, SYSTEM))


def _read_data_dirs(
    context: NodeContext,
    task: tasks_pb2.TaskTemplate,
    outcome: TaskResult,
    output_prefix: str,
    dirs: copilot.DataDirs,
    raw_prefix: str,
) -> AttemptResult:
    """A raw container task's ending, from its exit code and output directory (the copilot uploader's job)."""
    if outcome.exit_code != 0:
        # What the k8s plugin reports for a failed primary container: a USER failure that retries may absorb.
        message = f"container exited with code {outcome.exit_code}; see {outcome.log_path}"
        return AttemptResult(error=execution_error("ContainerFailed", message, USER), retryable=True)
    try:
        outputs = copilot.read_outputs(context.services.blobs, task, dirs.host_outputs, raw_prefix)
    except copilot.UserError as error:
        return AttemptResult(error=execution_error("UserError", str(error), USER))
    except copilot.OutputError as error:
        return AttemptResult(error=execution_error("OutputsNotFound", f"{error}; see {outcome.log_path}", USER))
    uri = f"{output_prefix}/outputs.pb"
    context.services.blobs.write_proto(uri, outputs)
    return AttemptResult(outputs=outputs, output_uri=uri)
