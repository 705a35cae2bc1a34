"""Promotion, rollback and failure reports: the real report @tasks (run locally by flytekit) against localslack.

The tasks read the token from ``$TAXIWAY_SLACK_TOKEN`` and localslack's address from ``$SLACK_BASE_URL``
(the taxiway.yaml here has no ``api_url``), exactly as in a Flyte task without the secret mounted. The
records (ValidationReport, PromotionRecord, RollbackRecord) are built here as the promotion would.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flytekit.types.error import FlyteError
from flytekit.types.file import FlyteFile

from localslack.testing import LocalSlackProcess
from meta_workflows.promote import promote_pipeline
from tasks.core.config import parse_pipeline_config
from tasks.core.promote import Approval, ApprovalVote, PromotionRecord
from tasks.core.promote_report import promotion_deck, promotion_run, rollback_deck, rollback_run
from tasks.core.promote_rollback import RollbackRecord
from tasks.core.records import DomainRegistration, PackageRef, RegisteredEntity, Release
from tasks.core.validate import CaseResult, OutputCheck, ValidationReport
from tasks.core.vocabulary import Phase, RunStep, Verdict
from tasks.notify import BASE_URL_ENV, TOKEN_ENV
from tasks.promote import PromotionCheck
from tasks.promote_report import (
    promotion_failed,
    report_approval,
    report_promotion,
    report_promotion_started,
    report_rollback,
    report_rollback_started,
)
from tasks.validate import ReleaseContext

pytestmark = pytest.mark.integration

SENTINEL = "xoxb-SENTINEL-promotion-5e4d3c"
STAGING_CHANNEL, DEFAULT_CHANNEL = "training-staging", "training-releases"
PLATFORM = "127.0.0.1:30080"
CONSOLE = f"http://{PLATFORM}/console/projects/local/domains/local/executions/local"
V1, V2 = "0123456789ab", "ba9876543210"
CONFIG = f"""
version: 1
pipeline: training
project: training
packages: [training]
domains:
  - name: development
    raw_data_prefix: s3://taxiway-data/development
  - name: staging
    raw_data_prefix: s3://taxiway-data/staging
    slack_channel: "#{STAGING_CHANNEL}"
  - name: production
    raw_data_prefix: s3://taxiway-data/production
validation:
  - name: accuracy-gate
    launch_plan: validation_lp
    expectations: ["metrics.accuracy >= 0.8", "metrics.loss < 0.5", "model exists"]
    timeout: 15m
notifications:
  slack:
    channel: "#{DEFAULT_CHANNEL}"
    token_secret: slack/bot-token
"""


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlackProcess]:
    state_dir = tmp_path_factory.mktemp("localslack")
    with LocalSlackProcess(state_dir, tokens=(SENTINEL,), channels=(STAGING_CHANNEL, DEFAULT_CHANNEL)) as process:
        yield process


@pytest.fixture(autouse=True)
def environment(slack: LocalSlackProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    slack.clear()
    monkeypatch.setenv(TOKEN_ENV, SENTINEL)
    monkeypatch.setenv(BASE_URL_ENV, slack.api_url)
    monkeypatch.setenv("FLYTE_PLATFORM_URL", PLATFORM)  # only for the console links; nothing calls it
    monkeypatch.setenv("FLYTE_PLATFORM_INSECURE", "true")


def context() -> ReleaseContext:
    release = Release("training", "training", V2, V2 + "0" * 28, 0, [],
                      PackageRef(f"s3://taxiway-data/packages/{V2}.tgz", "sha256:abc", 9))  # fmt: skip
    parse_pipeline_config(CONFIG, "test")  # the tasks parse it again; fail here with the reason
    return ReleaseContext(release, CONFIG, "test")


def validation(accuracy: float = 0.93) -> ValidationReport:
    checks = [
        OutputCheck("metrics.accuracy >= 0.8", "metrics.accuracy", repr(accuracy), accuracy >= 0.8),
        OutputCheck("metrics.loss < 0.5", "metrics.loss", "0.21", True),
        OutputCheck("model exists", "model", "'s3://taxiway-data/model.pt'", True),
    ]
    verdict = Verdict.PASSED if all(check.passed for check in checks) else Verdict.FAILED
    execution = f"training/staging/val-{V2}-accuracy-gate"
    case = CaseResult("accuracy-gate", "validation_lp", execution, f"{CONSOLE}/val-{V2}", Phase.SUCCEEDED, verdict,
                      checks, duration_seconds=42.0)  # fmt: skip
    return ValidationReport("training", "training", V2, "staging", verdict, [case])


def record(report: ValidationReport) -> PromotionRecord:
    registration = DomainRegistration("training", "staging", V2, [
        RegisteredEntity("TASK", "training.tasks.train", True),
        RegisteredEntity("LAUNCH_PLAN", "validation_lp", True),
    ])  # fmt: skip
    promoted = report.passed
    return PromotionRecord(
        "training", "training", V2, "development", "staging", Phase.SUCCEEDED if promoted else Phase.FAILED,
        reason="" if promoted else "validation failed in staging: accuracy-gate: not met: metrics.accuracy >= 0.8",
        previous_version=V1, registration=registration, validation=report,
        activated=["training_lp", "validation_lp"] if promoted else [],
        deactivated=[f"training_lp@{V1}", f"validation_lp@{V1}"] if promoted else [],
        approved_by="alice", approved_at="2026-11-23T21:00:00+00:00",
        approvals=[ApprovalVote("alice", "alice@example.com", "approve", "2026-11-23T21:00:00+00:00", "looks good")],
    )  # fmt: skip


def blocks_text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def test_promotion_posts_one_threaded_message_with_metrics_and_links(slack: LocalSlackProcess) -> None:
    check = PromotionCheck(V2, "development", "staging", True, 3600)
    approval = Approval("alice", "2026-11-23T21:00:00+00:00")
    started = report_promotion_started(context=context(), to_domain="staging")
    approved = report_approval(report=started, check=check, approval=approval)
    done = report_promotion(report=approved, record=record(validation()))

    main, *replies = slack.messages(STAGING_CHANNEL)
    assert slack.messages(DEFAULT_CHANNEL) == []  # the domain's channel overrides the default
    assert main["thread_ts"] is None and main["ts"] == done.thread.ts
    assert [reply["thread_ts"] for reply in replies] == [main["ts"]] * 5
    assert done.thread.last_step is RunStep.PROMOTED
    assert main["blocks"][0]["text"]["text"] == f"promote · training {V2}"
    text = blocks_text(main)
    assert "development → staging" in text and f"<{CONSOLE}|local/local/local>" in text
    assert "alice" in text and "SUCCEEDED" in text
    events = [reply["blocks"][0]["text"]["text"].split("*")[1] for reply in replies]
    assert events == ["RunStarted", "ApprovalGranted", "ReleaseRegistered", "ValidationSucceeded", "PromotionSucceeded"]
    validated, promoted = blocks_text(replies[3]), blocks_text(replies[4])
    assert "`metrics.accuracy` 0.93 ≥ 0.8" in validated and "`metrics.loss` 0.21 &lt; 0.5" in validated
    assert f"{CONSOLE}/val-{V2}" in validated
    assert f"{V1} → {V2}" in promoted and "validation_lp" in promoted
    assert len(slack.calls("chat.postMessage")) == 6  # the main message once, then replies only
    assert SENTINEL not in json.dumps(slack.messages()) + slack.log.read_text()


def test_failed_validation_reports_promotion_failed(slack: LocalSlackProcess) -> None:
    started = report_promotion_started(context=context(), to_domain="staging")
    report_promotion(report=started, record=record(validation(accuracy=0.61)))
    main, *replies = slack.messages(STAGING_CHANNEL)
    assert "FAILED" in main["blocks"][1]["text"]["text"]
    assert [reply["blocks"][0]["text"]["text"].split("*")[1] for reply in replies][-2:] == [
        "ValidationFailed",
        "PromotionFailed",
    ]
    assert "`metrics.accuracy` 0.61 ≥ 0.8" in blocks_text(replies[-2])
    assert "accuracy-gate: not met" in blocks_text(replies[-1])


def test_failure_handler_names_the_failed_node_and_links_the_execution(
    slack: LocalSlackProcess, tmp_path: Path
) -> None:
    config = tmp_path / "taxiway.yaml"
    config.write_text(CONFIG)
    error = FlyteError(message="PromotionRefused: not validated in development", failed_node_id="check-promotion-gate")
    promotion_failed(pipeline="training", version=V2, to_domain="staging", config=FlyteFile(str(config)), err=error)
    (main, reply) = slack.messages(STAGING_CHANNEL)
    assert main["blocks"][0]["text"]["text"] == f"promote · training {V2}"
    text = blocks_text(reply)
    assert "*RunFailed* · promote failed" in text and "`check-promotion-gate`" in text
    assert "not validated in development" in text and CONSOLE in text


def test_promote_pipeline_run_in_process_reports_its_failure(
    slack: LocalSlackProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # flytekit's local execution of the real workflow: with no FlyteAdmin configured, the first node fails and
    # flytekit calls the on_failure handler with the workflow's inputs and the error.
    monkeypatch.delenv("FLYTE_PLATFORM_URL")
    config = tmp_path / "taxiway.yaml"
    config.write_text(CONFIG)
    with pytest.raises(Exception, match="FLYTE_PLATFORM_URL is not set"):
        promote_pipeline(pipeline="training", version=V2, to_domain="staging", config=FlyteFile(str(config)))
    (main, reply) = slack.messages(STAGING_CHANNEL)
    assert "FAILED" in main["blocks"][1]["text"]["text"]
    text = blocks_text(reply)
    assert "`tasks.promote_locate.locate_release`" in text and "FLYTE_PLATFORM_URL is not set" in text


def test_slack_outage_never_fails_the_report_tasks(slack: LocalSlackProcess, caplog: pytest.LogCaptureFixture) -> None:
    slack.arm_fault("*", "server_error", count=None)
    with caplog.at_level(logging.INFO):
        started = report_promotion_started(context=context(), to_domain="staging")
        done = report_promotion(report=started, record=record(validation()))
    assert not done.thread.posted and done.thread.warned
    assert len([r for r in caplog.records if r.levelno == logging.WARNING and "not delivered" in r.getMessage()]) == 1
    assert SENTINEL not in caplog.text


def test_rollback_posts_its_outcome(slack: LocalSlackProcess) -> None:
    rolled = RollbackRecord("training", "staging", V2, V1, Phase.SUCCEEDED, ["training_lp"], [f"training_lp@{V2}"])
    started = report_rollback_started(context=context(), domain="staging")
    report_rollback(report=started, record=rolled)
    main, *replies = slack.messages(STAGING_CHANNEL)
    assert main["blocks"][0]["text"]["text"] == f"rollback · training {V1}"
    assert "RollbackSucceeded" in blocks_text(replies[-1]) and f"{V2}" in blocks_text(replies[-1])


def test_promotion_deck_has_validation_table_plot_diff_and_approvals() -> None:
    run = promotion_run("training", V2, "development", "staging", _link(), V2 + "0" * 28).with_approval("alice")
    html = promotion_deck(run, record(validation()))
    assert '<section data-section="validation">' in html and "<svg" in html
    assert "<td>metrics.accuracy</td><td>0.93</td><td>&gt;=</td><td>0.8</td><td>PASSED</td>" in html
    assert 'data-metric="metrics.loss"' in html and "model exists" not in html.split("<svg")[1]
    assert f"<td>validation_lp</td><td>{V1}</td><td>{V2}</td>" in html
    assert '<section data-section="approvals">' in html and "alice@example.com" in html and "looks good" in html
    assert '<section data-section="registrations">' in html and "training.tasks.train" in html


def test_rollback_deck_shows_the_change() -> None:
    rolled = RollbackRecord("training", "staging", V2, V1, Phase.SUCCEEDED, ["training_lp"], [f"training_lp@{V2}"])
    html = rollback_deck(rollback_run("training", "staging", V1, _link()), rolled)
    assert f"<td>training_lp</td><td>{V2}</td><td>{V1}</td>" in html


def _link() -> Any:
    from tasks.core.notify_records import Link

    return Link("local/local/local", CONSOLE)
