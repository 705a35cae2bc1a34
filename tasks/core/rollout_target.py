"""The one small interface both serving targets implement (Open Inference Protocol and SageMaker)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tasks.core.config_models import SmokeRequest
from tasks.core.rollout_records import Deployment, ServedVersion, SmokeResult, StoredModel


class ServingTarget(Protocol):
    """Where models are served. The rollout calls, in order: ``current``, ``deploy``, ``smoke_test``,
    then ``activate`` when every smoke request passed or ``rollback`` when one did not.

    ``deploy`` must be idempotent (a retried rollout deploys the same version again) and may raise
    :class:`~tasks.core.rollout_errors.ModelRejected` when the model does not load or become ready,
    after undoing what it did. A target that can only test a model once it takes traffic (SageMaker)
    switches in ``deploy`` and restores the previous model in ``rollback``.
    """

    @property
    def description(self) -> str:
        """e.g. ``oip http://127.0.0.1:30092 model=training-classifier`` (no credentials)."""
        ...

    def check(self) -> None:
        """Raise a clear error if the target is unreachable or not what the config says; changes nothing."""
        ...

    def current(self) -> ServedVersion | None:
        """The version answering by default now, or None before the first rollout."""
        ...

    def deploy(self, model: StoredModel) -> Deployment:
        """Put ``model`` on the target, ready to answer smoke requests."""
        ...

    def smoke_test(self, deployment: Deployment, requests: Sequence[SmokeRequest]) -> list[SmokeResult]:
        """Send each smoke request to the deployed version and check its expectations."""
        ...

    def activate(self, deployment: Deployment) -> None:
        """Make the deployed version the default; retire versions older than the one it replaces."""
        ...

    def rollback(self, deployment: Deployment) -> None:
        """Undo ``deploy``: the previous version answers by default, the deployed one is gone."""
        ...
