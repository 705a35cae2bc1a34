"""A small client for the container registry's HTTP API (Docker Registry v2 / OCI distribution).

Taxiway only asks two questions: does ``repository:tag`` exist, and what is its manifest digest.
Both are one ``HEAD /v2/<name>/manifests/<tag>``. Registries on loopback are spoken to over plain
HTTP (as the Docker engine does for ``127.0.0.0/8``), every other one over HTTPS. Token
authentication (``WWW-Authenticate: Bearer``) and basic authentication use the credentials passed in,
which are never logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from tasks.core.errors import PermanentError, RegistryUnavailable

logger = logging.getLogger(__name__)

#: Docker Hub's API host, used for repositories without a registry host.
DOCKER_HUB_HOST = "registry-1.docker.io"
TIMEOUT_S = 30
MANIFEST_MEDIA_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_LOOPBACK = ("127.", "localhost", "[::1]")


class ManifestReader(Protocol):
    """What the build step needs from a registry: the digest of a tag, or None when it is absent."""

    def manifest_digest(self, repository: str, tag: str) -> str | None: ...


class RegistryRejected(PermanentError):
    """The registry refused the request (authentication, permission, a malformed name)."""

    default_fix = "check the registry credentials (the task's registry secret) and the image repository name"


@dataclass(frozen=True)
class RepositoryName:
    """``127.0.0.1:30000/taxiway/training`` split into the registry host and the repository path."""

    host: str
    path: str

    @classmethod
    def parse(cls, repository: str) -> RepositoryName:
        """Split an image repository (no tag, no digest) the way the Docker engine does."""
        first, _, rest = repository.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return cls(first, rest)
        # No registry host: Docker Hub, where single names live under library/.
        return cls(DOCKER_HUB_HOST, repository if rest else f"library/{repository}")

    @property
    def base_url(self) -> str:
        scheme = "http" if self.host.startswith(_LOOPBACK) else "https"
        return f"{scheme}://{self.host}"


class RegistryClient:
    """Reads manifests from image registries through a ``requests.Session`` passed in.

    :param session: the HTTP session (tests and tasks share connection pools through it).
    :param auth_config: ``{"username": ..., "password": ...}`` for private registries, or None.
    """

    def __init__(self, session: requests.Session, auth_config: Mapping[str, str] | None = None) -> None:
        self._session = session
        self._auth = (auth_config["username"], auth_config["password"]) if auth_config else None

    def __repr__(self) -> str:
        # Never show the credentials, even in a traceback.
        return f"RegistryClient(authenticated={self._auth is not None})"

    def manifest_digest(self, repository: str, tag: str) -> str | None:
        """The ``sha256:...`` digest of ``repository:tag``, or None when the registry has no such tag.

        :raises RegistryUnavailable: if the registry does not answer or answers with a server error.
        :raises RegistryRejected: if it refuses the credentials or the request.
        """
        name = RepositoryName.parse(repository)
        url = f"{name.base_url}/v2/{name.path}/manifests/{tag}"
        response = self._head(url, name)
        if response.status_code == 401:
            response = self._answer_challenge(url, name, response)
        if response.status_code == 404:
            logger.debug("registry tag absent repository=%s tag=%s", repository, tag)
            return None
        if response.status_code >= 500:
            raise RegistryUnavailable(f"registry answered HTTP {response.status_code}", where=name.host)
        if response.status_code != 200:
            raise RegistryRejected(
                f"registry refused HEAD of the manifest {repository}:{tag} (HTTP {response.status_code})",
                where=name.host,
            )
        digest = response.headers.get("Docker-Content-Digest", "")
        if not digest.startswith("sha256:"):
            raise RegistryRejected(
                f"registry sent no Docker-Content-Digest for {repository}:{tag}",
                where=name.host,
                fix="use a registry that implements the Docker Registry HTTP API v2",
            )
        logger.debug("registry tag found repository=%s tag=%s digest=%s", repository, tag, digest)
        return digest

    def tag_exists(self, repository: str, tag: str) -> bool:
        """Whether the registry has ``repository:tag``."""
        return self.manifest_digest(repository, tag) is not None

    def _head(
        self,
        url: str,
        name: RepositoryName,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> requests.Response:
        try:
            return self._session.head(
                url, headers={"Accept": MANIFEST_MEDIA_TYPES, **(headers or {})}, auth=auth, timeout=TIMEOUT_S
            )
        except requests.RequestException as err:
            raise RegistryUnavailable(
                f"image registry unreachable ({type(err).__name__})",
                where=name.host,
            ) from err

    def _answer_challenge(self, url: str, name: RepositoryName, challenge: requests.Response) -> requests.Response:
        """Repeat the request with what the 401 challenge asks for: Basic credentials or a Bearer token."""
        header = challenge.headers.get("WWW-Authenticate", "")
        if header.lower().startswith("basic"):
            if self._auth is None:
                raise RegistryRejected("registry asks for credentials and none were given", where=name.host)
            return self._head(url, name, auth=self._auth)
        if not header.lower().startswith("bearer"):
            raise RegistryRejected(f"registry sent an unknown authentication challenge {header!r}", where=name.host)
        params = dict(_CHALLENGE_PARAM.findall(header))
        query: dict[str, Any] = {"scope": params.get("scope") or f"repository:{name.path}:pull"}
        if "service" in params:
            query["service"] = params["service"]
        try:
            token = self._session.get(params["realm"], params=query, auth=self._auth, timeout=TIMEOUT_S)
        except (KeyError, requests.RequestException) as err:
            raise RegistryUnavailable("registry token service unreachable", where=name.host) from err
        if token.status_code != 200:
            raise RegistryRejected(f"registry token service refused (HTTP {token.status_code})", where=name.host)
        body = token.json()
        bearer = body.get("token") or body.get("access_token", "")
        return self._head(url, name, headers={"Authorization": f"Bearer {bearer}"})
