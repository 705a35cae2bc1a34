"""What a rollout did: the stored model, the deployment, smoke results and the :class:`RolloutRecord`.

Frozen dataclasses with flytekit-friendly fields (str, int, float, bool, list, dict, Optional, StrEnum),
so the ``@task`` layer can return them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RolloutOutcome(StrEnum):
    """How a rollout ended; a failed smoke test is a business outcome, not an error."""

    ROLLED_OUT = "ROLLED_OUT"
    KEPT_PREVIOUS = "KEPT_PREVIOUS"
    NO_OP = "NO_OP"


@dataclass(frozen=True)
class StoredModel:
    """A model file in the model store, content-addressed: ``s3://<bucket>/<pipeline>/<version>/<sha256>/model.pt``.

    :param created: True when this call wrote it, False when the same bytes were already stored.
    """

    pipeline: str
    version: str
    uri: str
    sha256: str
    size: int
    manifest_uri: str
    git_sha: str
    execution_id: str
    metrics: dict[str, float] = field(default_factory=dict)
    created: bool = False

    @property
    def prefix_uri(self) -> str:
        """The folder holding ``model.pt`` and ``manifest.json`` (ends with ``/``)."""
        return self.uri.rsplit("/", 1)[0] + "/"


@dataclass(frozen=True)
class ServedVersion:
    """The model version a serving target answers with by default."""

    version: str
    sha256: str
    model_uri: str


@dataclass(frozen=True)
class Deployment:
    """A model version put on a serving target, before it is switched in (or rolled back).

    :param target: the target's description, e.g. ``oip http://127.0.0.1:30092 model=training-classifier``.
    :param previous: what served by default before this deployment (None on a first rollout).
    :param details: target-specific names (endpoint configs, repository entries) needed to undo it.
    """

    target: str
    version: str
    sha256: str
    model_uri: str
    previous: ServedVersion | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SmokeResult:
    """One smoke request: each expectation explained, or the error that kept it from answering."""

    name: str
    passed: bool
    checks: list[str] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class RolloutRecord:
    """What one rollout did.

    :param previous_version: the version serving before the rollout ("" on a first rollout).
    :param outcome: ROLLED_OUT, KEPT_PREVIOUS (smoke or load failed; the previous version keeps serving)
        or NO_OP (this version with this checksum was already serving).
    :param reason: one sentence for the Deck and Slack.
    """

    pipeline: str
    version: str
    model_uri: str
    checksum: str
    target: str
    previous_version: str
    smoke: list[SmokeResult]
    outcome: RolloutOutcome
    reason: str = ""

    @property
    def serving_version(self) -> str:
        """The version answering by default after the rollout."""
        return self.version if self.outcome is not RolloutOutcome.KEPT_PREVIOUS else self.previous_version
