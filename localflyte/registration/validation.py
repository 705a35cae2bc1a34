"""Request validation with FlyteAdmin's messages.

Ported from flyteadmin ``pkg/manager/impl/validation/validation.go`` and ``project_validator.go``; the
label checks follow the Kubernetes rules flyteadmin calls (``IsDNS1123Label``, ``IsQualifiedName``,
``IsValidLabelValue``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flyteidl.core import identifier_pb2

from localflyte.errors import invalid_argument, missing_argument

ResourceType = identifier_pb2.ResourceType

# RFC 3986 reserved characters, quoted in flyteadmin's ValidateVersion message.
URI_RESERVED_CHARS = "!*'();:@&=+$,/?#[]"
MAX_LABEL_ENTRIES = 16
MAX_PROJECT_NAME_LENGTH = 64
MAX_PROJECT_DESCRIPTION_LENGTH = 300
# flyteadmin's models declare ``valid:"length(0|255)"`` for identifier columns.
MAX_IDENTIFIER_FIELD_LENGTH = 255

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# What Go's url.QueryEscape leaves alone (flyteadmin compares the escaped version with the original).
_URL_SAFE = re.compile(r"^[A-Za-z0-9._~-]*$")

_RESOURCE_NAMES = {
    ResourceType.UNSPECIFIED: "unspecified",
    ResourceType.TASK: "task",
    ResourceType.WORKFLOW: "workflow",
    ResourceType.LAUNCH_PLAN: "launch_plan",
    ResourceType.DATASET: "dataset",
}


def go_text(identifier: identifier_pb2.Identifier) -> str:
    """An identifier the way Go's ``%+v`` prints a proto (prototext, defaults omitted)."""
    parts = []
    if identifier.resource_type:
        parts.append(f"resource_type:{ResourceType.Name(identifier.resource_type)}")
    for field in ("project", "domain", "name", "version", "org"):
        value = getattr(identifier, field)
        if value:
            parts.append(f'{field}:"{value}"')
    return " ".join(parts)


def require(value: str, field: str) -> None:
    """``ValidateEmptyStringField``."""
    if value == "":
        raise missing_argument(field)


def max_length(value: str, field: str, limit: int) -> None:
    """``ValidateMaxLengthStringField``."""
    if len(value) > limit:
        raise invalid_argument(f"{field} cannot exceed {limit} characters")


def validate_identifier(identifier: identifier_pb2.Identifier, expected: int, has_id: bool = True) -> None:
    """``ValidateIdentifier``: the resource type matches and project/domain/name/version are set."""
    if not has_id:
        raise missing_argument("id")
    if identifier.resource_type != expected:
        actual = _RESOURCE_NAMES.get(identifier.resource_type, str(identifier.resource_type))
        raise invalid_argument(
            f"unexpected resource type {actual} for identifier [{go_text(identifier)}], "
            f"expected {_RESOURCE_NAMES[expected]} instead"
        )
    require(identifier.project, "project")
    require(identifier.domain, "domain")
    require(identifier.name, "name")
    require(identifier.version, "version")


def validate_registration_identifier(identifier: identifier_pb2.Identifier, expected: int, has_id: bool) -> None:
    """What localflyte checks on Create*: ``ValidateIdentifier`` plus length and url-safe version.

    flyteadmin defines ``ValidateVersion`` (url-safe versions) and 255-character model columns; localflyte
    enforces both at registration so an id that could not be addressed in a URL or stored is refused early.
    """
    validate_identifier(identifier, expected, has_id)
    for field in ("project", "domain", "name", "version"):
        max_length(getattr(identifier, field), field, MAX_IDENTIFIER_FIELD_LENGTH)
    validate_version(identifier.version)


def validate_version(version: str) -> None:
    """``ValidateVersion``: the version must survive url.QueryEscape unchanged."""
    require(version, "version")
    if not _URL_SAFE.match(version):
        raise invalid_argument(f"version [{version}] must be url safe, cannot contains chars [{URI_RESERVED_CHARS}]")


def validate_named_entity_identifier(project: str, domain: str, name: str) -> None:
    """``ValidateNamedEntityIdentifier`` / ``ValidateActiveLaunchPlanRequest``."""
    require(project, "project")
    require(domain, "domain")
    require(name, "name")


def validate_limit(limit: int) -> None:
    """``ValidateLimit``."""
    if limit == 0:
        raise invalid_argument("invalid value for limit")


def dns1123_label_errors(value: str) -> list[str]:
    """``validation.IsDNS1123Label`` from k8s apimachinery."""
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not _DNS1123_LABEL.match(value):
        errors.append(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
            "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
            "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        )
    return errors


def _qualified_name_errors(key: str) -> list[str]:
    prefix, _, name = key.rpartition("/")
    errors = []
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        errors.append("prefix part must be a lowercase RFC 1123 subdomain")
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    elif not _QUALIFIED_NAME.match(name):
        errors.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
            "an alphanumeric character"
        )
    return errors


def _label_value_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if value and not _QUALIFIED_NAME.match(value):
        errors.append(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return errors


def validate_labels(labels: Mapping[str, str]) -> None:
    """``validateLabels``: at most 16 entries, Kubernetes-compliant keys and values."""
    if not labels:
        return
    if len(labels) > MAX_LABEL_ENTRIES:
        raise invalid_argument(f"labels map cannot exceed {MAX_LABEL_ENTRIES} entries")
    for key, value in labels.items():
        if errors := _qualified_name_errors(key):
            raise invalid_argument(f"invalid label key [{key}]: [{' '.join(errors)}]")
        if errors := _label_value_errors(value):
            raise invalid_argument(f"invalid label value [{value}]: [{' '.join(errors)}]")
