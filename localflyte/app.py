"""A localflyte instance: the store, the components and the gRPC server, started and stopped as one."""

from __future__ import annotations

import logging
import threading

from localflyte import execution, registration
from localflyte.context import AppContext, Clock
from localflyte.server import Component, build_server
from localflyte.settings import ServerSettings
from localflyte.store import Store

log = logging.getLogger(__name__)


class LocalFlyte:
    """Owns one running control plane. Use :meth:`start` / :meth:`stop`, or as a context manager."""

    def __init__(self, settings: ServerSettings) -> None:
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
        self._stopped = threading.Event()

    def start(self) -> LocalFlyte:
        self._server.start()
        for component in self.components:
            start = getattr(component, "start", None)
            if callable(start):
                start()
        log.info("localflyte serving port=%s state_dir=%s", self.port, self.settings.state_dir)
        return self

    def stop(self, grace: float = 2.0) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
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
