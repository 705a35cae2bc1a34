"""Rollout: store a validated model, deploy it to a serving target, smoke-test it, then switch or keep the previous.

``roll_out`` is the logic behind the ``release_model`` meta-workflow; it receives its clients (an S3
client, a :class:`~tasks.core.rollout_target.ServingTarget`) and returns a :class:`RolloutRecord`.
Re-running it for a version that already serves with the same checksum changes nothing (``NO_OP``).
A failed smoke test, or a model the target cannot load, is a business outcome (``KEPT_PREVIOUS``),
not an error: the previous model keeps serving and the record says why. Bad input raises before
anything on the target changes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tasks.core.config_models import SmokeRequest
from tasks.core.errors import SourceNotFound
from tasks.core.model_store import MODEL_BUCKET, ModelProvenance, store_model
from tasks.core.rollout_errors import ModelRejected
from tasks.core.rollout_records import RolloutOutcome, RolloutRecord, SmokeResult, StoredModel
from tasks.core.rollout_smoke import all_passed, failed, summary
from tasks.core.rollout_target import ServingTarget
from tasks.core.vocabulary import Event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RolloutRequest:
    """Which model to roll out: the model output of a release's validated execution.

    :param model_uri: the execution's model output (``s3://...``); empty when it has none.
    :param metrics: the execution's metrics, stored with the model.
    """

    pipeline: str
    version: str
    model_uri: str
    git_sha: str
    execution_id: str
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def provenance(self) -> ModelProvenance:
        return ModelProvenance(self.pipeline, self.version, self.git_sha, self.execution_id, self.metrics)


def roll_out(
    request: RolloutRequest,
    *,
    s3_client: Any,
    target: ServingTarget,
    smoke: Sequence[SmokeRequest],
    bucket: str = MODEL_BUCKET,
) -> RolloutRecord:
    """Store → deploy → smoke → switch, or keep the previous model serving.

    :raises SourceNotFound: if the execution has no model output (nothing changed).
    :raises PermanentError: if the model store's bucket is missing or the target is not a model server.
    :raises TransientError: if S3 or the serving target stays unreachable after retries.
    """
    if not request.model_uri:
        raise SourceNotFound(
            "the validated execution has no model output",
            where=request.execution_id or request.version,
            fix="check serving.source.output in taxiway.yaml names the output that holds the model",
        )
    target.check()
    stored = store_model(s3_client, request.model_uri, request.provenance, bucket=bucket)
    current = target.current()
    previous_version = current.version if current else ""
    if current is not None and current.version == stored.version and current.sha256 == stored.sha256:
        logger.info("rollout no-op target=%s version=%s sha256=%s", target.description, stored.version, stored.sha256)
        return _record(stored, target, previous_version, [], RolloutOutcome.NO_OP, "this model already serves")
    try:
        deployment = target.deploy(stored)
    except ModelRejected as err:
        results = [failed("deploy", err.what)]
        return _kept(stored, target, previous_version, results, f"the model did not load: {err.what}")
    results = target.smoke_test(deployment, smoke)
    if not all_passed(results):
        target.rollback(deployment)
        return _kept(stored, target, previous_version, results, summary(results))
    target.activate(deployment)
    logger.info(
        "%s pipeline=%s version=%s target=%s previous=%s sha256=%s",
        Event.ROLLOUT_SUCCEEDED.value,
        stored.pipeline,
        stored.version,
        target.description,
        previous_version or "-",
        stored.sha256,
    )
    return _record(stored, target, previous_version, results, RolloutOutcome.ROLLED_OUT, summary(results))


def _kept(
    stored: StoredModel, target: ServingTarget, previous_version: str, results: list[SmokeResult], reason: str
) -> RolloutRecord:
    logger.warning(
        "%s pipeline=%s version=%s target=%s kept=%s reason=%s",
        Event.ROLLOUT_FAILED.value,
        stored.pipeline,
        stored.version,
        target.description,
        previous_version or "-",
        reason,
    )
    return _record(stored, target, previous_version, results, RolloutOutcome.KEPT_PREVIOUS, reason)


def _record(
    stored: StoredModel,
    target: ServingTarget,
    previous_version: str,
    results: list[SmokeResult],
    outcome: RolloutOutcome,
    reason: str,
) -> RolloutRecord:
    return RolloutRecord(
        pipeline=stored.pipeline,
        version=stored.version,
        model_uri=stored.uri,
        checksum=stored.sha256,
        target=target.description,
        previous_version=previous_version,
        smoke=list(results),
        outcome=outcome,
        reason=reason,
    )
