"""A localflyte instance: the store, the components and the gRPC server, started and stopped as one."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import Protocol

from localflyte import execution, registration
from localflyte.console import Console
from localflyte.context import AppContext, Clock
from localflyte.executor.model import ExecutorSettings
from localflyte.executor.runtimes import DockerRuntime, ProcessRuntime, Runtime
from localflyte.executor.service import ExecutorService
from localflyte.executor.templates import ClusterEnvironment, SecretStore
from localflyte.http_endpoint import HttpEndpoint
from localflyte.scheduler import Scheduler
from localflyte.server import Component, build_server
from localflyte.settings import ServerSettings
from localflyte.store import Store

log = logging.getLogger(__name__)

RUNTIMES = ("docker", "process", "none")


class Service(Protocol):
    """A background part of localflyte (executor, scheduler, HTTP endpoint)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def build_runtime(settings: ServerSettings) -> Runtime:
    """``--runtime docker`` runs each task in its image; ``process`` runs it on this host."""
    if settings.runtime == "docker":
        return DockerRuntime()
    # pyflyte-fast-execute / pyflyte-execute live next to this interpreter, whatever PATH says.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return ProcessRuntime(settings.state_dir / "runs", base_env={**os.environ, "PATH": path})


def executor_settings(settings: ServerSettings, grpc_port: int, http_url: str) -> ExecutorSettings:
    """What a task sees of localflyte and of the platform (``--task-env``, ``--secrets-dir``).

    The console endpoint makes flytekit's console links resolve here, unless ``--task-env`` names another.
    """
    if settings.secrets_dir is not None and not settings.secrets_dir.is_dir():
        raise ValueError(f"--secrets-dir {settings.secrets_dir} is not a directory: create it (DIR/<group>/<key>)")
    cluster = ClusterEnvironment(
        platform_url=f"127.0.0.1:{grpc_port}",
        platform_insecure=True,
        s3_endpoint=settings.s3_endpoint,
        s3_access_key=settings.s3_access_key,
        s3_secret_key=settings.s3_secret_key,
        extra={"FLYTE_PLATFORM_CONSOLE_ENDPOINT": http_url, **settings.task_env},
        secrets=SecretStore(settings.secrets_dir) if settings.secrets_dir is not None else None,
    )
    # Names only: a platform variable may be a credential.
    log.info("task environment names=%s secrets_dir=%s", ",".join(sorted(settings.task_env)), settings.secrets_dir)
    return ExecutorSettings(
        cluster=cluster, bucket=settings.bucket, log_dir=settings.log_dir, log_url_prefix=f"{http_url}/logs"
    )


class LocalFlyte:
    """Owns one running control plane. Use :meth:`start` / :meth:`stop`, or as a context manager."""

    def __init__(self, settings: ServerSettings) -> None:
        if settings.runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime {settings.runtime!r}: choose one of {', '.join(RUNTIMES)}")
        self.settings = settings
        store = Store(settings.database_path)
        self.context = AppContext(settings=settings, store=store, clock=Clock(store))
        registration_components = registration.components(self.context)
        registration_handlers = {
            rpc: handler for component in registration_components for rpc, handler in component.handlers().items()
        }
        self.plane = execution.build(self.context, registration_handlers)
        self.components: list[Component] = [*registration_components, *self.plane.components]
        self._server = build_server(self.components, settings.port)
        self.port: int = self._server.bound_port  # type: ignore[attr-defined]
        self.scheduler = Scheduler(self.context, self.plane.executions.create_execution)
        http_port = settings.http_port
        if http_port is None:  # beside a fixed gRPC port; anywhere free beside a free one
            http_port = settings.port + 1 if settings.port else 0
        self.http = HttpEndpoint(http_port, settings.log_dir, self.context.clock, self.scheduler)
        self.http.mount_console(Console.from_components(self.components, self.plane.blobs).handle)
        self.services: list[Service] = [self.http, self.scheduler]
        self.executor: ExecutorService | None = None
        if settings.runtime != "none":
            self.executor = ExecutorService(
                self.context,
                self.plane,
                executor_settings(settings, self.port, self.http.url),
                build_runtime(settings),
                max_running=settings.max_running_executions,
            )
            self.services.append(self.executor)
        self._stopped = threading.Event()

    def start(self) -> LocalFlyte:
        self._server.start()
        for component in self.components:
            start = getattr(component, "start", None)
            if callable(start):
                start()
        for service in self.services:
            service.start()
        log.info(
            "localflyte serving port=%s http_port=%s runtime=%s state_dir=%s",
            self.port, self.http.port, self.settings.runtime, self.settings.state_dir,
        )  # fmt: skip
        return self

    def stop(self, grace: float = 2.0) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        for service in reversed(self.services):
            service.stop()
        for component in reversed(self.components):
            stop = getattr(component, "stop", None)
            if callable(stop):
                stop()
        self._server.stop(grace).wait()
        self.context.store.close()

    def wait(self) -> None:
        self._server.wait_for_termination()

    def __enter__(self) -> LocalFlyte:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
