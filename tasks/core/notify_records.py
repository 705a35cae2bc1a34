"""What Slack messages and Deck reports are made of: the typed records of one meta-workflow run.

The release artifact itself (:class:`~tasks.core.records.Release`, images, registrations) lives in
:mod:`tasks.core.records`; these records describe how a *run* went (its steps, validation metrics,
promotion diff, rollout), in the vocabulary of :mod:`tasks.core.vocabulary`. All are frozen
dataclasses of plain fields so flytekit can pass them between tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tasks.core.vocabulary import Event, Phase, RunStep, Verdict

#: The steps each meta-workflow reports, in order (the progress line of its Slack message).
CI_STEPS: tuple[RunStep, ...] = (RunStep.STARTED, RunStep.BUILT, RunStep.REGISTERED, RunStep.VALIDATED)
PROMOTE_STEPS: tuple[RunStep, ...] = (
    RunStep.STARTED,
    RunStep.APPROVED,
    RunStep.REGISTERED,
    RunStep.VALIDATED,
    RunStep.PROMOTED,
)
ROLLOUT_STEPS: tuple[RunStep, ...] = (RunStep.STARTED, RunStep.ROLLED_OUT)


@dataclass(frozen=True)
class Link:
    """A link shown in Slack and the Deck, e.g. to a Flyte console execution."""

    label: str
    url: str


@dataclass(frozen=True)
class MetricCheck:
    """One output of a validation checked against its threshold, e.g. ``accuracy 0.91 >= 0.8``.

    :param name: the output path, e.g. ``metrics.accuracy``.
    :param value: the value the execution produced.
    :param operator: the comparison from taxiway.yaml (``>=``, ``>``, ``<=``, ``<``, ``==``, ``!=``).
    :param threshold: the value it was compared with.
    :param passed: whether the check held.
    """

    name: str
    value: float
    operator: str
    threshold: float
    passed: bool


@dataclass(frozen=True)
class RunInfo:
    """The meta-workflow run being reported: the header of its Slack message and Deck.

    :param workflow: which meta-workflow: ``ci``, ``promote``, ``rollout``.
    :param pipeline: the pipeline name from taxiway.yaml.
    :param version: the release version.
    :param domain: the domain this run acts on (built into, promoted into, rolled out from).
    :param execution: the run's Flyte execution, with its console URL ("" when unknown).
    :param git_sha: the release's commit.
    :param source_domain: for a promotion, the domain the release comes from.
    :param steps: the steps this run reports, in order.
    :param approved_by: who approved the promotion ("" when no approval was needed or given yet).
    """

    workflow: str
    pipeline: str
    version: str
    domain: str
    execution: Link
    git_sha: str = ""
    source_domain: str = ""
    steps: tuple[RunStep, ...] = CI_STEPS
    approved_by: str = ""

    def with_approval(self, approver: str) -> RunInfo:
        """The same run, now approved by ``approver``."""
        return replace(self, approved_by=approver)


# Which step an event reports, and the phase the step is in once it happened.
_EVENT_STEP: dict[Event, tuple[RunStep, Phase]] = {
    Event.RUN_STARTED: (RunStep.STARTED, Phase.SUCCEEDED),
    Event.IMAGE_BUILT: (RunStep.BUILT, Phase.SUCCEEDED),
    Event.IMAGE_REUSED: (RunStep.BUILT, Phase.SUCCEEDED),
    Event.RELEASE_BUILT: (RunStep.BUILT, Phase.SUCCEEDED),
    Event.RELEASE_REGISTERED: (RunStep.REGISTERED, Phase.SUCCEEDED),
    Event.VALIDATION_STARTED: (RunStep.VALIDATED, Phase.RUNNING),
    Event.VALIDATION_SUCCEEDED: (RunStep.VALIDATED, Phase.SUCCEEDED),
    Event.VALIDATION_FAILED: (RunStep.VALIDATED, Phase.FAILED),
    Event.APPROVAL_REQUESTED: (RunStep.APPROVED, Phase.RUNNING),
    Event.APPROVAL_GRANTED: (RunStep.APPROVED, Phase.SUCCEEDED),
    Event.APPROVAL_DENIED: (RunStep.APPROVED, Phase.FAILED),
    Event.APPROVAL_TIMED_OUT: (RunStep.APPROVED, Phase.TIMED_OUT),
    Event.PROMOTION_STARTED: (RunStep.PROMOTED, Phase.RUNNING),
    Event.PROMOTION_SUCCEEDED: (RunStep.PROMOTED, Phase.SUCCEEDED),
    Event.PROMOTION_FAILED: (RunStep.PROMOTED, Phase.FAILED),
    Event.PROMOTION_REFUSED: (RunStep.PROMOTED, Phase.FAILED),
    Event.LAUNCH_PLANS_ACTIVATED: (RunStep.PROMOTED, Phase.SUCCEEDED),
    Event.ROLLOUT_SUCCEEDED: (RunStep.ROLLED_OUT, Phase.SUCCEEDED),
    Event.ROLLOUT_FAILED: (RunStep.ROLLED_OUT, Phase.FAILED),
    Event.ROLLBACK_SUCCEEDED: (RunStep.ROLLED_BACK, Phase.SUCCEEDED),
    Event.ROLLBACK_FAILED: (RunStep.ROLLED_BACK, Phase.FAILED),
}


@dataclass(frozen=True)
class Detail:
    """One labelled value of a step report, e.g. ``image`` -> ``127.0.0.1:30000/training:abc``."""

    label: str
    value: str


@dataclass(frozen=True)
class StepReport:
    """What one step of a run did, reported as a thread reply and in the Deck.

    :param event: what happened, e.g. :attr:`Event.RELEASE_REGISTERED`; it decides the step and phase.
    :param summary: one sentence for people, e.g. "image reused (tag exists)".
    :param details: labelled values (image, entities registered, validation case, ...).
    :param metrics: validation metrics against their thresholds.
    :param links: Flyte console executions and other links.
    """

    event: Event
    summary: str = ""
    details: tuple[Detail, ...] = ()
    metrics: tuple[MetricCheck, ...] = ()
    links: tuple[Link, ...] = ()

    def __post_init__(self) -> None:
        if self.event not in _EVENT_STEP:
            raise ValueError(
                f"event {self.event.value} is not a step of a run; report RunFailed with RunFailure, "
                f"or use one of {', '.join(event.value for event in _EVENT_STEP)}"
            )

    @property
    def step(self) -> RunStep:
        return _EVENT_STEP[self.event][0]

    @property
    def phase(self) -> Phase:
        return _EVENT_STEP[self.event][1]

    @property
    def verdict(self) -> Verdict | None:
        """The business outcome when the step checked something (validation, approval), else None."""
        if self.step not in (RunStep.VALIDATED, RunStep.APPROVED) or not self.phase.is_terminal:
            return None
        return Verdict.PASSED if self.phase is Phase.SUCCEEDED else Verdict.FAILED


@dataclass(frozen=True)
class RunFailure:
    """A run that failed with a technical error (from ``@workflow(on_failure=...)``).

    :param failed_node: the Flyte node or task that failed, e.g. ``register_release``.
    :param error: the error message (already free of secrets: it comes from Flyte's execution error).
    :param step: the run step that node belongs to, when known.
    :param execution: the failed execution (or node execution) in the Flyte console.
    """

    failed_node: str
    error: str
    step: RunStep | None = None
    execution: Link | None = None


@dataclass(frozen=True)
class ValidationSummary:
    """How one validation case went in one domain, as the Deck and Slack show it.

    :param case: the validation case name from taxiway.yaml.
    :param domain: where it ran.
    :param phase: the execution's phase (a technical outcome).
    :param verdict: whether the expectations held; None when it did not run to completion.
    :param metrics: the checked outputs against their thresholds.
    :param execution: the validation execution in the Flyte console.
    :param duration_seconds: how long the execution took.
    """

    case: str
    domain: str
    phase: Phase
    verdict: Verdict | None
    metrics: tuple[MetricCheck, ...] = ()
    execution: Link | None = None
    duration_seconds: float = 0.0


@dataclass(frozen=True)
class LaunchPlanChange:
    """One launch plan whose active version a promotion changes ("" = none active before)."""

    name: str
    before: str
    after: str


@dataclass(frozen=True)
class PromotionDiff:
    """What a promotion changes in the target domain.

    :param source_domain: where the release was validated.
    :param target_domain: where it is promoted to.
    :param version: the release version being promoted.
    :param previous_version: the release active in the target domain before ("" for the first one).
    :param changes: launch plans whose active version changes.
    :param approved_by: who approved ("" when no approval was required).
    """

    source_domain: str
    target_domain: str
    version: str
    previous_version: str = ""
    changes: tuple[LaunchPlanChange, ...] = ()
    approved_by: str = ""


@dataclass(frozen=True)
class SmokeCheck:
    """One smoke request against a serving target and whether its expectations held."""

    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class RolloutSummary:
    """A model pushed to a serving target, with its smoke checks and whether it was rolled back.

    :param target: the serving target, e.g. ``oip http://127.0.0.1:30092``.
    :param model_name: the served model's name.
    :param model_uri: where the model artifact came from.
    :param phase: how the rollout ended.
    :param smoke: the smoke checks run after the push.
    :param rolled_back: True when a failed smoke check restored the previous model.
    :param previous_model: the model uri served before ("" for the first rollout).
    """

    target: str
    model_name: str
    model_uri: str
    phase: Phase
    smoke: tuple[SmokeCheck, ...] = ()
    rolled_back: bool = False
    previous_model: str = ""
