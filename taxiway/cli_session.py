"""What every ``taxiway`` release and governance command shares: the session (config + Flyte clients) and checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

import click
from flytekit.remote import FlyteRemote

from tasks.core.config import PipelineConfig
from tasks.core.errors import TaxiwayError
from tasks.core.flyte_clients import FlyteRemotes
from tasks.core.governance_state import FlyteGovernanceState
from tasks.core.promote_admin import FlyteLaunchPlans
from tasks.core.promote_flyte import FlyteExecutions
from tasks.core.versions import parse_release_version

EXIT_REFUSED = 3


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


def fail(err: TaxiwayError, code: int = 2) -> NoReturn:
    """Print ``err`` (what, where, how to fix) and exit with ``code``."""
    click.echo(str(err), err=True)
    raise SystemExit(code)


pass_session = click.make_pass_decorator(Session)


def check_domains(session: Session, *names: str) -> None:
    """Refuse a domain the pipeline does not configure before anything talks to Flyte."""
    for name in names:
        try:
            session.config.domain(name)
        except TaxiwayError as err:
            fail(err)


def check_version(version: str) -> None:
    """Refuse a malformed release version before anything talks to Flyte."""
    try:
        parse_release_version(version)
    except TaxiwayError as err:
        fail(err)


def governance_state(session: Session) -> FlyteGovernanceState:
    """The pipeline's freezes and holds, kept in Flyte."""
    return FlyteGovernanceState(session.remote, session.config.project, session.config.pipeline)
