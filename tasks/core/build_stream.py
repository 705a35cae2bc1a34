"""Drive ``docker build`` and ``docker push`` through the SDK's low-level API, streaming their output.

The build log goes to the logger line by line (the task log in Flyte) and its last lines are kept
for the error when the build fails. Engine and registry failures are translated here, in one place:
an engine that does not answer is :class:`BuilderUnavailable` (transient), a registry that does not
answer is :class:`~tasks.core.errors.RegistryUnavailable` (transient), a failing Dockerfile is
:class:`BuildFailed` (permanent). Credentials are handed to the engine and never logged.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import docker
import requests

from tasks.core.errors import PermanentError, RegistryUnavailable, TransientError
from tasks.core.registry import RegistryRejected

logger = logging.getLogger(__name__)

#: How many lines of the build log a BuildFailed error carries.
LOG_TAIL_LINES = 30
_QUIET_PUSH_STATUS = ("Preparing", "Waiting", "Pushing", "Layer already exists", "Mounted from")
_UNREACHABLE = re.compile(r"connection refused|dial tcp|no such host|i/o timeout|connection reset|server gave HTTP")
_REJECTED = re.compile(r"unauthorized|denied|authentication required|forbidden", re.IGNORECASE)


class BuildFailed(PermanentError):
    """``docker build`` failed; the message ends with the last lines of the build log."""

    default_fix = "fix the Dockerfile or the files it copies; the build log above shows the failing step"


class BuilderUnavailable(TransientError):
    """The Docker engine that builds images did not answer."""

    default_fix = "check that the Docker engine is running and that DOCKER_HOST points at it"


def run_build(client: docker.DockerClient, **build_kwargs: Any) -> str:
    """Run ``APIClient.build`` with ``build_kwargs``, log its output, and return the image id.

    :raises BuildFailed: with the last :data:`LOG_TAIL_LINES` lines of the log.
    :raises BuilderUnavailable: if the engine does not answer.
    """
    reference = str(build_kwargs.get("tag", ""))
    lines = _LineLog(reference)
    image_id = ""
    try:
        for chunk in client.api.build(decode=True, **build_kwargs):
            if "stream" in chunk:
                lines.feed(str(chunk["stream"]))
            elif "error" in chunk:
                lines.flush()
                message = str(chunk.get("errorDetail", {}).get("message") or chunk["error"]).strip()
                raise BuildFailed(f"docker build failed: {message}\n{lines.tail()}", where=reference)
            elif "aux" in chunk and "ID" in chunk["aux"]:
                image_id = str(chunk["aux"]["ID"])
            elif "status" in chunk:
                lines.feed(str(chunk["status"]) + "\n")
    except (requests.ConnectionError, docker.errors.DockerException) as err:
        if isinstance(err, docker.errors.APIError) and err.is_client_error():
            raise BuildFailed(f"docker build refused: {err.explanation}\n{lines.tail()}", where=reference) from err
        raise BuilderUnavailable(f"Docker engine error during build: {err}", where=reference) from err
    lines.flush()
    if not image_id:
        raise BuildFailed(f"docker build reported no image id\n{lines.tail()}", where=reference)
    return image_id


def run_push(
    client: docker.DockerClient, repository: str, tag: str, auth_config: Mapping[str, str] | None = None
) -> str:
    """Push ``repository:tag`` and return the digest the engine reports ("" if it reports none).

    :raises RegistryUnavailable: if the registry does not answer (naming its host:port).
    :raises RegistryRejected: if it refuses the credentials.
    :raises BuilderUnavailable: if the engine does not answer.
    """
    reference = f"{repository}:{tag}"
    host = repository.split("/", 1)[0]
    digest = ""
    try:
        stream: Iterable[dict[str, Any]] = client.api.push(
            repository, tag=tag, stream=True, decode=True, auth_config=dict(auth_config) if auth_config else None
        )
        for chunk in stream:
            if "error" in chunk:
                _raise_push_error(str(chunk.get("errorDetail", {}).get("message") or chunk["error"]), host, reference)
            if "aux" in chunk and "Digest" in chunk["aux"]:
                digest = str(chunk["aux"]["Digest"])
            status = str(chunk.get("status", ""))
            if status and not status.startswith(_QUIET_PUSH_STATUS):
                logger.info("push %s: %s", reference, status)
    except (requests.ConnectionError, docker.errors.DockerException) as err:
        raise BuilderUnavailable(f"Docker engine error during push: {err}", where=reference) from err
    logger.info("image pushed image=%s digest=%s", reference, digest or "?")
    return digest


def _raise_push_error(message: str, host: str, reference: str) -> None:
    if _UNREACHABLE.search(message):
        raise RegistryUnavailable(f"cannot push {reference}: image registry unreachable ({message})", where=host)
    if _REJECTED.search(message):
        raise RegistryRejected(f"registry refused the push of {reference}: {message}", where=host)
    raise PermanentError(f"docker push of {reference} failed: {message}", where=host)


class _LineLog:
    """Turns the build's text chunks (lines split anywhere) into log lines, keeping the last few."""

    def __init__(self, reference: str) -> None:
        self._reference = reference
        self._pending = ""
        self._tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)

    def feed(self, text: str) -> None:
        self._pending += text
        *complete, self._pending = self._pending.split("\n")
        for line in complete:
            self._emit(line)

    def flush(self) -> None:
        if self._pending:
            self._emit(self._pending)
            self._pending = ""

    def tail(self) -> str:
        return "\n".join(f"  | {line}" for line in self._tail)

    def _emit(self, line: str) -> None:
        line = line.rstrip("\r")
        if line.strip():
            self._tail.append(line)
            logger.info("build %s | %s", self._reference, line)
