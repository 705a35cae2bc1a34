"""Validation: run a release's validation cases in one domain and record the evidence.

For each case of taxiway.yaml that applies to the domain, the registered launch plan (the release's
version) is executed *in that domain* with a deterministic execution name (re-runs reuse it), labelled
with Taxiway's vocabulary so that Flyte stays the system of record. Every execution is awaited up to
its case's timeout with a short poll interval and terminated past it (``TIMED_OUT``); the expectations
are checked against its outputs. The result is a frozen :class:`ValidationReport`.

A business failure (expectations not met, the execution failed) is a ``FAILED`` verdict in the
report; only technical errors (FlyteAdmin unavailable) raise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tasks.core.config_expectations import MISSING
from tasks.core.config_models import ValidationSpec
from tasks.core.errors import SourceNotFound
from tasks.core.promote_names import label_value, validation_execution_name
from tasks.core.promote_outputs import with_single_output_alias
from tasks.core.vocabulary import MANAGED_BY_TAXIWAY, Event, LabelKey, Phase, Verdict

logger = logging.getLogger(__name__)

#: How often a running validation execution is polled (flytekit's default of 30 s wastes minutes).
DEFAULT_POLL_SECONDS = 2.0


@dataclass(frozen=True)
class ExecutionRef:
    """A Flyte execution: ``project/domain/name``."""

    project: str
    domain: str
    name: str

    def __str__(self) -> str:
        return f"{self.project}/{self.domain}/{self.name}"


@dataclass(frozen=True)
class LaunchRequest:
    """One execution to create (or reuse) in a domain."""

    execution: ExecutionRef
    launch_plan: str
    version: str
    inputs: Mapping[str, Any]
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ExecutionState:
    """What FlyteAdmin says about an execution now."""

    phase: Phase
    error: str = ""


class ExecutionPort(Protocol):
    """The executions side of FlyteAdmin, per domain (``tasks.core.promote_flyte.FlyteExecutions``)."""

    def launch(self, request: LaunchRequest) -> bool:
        """Create the execution; False when one with that name existed already (it is reused).

        :raises SourceNotFound: if the launch plan (that version) is not registered in the domain.
        """

    def state(self, execution: ExecutionRef) -> ExecutionState | None:
        """The execution's phase, or None if there is no such execution."""

    def outputs(self, execution: ExecutionRef) -> dict[str, Any]:
        """The outputs of a succeeded execution as plain values (``promote_outputs``)."""

    def terminate(self, execution: ExecutionRef, cause: str) -> None:
        """Abort a running execution."""

    def console_url(self, execution: ExecutionRef) -> str:
        """The Flyte console link of the execution."""


@dataclass(frozen=True)
class OutputCheck:
    """One expectation checked against one output value."""

    expectation: str
    subject: str
    value: str
    passed: bool


@dataclass(frozen=True)
class CaseResult:
    """What happened to one validation case: its execution, phase, checks and verdict."""

    case: str
    launch_plan: str
    execution_id: str
    console_url: str
    phase: Phase
    verdict: Verdict
    checks: list[OutputCheck] = field(default_factory=list)
    reused: bool = False
    error: str = ""
    started_at: str = ""
    finished_at: str = ""
    duration_seconds: float = 0.0


@dataclass(frozen=True)
class ValidationReport:
    """The evidence of one validation of a release in a domain (a record, never edited)."""

    pipeline: str
    project: str
    version: str
    domain: str
    verdict: Verdict
    cases: list[CaseResult] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    def failures(self) -> list[str]:
        """One line per failed case: why it failed."""
        lines = []
        for case in self.cases:
            if case.verdict is Verdict.PASSED:
                continue
            unmet = [check.expectation for check in case.checks if not check.passed]
            why = case.error or (f"not met: {', '.join(unmet)}" if unmet else f"execution {case.phase}")
            lines.append(f"{case.case} ({case.execution_id}): {why}")
        return lines


@dataclass(frozen=True)
class ValidationRequest:
    """Validate ``version`` of ``pipeline`` in ``domain`` with ``cases`` (taxiway.yaml's cases for that domain)."""

    pipeline: str
    project: str
    version: str
    domain: str
    cases: Sequence[ValidationSpec]
    attempt: int = 0

    def execution_of(self, case: ValidationSpec) -> ExecutionRef:
        """The deterministic execution of ``case``."""
        name = validation_execution_name(
            self.pipeline, self.version, case.name, case.launch_plan, case.inputs, self.attempt
        )
        return ExecutionRef(self.project, self.domain, name)

    def labels_of(self, case: ValidationSpec) -> dict[str, str]:
        return {
            LabelKey.PIPELINE.value: label_value(self.pipeline),
            LabelKey.RELEASE_VERSION.value: label_value(self.version),
            LabelKey.DOMAIN.value: label_value(self.domain),
            LabelKey.VALIDATION.value: label_value(case.name),
            LabelKey.MANAGED_BY.value: MANAGED_BY_TAXIWAY,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class _Pending:
    case: ValidationSpec
    execution: ExecutionRef
    reused: bool
    deadline: float
    started: float
    started_at: str
    error: str = ""
    state: ExecutionState | None = None


def run_validation(
    request: ValidationRequest,
    executions: ExecutionPort,
    *,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ValidationReport:
    """Launch (or reuse) every case's execution, wait for them, check expectations; the report.

    :param request: what to validate where.
    :param executions: FlyteAdmin's executions in ``request.domain``.
    :param poll_seconds: the poll interval while executions run.
    """
    started_at = _now()
    logger.info(
        "%s pipeline=%s version=%s domain=%s cases=%d",
        Event.VALIDATION_STARTED, request.pipeline, request.version, request.domain, len(request.cases),
    )  # fmt: skip
    pending = [_launch(request, case, executions, clock) for case in request.cases]
    while True:
        waiting = [item for item in pending if not item.error and not (item.state and item.state.phase.is_terminal)]
        for item in waiting:
            item.state = executions.state(item.execution)
            if item.state is None:
                item.error = f"execution {item.execution} disappeared"
            elif not item.state.phase.is_terminal and clock() >= item.deadline:
                executions.terminate(item.execution, f"validation case {item.case.name} timed out")
                item.state = ExecutionState(Phase.TIMED_OUT, f"timed out after {item.case.timeout}")
        if not [item for item in waiting if item.state and not item.state.phase.is_terminal]:
            break
        sleep(poll_seconds)
    cases = [_result(item, executions, clock) for item in pending]
    verdict = Verdict.PASSED if all(case.verdict is Verdict.PASSED for case in cases) else Verdict.FAILED
    report = ValidationReport(
        request.pipeline, request.project, request.version, request.domain, verdict, cases, started_at, _now()
    )
    event = Event.VALIDATION_SUCCEEDED if report.passed else Event.VALIDATION_FAILED
    logger.info(
        "%s pipeline=%s version=%s domain=%s verdict=%s failures=%s",
        event, request.pipeline, request.version, request.domain, verdict, report.failures(),
    )  # fmt: skip
    return report


def _launch(
    request: ValidationRequest, case: ValidationSpec, executions: ExecutionPort, clock: Callable[[], float]
) -> _Pending:
    execution = request.execution_of(case)
    started = clock()
    pending = _Pending(case, execution, False, started + case.timeout.total_seconds(), started, _now())
    launch = LaunchRequest(execution, case.launch_plan, request.version, case.inputs, request.labels_of(case))
    try:
        pending.reused = not executions.launch(launch)
    except SourceNotFound as err:
        pending.error = err.what
    logger.info("validation execution case=%s execution=%s reused=%s", case.name, execution, pending.reused)
    return pending


def _result(item: _Pending, executions: ExecutionPort, clock: Callable[[], float]) -> CaseResult:
    phase = item.state.phase if item.state else Phase.FAILED
    error = item.error or (item.state.error if item.state else "")
    checks: list[OutputCheck] = []
    if phase is Phase.SUCCEEDED:
        checks = check_expectations(item.case, executions.outputs(item.execution))
    passed = phase is Phase.SUCCEEDED and all(check.passed for check in checks)
    return CaseResult(
        case=item.case.name,
        launch_plan=item.case.launch_plan,
        execution_id=str(item.execution),
        console_url="" if item.error else executions.console_url(item.execution),
        phase=phase,
        verdict=Verdict.PASSED if passed else Verdict.FAILED,
        checks=checks,
        reused=item.reused,
        error=error,
        started_at=item.started_at,
        finished_at=_now(),
        duration_seconds=round(clock() - item.started, 3),
    )


def check_expectations(case: ValidationSpec, outputs: Mapping[str, Any]) -> list[OutputCheck]:
    """Every expectation of ``case`` against ``outputs`` (a sole dataclass output's fields are reachable)."""
    visible = with_single_output_alias(outputs)
    checks = []
    for expectation in case.expectations:
        value = expectation.lookup(visible)
        shown = "missing" if value is MISSING else repr(value)
        checks.append(OutputCheck(str(expectation), expectation.subject_text, shown, expectation.check(value)))
    return checks


def inspect_validation(request: ValidationRequest, executions: ExecutionPort) -> ValidationReport | None:
    """The report of a validation that ran before, read back from Flyte; launches nothing.

    :returns: None when a case has no execution at all (the release was never validated there);
        otherwise a report whose verdict is PASSED only if every case's execution succeeded and met
        its expectations (a case still running counts as not passed).
    """
    cases = []
    for case in request.cases:
        execution = request.execution_of(case)
        state = executions.state(execution)
        if state is None:
            return None
        checks = check_expectations(case, executions.outputs(execution)) if state.phase is Phase.SUCCEEDED else []
        passed = state.phase is Phase.SUCCEEDED and all(check.passed for check in checks)
        error = state.error or ("" if state.phase.is_terminal else f"still {state.phase}")
        cases.append(
            CaseResult(
                case.name,
                case.launch_plan,
                str(execution),
                executions.console_url(execution),
                state.phase,
                Verdict.PASSED if passed else Verdict.FAILED,
                checks,
                reused=True,
                error=error,
            )
        )
    verdict = Verdict.PASSED if all(case.verdict is Verdict.PASSED for case in cases) else Verdict.FAILED
    return ValidationReport(request.pipeline, request.project, request.version, request.domain, verdict, cases)
