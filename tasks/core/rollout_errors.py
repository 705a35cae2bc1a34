"""Errors of the rollout capability, in Taxiway's tree (:mod:`tasks.core.errors`), and URL redaction."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from tasks.core.errors import PermanentError, TransientError


class ServingUnavailable(TransientError):
    """The serving target did not answer, or kept answering with server errors, after retries."""

    default_fix = "check that the model server (or SageMaker endpoint) is up and that serving.url is right"


class ServingRejected(PermanentError):
    """The serving target refused a request for good (not a model server, unknown endpoint, bad config)."""

    default_fix = "check the serving section of taxiway.yaml against the serving target"


class ModelRejected(PermanentError):
    """The serving target could not load the model or it never became ready; the previous one keeps serving."""

    default_fix = "check the model file (TorchScript, float32 [N, features] input) and the server's log"


class RolloutRefused(PermanentError):
    """The release may not be rolled out from that domain: never validated there, or its validation failed."""

    default_fix = "promote the release into the domain first (promote_pipeline validates it there), then roll it out"


def redact_url(url: str) -> str:
    """``url`` without user info or query string, safe for logs and errors (credentials never logged)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
