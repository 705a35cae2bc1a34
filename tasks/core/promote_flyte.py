"""FlyteAdmin adapters for validation and promotion: executions, and the one place their errors are translated.

Each domain has its own ``FlyteRemote`` (``FlyteRemotes.for_domain``): validation executions are
created with ``FlyteRemote.execute(..., domain=<target>)``, never as child launch plans (those would
run in the meta-workflow's domain). Reads use flytekit's raw client with flyteidl requests.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import requests
from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.core import execution_pb2, identifier_pb2, literals_pb2
from flytekit.clients.raw import RawSynchronousFlyteClient
from flytekit.core.options import Options
from flytekit.exceptions.system import FlyteSystemUnavailableException
from flytekit.exceptions.user import FlyteEntityNotExistException, FlyteTimeout
from flytekit.models.common import Labels
from flytekit.remote import FlyteRemote

from tasks.core.errors import AdminUnavailable, SourceNotFound
from tasks.core.promote_outputs import outputs_to_python
from tasks.core.validate import ExecutionRef, ExecutionState, LaunchRequest
from tasks.core.vocabulary import Phase

logger = logging.getLogger(__name__)

_TRANSIENT_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

RemoteFactory = Callable[[str], FlyteRemote]
"""``domain -> FlyteRemote`` whose default domain is that domain (one remote per domain)."""


def is_transient(err: BaseException) -> bool:
    """Whether ``err`` means FlyteAdmin (or its blob store) is briefly unavailable."""
    if isinstance(err, FlyteSystemUnavailableException | FlyteTimeout):
        return True
    cause = err if isinstance(err, grpc.Call) else err.__cause__
    if isinstance(cause, grpc.Call) and cause.code() in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    ):
        return True
    return isinstance(err, requests.ConnectionError | requests.Timeout)


@contextmanager
def admin_errors(what: str, where: str) -> Iterator[None]:
    """Translate transient FlyteAdmin errors into :class:`AdminUnavailable`; others pass through."""
    try:
        yield
    except Exception as err:
        if is_transient(err):
            raise AdminUnavailable(f"{what} failed: {err}", where=where) from err
        raise


def execution_id(ref: ExecutionRef) -> identifier_pb2.WorkflowExecutionIdentifier:
    return identifier_pb2.WorkflowExecutionIdentifier(project=ref.project, domain=ref.domain, name=ref.name)


def phase_of(execution: admin_execution_pb2.Execution) -> Phase:
    """The Taxiway phase of a FlyteAdmin execution."""
    return Phase.from_flyte(execution_pb2.WorkflowExecution.Phase.Name(execution.closure.phase))


class FlyteExecutions:
    """:class:`tasks.core.validate.ExecutionPort` over one ``FlyteRemote`` per domain.

    :param remote_for: ``domain -> FlyteRemote``.
    """

    def __init__(self, remote_for: RemoteFactory) -> None:
        self.remote_for = remote_for

    def _client(self, domain: str) -> RawSynchronousFlyteClient:
        return self.remote_for(domain).client

    def get(self, ref: ExecutionRef) -> admin_execution_pb2.Execution | None:
        """The execution as FlyteAdmin stores it, or None."""
        request = admin_execution_pb2.WorkflowExecutionGetRequest(id=execution_id(ref))
        try:
            with admin_errors("GetExecution", str(ref)):
                return RawSynchronousFlyteClient.get_execution(self._client(ref.domain), request)
        except FlyteEntityNotExistException:
            return None

    def launch(self, request: LaunchRequest) -> bool:
        ref = request.execution
        if self.get(ref) is not None:
            return False
        remote = self.remote_for(ref.domain)
        where = f"{ref.project}/{ref.domain}"
        try:
            with admin_errors("FetchLaunchPlan", where):
                plan = remote.fetch_launch_plan(ref.project, ref.domain, request.launch_plan, request.version)
        except FlyteEntityNotExistException:
            raise SourceNotFound(
                f"launch plan {request.launch_plan} version {request.version} is not registered in {ref.domain}",
                where=where,
                fix="register the release into this domain first, or fix the validation case's launch_plan",
            ) from None
        with admin_errors("CreateExecution", where):
            # flytekit answers ALREADY_EXISTS (a concurrent launch) with the existing execution: harmless.
            remote.execute(
                plan, inputs=dict(request.inputs), project=ref.project, domain=ref.domain,
                execution_name=ref.name, options=Options(labels=Labels(dict(request.labels))), wait=False,
            )  # fmt: skip
        logger.info(
            "execution created execution=%s launch_plan=%s version=%s", ref, request.launch_plan, request.version
        )
        return True

    def state(self, execution: ExecutionRef) -> ExecutionState | None:
        found = self.get(execution)
        if found is None:
            return None
        return ExecutionState(phase_of(found), found.closure.error.message)

    def outputs(self, execution: ExecutionRef) -> dict[str, Any]:
        return outputs_to_python(self.output_literals(execution))

    def output_literals(self, execution: ExecutionRef) -> dict[str, literals_pb2.Literal]:
        """The raw output literals (offloaded outputs are downloaded)."""
        remote = self.remote_for(execution.domain)
        request = admin_execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(execution))
        with admin_errors("GetExecutionData", str(execution)):
            data = RawSynchronousFlyteClient.get_execution_data(remote.client, request)
        if data.HasField("full_outputs") and data.full_outputs.literals:
            return dict(data.full_outputs.literals)
        uri = data.outputs.url
        if not uri:
            return {}
        with tempfile.TemporaryDirectory(prefix="taxiway-outputs-") as workdir:
            local = Path(workdir) / "outputs.pb"
            with admin_errors("download outputs", uri):
                remote.file_access.get_data(uri, str(local))
            literal_map = literals_pb2.LiteralMap()
            literal_map.ParseFromString(local.read_bytes())
        return dict(literal_map.literals)

    def inputs(self, execution: ExecutionRef) -> dict[str, literals_pb2.Literal]:
        """The execution's input literals."""
        request = admin_execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id(execution))
        with admin_errors("GetExecutionData", str(execution)):
            data = RawSynchronousFlyteClient.get_execution_data(self._client(execution.domain), request)
        return dict(data.full_inputs.literals)

    def terminate(self, execution: ExecutionRef, cause: str) -> None:
        request = admin_execution_pb2.ExecutionTerminateRequest(id=execution_id(execution), cause=cause)
        with admin_errors("TerminateExecution", str(execution)):
            RawSynchronousFlyteClient.terminate_execution(self._client(execution.domain), request)
        logger.info("execution terminated execution=%s cause=%s", execution, cause)

    def console_url(self, execution: ExecutionRef) -> str:
        base = self.remote_for(execution.domain).generate_console_http_domain()
        return f"{base}/console/projects/{execution.project}/domains/{execution.domain}/executions/{execution.name}"
