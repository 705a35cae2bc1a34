"""The model store: models from validated executions, content-addressed on S3 with their provenance.

``store_model`` copies a model file to ``s3://taxiway-models/<pipeline>/<version>/<sha256>/model.pt``
with the provenance (pipeline, version, git SHA, execution id, metrics, checksum) as object metadata
and as ``manifest.json`` next to it. The key holds the checksum, so storing the same bytes again is a
no-op, and a retrained model of the same version gets a key of its own instead of replacing the first.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tasks.core.errors import PermanentError, SourceNotFound
from tasks.core.rollout_records import StoredModel
from tasks.core.rollout_s3 import S3Objects

logger = logging.getLogger(__name__)

MODEL_BUCKET = "taxiway-models"
MODEL_FILE = "model.pt"
MANIFEST_FILE = "manifest.json"
MANIFEST_SCHEMA = "taxiway.dev/model-manifest/v1"
#: S3 caps user metadata at 2 KiB per object; the manifest has everything, the metadata what fits.
_METADATA_LIMIT = 2048


@dataclass(frozen=True)
class ModelProvenance:
    """Where a model comes from: the release and the validated execution that produced it."""

    pipeline: str
    version: str
    git_sha: str
    execution_id: str
    metrics: Mapping[str, float | int | str | bool] = field(default_factory=dict)


def numeric_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The numeric metrics (bools and strings such as ``data_as_of`` stay in the manifest only)."""
    return {
        name: float(value)
        for name, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def model_prefix(pipeline: str, version: str, sha256: str) -> str:
    """``<pipeline>/<version>/<sha256>``: the folder of one stored model."""
    for label, value in (("pipeline", pipeline), ("version", version)):
        if not value or "/" in value or value in (".", ".."):
            raise PermanentError(f"cannot store a model with {label} {value!r}", fix=f"pass a non-empty {label}")
    return f"{pipeline}/{version}/{sha256}"


def object_metadata(provenance: ModelProvenance, sha256: str) -> dict[str, str]:
    """The S3 user metadata of a stored model (ASCII values; metrics as compact JSON when they fit)."""
    metadata = {
        "taxiway-pipeline": provenance.pipeline,
        "taxiway-version": provenance.version,
        "taxiway-git-sha": provenance.git_sha,
        "taxiway-execution-id": provenance.execution_id,
        "taxiway-sha256": sha256,
    }
    metrics = json.dumps(dict(provenance.metrics), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    if sum(len(k) + len(v) for k, v in metadata.items()) + len(metrics) + 16 <= _METADATA_LIMIT:
        metadata["taxiway-metrics"] = metrics
    return metadata


def build_manifest(provenance: ModelProvenance, *, sha256: str, size: int, uri: str, source_uri: str) -> dict[str, Any]:
    """The ``manifest.json`` written next to the model."""
    return {
        "schema": MANIFEST_SCHEMA,
        "pipeline": provenance.pipeline,
        "version": provenance.version,
        "git_sha": provenance.git_sha,
        "execution_id": provenance.execution_id,
        "metrics": dict(provenance.metrics),
        "checksum": {"sha256": sha256},
        "size": size,
        "model_uri": uri,
        "source_uri": source_uri,
    }


def store_model(
    s3_client: Any, source_uri: str, provenance: ModelProvenance, *, bucket: str = MODEL_BUCKET
) -> StoredModel:
    """Copy the model at ``source_uri`` into the model store unless the same bytes are there already.

    :param source_uri: the model output of the validated execution (``s3://...``, ``file://...`` or a path).
    :raises SourceNotFound: if there is no model at ``source_uri`` (nothing is written).
    :raises PermanentError: if the model is empty, the bucket is missing, or a stored copy is corrupt.
    :raises StorageUnavailable: if S3 does not answer.
    """
    if not source_uri:
        raise SourceNotFound(
            "the validated execution has no model output",
            where=provenance.execution_id or provenance.version,
            fix="check serving.source.output in taxiway.yaml names the output that holds the model",
        )
    objects = S3Objects(s3_client)
    objects.check_bucket(bucket)
    data = objects.read_uri(source_uri)
    if not data:
        raise PermanentError("the model output is an empty file", where=source_uri, fix="check the training task")
    sha256 = hashlib.sha256(data).hexdigest()
    prefix = model_prefix(provenance.pipeline, provenance.version, sha256)
    key, manifest_key = f"{prefix}/{MODEL_FILE}", f"{prefix}/{MANIFEST_FILE}"
    uri = f"s3://{bucket}/{key}"
    head = objects.head(bucket, key)
    if head is not None:
        stored = (head.get("Metadata") or {}).get("taxiway-sha256")
        if stored != sha256 or int(head.get("ContentLength", -1)) != len(data):
            raise PermanentError(
                "a stored model does not match the checksum in its key",
                where=uri,
                fix="delete the object; the next rollout stores it again",
            )
        created = False
    else:
        created = objects.put(
            bucket,
            key,
            data,
            content_type="application/octet-stream",
            metadata=object_metadata(provenance, sha256),
            create_only=True,
        )
    if objects.head(bucket, manifest_key) is None:
        manifest = build_manifest(provenance, sha256=sha256, size=len(data), uri=uri, source_uri=source_uri)
        body = json.dumps(manifest, indent=2, sort_keys=True).encode()
        objects.put(bucket, manifest_key, body, content_type="application/json", create_only=True)
    logger.info(
        "model %s pipeline=%s version=%s uri=%s sha256=%s bytes=%d",
        "stored" if created else "exists",
        provenance.pipeline,
        provenance.version,
        uri,
        sha256,
        len(data),
    )
    return StoredModel(
        pipeline=provenance.pipeline,
        version=provenance.version,
        uri=uri,
        sha256=sha256,
        size=len(data),
        manifest_uri=f"s3://{bucket}/{manifest_key}",
        git_sha=provenance.git_sha,
        execution_id=provenance.execution_id,
        metrics=numeric_metrics(provenance.metrics),
        created=created,
    )
