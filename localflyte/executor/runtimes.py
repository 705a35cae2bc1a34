"""Where a task attempt's container command runs: a host subprocess or a Docker container.

A runtime only runs a rendered command and keeps its logs; reading inputs and outputs is the task
node's job (``task_node.py``), so both runtimes behave identically towards the blob store.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

_QUANTITY = re.compile(r"^\s*([0-9.]+)\s*([a-zA-Z]*)\s*$")
_MEMORY_SUFFIX = {
    "": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
    "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40,
}  # fmt: skip


class RuntimeStartError(RuntimeError):
    """The command could not even start (missing image or executable); retrying will not help."""


@dataclass(frozen=True)
class ResourceLimits:
    """Kubernetes-style limits, as the task declares them (``"500m"``, ``"2"``, ``"1Gi"``)."""

    cpu: str = ""
    memory: str = ""


@dataclass(frozen=True)
class TaskRun:
    """One attempt of one task, fully rendered.

    :param run_id: unique within localflyte; used to name the container and to terminate the run.
    :param command: the container's command (its entrypoint); empty means the image's own.
    :param args: the container's args after template substitution.
    :param timeout: seconds after which the attempt is killed and reported as timed out.
    """

    run_id: str
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: Mapping[str, str]
    log_path: Path
    limits: ResourceLimits = field(default_factory=ResourceLimits)
    timeout: float | None = None

    @property
    def argv(self) -> list[str]:
        return [*self.command, *self.args]


@dataclass(frozen=True)
class TaskResult:
    """How an attempt ended. ``terminated`` means :meth:`Runtime.terminate` stopped it."""

    exit_code: int
    log_path: Path
    duration: float
    timed_out: bool = False
    terminated: bool = False


class Runtime(Protocol):
    def run(self, task_run: TaskRun) -> TaskResult:
        """Run to completion (blocking); logs end up at ``task_run.log_path``."""
        ...

    def terminate(self, run_id: str) -> None:
        """Stop a running attempt; a no-op when it is not running."""
        ...


def cpu_to_nano_cpus(quantity: str) -> int:
    """``"500m"`` → 500_000_000; ``"2"`` → 2_000_000_000."""
    match = _QUANTITY.match(quantity)
    if not match or match.group(2) not in ("", "m"):
        raise ValueError(f"cannot read CPU quantity {quantity!r} (expected e.g. '500m' or '2')")
    value = float(match.group(1))
    return int(value * 1e6) if match.group(2) == "m" else int(value * 1e9)


def memory_to_bytes(quantity: str) -> int:
    """``"1Gi"`` → 1073741824; ``"500M"`` → 500000000."""
    match = _QUANTITY.match(quantity)
    suffix = match.group(2).lower() if match else ""
    if not match or suffix not in _MEMORY_SUFFIX:
        raise ValueError(f"cannot read memory quantity {quantity!r} (expected e.g. '512Mi' or '1G')")
    return int(float(match.group(1)) * _MEMORY_SUFFIX[suffix])


def host_safe_argv(argv: list[str], workdir: Path) -> list[str]:
    """``pyflyte-fast-execute --dest-dir /root`` (``pyflyte register``'s default) means the container's
    working directory; on the host it would unpack the code bundle into a real ``/root``. Point any
    absolute ``--dest-dir`` at the run's own working directory instead."""
    safe = list(argv)
    for index, word in enumerate(safe[:-1]):
        if word == "--dest-dir" and Path(safe[index + 1]).is_absolute():
            safe[index + 1] = str(workdir)
    return safe


class ProcessRuntime:
    """Runs the command as a host subprocess (no isolation; fast tests). The image is ignored.

    :param base_env: the environment the task sees below its own; defaults to this process's.
    :param workdir: parent of each run's working directory (where ``--dest-dir .`` unpacks code).
    """

    def __init__(self, workdir: Path, base_env: Mapping[str, str] | None = None) -> None:
        self._workdir = workdir
        self._base_env = dict(os.environ if base_env is None else base_env)
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self._terminated: set[str] = set()
        self._lock = threading.Lock()

    def run(self, task_run: TaskRun) -> TaskResult:
        cwd = self._workdir / task_run.run_id
        cwd.mkdir(parents=True, exist_ok=True)
        argv = host_safe_argv(task_run.argv, cwd)
        task_run.log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with task_run.log_path.open("ab") as log_file:
            try:
                # A new session lets terminate() kill the whole process group (pyflyte-fast-execute forks).
                process = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env={**self._base_env, **task_run.env},
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                raise RuntimeStartError(f"cannot start {task_run.argv[:1]} for {task_run.run_id}: {error}") from error
            with self._lock:
                self._running[task_run.run_id] = process
            timed_out = False
            try:
                process.wait(timeout=task_run.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                self._kill(process)
            finally:
                with self._lock:
                    self._running.pop(task_run.run_id, None)
                    terminated = task_run.run_id in self._terminated
                    self._terminated.discard(task_run.run_id)
        return TaskResult(
            exit_code=process.returncode,
            log_path=task_run.log_path,
            duration=time.monotonic() - started,
            timed_out=timed_out,
            terminated=terminated,
        )

    def terminate(self, run_id: str) -> None:
        with self._lock:
            process = self._running.get(run_id)
            if process is not None:
                self._terminated.add(run_id)
        if process is not None:
            log.info("terminating run=%s pid=%s", run_id, process.pid)
            self._kill(process)

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class DockerRuntime:
    """Runs the command in the task's image, host network, as propeller runs a pod.

    A missing image is pulled as a kubelet does (``IfNotPresent``), but only from a registry on the
    loopback interface (``127.0.0.1:<port>/...``, ``localhost:<port>/...``): nothing else is reachable,
    so any other missing image is a :class:`RuntimeStartError`.
    """

    LABEL = "localflyte.run"

    def __init__(self, client: Any | None = None) -> None:
        if client is None:
            import docker

            client = docker.from_env()
        self._client = client
        self._running: dict[str, Any] = {}
        self._terminated: set[str] = set()
        self._lock = threading.Lock()

    def run(self, task_run: TaskRun) -> TaskResult:
        from docker.errors import APIError, ImageNotFound

        options: dict[str, Any] = {}
        if task_run.limits.cpu:
            options["nano_cpus"] = cpu_to_nano_cpus(task_run.limits.cpu)
        if task_run.limits.memory:
            options["mem_limit"] = memory_to_bytes(task_run.limits.memory)
        started = time.monotonic()
        try:
            try:
                container = self._create(task_run, options)
            except ImageNotFound:
                if not loopback_registry(task_run.image):
                    raise
                self._pull(task_run.image)
                container = self._create(task_run, options)
        except ImageNotFound as error:
            raise RuntimeStartError(
                f"image {task_run.image!r} is not in the local Docker engine and is not on a loopback registry, "
                "so localflyte cannot pull it; build or load it first"
            ) from error
        except APIError as error:
            raise RuntimeStartError(f"cannot create the container for {task_run.run_id}: {error}") from error
        with self._lock:
            self._running[task_run.run_id] = container
        timed_out = False
        try:
            container.start()
            try:
                status = container.wait(timeout=task_run.timeout)
                exit_code = int(status.get("StatusCode", -1))
            except Exception:  # requests' ReadTimeout when the timeout passes
                timed_out = True
                container.kill()
                exit_code = int(container.wait().get("StatusCode", -1))
            task_run.log_path.parent.mkdir(parents=True, exist_ok=True)
            task_run.log_path.write_bytes(container.logs(stdout=True, stderr=True))
        finally:
            with self._lock:
                self._running.pop(task_run.run_id, None)
                terminated = task_run.run_id in self._terminated
                self._terminated.discard(task_run.run_id)
            container.remove(force=True)
        return TaskResult(
            exit_code=exit_code,
            log_path=task_run.log_path,
            duration=time.monotonic() - started,
            timed_out=timed_out and not terminated,
            terminated=terminated,
        )

    def _create(self, task_run: TaskRun, options: Mapping[str, Any]) -> Any:
        # create (not run): run() would pull a missing image from anywhere.
        return self._client.containers.create(
            task_run.image,
            command=list(task_run.args),
            entrypoint=list(task_run.command) or None,
            environment=dict(task_run.env),
            network_mode="host",
            name=_container_name(task_run.run_id),
            labels={self.LABEL: task_run.run_id},
            detach=True,
            **options,
        )

    def _pull(self, image: str) -> None:
        from docker.errors import APIError

        repository, tag = split_reference(image)
        log.info("pulling image=%s (not in the engine; IfNotPresent)", image)
        try:
            self._client.images.pull(repository, tag=tag)
        except APIError as error:
            raise RuntimeStartError(f"cannot pull image {image!r} from its registry: {error.explanation}") from error

    def terminate(self, run_id: str) -> None:
        with self._lock:
            container = self._running.get(run_id)
            if container is not None:
                self._terminated.add(run_id)
        if container is not None:
            log.info("terminating run=%s container=%s", run_id, container.id[:12])
            try:
                container.kill()
            except Exception as error:  # already exited: nothing left to stop
                log.info("kill run=%s: %s", run_id, error)


def split_reference(image: str) -> tuple[str, str]:
    """``host:port/repo:tag`` → (``host:port/repo``, ``tag``); a digest reference keeps ``@sha256:...`` as the tag."""
    if "@" in image:
        repository, digest = image.split("@", 1)
        return repository, digest
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:  # no tag; the colon belonged to the registry's port
        return image, "latest"
    return name, tag


def loopback_registry(image: str) -> bool:
    """Whether ``image`` names a registry on 127.0.0.1 or localhost (the only ones reachable here)."""
    first, slash, _ = image.partition("/")
    host = first.rsplit(":", 1)[0] if ":" in first else first
    return bool(slash) and host in ("127.0.0.1", "localhost")


def _container_name(run_id: str) -> str:
    return "localflyte-" + re.sub(r"[^a-zA-Z0-9_.-]", "-", run_id)[:200]
