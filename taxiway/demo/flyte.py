"""FlyteAdmin helpers for the demo: remotes, projects, deterministic execution names, waiting."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from flytekit.exceptions.user import FlyteEntityAlreadyExistsException, FlyteEntityNotExistException
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.models.project import Project
from flytekit.remote import FlyteRemote
from flytekit.remote.executions import FlyteWorkflowExecution

from tasks.core.flyte_clients import FlyteSettings
from taxiway.demo.runner import StepFailed

logger = logging.getLogger(__name__)

#: Where Taxiway's own meta-workflows are registered and run (the platform project).
META_PROJECT = "taxiway"
META_DOMAIN = "development"
#: Phases after which an execution name cannot be reused for a new attempt.
_FAILED = {WorkflowExecutionPhase.FAILED, WorkflowExecutionPhase.ABORTED, WorkflowExecutionPhase.TIMED_OUT}


def phase_name(phase: int) -> str:
    """``SUCCEEDED``, ``FAILED``, ... for a workflow execution phase number."""
    return str(WorkflowExecutionPhase.enum_to_string(phase))


@dataclass(frozen=True)
class Flyte:
    """The stack's FlyteAdmin as the demo sees it: one remote per (project, domain) and the console."""

    settings: FlyteSettings
    console: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Flyte:
        console = env.get("FLYTE_PLATFORM_CONSOLE_ENDPOINT", "http://127.0.0.1:30081").rstrip("/")
        return cls(FlyteSettings.from_env(env), console)

    def remote(self, project: str = META_PROJECT, domain: str = META_DOMAIN) -> FlyteRemote:
        return FlyteRemote(self.settings.to_config(), default_project=project, default_domain=domain)

    def ensure_project(self, project: str, description: str) -> bool:
        """Create ``project`` unless it exists; True when it was created."""
        try:
            self.remote().client.register_project(Project(id=project, name=project, description=description))
        except FlyteEntityAlreadyExistsException:
            return False
        return True

    def execution_url(self, project: str, domain: str, name: str) -> str:
        """The console page of an execution (its node list links the Decks)."""
        return f"{self.console}/console/projects/{project}/domains/{domain}/executions/{name}"

    def fetch(self, name: str, project: str = META_PROJECT, domain: str = META_DOMAIN) -> FlyteWorkflowExecution | None:
        try:
            return self.remote(project, domain).fetch_execution(project=project, domain=domain, name=name)
        except FlyteEntityNotExistException:
            return None

    def reusable_name(self, base: str, project: str = META_PROJECT, domain: str = META_DOMAIN) -> tuple[str, bool]:
        """The first of ``base``, ``base-r2``, ``base-r3``... that is unused or did not fail.

        Deterministic names make a re-run reuse a running or succeeded execution; a failed one keeps its
        name (FlyteAdmin never frees it), so the next attempt gets the next suffix.
        Returns the name and whether an execution of that name already exists.
        """
        for attempt in range(1, 20):
            name = base if attempt == 1 else f"{base}-r{attempt}"
            execution = self.fetch(name, project, domain)
            if execution is None:
                return name, False
            if execution.closure.phase not in _FAILED:
                return name, True
        raise StepFailed(f"{base}: 19 failed attempts in {project}/{domain}; fix the cause before retrying")

    def wait(
        self, name: str, timeout: float, project: str = META_PROJECT, domain: str = META_DOMAIN, poll: float = 2.0
    ) -> FlyteWorkflowExecution:
        """Wait until the execution is terminal; StepFailed if it did not succeed or outlived ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            execution = self.fetch(name, project, domain)
            if execution is None:
                raise StepFailed(f"execution {project}/{domain}/{name} does not exist")
            if execution.is_done:
                break
            if time.monotonic() > deadline:
                raise StepFailed(f"execution {name} still {phase_name(execution.closure.phase)} after {timeout:.0f}s: "
                                 f"{self.execution_url(project, domain, name)}")  # fmt: skip
            time.sleep(poll)
        if execution.closure.phase != WorkflowExecutionPhase.SUCCEEDED:
            error = execution.closure.error.message if execution.closure.error else "no error recorded"
            raise StepFailed(
                f"execution {name} ended {phase_name(execution.closure.phase)}: {_first_lines(error)}; "
                f"see {self.execution_url(project, domain, name)}"
            )
        return execution

    def active_versions(self, project: str, domain: str) -> dict[str, str]:
        """Active launch plans in a project/domain: name -> version."""
        plans, _ = self.remote(project, domain).client.list_active_launch_plans_paginated(project, domain, limit=100)
        return {plan.id.name: plan.id.version for plan in plans}


def _first_lines(text: str, limit: int = 400) -> str:
    """The error's message without flytekit's trace (``Trace: ... Message: ...``), flattened to one line."""
    _, found, message = text.partition("Message:")
    lines = [line.strip() for line in (message if found else text).strip().splitlines() if line.strip()]
    return " | ".join(lines[:6])[:limit]
