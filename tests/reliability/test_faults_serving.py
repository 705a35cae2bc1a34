"""The model server failing readiness or the smoke test: the previous model keeps serving, the record says so.

:class:`FailingOipServer` is a scripted HTTP server (:mod:`tests.reliability.http_stub`) speaking just
enough of the Open Inference Protocol v2 for :class:`tasks.core.serving_oip.OipTarget`: ``GET /v2``,
repository ``load``/``unload``, per-version ``ready`` and ``infer``; which versions never become ready
or fail inference is set by the test. The serving repository lives on a moto server of this module's
own. Each test asserts the rollout record, the serving pointer and listing on S3, and what the server
was last told to load.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from localflyte.testing import MotoServer
from modelserver.layout import ServingPointer, pointer_key
from tasks.core.config_models import SmokeRequest
from tasks.core.model_store import MODEL_BUCKET
from tasks.core.rollout import RolloutRequest, roll_out
from tasks.core.rollout_records import RolloutOutcome
from tasks.core.serving_oip import OipTarget
from tests.reliability.http_stub import Answer, HttpStub, Request

pytestmark = pytest.mark.integration

MODEL = "training-classifier"
REPOSITORY = f"s3://{MODEL_BUCKET}/serving"
SMOKE = (
    SmokeRequest.model_validate(
        {
            "name": "predict-one",
            "payload": {"inputs": [{"name": "input-0", "shape": [1, 2], "datatype": "FP32", "data": [0.1, 0.2]}]},
            "expectations": [f'model_name == "{MODEL}"', "outputs.0.shape.1 == 3"],
        }
    ),
)


class FailingOipServer:
    """An OIP v2 server whose versions are ready and answer inference unless told otherwise."""

    def __init__(self) -> None:
        self.never_ready: set[str] = set()
        self.infer_status: dict[str, int] = {}  # version -> HTTP status of its inference
        self.wrong_shape: set[str] = set()
        self._stub = HttpStub(self._answer)

    @property
    def url(self) -> str:
        return f"http://{self._stub.address}"

    @property
    def requests(self) -> list[Request]:
        return self._stub.requests

    def _answer(self, request: Request) -> Answer:
        parts = request.path.strip("/").split("/")
        json_type = {"Content-Type": "application/json"}
        if parts == ["v2"]:
            return Answer(200, json_type, json.dumps({"name": "failing-oip", "version": "0"}).encode())
        if parts[:3] == ["v2", "repository", "models"]:
            return Answer(200, json_type, b"{}")
        version = parts[4] if len(parts) > 4 and parts[3] == "versions" else ""
        if parts[-1] == "ready":
            return Answer(400 if version in self.never_ready else 200)
        if parts[-1] == "infer":
            status = self.infer_status.get(version, 200)
            if status != 200:
                return Answer(status, json_type, json.dumps({"error": "model raised RuntimeError"}).encode())
            width = 2 if version in self.wrong_shape else 3
            output = {"name": "o", "shape": [1, width], "datatype": "FP32", "data": [0.0] * width}
            body = {"model_name": MODEL, "model_version": version, "outputs": [output]}
            return Answer(200, json_type, json.dumps(body).encode())
        return Answer(404, json_type, b'{"error": "not found"}')

    def stop(self) -> None:
        self._stub.stop()


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=("taxiway-data", MODEL_BUCKET))
    yield boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id="testing",
                       aws_secret_access_key="testing", region_name="us-east-1")  # fmt: skip
    server.stop()


@pytest.fixture
def oip(s3: Any) -> Iterator[tuple[FailingOipServer, OipTarget]]:
    server = FailingOipServer()
    target = OipTarget(url=server.url, model_name=MODEL, s3_client=s3, repository=REPOSITORY, timeout=1.0,
                       poll_interval=0.05)  # fmt: skip
    yield server, target
    server.stop()


def rollout(s3: Any, target: OipTarget, version: str) -> Any:
    key = f"development/training/{version}/model.pt"
    s3.put_object(Bucket="taxiway-data", Key=key, Body=f"weights of {version}".encode())
    request = RolloutRequest("training", version, f"s3://taxiway-data/{key}", "a" * 40, f"val-{version}")
    return roll_out(request, s3_client=s3, target=target, smoke=SMOKE)


def serving_state(s3: Any) -> tuple[str, list[str]]:
    """(active version in the pointer, versions listed in the serving repository)."""
    body = s3.get_object(Bucket=MODEL_BUCKET, Key=pointer_key("serving", MODEL))["Body"].read()
    folder = pointer_key("serving", MODEL).rsplit("/", 1)[0] + "/versions/"
    listed = s3.list_objects_v2(Bucket=MODEL_BUCKET, Prefix=folder).get("Contents", [])
    return ServingPointer.from_json(body).active.version, sorted(
        item["Key"].rsplit("/", 1)[1].removesuffix(".json") for item in listed
    )


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("never_ready", "did not become ready within 1s"),
        ("infer_500", "HTTP 500"),
        ("infer_503", "kept answering HTTP 503"),
        ("wrong_shape", "outputs.0.shape.1 is equal to 3: NOT met"),
    ],
)
def test_failed_readiness_or_smoke_keeps_the_previous_model_serving(
    s3: Any, oip: tuple[FailingOipServer, OipTarget], fault: str, reason: str
) -> None:
    server, target = oip
    target.session.adapters["http://"].max_retries.backoff_factor = 0  # type: ignore[attr-defined]
    first = rollout(s3, target, f"good-{fault}")
    assert first.outcome is RolloutOutcome.ROLLED_OUT, first.reason
    assert serving_state(s3)[0] == f"good-{fault}"

    bad = f"bad-{fault}"
    if fault == "never_ready":
        server.never_ready.add(bad)
    elif fault == "wrong_shape":
        server.wrong_shape.add(bad)
    else:
        server.infer_status[bad] = int(fault.removeprefix("infer_"))
    record = rollout(s3, target, bad)  # an outcome, never an error
    assert record.outcome is RolloutOutcome.KEPT_PREVIOUS and record.serving_version == f"good-{fault}"
    assert reason in record.reason, record.reason
    assert record.smoke and not record.smoke[0].passed
    active, listed = serving_state(s3)
    assert active == f"good-{fault}" and bad not in listed, "the previous model is what the server is told to serve"
    last_repository_call = [r for r in server.requests if "/repository/" in r.path][-1]
    assert last_repository_call.path.endswith(f"/{MODEL}/load"), "the server re-synced after the rollback"
