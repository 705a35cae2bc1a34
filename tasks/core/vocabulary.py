"""The shared vocabulary of Taxiway: phases, verdicts, label keys and event names.

Every module, log line, Deck heading and Slack message uses these words, so they are defined once
here. Domains are *not* an enum: their names and promotion order come from `taxiway.yaml`
(see :class:`tasks.core.config.PipelineConfig`); :data:`DEFAULT_DOMAINS` is only Flyte's default set.
"""

from __future__ import annotations

from enum import StrEnum

#: Flyte's default domains, in promotion order. A pipeline's own order lives in its taxiway.yaml.
DEFAULT_DOMAINS: tuple[str, ...] = ("development", "staging", "production")

#: Label/annotation prefix owned by Taxiway; users may not set keys under it in taxiway.yaml.
TAXIWAY_PREFIX = "taxiway.dev"


class Phase(StrEnum):
    """Phase of an execution, a validation or a promotion; the names match Flyte's execution phases."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"
    TIMED_OUT = "TIMED_OUT"

    @property
    def is_terminal(self) -> bool:
        """True when nothing will change any more (succeeded, failed, aborted or timed out)."""
        return self not in (Phase.QUEUED, Phase.RUNNING)

    @classmethod
    def from_flyte(cls, name: str) -> Phase:
        """Map a Flyte ``WorkflowExecution.Phase`` name onto a Taxiway phase.

        Flyte's transitional phases (``SUCCEEDING``, ``FAILING``, ``ABORTING``) are still running;
        ``UNDEFINED`` is an execution Flyte has not picked up yet.

        :param name: the Flyte phase name, e.g. ``"SUCCEEDED"`` (case-insensitive).
        :raises ValueError: if the name is not a Flyte execution phase.
        """
        upper = name.upper()
        if upper in cls.__members__:
            return cls[upper]
        if upper in _FLYTE_TRANSITIONAL:
            return _FLYTE_TRANSITIONAL[upper]
        raise ValueError(
            f"unknown Flyte execution phase {name!r}; expected one of "
            f"{', '.join([*cls.__members__, *_FLYTE_TRANSITIONAL])}"
        )


_FLYTE_TRANSITIONAL: dict[str, Phase] = {
    "UNDEFINED": Phase.QUEUED,
    "SUCCEEDING": Phase.RUNNING,
    "FAILING": Phase.RUNNING,
    "ABORTING": Phase.RUNNING,
}


class Verdict(StrEnum):
    """The business outcome of a check: did the release meet its expectations?

    Kept apart from :class:`Phase`: a validation that ran to completion (``SUCCEEDED``) may still
    have a ``FAILED`` verdict, and a technical error yields no verdict at all.
    """

    PASSED = "PASSED"
    FAILED = "FAILED"


class LabelKey(StrEnum):
    """Kubernetes-style label keys Taxiway sets on executions and launch plans (values <= 63 chars)."""

    PIPELINE = f"{TAXIWAY_PREFIX}/pipeline"
    RELEASE_VERSION = f"{TAXIWAY_PREFIX}/release-version"
    GIT_SHA = f"{TAXIWAY_PREFIX}/git-sha"
    DOMAIN = f"{TAXIWAY_PREFIX}/domain"
    VALIDATION = f"{TAXIWAY_PREFIX}/validation"
    MANAGED_BY = "app.kubernetes.io/managed-by"


#: The value of :attr:`LabelKey.MANAGED_BY` on everything Taxiway creates.
MANAGED_BY_TAXIWAY = "taxiway"


class AnnotationKey(StrEnum):
    """Annotation keys Taxiway sets; annotation values may be long (URIs, hashes, JSON)."""

    CONTENT_HASH = f"{TAXIWAY_PREFIX}/content-hash"
    IMAGE = f"{TAXIWAY_PREFIX}/image"
    PROMOTED_FROM = f"{TAXIWAY_PREFIX}/promoted-from"
    PROMOTION = f"{TAXIWAY_PREFIX}/promotion"
    VALIDATION_REPORT = f"{TAXIWAY_PREFIX}/validation-report"
    GIT_REF = f"{TAXIWAY_PREFIX}/git-ref"


class RunStep(StrEnum):
    """The steps of a meta-workflow run, in the order Slack's progress line and the Deck list them."""

    STARTED = "started"
    BUILT = "built"
    REGISTERED = "registered"
    VALIDATED = "validated"
    APPROVED = "approved"
    PROMOTED = "promoted"
    ROLLED_OUT = "rolled_out"
    ROLLED_BACK = "rolled_back"

    @property
    def label(self) -> str:
        """The step as a reader sees it when done, e.g. ``rolled out``."""
        return self.value.replace("_", " ")

    @property
    def action(self) -> str:
        """The step as an action, for failures: ``build`` in "build failed"."""
        return _STEP_ACTIONS[self]


_STEP_ACTIONS: dict[RunStep, str] = {
    RunStep.STARTED: "start",
    RunStep.BUILT: "build",
    RunStep.REGISTERED: "register",
    RunStep.VALIDATED: "validate",
    RunStep.APPROVED: "approve",
    RunStep.PROMOTED: "promote",
    RunStep.ROLLED_OUT: "roll out",
    RunStep.ROLLED_BACK: "roll back",
}


class Event(StrEnum):
    """Event names, Kargo style ``<Noun><PastTense>``; used as log keys and Slack headers."""

    RUN_STARTED = "RunStarted"
    RUN_SUCCEEDED = "RunSucceeded"
    RUN_FAILED = "RunFailed"

    IMAGE_BUILT = "ImageBuilt"
    IMAGE_REUSED = "ImageReused"
    RELEASE_BUILT = "ReleaseBuilt"
    RELEASE_REGISTERED = "ReleaseRegistered"
    VALIDATION_STARTED = "ValidationStarted"
    VALIDATION_SUCCEEDED = "ValidationSucceeded"
    VALIDATION_FAILED = "ValidationFailed"
    APPROVAL_REQUESTED = "ApprovalRequested"
    APPROVAL_GRANTED = "ApprovalGranted"
    APPROVAL_DENIED = "ApprovalDenied"
    APPROVAL_TIMED_OUT = "ApprovalTimedOut"
    PROMOTION_STARTED = "PromotionStarted"
    PROMOTION_SUCCEEDED = "PromotionSucceeded"
    PROMOTION_FAILED = "PromotionFailed"
    PROMOTION_REFUSED = "PromotionRefused"
    LAUNCH_PLANS_ACTIVATED = "LaunchPlansActivated"
    ROLLOUT_SUCCEEDED = "RolloutSucceeded"
    ROLLOUT_FAILED = "RolloutFailed"
    ROLLBACK_SUCCEEDED = "RollbackSucceeded"
    ROLLBACK_FAILED = "RollbackFailed"
