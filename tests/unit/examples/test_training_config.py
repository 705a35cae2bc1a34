"""examples/training/taxiway.yaml is valid and names what the example pipeline really defines."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from training.evaluate import EvaluationMetrics, EvaluationOutputs
from training.launch_plans import validation_lp

from tasks.core.config import load_pipeline_config

pytestmark = pytest.mark.unit

CONFIG_PATH = Path(__file__).resolve().parents[3] / "examples" / "training" / "taxiway.yaml"


def test_config_is_valid_with_three_domains() -> None:
    config = load_pipeline_config(CONFIG_PATH)
    assert config.project == "training"
    assert config.domain_names == ("development", "staging", "production")
    prefixes = {domain.name: domain.raw_data_prefix for domain in config.domains}
    assert prefixes == {name: f"s3://taxiway-data/{name}/training" for name in config.domain_names}
    assert len({domain.service_account for domain in config.domains}) == 3


def test_validation_case_matches_the_launch_plan_and_its_outputs() -> None:
    config = load_pipeline_config(CONFIG_PATH)
    (case,) = config.validation
    assert case.launch_plan == validation_lp.name
    output_names = set(EvaluationOutputs._fields)
    metric_names = {field.name for field in dataclasses.fields(EvaluationMetrics)}
    for expectation in case.expectations:
        output, *rest = expectation.subject
        assert output in output_names, expectation.subject_text
        if output == "metrics":
            assert rest and rest[0] in metric_names, expectation.subject_text
    accuracy_gate = [e for e in case.expectations if e.subject == ("metrics", "accuracy")]
    assert [str(e) for e in accuracy_gate] == ["metrics.accuracy >= 0.8"]


def test_serving_rolls_out_the_validated_model() -> None:
    config = load_pipeline_config(CONFIG_PATH)
    serving = config.serving
    assert serving is not None
    assert serving.kind == "oip"
    assert serving.model_name == "training-classifier"
    assert str(serving.url).rstrip("/") == "http://127.0.0.1:30092"
    assert serving.source.output in EvaluationOutputs._fields
