"""Freezes and holds of a pipeline's domain, kept in Flyte (no database of Taxiway's own).

Where: a workflow-level ``WORKFLOW_EXECUTION_CONFIG`` matchable attribute of the pipeline's project and
the domain, for the workflow name ``taxiway.governance.<pipeline>``. No workflow has that name, so the
attribute never changes how anything executes (matchable attributes apply to executions of the named
workflow only), yet it is per project-domain, survives restarts, is visible with
``flytectl get workflow-execution-config -p <project> -d <domain> taxiway.governance.<pipeline>``, and
does not touch the project-domain attribute that promotion writes with the domain's settings.
The freeze and the hold are its annotations (``taxiway.dev/freeze-*``, ``taxiway.dev/hold-*``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from flyteidl.admin import matchable_resource_pb2, workflow_attributes_pb2
from flytekit.clients.raw import RawSynchronousFlyteClient
from flytekit.exceptions.user import FlyteEntityNotExistException

from tasks.core.promote_flyte import RemoteFactory, admin_errors

logger = logging.getLogger(__name__)

WORKFLOW_EXECUTION_CONFIG = matchable_resource_pb2.MatchableResource.WORKFLOW_EXECUTION_CONFIG
_PREFIX = "taxiway.dev/"


@dataclass(frozen=True)
class Freeze:
    """The line is stopped in a domain: no promotion starts until ``taxiway unfreeze``."""

    reason: str
    by: str
    at: str


@dataclass(frozen=True)
class Hold:
    """Nightly/scheduled promotions must not promote over ``version`` (set by a rollback or ``taxiway pin``)."""

    version: str
    reason: str
    by: str
    at: str


@dataclass(frozen=True)
class GovernanceState:
    """A domain's freeze and hold (each None when absent)."""

    freeze: Freeze | None = None
    hold: Hold | None = None

    def to_annotations(self) -> dict[str, str]:
        values: dict[str, str] = {}
        if self.freeze:
            values |= {f"{_PREFIX}freeze-{key}": value for key, value in vars(self.freeze).items()}
        if self.hold:
            values |= {f"{_PREFIX}hold-{key}": value for key, value in vars(self.hold).items()}
        return values

    @classmethod
    def from_annotations(cls, values: Mapping[str, str]) -> GovernanceState:
        def pick(kind: str, keys: tuple[str, ...]) -> dict[str, str] | None:
            found = {key: values.get(f"{_PREFIX}{kind}-{key}", "") for key in keys}
            return found if f"{_PREFIX}{kind}-{keys[0]}" in values else None

        freeze = pick("freeze", ("reason", "by", "at"))
        hold = pick("hold", ("version", "reason", "by", "at"))
        return cls(Freeze(**freeze) if freeze else None, Hold(**hold) if hold else None)


class GovernanceStatePort(Protocol):
    """Read and replace a domain's governance state."""

    def read(self, domain: str) -> GovernanceState: ...

    def write(self, domain: str, state: GovernanceState) -> None: ...


def state_workflow(pipeline: str) -> str:
    """The (never registered) workflow name whose matchable attribute holds the pipeline's state."""
    return f"taxiway.governance.{pipeline}"


class FlyteGovernanceState:
    """:class:`GovernanceStatePort` over FlyteAdmin's workflow attributes (one remote per domain)."""

    def __init__(self, remote_for: RemoteFactory, project: str, pipeline: str) -> None:
        self._remote_for = remote_for
        self.project = project
        self.workflow = state_workflow(pipeline)

    def _client(self, domain: str) -> RawSynchronousFlyteClient:
        return self._remote_for(domain).client

    def read(self, domain: str) -> GovernanceState:
        request = workflow_attributes_pb2.WorkflowAttributesGetRequest(
            project=self.project, domain=domain, workflow=self.workflow, resource_type=WORKFLOW_EXECUTION_CONFIG
        )
        try:
            with admin_errors("GetWorkflowAttributes", f"{self.project}/{domain}/{self.workflow}"):
                found = RawSynchronousFlyteClient.get_workflow_attributes(self._client(domain), request)
        except FlyteEntityNotExistException:
            return GovernanceState()
        config = found.attributes.matching_attributes.workflow_execution_config
        return GovernanceState.from_annotations(dict(config.annotations.values))

    def write(self, domain: str, state: GovernanceState) -> None:
        config = matchable_resource_pb2.WorkflowExecutionConfig()
        config.annotations.values.update(state.to_annotations())
        attributes = workflow_attributes_pb2.WorkflowAttributes(
            project=self.project, domain=domain, workflow=self.workflow,
            matching_attributes=matchable_resource_pb2.MatchingAttributes(workflow_execution_config=config),
        )  # fmt: skip
        request = workflow_attributes_pb2.WorkflowAttributesUpdateRequest(attributes=attributes)
        with admin_errors("UpdateWorkflowAttributes", f"{self.project}/{domain}/{self.workflow}"):
            RawSynchronousFlyteClient.update_workflow_attributes(self._client(domain), request)
        logger.info("governance state written project=%s domain=%s freeze=%s hold=%s", self.project, domain,
                    bool(state.freeze), state.hold.version if state.hold else "")  # fmt: skip


class MemoryGovernanceState:
    """An in-memory :class:`GovernanceStatePort` (unit tests, dry runs)."""

    def __init__(self) -> None:
        self.states: dict[str, GovernanceState] = {}

    def read(self, domain: str) -> GovernanceState:
        return self.states.get(domain, GovernanceState())

    def write(self, domain: str, state: GovernanceState) -> None:
        self.states[domain] = state


def set_freeze(port: GovernanceStatePort, domain: str, freeze: Freeze | None) -> GovernanceState:
    """Freeze (or with None, unfreeze) ``domain``, keeping its hold."""
    state = replace(port.read(domain), freeze=freeze)
    port.write(domain, state)
    return state


def set_hold(port: GovernanceStatePort, domain: str, hold: Hold | None) -> GovernanceState:
    """Place (or with None, release) ``domain``'s hold, keeping its freeze."""
    state = replace(port.read(domain), hold=hold)
    port.write(domain, state)
    return state
