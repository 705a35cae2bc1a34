"""Checks on taxiway.yaml that involve more than one key: references between sections, uniqueness.

They run after every field is valid, so each can rely on well-typed values.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from tasks.core.config_models import DomainSpec
from tasks.core.config_yaml import format_path

if TYPE_CHECKING:
    from tasks.core.config import PipelineConfig


def _duplicates(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def cross_reference_problems(config: PipelineConfig) -> list[tuple[str, str]]:
    """Problems that involve more than one key; each as (dotted path, message)."""
    problems: list[tuple[str, str]] = []
    domains = config.domain_names
    known = ", ".join(repr(name) for name in dict.fromkeys(domains))
    for name in _duplicates(list(domains)):
        problems.append((format_path(["domains", name]), f"expected unique domain names, got {name!r} twice"))
    cases = [case.name for case in config.validation]
    for name in _duplicates(cases):
        problems.append((format_path(["validation", name]), f"expected unique case names, got {name!r} twice"))
    for case in config.validation:
        for domain in case.domains or ():
            if domain not in domains:
                path = format_path(["validation", case.name, "domains"])
                problems.append((path, f"expected one of the domains {known}, got {domain!r}"))
    for domain_spec in config.domains:
        if domain_spec.slack_channel and config.notifications.slack is None:
            problems.append(
                (
                    format_path(["domains", domain_spec.name, "slack_channel"]),
                    "a channel needs notifications.slack (channel and token_secret) to be configured",
                )
            )
        explicit_timeout = (
            "approval_timeout" in domain_spec.model_fields_set
            and domain_spec.approval_timeout != DomainSpec.model_fields["approval_timeout"].default
        )
        if explicit_timeout and not domain_spec.requires_approval:
            problems.append(
                (
                    format_path(["domains", domain_spec.name, "approval_timeout"]),
                    "only used with requires_approval: true; set it or remove approval_timeout",
                )
            )
    if config.serving is not None:
        problems.extend(_serving_problems(config, known))
    return problems


def _serving_problems(config: PipelineConfig, known: str) -> list[tuple[str, str]]:
    serving = config.serving
    assert serving is not None  # checked by the caller; narrows the type
    problems: list[tuple[str, str]] = []
    if serving.domain is not None and serving.domain not in config.domain_names:
        problems.append(("serving.domain", f"expected one of the domains {known}, got {serving.domain!r}"))
        return problems
    source_case = serving.source.validation
    if source_case is not None:
        cases = {case.name: case for case in config.validation}
        domain = config.serving_domain
        if source_case not in cases:
            problems.append(("serving.source.validation", f"expected a validation case name, got {source_case!r}"))
        elif domain is not None and cases[source_case] not in config.validations_in(domain):
            problems.append(
                (
                    "serving.source.validation",
                    f"validation case {source_case!r} does not run in {domain!r}, the domain serving rolls out from",
                )
            )
    for name in _duplicates([request.name for request in serving.smoke]):
        problems.append((format_path(["serving", "smoke", name]), f"expected unique names, got {name!r} twice"))
    return problems
