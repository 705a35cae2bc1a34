"""``taxiway approve | reject | freeze | unfreeze | pin | release-hold``: decisions and governance of a pipeline.

``approve``/``reject`` answer a promotion waiting at its approval gate through the same policy path as the
Slack buttons (:func:`tasks.core.governance_signals.submit`); the others stop the line or hold a domain.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import click

from tasks.core.config_governance import ApprovalPolicySpec
from tasks.core.governance_policy import FLYTE, ApprovalDecision, Verdict, describe
from tasks.core.governance_requests import FlyteRunning, PendingApproval, pending_approvals, show_outcome
from tasks.core.governance_signals import ApprovalRequest, FlyteSignals, NotAccepted, read_request, submit
from tasks.core.governance_state import Freeze, Hold, set_freeze, set_hold
from tasks.core.notify_slack import SlackTransport, WebApiTransport, web_client
from tasks.core.promote_lock import FlytePromotions
from tasks.core.status import domain_status, read_domain_state
from taxiway.cli_session import EXIT_REFUSED, Session, check_domains, governance_state, pass_session

APPROVAL_SIGNAL = "approval"  # the same as tasks.promote.APPROVAL_SIGNAL, without importing @task modules
TOKEN_ENV, BASE_URL_ENV = "TAXIWAY_SLACK_TOKEN", "SLACK_BASE_URL"  # as tasks.notify reads them


def pending_by_domain(session: Session) -> dict[str, list[PendingApproval]]:
    """The pipeline's promotions waiting at their approval gate, per target domain."""
    config = session.config

    def policy_of(request: ApprovalRequest) -> ApprovalPolicySpec | None:
        return config.domain(request.domain).governance.approval or ApprovalPolicySpec()

    found: dict[str, list[PendingApproval]] = {}
    for item in pending_approvals(FlyteRunning(session.meta), FlyteSignals(session.meta), session.meta_project,
                                  session.meta_domain, policy_of, datetime.now(UTC)):  # fmt: skip
        if item.request.pipeline == config.pipeline and item.request.domain in config.domain_names:
            found.setdefault(item.request.domain, []).append(item)
    return found


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
    show_outcome(_slack(session), request, result.outcome, result.decisions)
    click.echo(f"{verdict}d {execution} as {approver}: {describe(result.outcome)}")


def _slack(session: Session) -> SlackTransport | None:
    """The bot token's Web API (``$TAXIWAY_SLACK_TOKEN``), to show a CLI decision in the approval message."""
    token, slack = os.environ.get(TOKEN_ENV, ""), session.config.notifications.slack
    if not token or slack is None:
        return None
    return WebApiTransport(web_client(token, slack.api_url or os.environ.get(BASE_URL_ENV) or None))


@click.command(name="approve")
@click.argument("execution")
@click.option("--as", "approver", required=True, help="Your Flyte identity (recorded in the promotion record).")
@click.option("--comment", default="")
@pass_session
def approve_command(session: Session, execution: str, approver: str, comment: str) -> None:
    """Approve the promotion EXECUTION waiting at its approval gate (counts towards its N-of-M policy)."""
    _decide(session, execution, approver, Verdict.APPROVE, comment)


@click.command(name="reject")
@click.argument("execution")
@click.option("--as", "approver", required=True)
@click.option("--reason", required=True)
@pass_session
def reject_command(session: Session, execution: str, approver: str, reason: str) -> None:
    """Reject the promotion EXECUTION: it ends with nothing activated."""
    _decide(session, execution, approver, Verdict.REJECT, reason)


def _who() -> str:
    return os.environ.get("USER", "") or "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@click.command(name="freeze")
@click.argument("domain")
@click.option("--reason", required=True)
@pass_session
def freeze_command(session: Session, domain: str, reason: str) -> None:
    """Stop the line: no promotion (scheduled or manual) starts in DOMAIN until `taxiway unfreeze`."""
    check_domains(session, domain)
    set_freeze(governance_state(session), domain, Freeze(reason, _who(), _now()))
    click.echo(f"froze {domain}: {reason}")


@click.command(name="unfreeze")
@click.argument("domain")
@pass_session
def unfreeze_command(session: Session, domain: str) -> None:
    """Lift DOMAIN's freeze."""
    check_domains(session, domain)
    set_freeze(governance_state(session), domain, None)
    click.echo(f"unfroze {domain}")


@click.command(name="pin")
@click.argument("domain")
@click.option("--reason", required=True)
@pass_session
def pin_command(session: Session, domain: str, reason: str) -> None:
    """Hold DOMAIN at its active release: the nightly does not promote over it."""
    check_domains(session, domain)
    state = read_domain_state(session.launch_plans, session.config.pipeline, domain)
    version = domain_status(session.config, state, session.executions, FlytePromotions(session.meta)).active_version
    set_hold(governance_state(session), domain, Hold(version, reason, _who(), _now()))
    click.echo(f"held {domain} at {version or '(none active)'}: {reason}")


@click.command(name="release-hold")
@click.argument("domain")
@pass_session
def release_hold_command(session: Session, domain: str) -> None:
    """Lift DOMAIN's hold (a rollback's or a pin's)."""
    check_domains(session, domain)
    set_hold(governance_state(session), domain, None)
    click.echo(f"released the hold on {domain}")


GOVERNANCE_COMMANDS = (approve_command, reject_command, freeze_command, unfreeze_command, pin_command,
                       release_hold_command)  # fmt: skip
