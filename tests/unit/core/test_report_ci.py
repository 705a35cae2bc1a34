"""How a ci run is reported: step reports, the failure that ends a failed validation, and its Deck."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from flytekit.core.context_manager import FlyteContextManager
from flytekit.core.type_engine import TypeEngine

from tasks.core.errors import ValidationFailed
from tasks.core.notify_records import Link, RunFailure
from tasks.core.promote_report import run_failure
from tasks.core.records import DomainRegistration, ImageRef, PackageRef, RegisteredEntity, Release
from tasks.core.report_ci import (
    CI_NODES,
    ci_deck,
    ci_phase,
    ci_run,
    release_reports,
    reported_in_thread,
    validation_failure,
    validation_outcome,
)
from tasks.core.validate import CaseResult, OutputCheck, ValidationReport
from tasks.core.vocabulary import Event, Phase, RunStep, Verdict

pytestmark = pytest.mark.unit

VERSION = "0123456789ab"
LINK = Link(
    "taxiway/development/ci-1", "http://127.0.0.1:30081/console/projects/taxiway/domains/development/executions/ci-1"
)
IMAGE = ImageRef("127.0.0.1:30000/taxiway/training", "t1", "sha256:aa", built=True)
REGISTRATION = DomainRegistration(
    "training", "development", VERSION,
    [RegisteredEntity("TASK", "training.data.generate_dataset", True),
     RegisteredEntity("LAUNCH_PLAN", "validation_lp", False)],
)  # fmt: skip


def release(*images: ImageRef) -> Release:
    return Release("training", "training", VERSION, VERSION + "0" * 28, 0, list(images),
                   PackageRef(f"s3://taxiway-data/packages/{VERSION}.tgz", "sha256:pkg", 9), [REGISTRATION],
                   author="dev@example.com")  # fmt: skip


def validation(accuracy: float) -> ValidationReport:
    passed = accuracy >= 0.8
    verdict = Verdict.PASSED if passed else Verdict.FAILED
    checks = [OutputCheck("metrics.accuracy >= 0.8", "metrics.accuracy", repr(accuracy), passed)]
    case = CaseResult("accuracy-gate", "validation_lp", f"training/development/val-{VERSION}", LINK.url,
                      Phase.SUCCEEDED, verdict, checks, duration_seconds=12.0)  # fmt: skip
    return ValidationReport("training", "training", VERSION, "development", verdict, [case])


@pytest.mark.parametrize(
    ("validate", "steps"),
    [
        (True, (RunStep.STARTED, RunStep.BUILT, RunStep.REGISTERED, RunStep.VALIDATED)),
        (False, (RunStep.STARTED, RunStep.BUILT, RunStep.REGISTERED)),
    ],
)
def test_a_run_without_validation_ends_at_registered(validate: bool, steps: tuple[RunStep, ...]) -> None:
    run = ci_run("training", VERSION, "development", LINK, "f" * 40, validate)
    assert (run.workflow, run.domain, run.steps) == ("ci", "development", steps)


@pytest.mark.parametrize(
    ("image", "event", "summary", "label"),
    [
        (IMAGE, Event.IMAGE_BUILT, "1 image(s) built, 0 skipped (tag exists)", "built"),
        (ImageRef(IMAGE.repository, "t1", "sha256:aa"), Event.IMAGE_REUSED, "0 image(s) built, 1 skipped", "skipped"),
    ],
)
def test_release_reports_say_what_was_built_or_skipped_then_registered(
    image: ImageRef, event: Event, summary: str, label: str
) -> None:
    built, registered = release_reports(release(image))
    assert built.event is event and built.step is RunStep.BUILT
    assert built.summary.startswith(summary)
    assert built.details[0].label.startswith(label)
    assert built.details[0].value == f"{IMAGE.reference}@sha256:aa"
    assert built.details[-1].value == f"s3://taxiway-data/packages/{VERSION}.tgz (9 entities)"
    assert registered.event is Event.RELEASE_REGISTERED
    assert registered.summary == f"registered training/development version {VERSION}: 1 created, 1 already existed"


def test_no_image_section_is_said_so() -> None:
    built, _ = release_reports(release())
    assert built.event is Event.IMAGE_REUSED
    assert "no image to build" in built.summary


@pytest.mark.parametrize(
    ("report", "event", "phase"),
    [
        (None, None, Phase.SUCCEEDED),
        (validation(0.93), Event.VALIDATION_SUCCEEDED, Phase.SUCCEEDED),
        (validation(0.41), Event.VALIDATION_FAILED, Phase.FAILED),
    ],
)
def test_validation_outcome_and_run_phase(report: ValidationReport | None, event: Event | None, phase: Phase) -> None:
    outcome = validation_outcome(report)
    assert (outcome.event if outcome else None) is event
    assert ci_phase(report) is phase
    if outcome is not None:
        assert [metric.name for metric in outcome.metrics] == ["metrics.accuracy"]
        assert outcome.links[0].url == LINK.url


def test_a_failed_validation_becomes_a_validation_failed_naming_the_case() -> None:
    error = validation_failure(release(IMAGE), validation(0.41))
    assert isinstance(error, ValidationFailed)
    text = str(error)
    assert f"release {VERSION} failed validation in development" in text
    assert "accuracy-gate" in text and "not met: metrics.accuracy >= 0.8" in text
    assert "pipeline training" in text and "fix:" in text


@pytest.mark.parametrize(
    ("failed_node", "message", "reported"),
    [
        ("finish-ci", "ValidationFailed: release failed validation", True),
        ("n0-finish-ci", "ValidationFailed: x", True),
        ("tasks.ci_report.finish_ci", "release 0123 failed validation in development: x", True),  # a local run
        ("finish-ci", "AdminUnavailable: down", False),
        ("register-release", "ValidationFailed: x", False),
    ],
)
def test_only_a_failed_validation_is_left_to_the_thread(failed_node: str, message: str, reported: bool) -> None:
    assert reported_in_thread(RunFailure(failed_node, message)) is reported


@pytest.mark.parametrize(
    ("failed_node", "message", "node", "step"),
    [
        ("build-images", "RegistryUnavailable", "build-images", RunStep.BUILT),
        ("register-release", "VersionConflict", "register-release", RunStep.REGISTERED),
        ("fn0", "Error encountered while executing 'tasks.package.package_release':\n x",
         "tasks.package.package_release", RunStep.BUILT),
        ("fn0", "while executing 'tasks.validate.validate_in_first_domain'", "tasks.validate.validate_in_first_domain",
         RunStep.VALIDATED),
    ],
)  # fmt: skip
def test_failures_name_the_node_and_its_ci_step(failed_node: str, message: str, node: str, step: RunStep) -> None:
    failure = run_failure(failed_node, message, CI_NODES, LINK)
    assert (failure.failed_node, failure.step) == (node, step)


def sections(html: str) -> dict[str, ET.Element]:
    root = ET.fromstring(html.split("</style>", 1)[1])
    return {section.get("data-section", ""): section for section in root.iter("section")}


def test_the_deck_shows_build_registrations_validation_plot_and_steps() -> None:
    run = ci_run("training", VERSION, "development", LINK)
    html = ci_deck(run, release(IMAGE), validation(0.93))
    found = sections(html)
    assert set(found) == {"release", "build", "registrations", "validation", "steps"}
    assert "dev@example.com" in ET.tostring(found["release"], encoding="unicode")
    assert "1 built, 0 skipped" in ET.tostring(found["build"], encoding="unicode")
    validation_html = ET.tostring(found["validation"], encoding="unicode")
    assert "svg" in validation_html and "metrics.accuracy" in validation_html  # the table and the plot
    events = [row.findall("td")[0].text for row in found["steps"].iter("tr") if row.findall("td")]
    assert events == ["ImageBuilt", "ReleaseRegistered", "ValidationSucceeded"]
    assert 'phase: <span class="SUCCEEDED">' in html


def test_the_deck_of_a_run_without_validation_says_it_was_skipped() -> None:
    html = ci_deck(ci_run("training", VERSION, "development", LINK, validate=False), release(IMAGE), None)
    assert "validation skipped: ci_pipeline ran with validate=False" in ET.tostring(
        sections(html)["validation"], encoding="unicode"
    )


def test_release_round_trips_through_flyte_with_its_validation_and_old_records_load() -> None:
    context = FlyteContextManager.current_context()
    full = Release(**{**release(IMAGE).__dict__, "validation": validation(0.93)})
    literal = TypeEngine.to_literal(context, full, Release, TypeEngine.to_literal_type(Release))
    back = TypeEngine.to_python_value(context, literal, Release)
    assert back == full and back.validation is not None and back.validation.verdict is Verdict.PASSED
    # A record written before author and validation existed: the same literal without those keys.
    old = TypeEngine.to_literal(context, release(IMAGE), Release, TypeEngine.to_literal_type(Release))
    as_dict = TypeEngine.to_python_value(context, old, dict)
    del as_dict["author"], as_dict["validation"]
    legacy = TypeEngine.to_literal(context, as_dict, dict, TypeEngine.to_literal_type(dict))
    loaded = TypeEngine.to_python_value(context, legacy, Release)
    assert (loaded.author, loaded.validation, loaded.version) == ("", None, VERSION)
