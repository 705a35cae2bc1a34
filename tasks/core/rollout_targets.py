"""The serving target a taxiway.yaml ``serving`` section describes, built from clients the caller passes."""

from __future__ import annotations

from typing import Any

from tasks.core.config_models import OipServing, SageMakerServing
from tasks.core.errors import InvalidConfig
from tasks.core.rollout_target import ServingTarget
from tasks.core.serving_oip import OipTarget
from tasks.core.serving_sagemaker import SageMakerTarget


def serving_target(spec: OipServing | SageMakerServing, *, s3_client: Any, aws_session: Any) -> ServingTarget:
    """An :class:`OipTarget` or a :class:`SageMakerTarget` for ``spec``.

    :param s3_client: boto3 S3 client (the OIP server's repository lives on S3).
    :param aws_session: a boto3 ``Session`` (standard credential chain) for the SageMaker clients.
    :raises InvalidConfig: if a SageMaker section has no ``image_uri``.
    """
    if isinstance(spec, OipServing):
        return OipTarget.from_spec(spec, s3_client, repository=spec.repository)
    if spec.image_uri is None:
        raise InvalidConfig(
            "serving.image_uri is required to roll out to SageMaker",
            where="serving.image_uri",
            fix="set serving.image_uri to the inference container (e.g. a PyTorch inference image in ECR)",
        )
    return SageMakerTarget.from_spec(spec, aws_session, image_uri=spec.image_uri, alarms=spec.rollback_alarms)
