"""SageMaker create path against a real moto server: model, endpoint config, endpoint, waiter, smoke, delete.

moto implements create/describe/delete and ``sagemaker-runtime`` (answers queued through its
``/moto-api/static/sagemaker/endpoint-results`` API) but not ``update_endpoint``; the update and
rollback paths are in ``tests/unit/core/test_serving_sagemaker.py`` with botocore's Stubber.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from localflyte.testing import MotoServer
from tasks.core.config_models import SmokeRequest
from tasks.core.rollout import RolloutRequest, roll_out
from tasks.core.rollout_errors import ServingRejected
from tasks.core.rollout_records import RolloutOutcome
from tasks.core.serving_sagemaker import RETRY_CONFIG, SageMakerTarget

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ENDPOINT = "training-classifier"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3-cpu-py311"


def smoke(point: list[float]) -> tuple[SmokeRequest, ...]:
    # moto caches an answer per request body, so each test sends a body of its own.
    payload = {"inputs": [{"name": "input-0", "shape": [1, 2], "datatype": "FP32", "data": point}]}
    expectations = ['model_name == "training-classifier"', "outputs.0.data exists"]
    return (SmokeRequest.model_validate({"name": "one-point", "payload": payload, "expectations": expectations}),)


SMOKE = smoke([0.25, -0.5])


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=("taxiway-models", "taxiway-data"))
    yield server
    server.stop()


def client(moto: MotoServer, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=moto.endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=RETRY_CONFIG,
    )


def queue_answers(moto: MotoServer, *bodies: dict[str, Any]) -> None:
    results = [{"Body": json.dumps(body), "ContentType": "application/json"} for body in bodies]
    response = requests.post(
        f"{moto.endpoint}/moto-api/static/sagemaker/endpoint-results",
        json={"region": REGION, "results": results},
        timeout=10,
    )
    response.raise_for_status()


def make_target(moto: MotoServer) -> SageMakerTarget:
    return SageMakerTarget(
        sagemaker=client(moto, "sagemaker"),
        runtime=client(moto, "sagemaker-runtime"),
        endpoint_name=ENDPOINT,
        role_arn=ROLE,
        image_uri=IMAGE,
        timeout=10,
        poll_interval=0.1,
    )


def rollout_request(moto: MotoServer, version: str, content: bytes) -> RolloutRequest:
    s3 = client(moto, "s3")
    key = f"production/training/{version}/model.pt"
    s3.put_object(Bucket="taxiway-data", Key=key, Body=content)
    return RolloutRequest(
        "training", version, f"s3://taxiway-data/{key}", "d" * 40, f"val-{version}", {"accuracy": 0.9}
    )


def test_create_path_rolls_out_then_is_a_no_op(moto: MotoServer) -> None:
    target = make_target(moto)
    sagemaker = client(moto, "sagemaker")
    assert target.current() is None
    queue_answers(moto, {"model_name": ENDPOINT, "outputs": [{"name": "output-0", "data": [0.1, 0.2, 0.7]}]})
    request = rollout_request(moto, "v1", b"torchscript bytes v1")

    record = roll_out(request, s3_client=client(moto, "s3"), target=target, smoke=SMOKE)

    assert record.outcome is RolloutOutcome.ROLLED_OUT, record.reason
    assert record.smoke[0].passed
    endpoint = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointStatus"] == "InService"
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    assert model["ExecutionRoleArn"] == ROLE
    source = model["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]
    assert source["S3Uri"] == record.model_uri.rsplit("/", 1)[0] + "/"
    current = target.current()
    assert current is not None and (current.version, current.sha256) == ("v1", record.checksum)

    again = roll_out(request, s3_client=client(moto, "s3"), target=target, smoke=SMOKE)
    assert again.outcome is RolloutOutcome.NO_OP


def test_failed_smoke_on_a_new_endpoint_deletes_it(moto: MotoServer) -> None:
    target = make_target(moto)
    target.endpoint_name = "training-canary"
    queue_answers(moto, {"error": "model failed to load"})
    request = rollout_request(moto, "v2", b"broken")
    record = roll_out(request, s3_client=client(moto, "s3"), target=target, smoke=smoke([9.0, 9.0]))
    assert record.outcome is RolloutOutcome.KEPT_PREVIOUS
    assert record.previous_version == ""
    assert "NOT met" in record.smoke[0].checks[0]
    assert target.current() is None


def test_restore_on_an_unknown_endpoint_is_refused(moto: MotoServer) -> None:
    target = make_target(moto)
    target.endpoint_name = "no-such-endpoint"
    with pytest.raises(ServingRejected, match="unknown endpoint"):
        target.restore("anything")
