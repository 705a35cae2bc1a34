"""Which model a rollout serves: the model output of the release's validated execution in a domain.

The evidence is the release's validation in that domain, read back from Flyte with
:func:`tasks.core.validate.inspect_validation` (the deterministic execution names promotion and
``ci_pipeline`` use); nothing is launched. A release that was never validated there, or whose
validation did not pass, is refused (:class:`~tasks.core.rollout_errors.RolloutRefused`); a passed
execution without the configured model output is :class:`~tasks.core.errors.SourceNotFound`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tasks.core.config import PipelineConfig
from tasks.core.config_expectations import MISSING
from tasks.core.config_models import OipServing, SageMakerServing
from tasks.core.errors import InvalidConfig, SourceNotFound
from tasks.core.model_store import numeric_metrics
from tasks.core.promote import validation_request
from tasks.core.promote_outputs import with_single_output_alias
from tasks.core.records import Release
from tasks.core.rollout import RolloutRequest
from tasks.core.rollout_errors import RolloutRefused
from tasks.core.validate import ExecutionPort, inspect_validation

logger = logging.getLogger(__name__)

#: The output whose numeric fields are stored with the model as its metrics (the example's ``metrics``).
METRICS_OUTPUT = "metrics"


@dataclass(frozen=True)
class ValidatedModel:
    """The model output of a release's passed validation execution in one domain.

    :param case: the validation case whose execution produced it (``serving.source.validation``).
    :param execution_id: ``project/domain/name`` of that execution.
    :param console_url: its Flyte console link.
    :param model_uri: the output's blob URI (``s3://...``).
    :param metrics: the execution's numeric metrics, stored with the model.
    """

    pipeline: str
    version: str
    domain: str
    git_sha: str
    case: str
    execution_id: str
    console_url: str
    model_uri: str
    metrics: dict[str, float] = field(default_factory=dict)

    def request(self) -> RolloutRequest:
        """What :func:`tasks.core.rollout.roll_out` needs."""
        return RolloutRequest(
            self.pipeline, self.version, self.model_uri, self.git_sha, self.execution_id, dict(self.metrics)
        )


def serving_spec(config: PipelineConfig) -> OipServing | SageMakerServing:
    """The ``serving`` section, or a clear error when the pipeline has none."""
    if config.serving is None:
        raise InvalidConfig(
            f"pipeline {config.pipeline} has no serving section: there is nowhere to roll a model out to",
            where="serving",
            fix="add a serving section (kind: oip or sagemaker) to taxiway.yaml; see docs/rollout.md",
        )
    return config.serving


def rollout_domain(config: PipelineConfig, domain: str) -> str:
    """``domain``, or taxiway.yaml's ``serving.domain`` (default: the last domain) when empty.

    :raises InvalidConfig: if the pipeline has no such domain or no serving section.
    """
    serving_spec(config)
    return config.domain(domain).name if domain else str(config.serving_domain)


def locate_validated_model(
    config: PipelineConfig, release: Release, domain: str, executions: ExecutionPort
) -> ValidatedModel:
    """The model output of ``release``'s passed validation in ``domain``; reads Flyte, changes nothing.

    :param domain: where the release was validated; "" for taxiway.yaml's ``serving.domain``.
    :raises RolloutRefused: if the release is a PR build, was never validated in ``domain``, or did not pass.
    :raises SourceNotFound: if the validated execution has no model output of the configured name.
    :raises InvalidConfig: if there is no serving section or the model's validation case does not run there.
    """
    spec = serving_spec(config)
    domain = rollout_domain(config, domain)
    where = f"{config.pipeline} {release.version} in {domain}"
    if release.is_pr:
        raise RolloutRefused(
            f"release {release.version} is a pull-request build; PR releases are never served",
            where=where,
            fix="merge the change and roll out the release built from the main branch",
        )
    request = validation_request(config, release.version, domain)
    cases = {case.name: case for case in request.cases}
    if not cases:
        raise RolloutRefused(
            f"no validation case runs in {domain}, so no execution there produced a validated model",
            where=where,
            fix="add a validation case for this domain to taxiway.yaml, or roll out from another domain",
        )
    name = spec.source.validation or next(iter(cases))
    if name not in cases:
        raise InvalidConfig(
            f"validation case {name} does not run in {domain}",
            where="serving.source.validation",
            fix=f"use one of {', '.join(cases)}, or add {domain} to the case's domains",
        )
    report = inspect_validation(request, executions)
    if report is None:
        raise RolloutRefused(f"release {release.version} was never validated in {domain}", where=where)
    if not report.passed:
        raise RolloutRefused(
            f"release {release.version} did not pass validation in {domain}: {'; '.join(report.failures())}",
            where=where,
            fix="roll out a release that passed validation there (`taxiway status` lists them)",
        )
    execution = request.execution_of(cases[name])
    outputs = with_single_output_alias(executions.outputs(execution))
    model_uri = _model_uri(outputs, spec.source.output)
    if not model_uri:
        raise SourceNotFound(
            f"the validated execution has no model output {spec.source.output!r}"
            f" (its outputs: {', '.join(sorted(outputs)) or 'none'})",
            where=str(execution),
            fix="check serving.source.output in taxiway.yaml names the output that holds the model",
        )
    metrics = outputs.get(METRICS_OUTPUT)
    case_result = next(case for case in report.cases if case.case == name)
    found = ValidatedModel(
        pipeline=config.pipeline,
        version=release.version,
        domain=domain,
        git_sha=release.git_sha,
        case=name,
        execution_id=str(execution),
        console_url=case_result.console_url,
        model_uri=model_uri,
        metrics=numeric_metrics(metrics) if isinstance(metrics, Mapping) else {},
    )
    logger.info(
        "validated model found pipeline=%s version=%s domain=%s execution=%s model=%s",
        found.pipeline, found.version, domain, found.execution_id, found.model_uri,
    )  # fmt: skip
    return found


def _model_uri(outputs: Mapping[str, Any], name: str) -> str:
    """The output's URI: a blob output is converted to its URI already; a dataclass may hold it under ``path``."""
    value = outputs.get(name, MISSING)
    if isinstance(value, Mapping):
        value = value.get("path") or value.get("uri") or ""
    return value if isinstance(value, str) else ""
