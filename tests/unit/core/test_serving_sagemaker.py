"""SageMaker update and rollback paths through botocore's Stubber (moto does not implement update_endpoint).

The Stubber sits on real boto3 clients: every expected request and canned response is validated
against SageMaker's real API shapes, so a wrong parameter name or type fails here as it would on AWS.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from tasks.core.config_models import SmokeRequest
from tasks.core.rollout_errors import ModelRejected, ServingUnavailable
from tasks.core.rollout_records import StoredModel
from tasks.core.serving_sagemaker import SageMakerTarget, resource_name

pytestmark = pytest.mark.unit

ENDPOINT = "training-classifier"
ARN = "arn:aws:sagemaker:us-east-1:123456789012"
NOW = datetime(2024, 1, 1, tzinfo=UTC)
SHA = "ab" * 32
MODEL = StoredModel(
    "training", "v2", f"s3://taxiway-models/training/v2/{SHA}/model.pt", SHA, 10, "", "e" * 40, "val-v2", {}
)
NEW = resource_name(ENDPOINT, "v2", SHA)
SMOKE = (
    SmokeRequest.model_validate(
        {"name": "one-point", "payload": {"inputs": []}, "expectations": ["outputs.0.data exists"]}
    ),
)


def endpoint(config: str, status: str = "InService", reason: str = "") -> dict[str, Any]:
    answer = {
        "EndpointName": ENDPOINT,
        "EndpointArn": f"{ARN}:endpoint/{ENDPOINT}",
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
    }
    if reason:
        answer["FailureReason"] = reason
    return answer


def not_found(stubber: Stubber, method: str) -> None:
    stubber.add_client_error(method, "ValidationException", f"Could not find {method}", 400)


@pytest.fixture
def clients() -> tuple[Any, Any]:
    kwargs = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    return boto3.client("sagemaker", **kwargs), boto3.client("sagemaker-runtime", **kwargs)


def target(clients: tuple[Any, Any], alarms: tuple[str, ...] = ("training-5xx",)) -> SageMakerTarget:
    return SageMakerTarget(
        sagemaker=clients[0],
        runtime=clients[1],
        endpoint_name=ENDPOINT,
        role_arn="arn:aws:iam::123456789012:role/sagemaker",
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3-cpu-py311",
        alarms=alarms,
        timeout=1,
        poll_interval=0.01,
        bake_seconds=60,
    )


def stub_current(stubber: Stubber, config: str, version: str) -> None:
    stubber.add_response("describe_endpoint", endpoint(config), {"EndpointName": ENDPOINT})
    stubber.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": config,
            "EndpointConfigArn": f"{ARN}:endpoint-config/{config}",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": config}],
            "CreationTime": NOW,
        },
        {"EndpointConfigName": config},
    )
    tags = [{"Key": "taxiway.dev/release-version", "Value": version}, {"Key": "taxiway.dev/model-sha256", "Value": "c"}]
    stubber.add_response("list_tags", {"Tags": tags}, {"ResourceArn": f"{ARN}:endpoint-config/{config}"})


def stub_update(stubber: Stubber, config: str) -> None:
    not_found(stubber, "describe_model")
    stubber.add_response("create_model", {"ModelArn": f"{ARN}:model/{config}"}, None)
    not_found(stubber, "describe_endpoint_config")
    stubber.add_response("create_endpoint_config", {"EndpointConfigArn": f"{ARN}:endpoint-config/{config}"}, None)
    expected = {
        "EndpointName": ENDPOINT,
        "EndpointConfigName": config,
        "DeploymentConfig": {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                "TerminationWaitInSeconds": 60,
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "training-5xx"}]},
        },
    }
    stubber.add_response("update_endpoint", {"EndpointArn": f"{ARN}:endpoint/{ENDPOINT}"}, expected)


def test_update_is_blue_green_then_rollback_restores_the_previous_config(clients: tuple[Any, Any]) -> None:
    sagemaker, runtime = clients
    with Stubber(sagemaker) as stubber, Stubber(runtime) as runtime_stubber:
        stub_current(stubber, "old-config", "v1")
        stubber.add_response("describe_endpoint", endpoint("old-config"), {"EndpointName": ENDPOINT})
        stub_update(stubber, NEW)
        stubber.add_response("describe_endpoint", endpoint(NEW, "Updating"), {"EndpointName": ENDPOINT})
        stubber.add_response("describe_endpoint", endpoint(NEW), {"EndpointName": ENDPOINT})
        stubber.add_response("describe_endpoint", endpoint(NEW), {"EndpointName": ENDPOINT})
        body = json.dumps({"outputs": []}).encode()
        runtime_stubber.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"},
            {"EndpointName": ENDPOINT, "ContentType": "application/json", "Accept": "application/json", "Body": ANY},
        )
        stubber.add_response("update_endpoint", {"EndpointArn": f"{ARN}:endpoint/{ENDPOINT}"}, None)
        stubber.add_response("describe_endpoint", endpoint("old-config"), {"EndpointName": ENDPOINT})

        sm = target(clients)
        deployment = sm.deploy(MODEL)
        assert deployment.previous is not None and deployment.previous.version == "v1"
        assert deployment.details == {"endpoint_config": NEW, "previous_endpoint_config": "old-config"}
        results = sm.smoke_test(deployment, SMOKE)
        assert not results[0].passed and "NOT met" in results[0].checks[0]
        sm.rollback(deployment)
        stubber.assert_no_pending_responses()
        runtime_stubber.assert_no_pending_responses()


def test_an_update_sagemaker_rolled_back_itself_is_rejected(clients: tuple[Any, Any]) -> None:
    with Stubber(clients[0]) as stubber:
        stub_current(stubber, "old-config", "v1")
        stubber.add_response("describe_endpoint", endpoint("old-config"), {"EndpointName": ENDPOINT})
        stub_update(stubber, NEW)
        stubber.add_response("describe_endpoint", endpoint("old-config"), {"EndpointName": ENDPOINT})
        stubber.add_response("describe_endpoint", endpoint("old-config"), {"EndpointName": ENDPOINT})
        reason = "alarm training-5xx fired during baking"
        stubber.add_response("describe_endpoint", endpoint("old-config", reason=reason), {"EndpointName": ENDPOINT})
        with pytest.raises(ModelRejected, match="kept old-config: alarm training-5xx fired"):
            target(clients).deploy(MODEL)
        stubber.assert_no_pending_responses()


def test_throttling_after_retries_is_transient(clients: tuple[Any, Any]) -> None:
    with Stubber(clients[0]) as stubber:
        stubber.add_client_error("describe_endpoint", "ThrottlingException", "Rate exceeded", 400)
        with pytest.raises(ServingUnavailable, match="ThrottlingException"):
            target(clients).current()


@pytest.mark.parametrize(
    ("endpoint_name", "version", "expected"),
    [
        ("training-classifier", "abc123def456", f"training-classifier-abc123def456-{SHA[:8]}"),
        ("e", "pr12-abc.def_1", f"e-pr12-abc-def-1-{SHA[:8]}"),
        ("x" * 63, "v" * 40, f"{'x' * 30}-{'v' * 22}-{SHA[:8]}"),
    ],
)
def test_resource_names_fit_sagemaker(endpoint_name: str, version: str, expected: str) -> None:
    name = resource_name(endpoint_name, version, SHA)
    assert name == expected
    assert len(name) <= 63
