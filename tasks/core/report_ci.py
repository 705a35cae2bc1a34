"""How a ``ci_pipeline`` run is reported: Slack step reports and Deck HTML from its release.

Pure functions from :class:`~tasks.core.records.Release` and :class:`~tasks.core.validate.ValidationReport`
to the run records of :mod:`tasks.core.notify_records`, which :class:`~tasks.core.notify.ReleaseNotifier`
and :mod:`tasks.core.report` render. The thread reads started → built → registered → validated (or
failed); a run that skips validation ends at registered. No Flyte runtime and no Slack client here.
"""

from __future__ import annotations

from tasks.core import report
from tasks.core.errors import ValidationFailed
from tasks.core.notify_records import CI_STEPS, Detail, Link, RunFailure, RunInfo, StepReport
from tasks.core.promote_report import validation_report, validation_summaries
from tasks.core.records import DomainRegistration, Release
from tasks.core.validate import ValidationReport
from tasks.core.vocabulary import Event, Phase, RunStep

#: The steps of a run that skips validation (``validate=False``): it is done once registered.
CI_STEPS_WITHOUT_VALIDATION: tuple[RunStep, ...] = tuple(step for step in CI_STEPS if step is not RunStep.VALIDATED)

#: The node names of ``ci_pipeline`` (``with_overrides(node_name=...)``) and the step each belongs to.
#: Each is its task's name with dashes, so that a local run (which names the task) finds its step too.
CI_NODES: dict[str, RunStep] = {
    "fetch-source": RunStep.STARTED,
    "report-ci-started": RunStep.STARTED,
    "build-images": RunStep.BUILT,
    "package-release": RunStep.BUILT,
    "register-release": RunStep.REGISTERED,
    "record-release": RunStep.REGISTERED,
    "report-ci-release": RunStep.REGISTERED,
    "ci-release-context": RunStep.VALIDATED,
    "validate-in-first-domain": RunStep.VALIDATED,
    "finish-ci": RunStep.VALIDATED,
}
#: The node that fails the run after reporting a failed validation in the run's thread.
FINISH_NODE = "finish-ci"
#: What the error of a failed validation says (Flyte passes the message on, not always the class name).
FAILED_VALIDATION = "failed validation in"


def ci_run(
    pipeline: str, version: str, domain: str, execution: Link, git_sha: str = "", validate: bool = True
) -> RunInfo:
    """The ``ci`` run reported in Slack and the Deck; ``domain`` is the first domain, built into."""
    steps = CI_STEPS if validate else CI_STEPS_WITHOUT_VALIDATION
    return RunInfo("ci", pipeline, version, domain, execution, git_sha, steps=steps)


def build_report(release: Release) -> StepReport:
    """The built step: each image built or skipped (its content-hash tag existed), and the package."""
    built = [image for image in release.images if image.built]
    skipped = len(release.images) - len(built)
    if not release.images:
        summary = "no image to build (taxiway.yaml has no image section)"
    else:
        summary = f"{len(built)} image(s) built, {skipped} skipped (tag exists)"
    details = tuple(
        Detail("built" if image.built else "skipped (tag exists)", f"{image.reference}@{image.digest}")
        for image in release.images
    )
    package = Detail("package", f"{release.package.uri} ({release.package.entity_count} entities)")
    return StepReport(Event.IMAGE_BUILT if built else Event.IMAGE_REUSED, summary, (*details, package))


def registration_report(registration: DomainRegistration) -> StepReport:
    """The registered step: where, which version, how many entities this run created."""
    existed = len(registration.entities) - registration.created_count
    return StepReport(
        Event.RELEASE_REGISTERED,
        f"registered {registration.project}/{registration.domain} version {registration.version}: "
        f"{registration.created_count} created, {existed} already existed",
    )


def release_reports(release: Release) -> list[StepReport]:
    """Built, then registered (one report per domain the release is registered in)."""
    return [build_report(release), *(registration_report(item) for item in release.registrations)]


def validation_outcome(validation: ValidationReport | None) -> StepReport | None:
    """The validated step (verdict, metrics, execution links); None when validation was skipped."""
    return validation_report(validation) if validation is not None else None


def ci_phase(validation: ValidationReport | None) -> Phase:
    """How the run ends: FAILED when its validation did not pass, else SUCCEEDED."""
    return Phase.FAILED if validation is not None and not validation.passed else Phase.SUCCEEDED


def validation_failure(release: Release, validation: ValidationReport) -> ValidationFailed:
    """The error that fails a ci run whose validation did not pass, listing why each case failed."""
    reasons = "; ".join(validation.failures()) or f"verdict {validation.verdict.value}"
    return ValidationFailed(
        f"release {release.version} {FAILED_VALIDATION} {validation.domain}: {reasons}",
        where=f"pipeline {release.pipeline}",
        fix="read the validation report in this run's Deck; fix the pipeline or its expectations in taxiway.yaml "
        "and build a new release",
    )


def reported_in_thread(failure: RunFailure) -> bool:
    """Whether the failure is the failed validation :data:`FINISH_NODE` raises after reporting it in the
    run's own thread, so the failure handler does not post it a second time."""
    # A remote run names the node (maybe with a parent prefix); a local run names the task (tasks.ci_report.finish_ci).
    node = failure.failed_node.rpartition(".")[2].replace("_", "-")
    at_finish = node == FINISH_NODE or node.endswith(f"-{FINISH_NODE}")
    return at_finish and (ValidationFailed.__name__ in failure.error or FAILED_VALIDATION in failure.error)


def ci_deck(run: RunInfo, release: Release, validation: ValidationReport | None) -> str:
    """The ci run's Deck page: release, what was built or skipped, registrations, validation, steps."""
    sections = [
        report.release_summary(run, release),
        report.build_table(release.images),
        report.registrations_table(release.registrations),
    ]
    if validation is not None:
        sections.append(report.validation_results(validation_summaries(validation)))
    else:
        sections.append(report.validation_skipped("validation skipped: ci_pipeline ran with validate=False"))
    steps = release_reports(release)
    outcome = validation_outcome(validation)
    if outcome is not None:
        steps.append(outcome)
    sections.append(report.steps_table(steps))
    return report.report_page(f"ci {release.pipeline} {release.version}", ci_phase(validation), *sections)
