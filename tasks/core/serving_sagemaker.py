"""Serving target: a SageMaker real-time endpoint (boto3), updated blue/green with auto-rollback alarms.

``deploy`` creates the model (uncompressed artifacts: the model store folder through
``ModelDataSource``) and an endpoint config named after the version and checksum, then creates the
endpoint or updates it with a blue/green ``DeploymentConfig`` (SageMaker shifts traffic and rolls
back on its own if an alarm fires while baking) and waits until it is ``InService``. SageMaker can
only test a config once it takes traffic, so the smoke test goes through ``sagemaker-runtime`` after
the switch, and ``rollback`` updates the endpoint back to the previous endpoint config (or deletes
an endpoint this rollout created). Retries: botocore's standard mode (throttling, 5xx, with backoff).

Tested against a moto server for the create paths; moto does not implement ``update_endpoint``, so
the update and rollback paths are tested with botocore's ``Stubber`` on a real client, which checks
every request and response against SageMaker's real API shapes.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from tasks.core.config_models import SageMakerServing, SmokeRequest
from tasks.core.rollout_errors import ModelRejected, ServingRejected, ServingUnavailable
from tasks.core.rollout_records import Deployment, ServedVersion, SmokeResult, StoredModel
from tasks.core.rollout_smoke import check_response, failed
from tasks.core.vocabulary import LabelKey

logger = logging.getLogger(__name__)

#: botocore's standard retry mode: exponential backoff on throttling, 5xx and connection errors.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
SHA_TAG = "taxiway.dev/model-sha256"
URI_TAG = "taxiway.dev/model-uri"
VARIANT = "AllTraffic"
_TRANSIENT = ("ThrottlingException", "ServiceUnavailable", "InternalFailure", "InternalServerError")


def resource_name(endpoint: str, version: str, sha256: str) -> str:
    """``<endpoint>-<version>-<sha8>``, cut to SageMaker's 63 characters of ``[a-zA-Z0-9-]``."""
    clean = re.sub(r"[^a-zA-Z0-9-]+", "-", f"{endpoint[:30]}-{version[:22]}").strip("-")
    return f"{clean}-{sha256[:8]}"


class SageMakerTarget:
    """One SageMaker endpoint.

    :param sagemaker: a boto3 ``sagemaker`` client; :param runtime: a ``sagemaker-runtime`` client.
    :param image_uri: the inference container (e.g. a PyTorch inference image serving TorchScript).
    :param alarms: CloudWatch alarm names that roll a blue/green update back while it bakes.
    """

    def __init__(
        self,
        *,
        sagemaker: Any,
        runtime: Any,
        endpoint_name: str,
        role_arn: str,
        image_uri: str,
        instance_type: str = "ml.m5.large",
        initial_instance_count: int = 1,
        alarms: Sequence[str] = (),
        timeout: float = 1800.0,
        poll_interval: float = 15.0,
        bake_seconds: int = 300,
    ) -> None:
        self.sagemaker = sagemaker
        self.runtime = runtime
        self.endpoint_name = endpoint_name
        self.role_arn = role_arn
        self.image_uri = image_uri
        self.instance_type = instance_type
        self.initial_instance_count = initial_instance_count
        self.alarms = tuple(alarms)
        self.poll_interval = poll_interval
        self.max_attempts = max(1, int(timeout / max(poll_interval, 0.001)))
        self.bake_seconds = bake_seconds

    @classmethod
    def from_spec(
        cls, spec: SageMakerServing, session: Any, *, image_uri: str, alarms: Sequence[str] = ()
    ) -> SageMakerTarget:
        """Clients from ``session`` (boto3's standard credential chain) in the spec's region and endpoint."""
        kwargs: dict[str, Any] = {"region_name": spec.region, "config": RETRY_CONFIG}
        if spec.endpoint_url:
            kwargs["endpoint_url"] = spec.endpoint_url
        return cls(
            sagemaker=session.client("sagemaker", **kwargs),
            runtime=session.client("sagemaker-runtime", **kwargs),
            endpoint_name=spec.endpoint_name,
            role_arn=spec.role_arn,
            image_uri=image_uri,
            instance_type=spec.instance_type,
            initial_instance_count=spec.initial_instance_count,
            alarms=alarms,
            timeout=spec.timeout.total_seconds(),
        )

    @property
    def description(self) -> str:
        return f"sagemaker endpoint={self.endpoint_name}"

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.sagemaker, method)(**kwargs)
        except ClientError as err:
            raise _translate(err, f"{self.description} {method}") from err
        except BotoCoreError as err:
            raise ServingUnavailable(f"SageMaker unreachable ({type(err).__name__})", where=self.description) from err

    def _describe(self, method: str, **kwargs: Any) -> dict[str, Any] | None:
        """A describe call, or None when the resource does not exist (SageMaker says ValidationException)."""
        try:
            return dict(getattr(self.sagemaker, method)(**kwargs))
        except ClientError as err:
            message = str(err.response.get("Error", {}).get("Message", ""))
            if err.response.get("Error", {}).get("Code") == "ValidationException" and "not find" in message.lower():
                return None
            raise _translate(err, f"{self.description} {method}") from err
        except BotoCoreError as err:
            raise ServingUnavailable(f"SageMaker unreachable ({type(err).__name__})", where=self.description) from err

    def check(self) -> None:
        self._describe("describe_endpoint", EndpointName=self.endpoint_name)

    def current(self) -> ServedVersion | None:
        endpoint = self._describe("describe_endpoint", EndpointName=self.endpoint_name)
        if endpoint is None:
            return None
        config = self._call("describe_endpoint_config", EndpointConfigName=endpoint["EndpointConfigName"])
        tags = {t["Key"]: t["Value"] for t in self._call("list_tags", ResourceArn=config["EndpointConfigArn"])["Tags"]}
        return ServedVersion(tags.get(LabelKey.RELEASE_VERSION.value, ""), tags.get(SHA_TAG, ""), tags.get(URI_TAG, ""))

    def _tags(self, model: StoredModel) -> list[dict[str, str]]:
        return [
            {"Key": LabelKey.PIPELINE.value, "Value": model.pipeline},
            {"Key": LabelKey.RELEASE_VERSION.value, "Value": model.version},
            {"Key": SHA_TAG, "Value": model.sha256},
            {"Key": URI_TAG, "Value": model.uri},
        ]

    def _ensure_config(self, model: StoredModel, name: str) -> None:
        if self._describe("describe_model", ModelName=name) is None:
            container = {
                "Image": self.image_uri,
                "ModelDataSource": {
                    "S3DataSource": {"S3Uri": model.prefix_uri, "S3DataType": "S3Prefix", "CompressionType": "None"}
                },
            }
            self._call(
                "create_model",
                ModelName=name,
                ExecutionRoleArn=self.role_arn,
                PrimaryContainer=container,
                Tags=self._tags(model),
            )
        if self._describe("describe_endpoint_config", EndpointConfigName=name) is None:
            variant = {
                "VariantName": VARIANT,
                "ModelName": name,
                "InstanceType": self.instance_type,
                "InitialInstanceCount": self.initial_instance_count,
            }
            self._call(
                "create_endpoint_config", EndpointConfigName=name, ProductionVariants=[variant], Tags=self._tags(model)
            )

    def deployment_config(self) -> dict[str, Any]:
        """Blue/green, all at once after a bake time; SageMaker rolls back if an alarm fires meanwhile."""
        config: dict[str, Any] = {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                "TerminationWaitInSeconds": self.bake_seconds,
            }
        }
        if self.alarms:
            config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": alarm} for alarm in self.alarms]}
        return config

    def _switch(self, config_name: str) -> None:
        self._call(
            "update_endpoint",
            EndpointName=self.endpoint_name,
            EndpointConfigName=config_name,
            DeploymentConfig=self.deployment_config(),
        )
        self._wait()

    def _wait(self) -> None:
        try:
            self.sagemaker.get_waiter("endpoint_in_service").wait(
                EndpointName=self.endpoint_name,
                WaiterConfig={"Delay": self.poll_interval, "MaxAttempts": self.max_attempts},
            )
        except WaiterError as err:
            endpoint = self._describe("describe_endpoint", EndpointName=self.endpoint_name) or {}
            reason = endpoint.get("FailureReason") or str(err)
            raise ModelRejected(f"endpoint did not reach InService: {reason}", where=self.description) from err

    def deploy(self, model: StoredModel) -> Deployment:
        name = resource_name(self.endpoint_name, model.version, model.sha256)
        previous = self.current()
        endpoint = self._describe("describe_endpoint", EndpointName=self.endpoint_name)
        previous_config = endpoint["EndpointConfigName"] if endpoint else ""
        self._ensure_config(model, name)
        details = {"endpoint_config": name, "previous_endpoint_config": previous_config}
        deployment = Deployment(self.description, model.version, model.sha256, model.uri, previous, details)
        logger.info("rollout deploy target=%s version=%s config=%s", self.description, model.version, name)
        if endpoint is None:
            self._call("create_endpoint", EndpointName=self.endpoint_name, EndpointConfigName=name)
            self._wait()
        elif previous_config != name:
            self._switch(name)
        serving = self._call("describe_endpoint", EndpointName=self.endpoint_name)["EndpointConfigName"]
        if serving != name:
            # SageMaker rolled the update back itself (an alarm fired, or the new fleet failed).
            reason = self._call("describe_endpoint", EndpointName=self.endpoint_name).get("FailureReason", "")
            raise ModelRejected(f"SageMaker kept {serving}: {reason or 'update rolled back'}", where=self.description)
        return deployment

    def smoke_test(self, deployment: Deployment, requests: Sequence[SmokeRequest]) -> list[SmokeResult]:
        results = []
        for request in requests:
            try:
                answer = self.runtime.invoke_endpoint(
                    EndpointName=self.endpoint_name,
                    ContentType="application/json",
                    Accept="application/json",
                    Body=json.dumps(dict(request.payload)),
                )
                body = json.loads(answer["Body"].read())
            except ClientError as err:
                results.append(failed(request.name, str(err.response.get("Error", {}).get("Message", err))))
                continue
            except ValueError as err:
                results.append(failed(request.name, f"response is not JSON ({err})"))
                continue
            results.append(check_response(request, body))
        return results

    def activate(self, deployment: Deployment) -> None:
        # The blue/green update already moved the traffic; nothing is left to switch.
        logger.info("rollout switched target=%s version=%s", self.description, deployment.version)

    def rollback(self, deployment: Deployment) -> None:
        previous = deployment.details.get("previous_endpoint_config", "")
        if previous and previous != deployment.details.get("endpoint_config"):
            self._switch(previous)
        elif not previous:
            # This rollout created the endpoint: nothing served before, so nothing should serve now.
            self._call("delete_endpoint", EndpointName=self.endpoint_name)
        logger.info("rollout rolled back target=%s to=%s", self.description, previous or "nothing")

    def restore(self, endpoint_config: str) -> None:
        """Re-activate ``endpoint_config`` on the endpoint (the rollback after a release).

        :raises ServingRejected: if the endpoint does not exist (an unknown endpoint).
        """
        if self._describe("describe_endpoint", EndpointName=self.endpoint_name) is None:
            raise ServingRejected(
                "unknown endpoint", where=self.description, fix="check serving.endpoint_name and serving.region"
            )
        self._switch(endpoint_config)


def _translate(err: ClientError, where: str) -> Exception:
    code = str(err.response.get("Error", {}).get("Code", ""))
    status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    message = str(err.response.get("Error", {}).get("Message", ""))
    if status >= 500 or code in _TRANSIENT:
        return ServingUnavailable(f"SageMaker answered {code or status}", where=where)
    return ServingRejected(f"SageMaker refused the request ({code}: {message})", where=where)
