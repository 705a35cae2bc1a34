"""``taxiway status | plan | diff | promote | rollback``: releases across domains (and, from
:mod:`taxiway.cli_governance`, ``approve | reject | freeze | unfreeze | pin | release-hold``).

``status``, ``plan`` and ``diff`` only read from Flyte (active launch plans, registered versions,
matchable attributes, validation and promotion executions, pending approval requests); ``promote`` and
``rollback`` launch the meta-workflows (with deterministic names) in the project/domain where Taxiway's
entities run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from tasks.core.config import load_pipeline_config
from tasks.core.errors import TaxiwayError
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.governance_policy import describe
from tasks.core.promote import PromotionPorts, check_promotion
from tasks.core.promote_lock import FlytePromotions
from tasks.core.promote_names import promotion_execution_name, rollback_execution_name
from tasks.core.promote_releases import find_release
from tasks.core.records import DomainRegistration, Release
from tasks.core.status import diff_domains, domain_status, plan_promotion, read_domain_state
from taxiway.cli_governance import GOVERNANCE_COMMANDS, pending_by_domain
from taxiway.cli_session import Session, check_domains, check_version, fail, governance_state, pass_session


@click.group(name="release")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default="taxiway.yaml",
              show_default=True, help="The pipeline's taxiway.yaml.")  # fmt: skip
@click.option("--meta-project", default="taxiway", show_default=True, help="Where Taxiway's meta-workflows run.")
@click.option("--meta-domain", default="development", show_default=True)
@click.pass_context
def release_group(ctx: click.Context, config_path: Path, meta_project: str, meta_domain: str) -> None:
    """Releases across domains: status, plan, diff, promote, rollback, approve, reject.

    FlyteAdmin is ``$FLYTE_PLATFORM_URL`` (``source .stack/env`` for the local stack).
    """
    try:
        config = load_pipeline_config(config_path)
        settings = FlyteSettings.from_env(os.environ)
    except TaxiwayError as err:
        fail(err)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    ctx.obj = Session(config, FlyteRemotes(settings), meta_project, meta_domain)


@release_group.command(name="status")
@pass_session
def status_command(session: Session) -> None:
    """Per domain: the active version, the promotion that activated it, its validation verdict, freezes, holds
    and promotions waiting for approval."""
    history = FlytePromotions(session.meta)
    pending = pending_by_domain(session)
    for domain in session.config.domain_names:
        state = read_domain_state(session.launch_plans, session.config.pipeline, domain)
        status = domain_status(session.config, state, session.executions, history)
        click.echo(f"{domain:<12} {status.active_version or '(none active)':<20} validation={status.validation or '-'}"
                   f" promoted_by={status.promoted_by or '-'} at={status.promoted_at or '-'}")  # fmt: skip
        for name in status.active_launch_plans:
            click.echo(f"{'':<12} active {name}")
        governance = governance_state(session).read(domain)
        if governance.freeze:
            frozen = governance.freeze
            click.echo(f"{'':<12} FROZEN since {frozen.at} by {frozen.by}: {frozen.reason}")
        if governance.hold:
            hold = governance.hold
            click.echo(f"{'':<12} HELD at {hold.version} since {hold.at} by {hold.by}: {hold.reason}")
        for item in pending.get(domain, []):
            request = item.request
            where = describe(item.outcome) if item.outcome is not None else "waiting for approval"
            click.echo(f"{'':<12} PENDING APPROVAL of {request.version} by {request.execution}: {where} "
                       f"(deadline {request.deadline}; slack ts {request.slack_ts or '-'})")  # fmt: skip


@release_group.command(name="plan")
@click.argument("version")
@click.option("--to", "to_domain", required=True, help="The target domain.")
@click.option("--override-reason", default="", help="As `promote` would get it.")
@pass_session
def plan_command(session: Session, version: str, to_domain: str, override_reason: str) -> None:
    """What promoting VERSION into --to would register, configure, validate and activate. Changes nothing."""
    config = session.config
    release = _release_of(session, version)
    ports = PromotionPorts(session.executions, session.launch_plans, FlytePromotions(session.meta), _no_register,
                           lambda uri: True)  # fmt: skip
    try:
        decision = check_promotion(config, release, version, to_domain, ports, override_reason)
        previous = config.previous_domain(to_domain)
    except TaxiwayError as err:
        fail(err)
    source = read_domain_state(session.launch_plans, config.pipeline, previous.name if previous else to_domain)
    target = read_domain_state(session.launch_plans, config.pipeline, to_domain)
    plan = plan_promotion(config, version, to_domain, source, target, str(decision))
    click.echo(f"decision: {plan.decision}")
    click.echo(f"register into {to_domain}: {', '.join(plan.register) or '(already registered)'}")
    for change in plan.configure:
        click.echo(f"configure {change.key}: {change.current or '-'} -> {change.planned or '-'}")
    click.echo(f"validate: {', '.join(plan.validate) or '(no cases)'}")
    for change in plan.activate:
        click.echo(f"activate {change.key}: {change.current or '-'} -> {change.planned}")
    for entry in plan.deactivate:
        click.echo(f"deactivate {entry}")


def _no_register(domain: object) -> DomainRegistration:
    raise AssertionError("plan never registers")  # pragma: no cover - check_promotion does not register


def _release_of(session: Session, version: str) -> Release | None:
    found = find_release(session.meta, version)
    return found[0] if found else None


@release_group.command(name="diff")
@click.argument("left")
@click.argument("right")
@pass_session
def diff_command(session: Session, left: str, right: str) -> None:
    """Entities, active versions, schedules and settings that differ between domains LEFT and RIGHT."""
    check_domains(session, left, right)
    entries = diff_domains(
        read_domain_state(session.launch_plans, session.config.pipeline, left),
        read_domain_state(session.launch_plans, session.config.pipeline, right),
    )
    if not entries:
        click.echo(f"{left} and {right} do not differ")
    for entry in entries:
        click.echo(f"{entry.kind:<9} {entry.key}: {left}={entry.left or '-'} {right}={entry.right or '-'}")


@release_group.command(name="promote")
@click.argument("version")
@click.option("--to", "to_domain", required=True)
@click.option("--override-reason", default="", help="Allow skipping a domain or going backwards (recorded).")
@pass_session
def promote_command(session: Session, version: str, to_domain: str, override_reason: str) -> None:
    """Launch promote_pipeline for VERSION into --to (a deterministic name: launching twice runs once)."""
    check_version(version)
    check_domains(session, to_domain)
    name = promotion_execution_name(session.config.pipeline, version, to_domain)
    inputs = {"pipeline": session.config.pipeline, "version": version, "to_domain": to_domain,
              "override_reason": override_reason}  # fmt: skip
    _launch(session, "taxiway.promote", name, inputs)


@release_group.command(name="rollback")
@click.option("--domain", required=True)
@click.option("--to", "to_version", default="", help="The release to re-activate (default: the previous one).")
@pass_session
def rollback_command(session: Session, domain: str, to_version: str) -> None:
    """Launch rollback_pipeline: re-activate the previous (or --to) validated release in --domain."""
    check_domains(session, domain)
    if to_version:
        check_version(to_version)
    name = rollback_execution_name(session.config.pipeline, domain, to_version, str(time.time_ns()))
    _launch(session, "taxiway.rollback", name, {"pipeline": session.config.pipeline, "domain": domain,
                                                "to_version": to_version})  # fmt: skip


def _launch(session: Session, launch_plan: str, name: str, inputs: dict[str, str]) -> None:
    meta = session.meta
    plan = meta.fetch_launch_plan(session.meta_project, session.meta_domain, launch_plan)
    execution = meta.execute(plan, inputs=inputs, execution_name=name, wait=False)
    click.echo(f"{execution.id.name} {meta.generate_console_url(execution)}")


for _command in GOVERNANCE_COMMANDS:
    release_group.add_command(_command)


def attach_release_commands(cli: click.Group) -> None:
    """Add the release commands to ``taxiway`` (``taxiway status``, ``taxiway plan ...``)."""
    for command in release_group.commands.values():
        cli.add_command(_with_session_options(command))


def _with_session_options(command: click.Command) -> click.Command:
    """The command with the group's options (--config, --meta-project, --meta-domain) and its session setup."""
    params = [param for param in release_group.params if param.name not in {p.name for p in command.params}]
    callback = command.callback
    assert callback is not None

    @click.pass_context
    def run(ctx: click.Context, config_path: Path, meta_project: str, meta_domain: str, **kwargs: object) -> None:
        ctx.invoke(release_group.callback, config_path=config_path, meta_project=meta_project,  # type: ignore[arg-type]
                   meta_domain=meta_domain)  # fmt: skip
        ctx.invoke(callback, **kwargs)

    return click.Command(command.name, params=[*command.params, *params], callback=run, help=command.help)
