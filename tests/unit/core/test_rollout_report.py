"""The rollout's Deck page and Slack step, and the serving fields of taxiway.yaml that pick the target."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tasks.core.config import parse_pipeline_config
from tasks.core.errors import InvalidConfig
from tasks.core.notify_records import Link
from tasks.core.rollout_records import RolloutOutcome, RolloutRecord, SmokeResult
from tasks.core.rollout_report import rollout_deck, rollout_phase, rollout_run, rollout_step
from tasks.core.rollout_source import ValidatedModel
from tasks.core.rollout_targets import serving_target
from tasks.core.serving_oip import OipTarget
from tasks.core.serving_sagemaker import SageMakerTarget
from tasks.core.vocabulary import Event, Phase
from tests.unit.core.promote_fakes import CONFIG

pytestmark = pytest.mark.unit

MODEL = ValidatedModel("tiny", "v2", "production", "f" * 40, "quality", "tiny/production/val-v2-quality-1",
                       "http://console/val-v2", "s3://data/prod/model.pt", {"accuracy": 0.93})  # fmt: skip
SAGEMAKER = {"kind": "sagemaker", "region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/sm",
             "endpoint_name": "tiny"}  # fmt: skip


def record(outcome: RolloutOutcome, smoke_error: str = "") -> RolloutRecord:
    smoke = [SmokeResult("one-point", not smoke_error, ["outputs.0.data exists: met"], smoke_error)]
    return RolloutRecord("tiny", "v2", "s3://taxiway-models/tiny/v2/abc/model.pt", "abc", "oip http://s model=tiny",
                         "v1", smoke, outcome, "1/1 smoke requests passed")  # fmt: skip


@pytest.mark.parametrize(
    ("outcome", "phase", "event", "headline"),
    [
        (RolloutOutcome.ROLLED_OUT, Phase.SUCCEEDED, Event.ROLLOUT_SUCCEEDED, "v2 now serves"),
        (RolloutOutcome.NO_OP, Phase.SUCCEEDED, Event.ROLLOUT_SUCCEEDED, "nothing changed"),
        (RolloutOutcome.KEPT_PREVIOUS, Phase.FAILED, Event.ROLLOUT_FAILED, "v1 keeps serving"),
    ],
)
def test_outcome_decides_phase_event_and_headline(
    outcome: RolloutOutcome, phase: Phase, event: Event, headline: str
) -> None:
    step = rollout_step(record(outcome), MODEL)
    assert rollout_phase(record(outcome)) is phase
    assert (step.event, step.phase) == (event, phase)
    assert headline in step.summary and "smoke requests passed" in step.summary
    assert {detail.label: detail.value for detail in step.details}["sha256"] == "abc"
    assert step.links == (Link(MODEL.execution_id, MODEL.console_url),)


def test_deck_shows_target_smoke_and_provenance_escaped() -> None:
    hostile = record(RolloutOutcome.KEPT_PREVIOUS, smoke_error="<script>alert(1)</script>")
    page = rollout_deck(
        rollout_run("tiny", "v2", "production", Link("taxiway/development/r1", "")), hostile, MODEL, "tiny"
    )
    assert "<script>" not in page and "&lt;script&gt;" in page
    for section in ("release", "rollout", "model", "steps"):
        assert f'data-section="{section}"' in page
    assert "rollout tiny v2 from production" in page and "metric accuracy" in page and "0.93" in page
    assert 'class="FAILED"' in page


def _serving(**fields: Any) -> Any:
    config = parse_pipeline_config(CONFIG + "serving: " + repr(fields).replace("'", '"') + "\n")
    return config.serving


def test_oip_target_uses_the_configured_repository() -> None:
    spec = _serving(kind="oip", url="http://127.0.0.1:30092", model_name="tiny", repository="s3://models/repo")
    target = serving_target(spec, s3_client=None, aws_session=None)
    assert isinstance(target, OipTarget) and (target.bucket, target.prefix) == ("models", "repo")
    assert spec.model_store == "taxiway-models"


def test_sagemaker_target_needs_an_image_and_takes_the_alarms() -> None:
    with pytest.raises(InvalidConfig, match=r"serving\.image_uri is required"):
        serving_target(_serving(**SAGEMAKER), s3_client=None, aws_session=boto3.Session())
    spec = _serving(**SAGEMAKER, image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/infer:1.0",
                    rollback_alarms=["tiny-5xx", "tiny-latency"])  # fmt: skip
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    target = serving_target(spec, s3_client=None, aws_session=session)
    assert isinstance(target, SageMakerTarget)
    assert target.deployment_config()["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": "tiny-5xx"}, {"AlarmName": "tiny-latency"}]
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"repository": "s3://models"}, "prefix after the bucket"),
        ({"repository": "gs://models/repo"}, "s3://<bucket>/<prefix>"),
        ({"model_store": "Not_A_Bucket"}, "S3 bucket name"),
    ],
)
def test_invalid_oip_serving_fields(fields: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidConfig, match=message):
        _serving(kind="oip", url="http://127.0.0.1:30092", model_name="tiny", **fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"image_uri": "infer"}, "tag or digest"),
        ({"rollback_alarms": ["a", "a"]}, "unique entries"),
        ({"rollback_alarms": [""]}, "CloudWatch alarm name"),
    ],
)
def test_invalid_sagemaker_serving_fields(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidConfig, match=message):
        _serving(**SAGEMAKER, **fields)
