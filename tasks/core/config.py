"""taxiway.yaml: the pipeline config that says what to build, where to promote it and how to check it.

Load it with :func:`load_pipeline_config` (a file) or :func:`parse_pipeline_config` (text). Every
problem in the file is reported at once, in one :class:`~tasks.core.errors.InvalidConfig`, each as
``<file>: <dotted.key.path>: <what is expected>, got <value>``. The section models live in
:mod:`tasks.core.config_models`; see ``tasks/core/CONFIG.md`` for a full example.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tasks.core.config_checks import cross_reference_problems
from tasks.core.config_errors import CROSS_REFERENCE_ERROR, problems_from_validation_error
from tasks.core.config_expectations import Between, Comparison, Exists, Expectation, parse_expectation
from tasks.core.config_fields import DottedName, Name
from tasks.core.config_models import (
    DockerfileImage,
    DomainSpec,
    ImageSpecImages,
    ModelSource,
    NotificationSettings,
    OipServing,
    SageMakerServing,
    SecretRef,
    ServingSpec,
    SlackSettings,
    SmokeRequest,
    Spec,
    ValidationSpec,
    named_entries,
    unique_entries,
)
from tasks.core.config_yaml import MAX_CONFIG_BYTES, decode_config_bytes, load_yaml_mapping
from tasks.core.errors import InvalidConfig, SourceNotFound

__all__ = [
    "CONFIG_FILE_NAME",
    "CONFIG_VERSION",
    "Between",
    "Comparison",
    "DockerfileImage",
    "DomainSpec",
    "Exists",
    "Expectation",
    "ImageSpecImages",
    "ModelSource",
    "NotificationSettings",
    "OipServing",
    "PipelineConfig",
    "SageMakerServing",
    "SecretRef",
    "ServingSpec",
    "SlackSettings",
    "SmokeRequest",
    "ValidationSpec",
    "export_json_schema",
    "load_pipeline_config",
    "parse_expectation",
    "parse_pipeline_config",
]

logger = logging.getLogger(__name__)

CONFIG_FILE_NAME = "taxiway.yaml"
#: The taxiway.yaml format this code reads; bump it (and migrate) on incompatible changes.
CONFIG_VERSION = 1
SCHEMA_ID = "https://taxiway.dev/schemas/taxiway.schema.json"


def _check_version(value: Any) -> int:
    if type(value) is int and value == CONFIG_VERSION:
        return value
    raise ValueError(f"expected {CONFIG_VERSION}, the taxiway.yaml format version this Taxiway reads")


ConfigVersion = Annotated[
    int,
    PlainValidator(_check_version),
    WithJsonSchema({"const": CONFIG_VERSION, "description": "Format version of taxiway.yaml."}),
]


class PipelineConfig(Spec):
    """A pipeline's taxiway.yaml: what to register, the domains in promotion order, and the checks."""

    version: ConfigVersion
    pipeline: Name = Field(description="Name of the pipeline, used in labels and execution names.")
    project: Name = Field(description="Flyte project; defaults to the pipeline name.")
    packages: Annotated[tuple[DottedName, ...], AfterValidator(unique_entries)] = Field(
        min_length=1, description="Python packages to serialize and register, e.g. ['training.workflows']."
    )
    image: DockerfileImage | None = Field(default=None, description="The pipeline's image, built from a Dockerfile.")
    image_specs: ImageSpecImages | None = Field(
        default=None, description="The pipeline's flytekit ImageSpec images (with or instead of `image`)."
    )
    domains: Annotated[tuple[DomainSpec, ...], BeforeValidator(named_entries)] = Field(
        min_length=1,
        description="Domains in promotion order: a list of entries with a name, or a mapping name -> settings.",
    )
    validation: Annotated[tuple[ValidationSpec, ...], BeforeValidator(named_entries)] = Field(
        default=(), description="Validation cases, as a list or a mapping name -> case."
    )
    serving: ServingSpec | None = Field(default=None, description="Where validated models are rolled out.")
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)

    @model_validator(mode="before")
    @classmethod
    def _default_project(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "project" not in data:
            pipeline = data.get("pipeline")
            # With an invalid pipeline name, validation fails on `pipeline` anyway; the placeholder
            # keeps a second, misleading "project: required key is missing" out of the report.
            return {**data, "project": pipeline if _is_valid_name(pipeline) else "invalid-pipeline-name"}
        return data

    @model_validator(mode="after")
    def _cross_references(self) -> PipelineConfig:
        problems = cross_reference_problems(self)
        if problems:
            raise PydanticCustomError(
                CROSS_REFERENCE_ERROR,
                "{summary}",
                {"summary": "; ".join(f"{path}: {message}" for path, message in problems), "problems": problems},
            )
        return self

    @property
    def domain_names(self) -> tuple[str, ...]:
        """Domain names in promotion order."""
        return tuple(domain.name for domain in self.domains)

    def domain(self, name: str) -> DomainSpec:
        """The domain called ``name``.

        :raises InvalidConfig: if the pipeline has no such domain.
        """
        for domain in self.domains:
            if domain.name == name:
                return domain
        raise InvalidConfig(
            f"unknown domain {name!r}",
            where=f"pipeline {self.pipeline}",
            fix=f"use one of {', '.join(self.domain_names)} (the domains in its taxiway.yaml)",
        )

    def next_domain(self, name: str) -> DomainSpec | None:
        """The domain a release in ``name`` is promoted to, or None after the last one."""
        index = self.domain_names.index(self.domain(name).name)
        return self.domains[index + 1] if index + 1 < len(self.domains) else None

    def previous_domain(self, name: str) -> DomainSpec | None:
        """The domain a release comes from when promoted into ``name``, or None for the first one."""
        index = self.domain_names.index(self.domain(name).name)
        return self.domains[index - 1] if index > 0 else None

    def validations_in(self, name: str) -> tuple[ValidationSpec, ...]:
        """The validation cases that run in domain ``name``, in file order."""
        self.domain(name)
        return tuple(case for case in self.validation if case.domains is None or name in case.domains)

    @property
    def serving_domain(self) -> str | None:
        """The domain whose validated release is rolled out to serving (default: the last one)."""
        if self.serving is None:
            return None
        return self.serving.domain or self.domains[-1].name


def _is_valid_name(value: Any) -> bool:
    try:
        TypeAdapter(Name).validate_python(value)
    except ValidationError:
        return False
    return True


def parse_pipeline_config(text: str, source: str = CONFIG_FILE_NAME) -> PipelineConfig:
    """Parse and validate the text of a taxiway.yaml.

    :param text: the YAML text.
    :param source: the file name used in error messages.
    :raises InvalidConfig: listing every problem found.
    """
    raw = load_yaml_mapping(text, source)
    try:
        config = PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        problems = problems_from_validation_error(exc, raw, PipelineConfig, source)
        raise InvalidConfig.from_problems(source, problems) from None
    logger.debug(
        "pipeline config loaded source=%s pipeline=%s domains=%s", source, config.pipeline, config.domain_names
    )
    return config


def load_pipeline_config(path: Path) -> PipelineConfig:
    """Read, parse and validate a taxiway.yaml file.

    :raises SourceNotFound: if the file does not exist or is not a file.
    :raises InvalidConfig: if it is too large, not UTF-8, not YAML, or invalid (every problem listed).
    """
    source = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise SourceNotFound(
            "pipeline config file not found",
            where=source,
            fix=f"pass the path of the pipeline's {CONFIG_FILE_NAME} (see tasks/core/CONFIG.md for an example)",
        ) from None
    return parse_pipeline_config(decode_config_bytes(data, source), source)


def export_json_schema() -> dict[str, Any]:
    """The JSON schema of taxiway.yaml (committed as ``taxiway.schema.json`` for editors)."""
    schema = PipelineConfig.model_json_schema(mode="validation")
    schema["title"] = "taxiway.yaml"
    # `project` is filled in from `pipeline` before validation, so the file may leave it out.
    schema["required"] = [key for key in schema["required"] if key != "project"]
    for field, definition in (("domains", "DomainSpec"), ("validation", "ValidationSpec")):
        _allow_mapping_form(schema, field, definition)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _allow_mapping_form(schema: dict[str, Any], field: str, definition: str) -> None:
    """Document that a named list may also be written as a mapping ``name -> entry without name``."""
    defs = schema["$defs"]
    entry = copy.deepcopy(defs[definition])
    entry["required"] = [key for key in entry.get("required", []) if key != "name"]
    entry["title"] = f"{definition} (mapping form)"
    defs[f"{definition}Entry"] = entry
    prop = schema["properties"][field]
    as_list = {key: prop.pop(key) for key in ("type", "items", "minItems") if key in prop}
    as_mapping: dict[str, Any] = {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z][a-z0-9_-]*$"},
        "additionalProperties": {"anyOf": [{"$ref": f"#/$defs/{definition}Entry"}, {"type": "null"}]},
    }
    if "minItems" in as_list:
        as_mapping["minProperties"] = as_list["minItems"]
    prop["anyOf"] = [as_list, as_mapping]
