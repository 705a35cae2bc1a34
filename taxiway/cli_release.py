"""``taxiway status | plan | diff | promote | rollback | approve | reject``: releases across domains.

``status``, ``plan`` and ``diff`` only read from Flyte (active launch plans, registered versions,
matchable attributes, validation and promotion executions); ``promote`` and ``rollback`` launch the
meta-workflows (with deterministic names) in the project/domain where Taxiway's entities run;
``approve``/``reject`` answer a promotion waiting at its approval gate.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click
from flytekit.remote import FlyteRemote

from tasks.core.config import PipelineConfig, load_pipeline_config
from tasks.core.config_governance import ApprovalPolicySpec
from tasks.core.errors import TaxiwayError
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.governance_policy import FLYTE, ApprovalDecision, Verdict, describe
from tasks.core.governance_signals import FlyteSignals, NotAccepted, read_request, submit
from tasks.core.governance_state import FlyteGovernanceState, Freeze, Hold, set_freeze, set_hold
from tasks.core.promote import PromotionPorts, check_promotion
from tasks.core.promote_admin import FlyteLaunchPlans
from tasks.core.promote_flyte import FlyteExecutions
from tasks.core.promote_lock import FlytePromotions
from tasks.core.promote_names import promotion_execution_name, rollback_execution_name
from tasks.core.records import DomainRegistration, Release
from tasks.core.status import diff_domains, domain_status, plan_promotion, read_domain_state
from tasks.core.versions import parse_release_version

EXIT_REFUSED = 3
APPROVAL_SIGNAL = "approval"  # the same as tasks.promote.APPROVAL_SIGNAL, without importing @task modules


@dataclass(frozen=True)
class Session:
    """The pipeline's config and Flyte clients, resolved once from the command line and environment."""

    config: PipelineConfig
    remotes: FlyteRemotes
    meta_project: str
    meta_domain: str

    def remote(self, domain: str) -> FlyteRemote:
        return self.remotes.for_domain(self.config.project, domain)

    @property
    def meta(self) -> FlyteRemote:
        return self.remotes.for_domain(self.meta_project, self.meta_domain)

    @property
    def launch_plans(self) -> FlyteLaunchPlans:
        return FlyteLaunchPlans(self.remote, self.config.project)

    @property
    def executions(self) -> FlyteExecutions:
        return FlyteExecutions(self.remote)


def _fail(err: TaxiwayError, code: int = 2) -> NoReturn:
    click.echo(str(err), err=True)
    raise SystemExit(code)


pass_session = click.make_pass_decorator(Session)


def _check_domains(session: Session, *names: str) -> None:
    """Refuse a domain the pipeline does not configure before anything talks to Flyte."""
    for name in names:
        try:
            session.config.domain(name)
        except TaxiwayError as err:
            _fail(err)


def _check_version(version: str) -> None:
    try:
        parse_release_version(version)
    except TaxiwayError as err:
        _fail(err)


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
        _fail(err)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    ctx.obj = Session(config, FlyteRemotes(settings), meta_project, meta_domain)


@release_group.command(name="status")
@pass_session
def status_command(session: Session) -> None:
    """Per domain: the active version, the promotion that activated it, its validation verdict."""
    history = FlytePromotions(session.meta)
    for domain in session.config.domain_names:
        state = read_domain_state(session.launch_plans, session.config.pipeline, domain)
        status = domain_status(session.config, state, session.executions, history)
        click.echo(f"{domain:<12} {status.active_version or '(none active)':<20} validation={status.validation or '-'}"
                   f" promoted_by={status.promoted_by or '-'} at={status.promoted_at or '-'}")  # fmt: skip
        for name in status.active_launch_plans:
            click.echo(f"{'':<12} active {name}")
        governance = _state(session).read(domain)
        if governance.freeze:
            frozen = governance.freeze
            click.echo(f"{'':<12} FROZEN since {frozen.at} by {frozen.by}: {frozen.reason}")
        if governance.hold:
            hold = governance.hold
            click.echo(f"{'':<12} HELD at {hold.version} since {hold.at} by {hold.by}: {hold.reason}")


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
        _fail(err)
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
    from tasks.validate import find_release  # the @task module: only when a release must be looked up

    found = find_release(session.meta, version)
    return found[0] if found else None


@release_group.command(name="diff")
@click.argument("left")
@click.argument("right")
@pass_session
def diff_command(session: Session, left: str, right: str) -> None:
    """Entities, active versions, schedules and settings that differ between domains LEFT and RIGHT."""
    _check_domains(session, left, right)
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
    _check_version(version)
    _check_domains(session, to_domain)
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
    _check_domains(session, domain)
    if to_version:
        _check_version(to_version)
    name = rollback_execution_name(session.config.pipeline, domain, to_version, str(time.time_ns()))
    _launch(session, "taxiway.rollback", name, {"pipeline": session.config.pipeline, "domain": domain,
                                                "to_version": to_version})  # fmt: skip


def _launch(session: Session, launch_plan: str, name: str, inputs: dict[str, str]) -> None:
    meta = session.meta
    plan = meta.fetch_launch_plan(session.meta_project, session.meta_domain, launch_plan)
    execution = meta.execute(plan, inputs=inputs, execution_name=name, wait=False)
    click.echo(f"{execution.id.name} {meta.generate_console_url(execution)}")


def _decide(session: Session, execution: str, approver: str, verdict: Verdict, comment: str) -> None:
    """Record a CLI decision through the same policy path as Slack (identity ``flyte:<--as>``)."""
    full = execution if execution.count("/") == 2 else f"{session.meta_project}/{session.meta_domain}/{execution}"
    signals = FlyteSignals(session.meta)
    request, _, _ = read_request(signals, full)
    if request is None:  # a promotion from before issue 13: answer its gate directly, as before
        value = approver if verdict is Verdict.APPROVE else f"reject: {approver}: {comment}"
        session.meta.set_signal(APPROVAL_SIGNAL, full.rsplit("/", 1)[1], value, python_type=str)
        click.echo(f"{verdict}d {execution} as {approver} (no approval policy request: gate answered directly)")
        return
    policy = session.config.domain(request.domain).governance.approval or ApprovalPolicySpec()
    now = datetime.now(UTC)
    result = submit(signals, full, ApprovalDecision(f"{FLYTE}:{approver}", verdict, now.isoformat(), comment),
                    policy, now)  # fmt: skip
    if isinstance(result, NotAccepted):
        click.echo(f"not recorded: {result.reason}", err=True)
        raise SystemExit(EXIT_REFUSED)
    click.echo(f"{verdict}d {execution} as {approver}: {describe(result.outcome)}")


@release_group.command(name="approve")
@click.argument("execution")
@click.option("--as", "approver", required=True, help="Your Flyte identity (recorded in the promotion record).")
@click.option("--comment", default="")
@pass_session
def approve_command(session: Session, execution: str, approver: str, comment: str) -> None:
    """Approve the promotion EXECUTION waiting at its approval gate (counts towards its N-of-M policy)."""
    _decide(session, execution, approver, Verdict.APPROVE, comment)


@release_group.command(name="reject")
@click.argument("execution")
@click.option("--as", "approver", required=True)
@click.option("--reason", required=True)
@pass_session
def reject_command(session: Session, execution: str, approver: str, reason: str) -> None:
    """Reject the promotion EXECUTION: it ends with nothing activated."""
    _decide(session, execution, approver, Verdict.REJECT, reason)


def _state(session: Session) -> FlyteGovernanceState:
    return FlyteGovernanceState(session.remote, session.config.project, session.config.pipeline)


def _who() -> str:
    return os.environ.get("USER", "") or "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@release_group.command(name="freeze")
@click.argument("domain")
@click.option("--reason", required=True)
@pass_session
def freeze_command(session: Session, domain: str, reason: str) -> None:
    """Stop the line: no promotion (scheduled or manual) starts in DOMAIN until `taxiway unfreeze`."""
    _check_domains(session, domain)
    set_freeze(_state(session), domain, Freeze(reason, _who(), _now()))
    click.echo(f"froze {domain}: {reason}")


@release_group.command(name="unfreeze")
@click.argument("domain")
@pass_session
def unfreeze_command(session: Session, domain: str) -> None:
    """Lift DOMAIN's freeze."""
    _check_domains(session, domain)
    set_freeze(_state(session), domain, None)
    click.echo(f"unfroze {domain}")


@release_group.command(name="pin")
@click.argument("domain")
@click.option("--reason", required=True)
@pass_session
def pin_command(session: Session, domain: str, reason: str) -> None:
    """Hold DOMAIN at its active release: the nightly does not promote over it."""
    _check_domains(session, domain)
    state = read_domain_state(session.launch_plans, session.config.pipeline, domain)
    version = domain_status(session.config, state, session.executions, FlytePromotions(session.meta)).active_version
    set_hold(_state(session), domain, Hold(version, reason, _who(), _now()))
    click.echo(f"held {domain} at {version or '(none active)'}: {reason}")


@release_group.command(name="release-hold")
@click.argument("domain")
@pass_session
def release_hold_command(session: Session, domain: str) -> None:
    """Lift DOMAIN's hold (a rollback's or a pin's)."""
    _check_domains(session, domain)
    set_hold(_state(session), domain, None)
    click.echo(f"released the hold on {domain}")


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
