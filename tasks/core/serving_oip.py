"""Serving target: a model server speaking the Open Inference Protocol (v2) with an S3 model repository.

The deployer writes the serving repository on S3 (layout in :mod:`modelserver.layout`) and asks the
server to load the model name through OIP's repository extension; the server then serves exactly
the versions listed. ``deploy`` lists the new version and loads it next to the current one, waits for
``/v2/models/<name>/versions/<v>/ready``; ``smoke_test`` posts to that version only; ``activate``
points the stable alias (``/v2/models/<name>/infer``) at it and keeps the version it replaced loaded
for a quick rollback, unloading anything older; ``rollback`` unlists the new version again, so the
previous model never stops answering. HTTP calls retry with backoff on connection errors and 5xx.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from modelserver.layout import ServedModel, ServingPointer, pointer_key, split_s3_uri, version_key, version_to_json
from tasks.core.config_models import OipServing, SmokeRequest
from tasks.core.rollout_errors import ModelRejected, ServingRejected, ServingUnavailable, redact_url
from tasks.core.rollout_records import Deployment, ServedVersion, SmokeResult, StoredModel
from tasks.core.rollout_s3 import S3Objects
from tasks.core.rollout_smoke import check_response, failed

logger = logging.getLogger(__name__)

#: The local stack's serving repository (the server is started with the same URI).
DEFAULT_REPOSITORY = "s3://taxiway-models/serving"
_RETRY_STATUS = (502, 503, 504)


def retrying_session(retries: int = 4, backoff: float = 0.5) -> requests.Session:
    """A session retrying connection errors and 502/503/504 with exponential backoff, on every method.

    Retrying POST is safe here: a repository load converges on what the repository lists, and an
    inference has no side effects.
    """
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=_RETRY_STATUS,
        allowed_methods=None,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


class OipTarget:
    """A model name on an OIP v2 server whose repository is ``repository`` on S3.

    :param url: the server's base URL, e.g. ``http://127.0.0.1:30092``.
    :param model_name: the name clients call; every version is loaded under it.
    :param s3_client: boto3 S3 client for the serving repository.
    :param timeout: how long a version may take to become ready.
    """

    def __init__(
        self,
        *,
        url: str,
        model_name: str,
        s3_client: Any,
        repository: str = DEFAULT_REPOSITORY,
        timeout: float = 120.0,
        session: requests.Session | None = None,
        request_timeout: float = 30.0,
        poll_interval: float = 0.25,
    ) -> None:
        self.url = url.rstrip("/")
        self.model_name = model_name
        self.objects = S3Objects(s3_client)
        self.bucket, self.prefix = split_s3_uri(repository)
        self.timeout = timeout
        self.session = session or retrying_session()
        self.request_timeout = request_timeout
        self.poll_interval = poll_interval

    @classmethod
    def from_spec(cls, spec: OipServing, s3_client: Any, *, repository: str = DEFAULT_REPOSITORY) -> OipTarget:
        """The target a taxiway.yaml ``serving: {kind: oip}`` section describes."""
        return cls(
            url=spec.url,
            model_name=spec.model_name,
            s3_client=s3_client,
            repository=repository,
            timeout=spec.timeout.total_seconds(),
        )

    @property
    def description(self) -> str:
        return f"oip {redact_url(self.url)} model={self.model_name}"

    # --- HTTP -----------------------------------------------------------------------------

    def _http(self, method: str, path: str, body: Any = None) -> requests.Response:
        where = redact_url(self.url + path)
        try:
            response = self.session.request(method, self.url + path, json=body, timeout=self.request_timeout)
        except requests.RequestException as err:
            raise ServingUnavailable(f"model server did not answer ({type(err).__name__})", where=where) from err
        if response.status_code in _RETRY_STATUS:
            raise ServingUnavailable(f"model server kept answering HTTP {response.status_code}", where=where)
        return response

    @staticmethod
    def _error_text(response: requests.Response) -> str:
        body = _json_or_empty(response)
        detail = (body.get("error") or body.get("detail")) if isinstance(body, dict) else None
        return f"HTTP {response.status_code}: {detail or response.text[:200]}"

    def check(self) -> None:
        """Raise :class:`ServingRejected` unless an OIP v2 server answers at the URL."""
        self.check_server()

    def check_server(self) -> None:
        """Raise :class:`ServingRejected` unless an OIP v2 server answers at the URL."""
        response = self._http("GET", "/v2")
        if response.status_code != 200 or "name" not in _json_or_empty(response):
            raise ServingRejected(
                f"no Open Inference Protocol v2 server here ({self._error_text(response)} on GET /v2)",
                where=redact_url(self.url),
                fix="check serving.url in taxiway.yaml and that the model server is running",
            )

    def _sync(self) -> requests.Response:
        """Ask the server to load what the repository lists for the name (and unload the rest)."""
        return self._http("POST", f"/v2/repository/models/{self.model_name}/load")

    def _ready(self, version: str | None) -> bool:
        path = f"/v2/models/{self.model_name}" + (f"/versions/{version}" if version else "") + "/ready"
        return self._http("GET", path).status_code == 200

    def _wait_ready(self, version: str | None) -> None:
        deadline = time.monotonic() + self.timeout
        while not self._ready(version):
            if time.monotonic() > deadline:
                raise ModelRejected(
                    f"version {version} did not become ready within {self.timeout:.0f}s",
                    where=self.description,
                )
            time.sleep(self.poll_interval)

    # --- the serving repository -----------------------------------------------------------

    def _pointer(self) -> ServingPointer | None:
        data = self.objects.get(self.bucket, pointer_key(self.prefix, self.model_name))
        return ServingPointer.from_json(data) if data is not None else None

    def _listed_versions(self) -> set[str]:
        folder = pointer_key(self.prefix, self.model_name).rsplit("/", 1)[0] + "/versions/"
        return {key.rsplit("/", 1)[1].removesuffix(".json") for key in self.objects.keys(self.bucket, folder)}

    # --- ServingTarget --------------------------------------------------------------------

    def current(self) -> ServedVersion | None:
        pointer = self._pointer()
        if pointer is None:
            return None
        return ServedVersion(pointer.active.version, pointer.active.sha256, pointer.active.uri)

    def deploy(self, model: StoredModel) -> Deployment:
        self.check_server()
        previous = self.current()
        served = ServedModel(self.model_name, model.version, model.uri, model.sha256)
        key = version_key(self.prefix, self.model_name, model.version)
        listed = self.objects.get(self.bucket, key)
        self.objects.put(self.bucket, key, version_to_json(served).encode(), content_type="application/json")
        deployment = Deployment(
            target=self.description,
            version=model.version,
            sha256=model.sha256,
            model_uri=model.uri,
            previous=previous,
            details={"listed_before": "true" if listed is not None else "false"},
        )
        logger.info("rollout deploy target=%s version=%s sha256=%s", self.description, model.version, model.sha256)
        response = self._sync()
        if response.status_code != 200:
            self.rollback(deployment)
            raise ModelRejected(f"model server could not load version {model.version}: {self._error_text(response)}")
        try:
            self._wait_ready(model.version)
        except ModelRejected:
            self.rollback(deployment)
            raise
        return deployment

    def smoke_test(self, deployment: Deployment, requests: Sequence[SmokeRequest]) -> list[SmokeResult]:
        path = f"/v2/models/{self.model_name}/versions/{deployment.version}/infer"
        results = []
        for request in requests:
            try:
                response = self._http("POST", path, dict(request.payload))
            except ServingUnavailable as err:
                # The server answered at deploy; a version that stays unavailable fails its smoke test, so
                # the caller rolls it back instead of leaving it listed and loaded behind an error.
                results.append(failed(request.name, err.what))
                continue
            if response.status_code != 200:
                results.append(failed(request.name, self._error_text(response)))
                continue
            results.append(check_response(request, _json_or_empty(response)))
        return results

    def activate(self, deployment: Deployment) -> None:
        active = ServedModel(self.model_name, deployment.version, deployment.model_uri, deployment.sha256)
        before = self._pointer()
        previous = before.active if before and before.active.version != active.version else None
        if before and previous is None:
            previous = before.previous  # re-activating the active version keeps its rollback target
        pointer = ServingPointer(active=active, previous=previous)
        self.objects.put(
            self.bucket,
            pointer_key(self.prefix, self.model_name),
            pointer.to_json().encode(),
            content_type="application/json",
        )
        response = self._sync()
        if response.status_code != 200:
            raise ServingRejected(f"model server could not switch the default: {self._error_text(response)}")
        self._wait_ready(None)
        logger.info("rollout switched target=%s version=%s", self.description, active.version)
        self._retire(keep={active.version, *([previous.version] if previous else [])})

    def _retire(self, keep: set[str]) -> None:
        """Unlist and unload versions other than ``keep`` (the active one and the one it replaced)."""
        stale = self._listed_versions() - keep
        for version in sorted(stale):
            self.objects.delete(self.bucket, version_key(self.prefix, self.model_name, version))
        if stale:
            self._sync()
            logger.info("rollout retired target=%s versions=%s", self.description, ",".join(sorted(stale)))

    def rollback(self, deployment: Deployment) -> None:
        pointer = self._pointer()
        needed = {pointer.active.version, pointer.previous.version if pointer.previous else ""} if pointer else set()
        if deployment.version not in needed and deployment.details.get("listed_before") != "true":
            self.objects.delete(self.bucket, version_key(self.prefix, self.model_name, deployment.version))
        if pointer is None and not self._listed_versions():
            # Nothing was ever switched in: unload the name (MLServer's load would 404 on an empty listing).
            self._http("POST", f"/v2/repository/models/{self.model_name}/unload")
        else:
            self._sync()
        logger.info("rollout rolled back target=%s version=%s", self.description, deployment.version)

    def restore_previous(self) -> ServedVersion:
        """Point the alias back at the version the last switch replaced (the rollback after a release).

        :raises ServingRejected: if nothing was switched before.
        """
        pointer = self._pointer()
        if pointer is None or pointer.previous is None:
            raise ServingRejected(
                "no previous version to restore", where=self.description, fix="roll out a version explicitly"
            )
        previous = pointer.previous
        self.objects.put(
            self.bucket,
            version_key(self.prefix, self.model_name, previous.version),
            version_to_json(previous).encode(),
            content_type="application/json",
        )
        self.activate(Deployment(self.description, previous.version, previous.sha256, previous.uri))
        return ServedVersion(previous.version, previous.sha256, previous.uri)


def _json_or_empty(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
