"""roll_out's decisions with an in-memory serving target (a real ServingTarget) and moto's in-process S3."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tasks.core.config_models import SmokeRequest
from tasks.core.errors import SourceNotFound
from tasks.core.rollout import RolloutRequest, roll_out
from tasks.core.rollout_errors import ModelRejected, ServingUnavailable
from tasks.core.rollout_records import (
    Deployment,
    RolloutOutcome,
    RolloutRecord,
    ServedVersion,
    SmokeResult,
    StoredModel,
)
from tasks.core.rollout_smoke import check_response, summary

pytestmark = pytest.mark.unit

SMOKE = (
    SmokeRequest.model_validate(
        {"name": "one-point", "payload": {"x": 1}, "expectations": ['model_name == "m"', "outputs.0.data exists"]}
    ),
)


@dataclass
class MemoryTarget:
    """Serves one default version; answers smoke requests with ``answers[version]``."""

    answers: dict[str, Any]
    unloadable: set[str] = field(default_factory=set)
    reachable: bool = True
    default: ServedVersion | None = None
    loaded: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        return "memory"

    def check(self) -> None:
        if not self.reachable:
            raise ServingUnavailable("model server did not answer", where="memory")

    def current(self) -> ServedVersion | None:
        return self.default

    def deploy(self, model: StoredModel) -> Deployment:
        self.calls.append(f"deploy {model.version}")
        if model.version in self.unloadable:
            raise ModelRejected("could not load")
        self.loaded.add(model.version)
        return Deployment("memory", model.version, model.sha256, model.uri, self.default)

    def smoke_test(self, deployment: Deployment, requests: Sequence[SmokeRequest]) -> list[SmokeResult]:
        return [check_response(request, self.answers[deployment.version]) for request in requests]

    def activate(self, deployment: Deployment) -> None:
        self.calls.append(f"activate {deployment.version}")
        self.default = ServedVersion(deployment.version, deployment.sha256, deployment.model_uri)

    def rollback(self, deployment: Deployment) -> None:
        self.calls.append(f"rollback {deployment.version}")
        self.loaded.discard(deployment.version)


GOOD = {"model_name": "m", "outputs": [{"data": [1.0]}]}
BAD = {"model_name": "m", "outputs": []}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # The session's stack settings point boto3 at the stack's S3; this test wants moto in-process.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="taxiway-models")
        yield client


def request(tmp_path: Path, version: str, content: bytes = b"model") -> RolloutRequest:
    path = tmp_path / f"{version}.pt"
    path.write_bytes(content)
    return RolloutRequest("training", version, str(path), "a" * 40, f"val-{version}", {"accuracy": 0.9})


def test_rolls_out_then_re_running_is_a_no_op(s3: Any, tmp_path: Path) -> None:
    target = MemoryTarget({"v1": GOOD})
    record = roll_out(request(tmp_path, "v1"), s3_client=s3, target=target, smoke=SMOKE)
    assert record.outcome is RolloutOutcome.ROLLED_OUT
    assert record.serving_version == "v1" and record.previous_version == ""
    assert record.smoke[0].passed and len(record.smoke[0].checks) == 2
    again = roll_out(request(tmp_path, "v1"), s3_client=s3, target=target, smoke=SMOKE)
    assert again.outcome is RolloutOutcome.NO_OP
    assert target.calls == ["deploy v1", "activate v1"]


def test_a_retrained_model_of_the_same_version_rolls_out(s3: Any, tmp_path: Path) -> None:
    target = MemoryTarget({"v1": GOOD})
    first = roll_out(request(tmp_path, "v1", b"one"), s3_client=s3, target=target, smoke=SMOKE)
    second = roll_out(request(tmp_path, "v1", b"two"), s3_client=s3, target=target, smoke=SMOKE)
    assert second.outcome is RolloutOutcome.ROLLED_OUT and second.checksum != first.checksum


def test_failed_smoke_keeps_the_previous(s3: Any, tmp_path: Path) -> None:
    target = MemoryTarget({"v1": GOOD, "v2": BAD})
    roll_out(request(tmp_path, "v1", b"one"), s3_client=s3, target=target, smoke=SMOKE)
    record = roll_out(request(tmp_path, "v2", b"two"), s3_client=s3, target=target, smoke=SMOKE)
    assert record.outcome is RolloutOutcome.KEPT_PREVIOUS
    assert record.serving_version == "v1"
    assert "outputs.0.data exists: NOT met" in record.reason
    assert target.calls[-1] == "rollback v2" and target.default is not None and target.default.version == "v1"


def test_unloadable_model_keeps_the_previous(s3: Any, tmp_path: Path) -> None:
    target = MemoryTarget({"v1": GOOD}, unloadable={"v2"})
    roll_out(request(tmp_path, "v1", b"one"), s3_client=s3, target=target, smoke=SMOKE)
    record = roll_out(request(tmp_path, "v2", b"two"), s3_client=s3, target=target, smoke=SMOKE)
    assert record.outcome is RolloutOutcome.KEPT_PREVIOUS
    assert record.smoke == [SmokeResult("deploy", False, [], "could not load")]


def test_bad_input_raises_before_anything_changes(s3: Any, tmp_path: Path) -> None:
    target = MemoryTarget({"v1": GOOD}, reachable=False)
    with pytest.raises(SourceNotFound, match="no model output"):
        roll_out(RolloutRequest("training", "v1", "", "a" * 40, "val-v1"), s3_client=s3, target=target, smoke=SMOKE)
    with pytest.raises(ServingUnavailable):
        roll_out(request(tmp_path, "v1"), s3_client=s3, target=target, smoke=SMOKE)
    assert s3.list_objects_v2(Bucket="taxiway-models").get("KeyCount", 0) == 0
    assert target.calls == []


@pytest.mark.parametrize(
    ("response", "passed", "fragment"),
    [
        (GOOD, True, 'model_name is equal to "m": met'),
        ({"model_name": "other", "outputs": [{"data": []}]}, False, "model_name = 'other'"),
        ([1, 2], False, ""),
    ],
)
def test_check_response(response: Any, passed: bool, fragment: str) -> None:
    result = check_response(SMOKE[0], response)
    assert result.passed is passed
    assert fragment in " ".join(result.checks) or (not result.checks and "expected a JSON object" in result.error)


def test_summary_names_the_failures() -> None:
    results = [SmokeResult("a", True), SmokeResult("b", False, [], "HTTP 500: boom")]
    assert summary(results) == "1/2 smoke requests passed; failed: b (HTTP 500: boom)"


def test_record_is_frozen() -> None:
    record = RolloutRecord("p", "v2", "s3://m", "c", "t", "v1", [], RolloutOutcome.KEPT_PREVIOUS)
    assert record.serving_version == "v1"
    with pytest.raises(AttributeError):
        record.version = "v3"  # type: ignore[misc]
