"""Let a container task see its host data directories at the paths its template declares.

On a cluster the copilot sidecars share an ``emptyDir`` volume with the task's container, mounted at
``data_config.input_path`` / ``output_path``. Here the directories are on the host: the Docker runtime
bind-mounts them at those paths; the process runtime (no isolation) gets those paths rewritten to the
host directories in its command, args and environment.

``TaskRun`` has no mounts of its own (``runtimes.py``), so for Docker this module runs the attempt on
a ``DockerRuntime`` of its own whose client adds the bind mounts to ``containers.create``; the caller
terminates through the runtime returned here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from flyteidl.core import tasks_pb2

from localflyte.executor.copilot import DataDirs, uses_data_dirs
from localflyte.executor.runtimes import DockerRuntime, ProcessRuntime, Runtime, RuntimeStartError, TaskResult, TaskRun


@contextlib.contextmanager
def data_dirs(task: tasks_pb2.TaskTemplate, run_id: str) -> Iterator[DataDirs | None]:
    """Host directories for a raw container task's inputs and outputs (None for other tasks), removed after."""
    if not uses_data_dirs(task):
        yield None
        return
    config = task.container.data_config
    with tempfile.TemporaryDirectory(prefix=f"localflyte-data-{run_id[:40]}-") as root:
        host_inputs, host_outputs = Path(root, "inputs"), Path(root, "outputs")
        host_inputs.mkdir()
        host_outputs.mkdir()
        host_outputs.chmod(0o777)  # the image's user, whoever it is, writes its outputs here
        yield DataDirs(host_inputs, host_outputs, config.input_path, config.output_path)


def runtime_with_data_dirs(runtime: Runtime, dirs: DataDirs) -> Runtime:
    """A runtime whose runs see ``dirs`` at their container paths.

    :raises RuntimeStartError: for a runtime that is neither localflyte's Docker nor process runtime.
    """
    if isinstance(runtime, DockerRuntime):
        volumes = {
            str(dirs.host_inputs): {"bind": dirs.container_inputs, "mode": "ro"},
            str(dirs.host_outputs): {"bind": dirs.container_outputs, "mode": "rw"},
        }
        return DockerRuntime(client=_MountingClient(_docker_client(), volumes))
    if isinstance(runtime, ProcessRuntime):
        return _RewrittenPaths(runtime, {dirs.container_inputs: str(dirs.host_inputs),
                                         dirs.container_outputs: str(dirs.host_outputs)})  # fmt: skip
    raise RuntimeStartError(
        f"container tasks with data directories need the docker or process runtime, not {type(runtime).__name__}"
    )


_client: Any = None


def _docker_client() -> Any:
    # The same engine the server's DockerRuntime talks to (DOCKER_HOST), created once.
    global _client
    if _client is None:
        import docker

        _client = docker.from_env()
    return _client


class _MountingClient:
    """The part of a docker client ``DockerRuntime`` uses, with bind mounts added to every create."""

    def __init__(self, client: Any, volumes: Mapping[str, Mapping[str, str]]) -> None:
        self.containers = _MountingContainers(client.containers, volumes)
        self.images = client.images  # pulls of missing images go to the engine unchanged


class _MountingContainers:
    def __init__(self, containers: Any, volumes: Mapping[str, Mapping[str, str]]) -> None:
        self._containers = containers
        self._volumes = {host: dict(bind) for host, bind in volumes.items()}

    def create(self, image: str, **options: Any) -> Any:
        return self._containers.create(image, volumes=self._volumes, **options)


class _RewrittenPaths:
    """The process runtime, with container paths replaced by host paths in what it runs."""

    def __init__(self, runtime: ProcessRuntime, paths: Mapping[str, str]) -> None:
        self._runtime = runtime
        # Longest first, so that a path nested in another is replaced whole.
        self._paths = sorted(paths.items(), key=lambda item: -len(item[0]))

    def _rewrite(self, text: str) -> str:
        for container_path, host_path in self._paths:
            text = text.replace(container_path, host_path)
        return text

    def run(self, task_run: TaskRun) -> TaskResult:
        rewritten = dataclasses.replace(
            task_run,
            command=tuple(self._rewrite(word) for word in task_run.command),
            args=tuple(self._rewrite(word) for word in task_run.args),
            env={key: self._rewrite(value) for key, value in task_run.env.items()},
        )
        return self._runtime.run(rewritten)

    def terminate(self, run_id: str) -> None:
        self._runtime.terminate(run_id)
