"""FlyteAdmin calls of a registration, and the one place their errors become Taxiway's.

Protos go to FlyteAdmin through flytekit's raw client, byte for byte as hydrated (no model
round-trip). Like ``FlyteRemote.raw_register``, ``ALREADY_EXISTS`` is success; unlike it, the caller
learns whether the entity was created. ``UNAVAILABLE`` and ``DEADLINE_EXCEEDED`` are retried with
exponential backoff, then become :class:`~tasks.core.errors.AdminUnavailable`; a "different
structure" answer becomes :class:`~tasks.core.errors.VersionConflict`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import grpc
import requests
from flyteidl.admin import common_pb2, launch_plan_pb2, project_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2
from flytekit.clients.raw import RawSynchronousFlyteClient
from flytekit.exceptions.system import FlyteSystemUnavailableException
from flytekit.exceptions.user import (
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
    FlyteTimeout,
    FlyteValueException,
)
from flytekit.remote import FlyteRemote
from flytekit.tools.script_mode import hash_file
from google.protobuf.message import Message

from tasks.core.errors import AdminUnavailable, PermanentError, VersionConflict
from tasks.core.register_hydrate import HydratedEntity, ResourceKind

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_TRANSIENT = (FlyteSystemUnavailableException, FlyteTimeout)
_TRANSIENT_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class RegistrationRejected(PermanentError):
    """FlyteAdmin refused an entity for a reason other than a version conflict (INVALID_ARGUMENT)."""

    default_fix = "fix the pipeline code named in the message and build a new release"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for transient FlyteAdmin errors: ``initial_delay * 2**n``, capped."""

    attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 8.0

    def delays(self) -> list[float]:
        """The waits between attempts (one fewer than ``attempts``)."""
        return [min(self.initial_delay * 2**n, self.max_delay) for n in range(self.attempts - 1)]


class AdminPort(Protocol):
    """What a registration needs from FlyteAdmin (and its data proxy) for one (project, domain)."""

    def check_target(self, project: str, domain: str) -> None: ...

    def fetch(self, kind: ResourceKind, identifier: identifier_pb2.Identifier) -> Message | None: ...

    def create(self, entity: HydratedEntity) -> bool: ...

    def bundle_location(self, bundle: Path) -> str: ...

    def upload_bundle(self, bundle: Path) -> str: ...


class FlyteAdminGateway:
    """:class:`AdminPort` over one ``FlyteRemote`` whose default project and domain are the target's.

    :param remote: the remote of the target (project, domain): its data proxy uploads there.
    :param retry: backoff for transient errors.
    :param sleep: how to wait (tests pass a recorder).
    """

    def __init__(
        self, remote: FlyteRemote, retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.remote = remote
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._where = remote.config.platform.endpoint

    @property
    def _client(self) -> RawSynchronousFlyteClient:
        return self.remote.client

    def check_target(self, project: str, domain: str) -> None:
        """:raises RegistrationRejected: if FlyteAdmin has no such (active) project or domain."""
        domains = self._call("GetDomains", lambda: RawSynchronousFlyteClient.get_domains(self._client))
        names = [entry.id for entry in domains.domains]
        if domain not in names:
            raise RegistrationRejected(
                f"FlyteAdmin has no domain {domain!r} (it has {', '.join(names)})",
                where=self._where,
                fix="use the domain names FlyteAdmin is configured with in taxiway.yaml's domains",
            )
        request = project_pb2.ProjectListRequest(limit=1, filters=f"eq(identifier,{project})")
        found = self._call("ListProjects", lambda: RawSynchronousFlyteClient.list_projects(self._client, request))
        if not [entry for entry in found.projects if entry.state == project_pb2.Project.ACTIVE]:
            raise RegistrationRejected(
                f"FlyteAdmin has no active project {project!r}",
                where=self._where,
                fix=f"create it first (`flytectl create project --id {project} --name {project}`)",
            )

    def fetch(self, kind: ResourceKind, identifier: identifier_pb2.Identifier) -> Message | None:
        """The registered entity (``Task``, ``Workflow`` or ``LaunchPlan``), or None if there is none."""
        request = common_pb2.ObjectGetRequest(id=identifier)
        getter = {
            ResourceKind.TASK: RawSynchronousFlyteClient.get_task,
            ResourceKind.WORKFLOW: RawSynchronousFlyteClient.get_workflow,
            ResourceKind.LAUNCH_PLAN: RawSynchronousFlyteClient.get_launch_plan,
        }[kind]
        try:
            return self._call(f"Get {kind.value}", lambda: getter(self._client, request))
        except FlyteEntityNotExistException:
            return None

    def create(self, entity: HydratedEntity) -> bool:
        """Register ``entity``; True if created, False if it already existed identically.

        :raises VersionConflict: if it exists with a different structure.
        :raises RegistrationRejected: if FlyteAdmin refuses it for another reason.
        """
        ident = entity.identifier
        try:
            if isinstance(entity.spec, task_pb2.TaskSpec):
                task_request = task_pb2.TaskCreateRequest(id=ident, spec=entity.spec)
                self._call("CreateTask", lambda: RawSynchronousFlyteClient.create_task(self._client, task_request))
            elif isinstance(entity.spec, workflow_pb2.WorkflowSpec):
                wf_request = workflow_pb2.WorkflowCreateRequest(id=ident, spec=entity.spec)
                self._call(
                    "CreateWorkflow", lambda: RawSynchronousFlyteClient.create_workflow(self._client, wf_request)
                )
            else:
                lp_request = launch_plan_pb2.LaunchPlanCreateRequest(id=ident, spec=entity.spec)
                self._call(
                    "CreateLaunchPlan", lambda: RawSynchronousFlyteClient.create_launch_plan(self._client, lp_request)
                )
        except FlyteEntityAlreadyExistsException:
            logger.info("entity exists kind=%s name=%s version=%s", entity.kind, ident.name, ident.version)
            return False
        except FlyteInvalidInputException as err:
            details = _details(err)
            if "different structure" in details:
                raise version_conflict(entity, details) from None
            raise RegistrationRejected(
                f"FlyteAdmin refused {entity.label}: {details}", where=f"{ident.project}/{ident.domain}"
            ) from None
        logger.info("entity registered kind=%s name=%s version=%s", entity.kind, ident.name, ident.version)
        return True

    def bundle_location(self, bundle: Path) -> str:
        """Where the data proxy stores ``bundle`` for this project/domain (content-addressed; writes nothing)."""
        md5_bytes, _, _ = hash_file(bundle)
        remote = self.remote
        response = self._call(
            "CreateUploadLocation",
            lambda: remote.client.get_upload_signed_url(
                project=remote.default_project,
                domain=remote.default_domain,
                content_md5=md5_bytes,
                filename=bundle.name,
            ),
        )
        return str(response.native_url)

    def upload_bundle(self, bundle: Path) -> str:
        """Upload ``bundle`` through the data proxy into this remote's project and domain; its native URL."""
        remote = self.remote
        _, native_url = self._call(
            "upload code bundle",
            lambda: remote.upload_file(bundle, project=remote.default_project, domain=remote.default_domain),
        )
        logger.info("code bundle uploaded domain=%s uri=%s", remote.default_domain, native_url)
        return str(native_url)

    def _call(self, what: str, call: Callable[[], _T]) -> _T:
        delays = self.retry.delays()
        for attempt in range(len(delays) + 1):
            try:
                return call()
            except Exception as err:
                if not _is_transient(err):
                    raise
                if attempt == len(delays):
                    raise AdminUnavailable(
                        f"{what} failed {attempt + 1} times: {_details(err) or type(err).__name__}", where=self._where
                    ) from err
                logger.warning("flyteadmin transient error call=%s attempt=%d error=%s", what, attempt + 1, err)
                self._sleep(delays[attempt])
        raise AssertionError("unreachable")  # pragma: no cover


def version_conflict(entity: HydratedEntity, details: str = "") -> VersionConflict:
    """The error for an entity already registered under this version with another structure."""
    ident = entity.identifier
    first_lines = "\n".join(details.splitlines()[:12])
    return VersionConflict(
        f"{entity.label} version {ident.version} is already registered with a different structure"
        + (f":\n{first_lines}" if first_lines else ""),
        where=f"{ident.project}/{ident.domain}",
        fix=f"versions are immutable: bump the version (push a new commit) instead of re-registering {ident.version}",
    )


_SERVER_ERROR_STATUS = re.compile(r"Received: 5\d\d\b")


def _is_transient(err: BaseException) -> bool:
    if isinstance(err, _TRANSIENT):
        return True
    if isinstance(err, grpc.RpcError) and isinstance(err, grpc.Call):
        return err.code() in _TRANSIENT_CODES
    # Data-proxy uploads go over HTTP to the blob store: a refused connection is transient as well.
    if isinstance(err, requests.ConnectionError | requests.Timeout):
        return True
    # flytekit's upload_file reports the blob store's HTTP status as FlyteValueException("Received: <status>"):
    # a 5xx (e.g. S3 throttling simultaneous uploads of one bundle) is worth another try.
    if isinstance(err, FlyteValueException) and _SERVER_ERROR_STATUS.search(str(err)):
        return True
    # flytekit's get_upload_signed_url wraps every error, UNAVAILABLE included, in a bare RuntimeError.
    cause = err.__cause__
    return isinstance(err, RuntimeError) and cause is not None and _is_transient(cause)


def _details(err: BaseException) -> str:
    cause = err.__cause__
    if isinstance(cause, grpc.Call):
        return str(cause.details() or "")
    return str(err)
