"""Which model a rollout serves: the release's passed validation execution in a domain, read back, never launched."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.core.config import PipelineConfig, parse_pipeline_config
from tasks.core.errors import InvalidConfig, SourceNotFound
from tasks.core.promote import validation_request
from tasks.core.rollout_errors import RolloutRefused
from tasks.core.rollout_source import locate_validated_model, rollout_domain
from tasks.core.validate import LaunchRequest
from tasks.core.vocabulary import Phase
from tests.unit.core.promote_fakes import CONFIG, FakeExecutions, release

pytestmark = pytest.mark.unit

VERSION = "aaaaaaaaaaaa"
MODEL = "s3://data/prod/abc/model.pt"
SERVING = """
serving:
  kind: oip
  url: http://127.0.0.1:30092
  model_name: tiny
  source: {validation: quality, output: model}
"""
SCORE = {"metrics": {"accuracy": 0.9, "loss": 0.2, "data_as_of": "2026-11-01"}, "model": MODEL}


def config(serving: str = SERVING) -> PipelineConfig:
    return parse_pipeline_config(CONFIG + serving)


def validated(
    cfg: PipelineConfig, domain: str, score: dict[str, Any] | None = None, phase: Phase = Phase.SUCCEEDED
) -> FakeExecutions:
    """Executions as the validation in ``domain`` left them (created under their deterministic names)."""
    executions = FakeExecutions({"tinypkg.flows.hello": (Phase.SUCCEEDED, {"o0": "hello ci"}),
                                 "tinypkg.flows.score": (phase, SCORE if score is None else score)})  # fmt: skip
    request = validation_request(cfg, VERSION, domain)
    for case in request.cases:
        executions.launch(LaunchRequest(request.execution_of(case), case.launch_plan, VERSION, case.inputs, {}))
    return executions


def test_finds_the_model_output_of_the_passed_execution_with_its_metrics() -> None:
    cfg = config()
    executions = validated(cfg, "production")
    model = locate_validated_model(cfg, release(VERSION), "", executions)  # "" -> serving.domain: the last
    assert (model.domain, model.case, model.model_uri, model.version) == ("production", "quality", MODEL, VERSION)
    assert model.execution_id.startswith("tiny/production/val-")
    assert model.metrics == {"accuracy": 0.9, "loss": 0.2}  # numeric only: data_as_of stays out
    assert model.console_url.startswith("http://console/val-")
    assert executions.launches == 2  # only the set-up launched: locating reads


def test_the_model_request_carries_the_provenance() -> None:
    cfg = config()
    request = locate_validated_model(cfg, release(VERSION), "staging", validated(cfg, "staging")).request()
    assert (request.git_sha, request.model_uri, request.metrics["accuracy"]) == (VERSION + "0" * 28, MODEL, 0.9)


@pytest.mark.parametrize(
    ("domain", "score", "phase", "error", "message"),
    [
        ("", None, Phase.SUCCEEDED, RolloutRefused, "never validated in staging"),
        ("production", None, Phase.FAILED, RolloutRefused, "did not pass validation in production"),
        ("production", {**SCORE, "metrics": {"accuracy": 0.5}}, Phase.SUCCEEDED, RolloutRefused, "not met"),
        ("production", {"metrics": SCORE["metrics"]}, Phase.SUCCEEDED, SourceNotFound, "no model output 'model'"),
        ("production", {**SCORE, "model": ""}, Phase.SUCCEEDED, SourceNotFound, "no model output 'model'"),
        ("qa", None, Phase.SUCCEEDED, InvalidConfig, "qa"),
    ],
    ids=["never-validated", "execution-failed", "expectation-not-met", "no-model-output", "empty-model", "no-domain"],
)
def test_refusals(domain: str, score: dict[str, Any] | None, phase: Phase, error: type, message: str) -> None:
    cfg = config(SERVING + "  domain: staging\n" if not domain else SERVING)
    executions = validated(cfg, "production", score, phase)  # validated in production only
    with pytest.raises(error, match=message):
        locate_validated_model(cfg, release(VERSION), domain, executions)


def test_a_pr_release_is_never_served() -> None:
    cfg = config()
    with pytest.raises(RolloutRefused, match="pull-request build"):
        locate_validated_model(cfg, release(VERSION, pr=7), "production", validated(cfg, "production"))


def test_a_case_that_does_not_run_in_the_domain_is_a_config_error() -> None:
    cfg = config()  # quality runs in staging and production only
    with pytest.raises(InvalidConfig, match="validation case quality does not run in development"):
        locate_validated_model(cfg, release(VERSION), "development", validated(cfg, "development"))


def test_without_serving_there_is_nowhere_to_roll_out() -> None:
    with pytest.raises(InvalidConfig, match="has no serving section"):
        rollout_domain(config(""), "production")


def test_the_first_case_of_the_domain_is_the_default_source() -> None:
    cfg = config(SERVING.replace("validation: quality, ", ""))
    executions = validated(cfg, "development", {"o0": "hello ci"})
    with pytest.raises(SourceNotFound, match=r"its outputs: o0"):
        locate_validated_model(cfg, release(VERSION), "development", executions)
