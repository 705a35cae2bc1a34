"""Validated scalar types for taxiway.yaml: names, URIs, Kubernetes labels, ARNs, durations.

Each type is ``Annotated[str, _Text(...)]`` (or ``timedelta``): a plain validator with an error
message that says what is expected, plus a matching JSON schema. Messages start with "expected";
the loader appends ", got <value>".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from tasks.core.vocabulary import TAXIWAY_PREFIX


@dataclass(frozen=True)
class _Text:
    """A string checked by a regex (full match) and/or a function returning a problem or None."""

    expected: str
    pattern: str | None = None
    max_length: int | None = None
    check: Callable[[str], str | None] | None = None

    def validate(self, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected {self.expected}")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"expected {self.expected} (at most {self.max_length} characters)")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise ValueError(f"expected {self.expected}")
        problem = self.check(value) if self.check else None
        if problem:
            raise ValueError(problem)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema: dict[str, Any] = {"type": "string", "description": f"Expected: {self.expected}."}
        if self.pattern is not None:
            json_schema["pattern"] = f"^{self.pattern}$"
        if self.max_length is not None:
            json_schema["maxLength"] = self.max_length
        return json_schema


_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = rf"{_DNS_LABEL}(\.{_DNS_LABEL})*"
_LABEL_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_PY_NAME = r"[A-Za-z_][A-Za-z0-9_]*"

#: Domain, pipeline and project names: Kubernetes-ish, since they end up in namespaces and labels.
Name = Annotated[
    str,
    _Text(
        "a name of lowercase letters, digits and '-' that starts with a letter, e.g. 'staging'",
        pattern=r"[a-z][a-z0-9-]*",
        max_length=63,
    ),
]
#: Validation case and smoke request names (underscores allowed).
CaseName = Annotated[
    str,
    _Text(
        "a name of lowercase letters, digits, '-' and '_' that starts with a letter, e.g. 'accuracy-gate'",
        pattern=r"[a-z][a-z0-9_-]*",
        max_length=63,
    ),
]
#: A Python package or module path, e.g. ``training.workflows``.
DottedName = Annotated[
    str, _Text("a dotted Python name, e.g. 'training.workflows'", pattern=rf"{_PY_NAME}(\.{_PY_NAME})*")
]
#: A Python identifier (workflow input and output names, Docker build-arg names).
Identifier = Annotated[str, _Text("an identifier of letters, digits and '_', e.g. 'epochs'", pattern=_PY_NAME)]


def _check_storage_uri(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("s3", "gs", "file") or "://" not in value:
        return "expected an s3://, gs:// or file:// URI"
    if parts.scheme == "file":
        return (
            None
            if parts.path.startswith("/") and not parts.netloc
            else ("expected a file:// URI with an absolute path and no host, e.g. 'file:///var/taxiway/data'")
        )
    bucket_ok = re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]", parts.netloc)
    if not bucket_ok or parts.query or parts.fragment:
        return (
            f"expected a {parts.scheme}://<bucket>/<prefix> URI whose bucket has 3-63 lowercase letters, digits,"
            f" '.' or '-', e.g. '{parts.scheme}://my-bucket/raw'"
        )
    return None


StorageUri = Annotated[
    str, _Text("an s3://, gs:// or file:// URI", pattern=r"(s3|gs|file)://.+", check=_check_storage_uri)
]


def _check_http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "expected an http:// or https:// URL with a host, e.g. 'http://127.0.0.1:30092'"
    if parts.username or parts.password:
        return "expected a URL without credentials; put secrets in a secret, not in taxiway.yaml"
    try:
        _ = parts.port
    except ValueError:
        return "expected a URL with a numeric port"
    return None


HttpUrl = Annotated[str, _Text("an http:// or https:// URL", pattern=r"https?://.+", check=_check_http_url)]


def _check_relative_path(value: str) -> str | None:
    path = PurePosixPath(value)
    if not value or "\\" in value or path.is_absolute() or ".." in path.parts:
        return "expected a relative POSIX path inside the repository (no leading '/', no '..'), e.g. 'Dockerfile'"
    return None


RelativePath = Annotated[
    str, _Text("a relative path inside the repository, e.g. 'Dockerfile'", check=_check_relative_path)
]

#: A registry repository without tag or digest, e.g. ``127.0.0.1:5000/taxiway/training``.
ImageRepository = Annotated[
    str,
    _Text(
        "an image repository without tag or digest, e.g. '127.0.0.1:5000/taxiway/training'",
        pattern=r"([A-Za-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*",
        max_length=255,
    ),
]
ServiceAccount = Annotated[
    str,
    _Text("a Kubernetes service account name (lowercase DNS subdomain)", pattern=_DNS_SUBDOMAIN, max_length=253),
]
IamRoleArn = Annotated[
    str,
    _Text(
        "an IAM role ARN, e.g. 'arn:aws:iam::123456789012:role/taxiway-staging'",
        pattern=r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}",
    ),
]


def _check_label_key(value: str) -> str | None:
    prefix, _, name = value.rpartition("/")
    if prefix and (len(prefix) > 253 or not re.fullmatch(_DNS_SUBDOMAIN, prefix)):
        return "expected a key whose prefix (before '/') is a lowercase DNS subdomain of at most 253 characters"
    if len(name) > 63 or not re.fullmatch(_LABEL_NAME, name):
        return (
            "expected a key whose name (after any 'prefix/') has at most 63 letters, digits, '-', '_' or '.',"
            " starting and ending with a letter or digit"
        )
    if prefix == TAXIWAY_PREFIX or prefix.endswith("." + TAXIWAY_PREFIX):
        return f"expected a key outside the '{TAXIWAY_PREFIX}/' prefix, which Taxiway reserves for itself"
    return None


#: A Kubernetes label or annotation key: ``[prefix/]name``.
MetadataKey = Annotated[str, _Text("a Kubernetes label key, e.g. 'team' or 'example.com/team'", check=_check_label_key)]
LabelValue = Annotated[
    str,
    _Text(
        "a Kubernetes label value: a string of at most 63 letters, digits, '-', '_' or '.', starting and"
        " ending with a letter or digit (quote values such as 'true' or '1')",
        pattern=f"({_LABEL_NAME})?",
        max_length=63,
    ),
]
AnnotationValue = Annotated[str, _Text("a string annotation value (quote values such as 'true' or '1')")]

SlackChannel = Annotated[
    str,
    _Text(
        "a Slack channel such as '#ml-releases' (lowercase letters, digits, '-', '_', '.') or a channel id",
        pattern=r"#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{8,}",
    ),
]
#: A Flyte secret group or key (a Kubernetes secret name or key).
SecretPart = Annotated[
    str, _Text("a secret group or key of letters, digits, '-', '_' or '.'", pattern=r"[A-Za-z0-9][A-Za-z0-9._-]*")
]
AwsRegion = Annotated[str, _Text("an AWS region, e.g. 'us-east-1'", pattern=r"[a-z]{2}(-[a-z]+)+-[0-9]")]
SageMakerEndpointName = Annotated[
    str,
    _Text(
        "a SageMaker endpoint name: letters, digits and '-', at most 63 characters",
        pattern=r"[A-Za-z0-9](-*[A-Za-z0-9]){0,62}",
    ),
]
SageMakerInstanceType = Annotated[
    str, _Text("a SageMaker instance type, e.g. 'ml.m5.large'", pattern=r"ml\.[a-z0-9]+\.[a-z0-9]+")
]
ModelName = Annotated[
    str,
    _Text("a model name of letters, digits, '-', '_' or '.', e.g. 'training'", pattern=r"[A-Za-z0-9][A-Za-z0-9._-]*"),
]
#: An S3 bucket name (the model store), e.g. ``taxiway-models``.
S3Bucket = Annotated[
    str,
    _Text(
        "an S3 bucket name of 3-63 lowercase letters, digits, '.' or '-', e.g. 'taxiway-models'",
        pattern=r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
    ),
]


def _check_s3_prefix(value: str) -> str | None:
    problem = _check_storage_uri(value)
    if problem is None and not urlsplit(value).path.strip("/"):
        return (
            "expected an s3://<bucket>/<prefix> URI with a prefix after the bucket, e.g. 's3://taxiway-models/serving'"
        )
    return problem


#: An ``s3://bucket/prefix`` URI (the model server's repository is read from S3).
S3PrefixUri = Annotated[
    str,
    _Text(
        "an s3://<bucket>/<prefix> URI, e.g. 's3://taxiway-models/serving'", pattern=r"s3://.+", check=_check_s3_prefix
    ),
]
#: A container image with a tag or digest, e.g. a SageMaker inference image in ECR.
ImageUri = Annotated[
    str,
    _Text(
        "an image reference with a tag or digest, e.g."
        " '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-cpu-py311'",
        pattern=r"([A-Za-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*"
        r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})",
        max_length=255,
    ),
]
#: A CloudWatch alarm name (1-255 characters, no control characters).
AlarmName = Annotated[
    str, _Text("a CloudWatch alarm name of 1-255 printable characters", pattern=r"[^\x00-\x1f\x7f]{1,255}")
]

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_EXPECTED = "a duration such as '90s', '15m', '1h30m' or '2d' (units d, h, m, s; more than zero)"
#: The longest duration accepted anywhere: longer ones are typos.
MAX_DURATION = timedelta(days=365)


def parse_duration(value: Any) -> timedelta:
    """Parse ``'1h30m'``-style text into a timedelta (a timedelta passes through).

    :raises ValueError: if the text is not a positive duration of at most :data:`MAX_DURATION`.
    """
    if isinstance(value, timedelta):
        result = value
    else:
        match = _DURATION.fullmatch(value) if isinstance(value, str) and value else None
        if match is None:
            raise ValueError(f"expected {_DURATION_EXPECTED}")
        days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
        result = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not timedelta(0) < result <= MAX_DURATION:
        raise ValueError(f"expected {_DURATION_EXPECTED}, at most {MAX_DURATION.days}d")
    return result


def format_duration(value: timedelta) -> str:
    """Render a timedelta the way taxiway.yaml writes it: ``timedelta(minutes=90)`` -> ``'1h30m'``."""
    total = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


class _DurationField:
    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            parse_duration, serialization=core_schema.plain_serializer_function_ser_schema(format_duration)
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": r"^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$",
            "description": f"Expected: {_DURATION_EXPECTED}.",
        }


#: A positive duration written as ``15m``, ``1h30m``, ``2d``.
Duration = Annotated[timedelta, _DurationField()]
