"""The ``taxiway`` command line: check a taxiway.yaml and print its JSON schema.

Later issues add ``status``, ``plan``, ``diff`` and ``promote``. Exit codes: 0 success, 1 an
unexpected Taxiway error, 2 invalid input (a bad config file or bad usage).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from tasks.core.config import PipelineConfig, export_json_schema, load_pipeline_config
from tasks.core.config_fields import format_duration
from tasks.core.errors import InvalidConfig, SourceNotFound
from taxiway.cli_release import attach_release_commands

#: Exit code for input the user has to fix (click uses 2 for usage errors too).
EXIT_INVALID = 2


@click.group(name="taxiway", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages to stderr.")
def cli(verbose: bool) -> None:
    """Taxiway: CI/CD for Flyte pipelines, written as Flyte workflows."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@cli.group(name="config")
def config_group() -> None:
    """Check and describe taxiway.yaml files."""


@config_group.command(name="validate")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def validate_command(path: Path) -> None:
    """Validate the taxiway.yaml at PATH and print a summary; exit 2 if it is invalid."""
    try:
        config = load_pipeline_config(path)
    except (InvalidConfig, SourceNotFound) as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_INVALID) from None
    click.echo(summarize(config, str(path)))


@config_group.command(name="schema")
def schema_command() -> None:
    """Print the JSON schema of taxiway.yaml (the content of taxiway.schema.json)."""
    click.echo(json.dumps(export_json_schema(), indent=2))


def summarize(config: PipelineConfig, source: str) -> str:
    """A few human lines describing a valid config."""
    domains = " -> ".join(
        f"{domain.name} (approval, {format_duration(domain.approval_timeout)} timeout)"
        if domain.requires_approval
        else domain.name
        for domain in config.domains
    )
    lines = [
        f"{source}: valid",
        f"  pipeline: {config.pipeline} (Flyte project {config.project})",
        f"  packages: {', '.join(config.packages)}",
        f"  image: {config.image.repository if config.image else 'none (default image)'}",
        f"  domains: {domains}",
    ]
    for case in config.validation:
        where = ", ".join(case.domains) if case.domains is not None else "all domains"
        checks = "; ".join(str(expectation) for expectation in case.expectations) or "execution succeeds"
        lines.append(f"  validation {case.name}: {case.launch_plan} in {where}: {checks}")
    if config.serving is not None:
        target = config.serving.url if config.serving.kind == "oip" else config.serving.endpoint_name
        lines.append(f"  serving: {config.serving.kind} {target} from {config.serving_domain}")
    slack = config.notifications.slack
    lines.append(f"  notifications: {'slack ' + slack.channel if slack else 'none'}")
    return "\n".join(lines)


attach_release_commands(cli)


def main() -> None:
    """Console-script entry point (``taxiway = "taxiway.cli:main"``)."""
    cli(prog_name="taxiway")
