"""taxiway.yaml: parsing, every invalid-config message, expectations, the JSON schema."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.core.config import (
    Between,
    Comparison,
    DomainSpec,
    Exists,
    OipServing,
    PipelineConfig,
    SageMakerServing,
    export_json_schema,
    load_pipeline_config,
    parse_expectation,
    parse_pipeline_config,
)
from tasks.core.config_expectations import MISSING, Operator
from tasks.core.config_fields import format_duration, parse_duration
from tasks.core.config_yaml import MAX_CONFIG_BYTES
from tasks.core.errors import (
    AdminUnavailable,
    InvalidConfig,
    PermanentError,
    SourceNotFound,
    TransientError,
    ValidationFailed,
)
from tasks.core.vocabulary import LabelKey, Phase

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).parent / "fixtures" / "taxiway.yaml"
REPO_ROOT = Path(__file__).resolve().parents[3]

BASE: dict[str, Any] = {
    "version": 1,
    "pipeline": "training",
    "packages": ["training.workflows"],
    "domains": [
        {"name": "development", "raw_data_prefix": "s3://taxiway-data/development"},
        {"name": "staging", "raw_data_prefix": "s3://taxiway-data/staging"},
    ],
    "validation": [
        {"name": "accuracy", "launch_plan": "training.workflows.validation_lp", "expectations": ["accuracy >= 0.8"]}
    ],
}


def _with(change: Callable[[dict[str, Any]], Any]) -> str:
    data = copy.deepcopy(BASE)
    change(data)
    return yaml.safe_dump(data, sort_keys=False)


def _staging(data: dict[str, Any]) -> dict[str, Any]:
    domain: dict[str, Any] = data["domains"][1]
    return domain


def _case(data: dict[str, Any]) -> dict[str, Any]:
    case: dict[str, Any] = data["validation"][0]
    return case


OIP = {"kind": "oip", "url": "http://127.0.0.1:30092", "model_name": "training"}
SAGEMAKER = {
    "kind": "sagemaker",
    "region": "us-east-1",
    "role_arn": "arn:aws:iam::123456789012:role/sm",
    "endpoint_name": "training",
}
SLACK = {"channel": "#taxiway", "token_secret": {"group": "slack", "key": "token"}}


def _invalid(
    change: Callable[[dict[str, Any]], Any], path: str, fragment: str
) -> tuple[Callable[[dict[str, Any]], Any], str, str]:
    return change, path, fragment


INVALID = {
    "raw-prefix-not-uri": _invalid(
        lambda d: _staging(d).update(raw_data_prefix="bucket"),
        "domains.staging.raw_data_prefix",
        "expected an s3://, gs:// or file:// URI, got 'bucket'",
    ),
    "raw-prefix-bad-bucket": _invalid(
        lambda d: _staging(d).update(raw_data_prefix="s3://B/x"), "domains.staging.raw_data_prefix", "bucket"
    ),
    "raw-prefix-relative-file": _invalid(
        lambda d: _staging(d).update(raw_data_prefix="file://data/x"), "domains.staging.raw_data_prefix", "absolute"
    ),
    "domain-name-uppercase": _invalid(
        lambda d: _staging(d).update(name="Staging"), "domains.Staging.name", "got 'Staging'"
    ),
    "domain-name-duplicate": _invalid(
        lambda d: _staging(d).update(name="development"), "domains.development", "unique domain names"
    ),
    "domain-unknown-key": _invalid(
        lambda d: _staging(d).update(raw_data_prefx="x"),
        "domains.staging.raw_data_prefx",
        "unknown key; did you mean 'raw_data_prefix'? allowed: name, raw_data_prefix",
    ),
    "domain-missing-prefix": _invalid(
        lambda d: _staging(d).pop("raw_data_prefix"), "domains.staging.raw_data_prefix", "required key is missing"
    ),
    "top-level-unknown-key": _invalid(lambda d: d.update(colour="blue"), "colour", "unknown key; allowed: version"),
    "pipeline-missing": _invalid(lambda d: d.pop("pipeline"), "pipeline", "required key is missing"),
    "version-unsupported": _invalid(lambda d: d.update(version=2), "version", "expected 1"),
    "packages-empty": _invalid(lambda d: d.update(packages=[]), "packages", "expected at least 1 entry, got []"),
    "package-not-dotted-name": _invalid(
        lambda d: d.update(packages=["training-workflows"]), "packages[0]", "got 'training-workflows'"
    ),
    "domains-not-a-list": _invalid(lambda d: d.update(domains="development"), "domains", "expected a list"),
    "label-key-invalid": _invalid(
        lambda d: _staging(d).update(labels={"Bad Key": "x"}), 'domains.staging.labels["Bad Key"]', "got 'Bad Key'"
    ),
    "label-value-too-long": _invalid(
        lambda d: _staging(d).update(labels={"team": "a" * 64}), "domains.staging.labels.team", "at most 63"
    ),
    "label-value-not-string": _invalid(
        lambda d: _staging(d).update(labels={"critical": True}), "domains.staging.labels.critical", "got True"
    ),
    "annotation-reserved-prefix": _invalid(
        lambda d: _staging(d).update(annotations={"taxiway.dev/pipeline": "x"}),
        'domains.staging.annotations["taxiway.dev/pipeline"]',
        "reserves",
    ),
    "service-account-invalid": _invalid(
        lambda d: _staging(d).update(service_account="Training_SA"),
        "domains.staging.service_account",
        "service account",
    ),
    "iam-role-invalid": _invalid(
        lambda d: _staging(d).update(iam_role="admin"), "domains.staging.iam_role", "IAM role ARN, e.g."
    ),
    "requires-approval-not-bool": _invalid(
        lambda d: _staging(d).update(requires_approval="maybe"), "domains.staging.requires_approval", "true or false"
    ),
    "approval-timeout-without-approval": _invalid(
        lambda d: _staging(d).update(approval_timeout="1h"), "domains.staging.approval_timeout", "requires_approval"
    ),
    "approval-timeout-not-duration": _invalid(
        lambda d: _staging(d).update(requires_approval=True, approval_timeout="tomorrow"),
        "domains.staging.approval_timeout",
        "expected a duration such as '90s', '15m'",
    ),
    "slack-channel-without-slack": _invalid(
        lambda d: _staging(d).update(slack_channel="#releases"), "domains.staging.slack_channel", "notifications.slack"
    ),
    "expectation-unparseable": _invalid(
        lambda d: _case(d).update(expectations=["accuracy is great"]),
        "validation.accuracy.expectations[0]",
        "expected an expectation such as 'accuracy >= 0.8'",
    ),
    "expectation-ordering-on-string": _invalid(
        lambda d: _case(d).update(expectations=["accuracy > 'high'"]),
        "validation.accuracy.expectations[0]",
        "expected a number after '>'",
    ),
    "expectation-between-reversed": _invalid(
        lambda d: _case(d).update(expectations=["accuracy between 1 and 0.8"]),
        "validation.accuracy.expectations[0]",
        "low <= high",
    ),
    "validation-unknown-domain": _invalid(
        lambda d: _case(d).update(domains=["qa"]),
        "validation.accuracy.domains",
        "expected one of the domains 'development', 'staging', got 'qa'",
    ),
    "validation-timeout-int": _invalid(
        lambda d: _case(d).update(timeout=900), "validation.accuracy.timeout", "got 900"
    ),
    "validation-input-name": _invalid(
        lambda d: _case(d).update(inputs={"learning-rate": 0.1}),
        "validation.accuracy.inputs.learning-rate",
        "identifier",
    ),
    "validation-missing-launch-plan": _invalid(
        lambda d: _case(d).pop("launch_plan"), "validation.accuracy.launch_plan", "required key is missing"
    ),
    "validation-duplicate-name": _invalid(
        lambda d: d["validation"].append(copy.deepcopy(_case(d))), "validation.accuracy", "unique case names"
    ),
    "serving-unknown-kind": _invalid(
        lambda d: d.update(serving={**OIP, "kind": "kserve"}),
        "serving.kind",
        "expected one of 'oip', 'sagemaker', got 'kserve'",
    ),
    "serving-missing-kind": _invalid(
        lambda d: d.update(serving={"url": "http://127.0.0.1:1"}), "serving.kind", "required key is missing"
    ),
    "serving-oip-url-scheme": _invalid(
        lambda d: d.update(serving={**OIP, "url": "ftp://models"}), "serving.url", "http:// or https://"
    ),
    "serving-oip-unknown-key": _invalid(
        lambda d: d.update(serving={**OIP, "region": "us-east-1"}), "serving.region", "allowed: domain, source"
    ),
    "serving-sagemaker-region": _invalid(
        lambda d: d.update(serving={**SAGEMAKER, "region": "mars"}), "serving.region", "AWS region"
    ),
    "serving-unknown-domain": _invalid(
        lambda d: d.update(serving={**OIP, "domain": "production"}), "serving.domain", "got 'production'"
    ),
    "serving-unknown-source-case": _invalid(
        lambda d: d.update(serving={**OIP, "source": {"validation": "nope"}}),
        "serving.source.validation",
        "got 'nope'",
    ),
    "slack-two-credentials": _invalid(
        lambda d: d.update(notifications={"slack": {**SLACK, "webhook_secret": "slack/webhook"}}),
        "notifications.slack",
        "exactly one of token_secret or webhook_secret",
    ),
    "slack-channel-invalid": _invalid(
        lambda d: d.update(notifications={"slack": {**SLACK, "channel": "Releases Channel"}}),
        "notifications.slack.channel",
        "Slack channel",
    ),
    "slack-secret-text": _invalid(
        lambda d: d.update(notifications={"slack": {**SLACK, "token_secret": "token"}}),
        "notifications.slack.token_secret",
        "'group/key'",
    ),
    "image-repository-with-tag": _invalid(
        lambda d: d.update(image={"repository": "127.0.0.1:5000/training:latest"}),
        "image.repository",
        "without tag or digest",
    ),
    "image-dockerfile-absolute": _invalid(
        lambda d: d.update(image={"repository": "r/training", "dockerfile": "/etc/Dockerfile"}),
        "image.dockerfile",
        "relative",
    ),
    "image-build-arg-number": _invalid(
        lambda d: d.update(image={"repository": "r/training", "build_args": {"PYTHON_VERSION": 3.11}}),
        "image.build_args.PYTHON_VERSION",
        "expected a string",
    ),
    "image-tag-inputs-duplicate": _invalid(
        lambda d: d.update(image={"repository": "r/training", "tag_inputs": ["a.txt", "a.txt"]}),
        "image.tag_inputs",
        "unique",
    ),
}


@pytest.mark.parametrize(("change", "path", "fragment"), list(INVALID.values()), ids=list(INVALID))
def test_invalid_config_names_file_and_key_path(
    change: Callable[[dict[str, Any]], Any], path: str, fragment: str
) -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_pipeline_config(_with(change), source="pipelines/taxiway.yaml")
    message = str(caught.value)
    assert f"pipelines/taxiway.yaml: {path}: " in message
    line = next(line for line in message.splitlines() if f": {path}: " in line)
    assert fragment in line
    assert path in [problem.path for problem in caught.value.problems]


RAW_INVALID = {
    "top-level-list": ("- a\n- b\n", "", "expected a mapping at the top level, got list"),
    "top-level-scalar": ("just text\n", "", "expected a mapping at the top level, got str"),
    "empty-file": ("# nothing\n", "", "file is empty"),
    "duplicate-top-key": ("pipeline: a\npipeline: b\n", "pipeline", "line 2: duplicate key (first at line 1)"),
    "duplicate-nested-key": (
        "domains:\n  - name: staging\n    labels: {a: x, a: y}\n",
        "domains.staging.labels.a",
        "duplicate key",
    ),
    "alias": ("base: &base {a: 1}\nother: *base\n", "", "aliases (*base) are not allowed"),
    "alias-bomb": (
        'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b]\n',
        "",
        "aliases",
    ),
    "syntax-error": ("pipeline: [a\n", "", "line 2, column 1: could not parse YAML"),
    "non-string-key": ("version: 1\n1: one\n", "", "keys must be strings, got '1'"),
    "two-documents": ("a: 1\n---\nb: 2\n", "", "expected a single document"),
}


@pytest.mark.parametrize(("text", "path", "fragment"), list(RAW_INVALID.values()), ids=list(RAW_INVALID))
def test_invalid_yaml_is_refused_naming_the_file(text: str, path: str, fragment: str) -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_pipeline_config(text)
    (problem,) = caught.value.problems
    assert problem.source == "taxiway.yaml"
    assert problem.path == path
    assert fragment in problem.message
    assert str(caught.value).startswith("taxiway.yaml is invalid (1 problem):\n  taxiway.yaml: ")


def test_every_problem_is_reported_at_once() -> None:
    def break_three(data: dict[str, Any]) -> None:
        _staging(data).update(raw_data_prefix="bucket", requires_approval="no")
        data["pipeline"] = "Training"

    with pytest.raises(InvalidConfig) as caught:
        parse_pipeline_config(_with(break_three))
    assert sorted(problem.path for problem in caught.value.problems) == [
        "domains.staging.raw_data_prefix",
        "domains.staging.requires_approval",
        "pipeline",
    ]
    assert "(3 problems)" in str(caught.value)


def test_fixture_parses_to_typed_objects() -> None:
    config = load_pipeline_config(FIXTURE)
    assert (config.pipeline, config.project, config.packages) == ("training", "training", ("training.workflows",))
    assert config.domain_names == ("development", "staging", "production")
    assert len({domain.raw_data_prefix for domain in config.domains}) == 3
    assert all(d.raw_data_prefix.startswith(f"s3://taxiway-data/{d.name}/") for d in config.domains)
    production = config.domain("production")
    assert production.requires_approval and production.approval_timeout == timedelta(hours=8)
    assert production.iam_role == "arn:aws:iam::123456789012:role/training-production"
    assert production.labels["tier"] == "critical"
    assert not config.domain("staging").requires_approval
    gate = config.validation[0]
    assert gate.launch_plan == "training.workflows.validation_lp"
    assert gate.expectations[0] == Comparison(("accuracy",), Operator.GE, 0.8)
    assert gate.timeout == timedelta(minutes=15) and gate.domains is None
    assert isinstance(config.serving, OipServing)
    assert config.serving.url == "http://127.0.0.1:30092"
    assert config.notifications.slack is not None and config.notifications.slack.token_secret is not None
    assert config.notifications.slack.token_secret.key == "bot-token"
    assert config.image is not None and config.image.tag_inputs == ("requirements.txt",)


def test_domain_order_helpers() -> None:
    config = load_pipeline_config(FIXTURE)
    assert config.next_domain("staging") == config.domain("production")
    assert config.next_domain("production") is None
    assert config.previous_domain("development") is None
    assert [case.name for case in config.validations_in("development")] == ["accuracy-gate", "quick-smoke"]
    assert [case.name for case in config.validations_in("production")] == ["accuracy-gate"]
    assert config.serving_domain == "production"
    with pytest.raises(InvalidConfig, match=r"unknown domain 'qa'.*use one of development, staging, production"):
        config.domain("qa")


def test_minimal_config_gets_defaults() -> None:
    config = parse_pipeline_config(_with(lambda d: d.pop("validation")))
    assert config.project == "training"
    assert config.validation == () and config.serving is None and config.image is None
    assert config.notifications.slack is None
    development = config.domains[0]
    assert development == DomainSpec(name="development", raw_data_prefix="s3://taxiway-data/development")
    assert development.approval_timeout == timedelta(days=1) and development.labels == {}


def test_mapping_form_equals_list_form() -> None:
    as_list = parse_pipeline_config(_with(lambda d: None))

    def to_mapping(data: dict[str, Any]) -> None:
        for key in ("domains", "validation"):
            data[key] = {entry.pop("name"): entry for entry in data[key]}

    assert parse_pipeline_config(_with(to_mapping)) == as_list


def test_mapping_form_errors_use_the_key_as_name() -> None:
    text = (
        "version: 1\npipeline: t\npackages: [t]\n"
        "domains:\n  dev: {raw_data_prefix: file:///d}\n  prod: {raw_data_prefix: x}\n"
    )
    with pytest.raises(InvalidConfig, match=r"taxiway.yaml: domains.prod.raw_data_prefix: expected"):
        parse_pipeline_config(text)


def test_dump_round_trips() -> None:
    config = load_pipeline_config(FIXTURE)
    dumped = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    assert parse_pipeline_config(dumped) == config


def test_sagemaker_serving_parses() -> None:
    config = parse_pipeline_config(_with(lambda d: d.update(serving={**SAGEMAKER, "source": {"output": "weights"}})))
    assert isinstance(config.serving, SageMakerServing)
    assert (config.serving.instance_type, config.serving.initial_instance_count) == ("ml.m5.large", 1)
    assert config.serving_domain == "staging" and config.serving.source.output == "weights"


def test_file_limits(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_CONFIG_BYTES + 1))
    with pytest.raises(InvalidConfig, match=r"big.yaml: file is \d+ bytes; a config file may be at most"):
        load_pipeline_config(big)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("pipeline: café\n".encode("latin-1"))
    with pytest.raises(InvalidConfig, match=r"latin1.yaml: file is not UTF-8: invalid byte at offset 13"):
        load_pipeline_config(latin1)
    with pytest.raises(SourceNotFound, match=r"missing\.yaml: pipeline config file not found"):
        load_pipeline_config(tmp_path / "missing.yaml")


EXPECTATIONS = {
    "accuracy >= 0.8": (Comparison(("accuracy",), Operator.GE, 0.8), "accuracy is at least 0.8"),
    "loss < 1.5": (Comparison(("loss",), Operator.LT, 1.5), "loss is less than 1.5"),
    "model exists": (Exists(("model",)), "model exists"),
    "accuracy between 0.8 and 1.0": (Between(("accuracy",), 0.8, 1.0), "accuracy is between 0.8 and 1.0 (inclusive)"),
    'status == "ok"': (Comparison(("status",), Operator.EQ, "ok"), 'status is equal to "ok"'),
    "  retrained != false ": (Comparison(("retrained",), Operator.NE, False), "retrained is not equal to false"),
    "metrics.f1>=-1e-3": (Comparison(("metrics", "f1"), Operator.GE, -0.001), "metrics.f1 is at least -0.001"),
    "epochs == 3": (Comparison(("epochs",), Operator.EQ, 3), "epochs is equal to 3"),
}


@pytest.mark.parametrize(("text", "expected", "description"), [(k, *v) for k, v in EXPECTATIONS.items()])
def test_expectation_parsing(text: str, expected: Any, description: str) -> None:
    parsed = parse_expectation(text)
    assert parsed == expected
    assert parsed.describe() == description
    assert parse_expectation(str(parsed)) == parsed


CHECKS = [
    ("accuracy >= 0.8", 0.8, True),
    ("accuracy >= 0.8", 0.79, False),
    ("accuracy >= 0.8", 1, True),
    ("accuracy >= 0.8", "0.9", False),
    ("accuracy >= 0.8", True, False),
    ("accuracy >= 0.8", float("nan"), False),
    ("accuracy >= 0.8", MISSING, False),
    ("loss < 1.5", 1.5, False),
    ("loss < 1.5", 1.49, True),
    ("accuracy between 0.8 and 1.0", 1.0, True),
    ("accuracy between 0.8 and 1.0", 0.8, True),
    ("accuracy between 0.8 and 1.0", 1.01, False),
    ("model exists", "s3://bucket/model.pt", True),
    ("model exists", None, False),
    ("model exists", MISSING, False),
    ('status == "ok"', "ok", True),
    ('status == "ok"', "OK", False),
    ("status != 'ok'", "failed", True),
    ("status != 'ok'", MISSING, False),
    ("epochs == 3", 3.0, True),
    ("retrained == true", 1, False),
]


@pytest.mark.parametrize(("text", "value", "met"), CHECKS)
def test_expectation_check(text: str, value: Any, met: bool) -> None:
    assert parse_expectation(text).check(value) is met


def test_expectation_evaluates_nested_outputs() -> None:
    outputs = {"accuracy": 0.91, "outputs": [{"data": [0.1, 0.9]}], "metrics": {"f1": 0.5}}
    assert parse_expectation("outputs.0.data exists").evaluate(outputs)
    assert not parse_expectation("outputs.1.data exists").evaluate(outputs)
    assert parse_expectation("metrics.f1 between 0.4 and 0.6").evaluate(outputs)
    explained = parse_expectation("accuracy >= 0.95").explain(0.91)
    assert explained == "accuracy is at least 0.95: NOT met (accuracy = 0.91)"


@pytest.mark.parametrize(
    "text", ["", "accuracy", "accuracy >= ", ">= 0.8", "accuracy => 0.8", "accuracy between 1 and", "a.b. exists"]
)
def test_bad_expectations_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"^expected"):
        parse_expectation(text)


@pytest.mark.parametrize(
    ("text", "value", "canonical"),
    [("15m", timedelta(minutes=15), "15m"), ("90m", timedelta(minutes=90), "1h30m"), ("1d2h3m4s", None, "1d2h3m4s")],
)
def test_durations(text: str, value: timedelta | None, canonical: str) -> None:
    parsed = parse_duration(text)
    assert value is None or parsed == value
    assert format_duration(parsed) == canonical


@pytest.mark.parametrize("text", ["", "0s", "15", "15 m", "1m1h", "400d", "-1m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"^expected a duration"):
        parse_duration(text)


def test_committed_schema_is_up_to_date() -> None:
    committed = json.loads((REPO_ROOT / "taxiway.schema.json").read_text())
    assert committed == export_json_schema(), "regenerate: taxiway config schema > taxiway.schema.json"


def test_schema_accepts_fixture_and_rejects_unknown_keys() -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(export_json_schema())
    data = yaml.safe_load(FIXTURE.read_text())
    assert list(validator.iter_errors(data)) == []
    data["domains"] = {d.pop("name"): d for d in data["domains"]}
    del data["project"]
    assert list(validator.iter_errors(data)) == []
    assert [e.message for e in validator.iter_errors({**data, "colour": 1})] == [
        "Additional properties are not allowed ('colour' was unexpected)"
    ]


def test_config_is_frozen() -> None:
    config = load_pipeline_config(FIXTURE)
    with pytest.raises(ValueError, match="frozen"):
        config.pipeline = "other"  # type: ignore[misc]
    assert PipelineConfig.model_config.get("extra") == "forbid"


# The error tree and the vocabulary are small enough to test here, next to their main user.


def test_errors_say_what_where_and_how_to_fix() -> None:
    error = AdminUnavailable("cannot list launch plans", where="127.0.0.1:30080")
    assert isinstance(error, TransientError) and error.retryable
    assert str(error).startswith("127.0.0.1:30080: cannot list launch plans; fix: check that FlyteAdmin")
    failed = ValidationFailed("accuracy is at least 0.8: NOT met", where="validation accuracy-gate in staging")
    assert isinstance(failed, PermanentError) and not failed.retryable


def test_errors_survive_pickling() -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_pipeline_config("- a\n")
    clone = pickle.loads(pickle.dumps(caught.value))
    assert str(clone) == str(caught.value) and clone.problems == caught.value.problems
    transient = pickle.loads(pickle.dumps(AdminUnavailable("down", where="x", fix="start it")))
    assert (type(transient), str(transient)) == (AdminUnavailable, "x: down; fix: start it")


@pytest.mark.parametrize(
    ("flyte", "phase", "terminal"),
    [
        ("SUCCEEDED", Phase.SUCCEEDED, True),
        ("SUCCEEDING", Phase.RUNNING, False),
        ("timed_out", Phase.TIMED_OUT, True),
        ("UNDEFINED", Phase.QUEUED, False),
        ("ABORTING", Phase.RUNNING, False),
        ("ABORTED", Phase.ABORTED, True),
    ],
)
def test_phase_from_flyte(flyte: str, phase: Phase, terminal: bool) -> None:
    assert Phase.from_flyte(flyte) is phase
    assert phase.is_terminal is terminal


def test_label_keys_are_valid_kubernetes_keys() -> None:
    with pytest.raises(ValueError, match="unknown Flyte execution phase 'DONE'"):
        Phase.from_flyte("DONE")
    assert LabelKey.RELEASE_VERSION == "taxiway.dev/release-version"
    for key in LabelKey:
        prefix, _, name = key.value.rpartition("/")
        assert len(name) <= 63 and len(prefix) <= 253
