"""Deck HTML sections: tables, the metrics plot, and escaping, asserted on the parsed HTML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tasks.core.notify_records import (
    LaunchPlanChange,
    Link,
    MetricCheck,
    PromotionDiff,
    RolloutSummary,
    RunInfo,
    SmokeCheck,
    StepReport,
    ValidationSummary,
)
from tasks.core.records import DomainRegistration, ImageRef, PackageRef, RegisteredEntity, Release
from tasks.core.report import (
    build_table,
    promotion_diff,
    registrations_table,
    release_summary,
    report_page,
    rollout_result,
    steps_table,
    validation_results,
)
from tasks.core.report_svg import BAR_WIDTH, LABEL_WIDTH, metrics_svg
from tasks.core.vocabulary import Event, Phase, Verdict

pytestmark = pytest.mark.unit

RUN = RunInfo(
    "ci", "training", "abc123", "development", Link("ci-abc123", "http://console/ci?a=1&b=2"), git_sha="f" * 40
)
IMAGES = [
    ImageRef("127.0.0.1:30000/taxiway/training", "t1", "sha256:aa", built=True),
    ImageRef("127.0.0.1:30000/taxiway/tools", "t2", "sha256:bb", built=False),
]
RELEASE = Release(
    pipeline="training",
    project="training",
    version="abc123",
    git_sha="f" * 40,
    pr_number=0,
    images=IMAGES,
    package=PackageRef("s3://taxiway-data/releases/abc123.tgz", "sha256:pkg", 7),
)
METRICS = (
    MetricCheck("metrics.accuracy", 0.91, ">=", 0.8, True),
    MetricCheck("metrics.loss", 0.62, "<", 0.5, False),
)


def parse(html: str) -> ET.Element:
    """Parse a section as XML: also proves the HTML is well formed."""
    return ET.fromstring(html)


def rows(section: ET.Element, css_class: str) -> list[list[str]]:
    table = section.find(f".//table[@class='{css_class}']")
    assert table is not None, f"no table.{css_class}"
    return [["".join(cell.itertext()) for cell in row] for row in table.iterfind("./tbody/tr")]


def test_release_summary() -> None:
    section = parse(release_summary(RUN, RELEASE))
    assert section.get("data-section") == "release" and section.findtext("h2") == "Release training abc123"
    table = dict((key, value) for key, value in rows(section, "summary"))
    assert table["version"] == "abc123" and table["git SHA"] == "f" * 40 and table["entities in package"] == "7"
    assert table["pull request"] == "—"
    link = section.find(".//a")
    assert link is not None and link.get("href") == "http://console/ci?a=1&b=2" and link.text == "ci-abc123"


def test_build_table_says_built_or_skipped() -> None:
    section = parse(build_table(IMAGES))
    assert section.findtext("p") == "1 built, 1 skipped"
    assert [row[-1] for row in rows(section, "build")] == ["built", "skipped (tag exists)"]


def test_registrations_per_domain() -> None:
    registrations = [
        DomainRegistration("training", "development", "abc123", [RegisteredEntity("TASK", "train", True)]),
        DomainRegistration(
            "training",
            "staging",
            "abc123",
            [RegisteredEntity("TASK", "train", False), RegisteredEntity("LAUNCH_PLAN", "validation_lp", True)],
        ),
    ]
    section = parse(registrations_table(registrations))
    headings = [h.text for h in section.iterfind("h3")]
    assert headings == [
        "training/development version abc123: 1 created, 0 already existed",
        "training/staging version abc123: 1 created, 1 already existed",
    ]
    tables = section.findall("table")
    assert ["".join(tables[1][1][0].itertext())] == ["TASKtrainalready existed"]


def test_validation_results_have_a_metrics_table_and_plot() -> None:
    result = ValidationSummary(
        "accuracy-gate",
        "development",
        Phase.SUCCEEDED,
        Verdict.FAILED,
        METRICS,
        Link("v-1", "http://console/v-1"),
        42.4,
    )
    section = parse(validation_results([result]))
    assert rows(section, "validation") == [["accuracy-gate", "development", "SUCCEEDED", "FAILED", "42s", "v-1"]]
    assert rows(section, "metrics") == [
        ["metrics.accuracy", "0.91", ">=", "0.8", "PASSED"],
        ["metrics.loss", "0.62", "<", "0.5", "FAILED"],
    ]
    svg = section.find("{http://www.w3.org/2000/svg}svg")
    assert svg is not None and svg.get("class") == "metrics-plot"
    groups = svg.findall("{http://www.w3.org/2000/svg}g")
    assert [(g.get("data-metric"), g.get("data-passed")) for g in groups] == [
        ("metrics.accuracy", "true"),
        ("metrics.loss", "false"),
    ]


def test_svg_bar_and_threshold_positions() -> None:
    svg = parse(metrics_svg((MetricCheck("acc", 0.5, ">=", 1.0, False),)))
    ns = "{http://www.w3.org/2000/svg}"
    bar = svg.find(f".//{ns}rect[@class='value']")
    tick = svg.find(f".//{ns}line[@class='threshold']")
    assert bar is not None and tick is not None
    # Axis 0..1.1: the value 0.5 spans 0.5/1.1 of the bar, the threshold sits at 1.0/1.1.
    assert float(bar.get("width", "0")) == pytest.approx(BAR_WIDTH * 0.5 / 1.1, abs=0.1)
    assert float(tick.get("x1", "0")) == pytest.approx(LABEL_WIDTH + BAR_WIDTH / 1.1, abs=0.1)
    assert bar.get("fill") == "#c62828"


def test_promotion_diff_and_rollout() -> None:
    diff = PromotionDiff(
        "development", "staging", "abc123", "old999", (LaunchPlanChange("validation_lp", "old999", "abc123"),), "alice"
    )
    section = parse(promotion_diff(diff))
    assert rows(section, "diff") == [["validation_lp", "old999", "abc123"]]
    assert ["approved by", "alice"] in rows(section, "summary")
    rollout = RolloutSummary(
        "oip http://127.0.0.1:30092",
        "clf",
        "s3://m/model.pt",
        Phase.FAILED,
        (SmokeCheck("one-point", False, "HTTP 500"),),
        True,
    )
    section = parse(rollout_result(rollout))
    assert rows(section, "smoke") == [["one-point", "FAILED", "HTTP 500"]]
    assert ["rolled back", "yes"] in rows(section, "summary")


def test_everything_is_escaped() -> None:
    hostile = "<script>alert('x')</script>"
    run = RunInfo("ci", hostile, "v", "development", Link(hostile, 'javascript:"><b>'))
    html = report_page(
        hostile, Phase.RUNNING, release_summary(run), steps_table([StepReport(Event.RELEASE_BUILT, hostile)])
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    page = ET.fromstring(html.split("</style>", 1)[1])
    assert page.find(".//script") is None and page.find(".//b") is None and page.find(".//a") is None
    assert rows(page, "steps") == [["ReleaseBuilt", "built", "SUCCEEDED", hostile]]
