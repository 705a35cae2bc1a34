"""The sections of taxiway.yaml below the top level: domains, image, validation, serving, notifications.

Specs only (how to build, validate, promote, roll out); what happened is recorded elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, StrictBool, StrictInt, model_validator

from tasks.core.config_expectations import ExpectationField
from tasks.core.config_fields import (
    AlarmName,
    AnnotationValue,
    AwsRegion,
    CaseName,
    DottedName,
    Duration,
    HttpUrl,
    IamRoleArn,
    Identifier,
    ImageRepository,
    ImageUri,
    LabelValue,
    MetadataKey,
    ModelName,
    Name,
    RelativePath,
    S3Bucket,
    S3PrefixUri,
    SageMakerEndpointName,
    SageMakerInstanceType,
    SecretPart,
    ServiceAccount,
    SlackChannel,
    StorageUri,
)
from tasks.core.config_governance import GovernanceSpec


class Spec(BaseModel):
    """Base of every taxiway.yaml section: unknown keys are errors and values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def unique_entries(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"expected unique entries, got {value!r} more than once")
        seen.add(value)
    return values


def named_entries(value: Any) -> Any:
    """Accept a mapping ``{name: {...}}`` as well as a list ``[{name: ..., ...}]``, keeping the order."""
    if not isinstance(value, Mapping):
        return value
    entries: list[Any] = []
    for name, body in value.items():
        body = {} if body is None else body
        if isinstance(body, Mapping):
            if "name" in body and body["name"] != name:
                raise ValueError(
                    f"in the mapping form the key is the name; entry {name!r} also says name: {body['name']!r}"
                )
            entries.append({**body, "name": name})
        else:
            entries.append(body)  # the entry model reports "expected a mapping"
    return entries


class DomainSpec(Spec):
    """One Flyte domain in the promotion order and the settings its launch plans get."""

    name: Name = Field(description="The Flyte domain name, e.g. 'staging'.")
    raw_data_prefix: StorageUri = Field(description="Where executions in this domain write their data.")
    service_account: ServiceAccount | None = Field(
        default=None, description="Kubernetes service account of executions."
    )
    iam_role: IamRoleArn | None = Field(default=None, description="IAM role executions assume.")
    labels: dict[MetadataKey, LabelValue] = Field(default_factory=dict, description="Labels on executions.")
    annotations: dict[MetadataKey, AnnotationValue] = Field(
        default_factory=dict, description="Annotations on executions."
    )
    slack_channel: SlackChannel | None = Field(default=None, description="Overrides notifications.slack.channel.")
    requires_approval: StrictBool = Field(default=False, description="Promotion into this domain waits for a human.")
    approval_timeout: Duration = Field(
        default=timedelta(hours=24), description="How long a promotion waits for approval before it times out."
    )
    governance: GovernanceSpec = Field(
        default=GovernanceSpec(), description="Approval policy (N of M) and promotion windows of this domain."
    )


class DockerfileImage(Spec):
    """The pipeline's image, built from a Dockerfile and tagged by a hash of its inputs.

    The Dockerfile and the build args always count towards the tag; ``tag_inputs`` adds files
    (lock files, requirements). ImageSpec images have their own ``image_specs`` section.
    """

    repository: ImageRepository = Field(description="Registry repository, without tag or digest.")
    dockerfile: RelativePath = Field(default="Dockerfile", description="Path of the Dockerfile in the repository.")
    context: RelativePath = Field(default=".", description="Build context directory.")
    tag_inputs: Annotated[tuple[RelativePath, ...], AfterValidator(unique_entries)] = Field(
        default=(), description="Files whose content (besides the Dockerfile and build args) decides the tag."
    )
    build_args: dict[Identifier, str] = Field(default_factory=dict, description="Docker build arguments.")
    prepare: tuple[str, ...] = Field(
        default=(),
        description="Command (argv, no shell) run in a copy of the pipeline directory, from the context"
        " directory, before a build, e.g. ['bash', 'prepare_context.sh'] to fill a wheelhouse (name the interpreter:"
        " file modes do not survive an upload); skipped when the tag exists.",
    )


class ImageSpecImages(Spec):
    """The pipeline's flytekit ImageSpec images: found by loading ``packages``, tagged by flytekit's hash.

    With ``image`` too, the release has both kinds; with only this section, only ImageSpec images.
    """

    registry: ImageRepository = Field(
        description="Registry prefix every ImageSpec must push to, e.g. '127.0.0.1:30000/taxiway'."
    )
    base_image: str | None = Field(
        default=None, description="Base image the ImageSpecs must use (pinned, local); any when absent."
    )


class ValidationSpec(Spec):
    """A named check: run a registered launch plan with inputs and check its outputs."""

    name: CaseName = Field(description="Name of the validation case.")
    launch_plan: DottedName = Field(description="Launch plan to execute, e.g. 'training.workflows.validation_lp'.")
    inputs: dict[Identifier, JsonValue] = Field(default_factory=dict, description="Inputs of the execution.")
    expectations: tuple[ExpectationField, ...] = Field(default=(), description="Checks on the execution's outputs.")
    domains: Annotated[tuple[Name, ...], AfterValidator(unique_entries)] | None = Field(
        default=None, description="Domains it runs in; all domains when absent."
    )
    timeout: Duration = Field(default=timedelta(minutes=30), description="How long the execution may take.")


class SmokeRequest(Spec):
    """One request sent to the serving target after a rollout, with expectations on the response."""

    name: CaseName
    payload: dict[str, JsonValue] = Field(description="Request body (JSON).")
    expectations: tuple[ExpectationField, ...] = Field(default=(), description="Checks on the JSON response.")


class ModelSource(Spec):
    """Which validated execution output is the model that gets rolled out."""

    validation: CaseName | None = Field(
        default=None,
        description="Validation case whose execution produced the model; default: the first in the domain.",
    )
    output: Identifier = Field(default="model", description="Output name holding the model.")


class _ServingBase(Spec):
    domain: Name | None = Field(
        default=None, description="Domain whose validated release is served; default: the last."
    )
    source: ModelSource = Field(default=ModelSource())
    smoke: tuple[SmokeRequest, ...] = Field(default=(), description="Smoke test requests after a rollout.")
    timeout: Duration = Field(default=timedelta(minutes=5), description="How long a rollout may take to become ready.")
    model_store: S3Bucket = Field(
        default="taxiway-models",
        description="S3 bucket of the model store; each model is stored under pipeline/version/sha256/ in it.",
    )


class OipServing(_ServingBase):
    """A model server speaking the Open Inference Protocol (v2)."""

    kind: Literal["oip"]
    url: HttpUrl = Field(description="Base URL of the model server.")
    model_name: ModelName = Field(description="Model name on the server.")
    repository: S3PrefixUri = Field(
        default="s3://taxiway-models/serving",
        description="The model server's repository on S3 (the URI the server was started with).",
    )


class SageMakerServing(_ServingBase):
    """A SageMaker real-time endpoint."""

    kind: Literal["sagemaker"]
    region: AwsRegion
    role_arn: IamRoleArn = Field(description="Execution role of the SageMaker model.")
    endpoint_name: SageMakerEndpointName
    instance_type: SageMakerInstanceType = "ml.m5.large"
    initial_instance_count: Annotated[StrictInt, Field(ge=1)] = 1
    endpoint_url: HttpUrl | None = Field(default=None, description="SageMaker-compatible API endpoint (local stack).")
    image_uri: ImageUri | None = Field(
        default=None, description="Inference container serving the model (required to roll out to SageMaker)."
    )
    rollback_alarms: Annotated[tuple[AlarmName, ...], AfterValidator(unique_entries)] = Field(
        default=(), description="CloudWatch alarms that roll a blue/green endpoint update back while it bakes."
    )


ServingSpec = Annotated[OipServing | SageMakerServing, Field(discriminator="kind")]


class SecretRef(Spec):
    """A Flyte secret: ``{group: slack, key: token}`` or ``"slack/token"``."""

    group: SecretPart
    key: SecretPart

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            group, slash, key = value.partition("/")
            if not slash:
                raise ValueError("expected a secret as 'group/key' or {group: ..., key: ...}")
            return {"group": group, "key": key}
        return value


class SlackSettings(Spec):
    """Slack notifications: a default channel and either a bot token or an incoming webhook."""

    channel: SlackChannel = Field(description="Default channel; a domain's slack_channel overrides it.")
    token_secret: SecretRef | None = Field(default=None, description="Secret holding a bot token (xoxb-...).")
    webhook_secret: SecretRef | None = Field(default=None, description="Secret holding an incoming-webhook URL.")
    api_url: HttpUrl | None = Field(default=None, description="Slack Web API base URL (local stack).")

    @model_validator(mode="after")
    def _one_credential(self) -> SlackSettings:
        if (self.token_secret is None) == (self.webhook_secret is None):
            raise ValueError("set exactly one of token_secret or webhook_secret")
        return self


class NotificationSettings(Spec):
    """Where Taxiway reports events."""

    slack: SlackSettings | None = None
