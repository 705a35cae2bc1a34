"""``python -m approvals serve --port 30093 --state-dir DIR --config taxiway.yaml [...]``.

The Slack signing secret comes from ``$SLACK_SIGNING_SECRET`` or ``--signing-secret-file`` (a mounted
Flyte/Kubernetes secret); the bot token for ``chat.update`` from ``$TAXIWAY_SLACK_TOKEN``; FlyteAdmin from
``$FLYTE_PLATFORM_URL`` (``source .stack/env``). Secrets are never logged.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Mapping
from pathlib import Path

from flytekit.remote import FlyteRemote

from approvals.groups import SlackGroups
from approvals.server import ApprovalsServer
from approvals.service import ApprovalsApp
from approvals.signature import ReplayGuard
from tasks.core.config import load_pipeline_config
from tasks.core.errors import TaxiwayError
from tasks.core.flyte_clients import FlyteSettings
from tasks.core.governance_requests import FlyteRunning
from tasks.core.governance_signals import FlyteSignals
from tasks.core.notify_slack import SlackTransport, WebApiTransport, web_client

READY_LINE = "approvals serving on 127.0.0.1:"
logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="approvals", description="Answers Slack approval buttons for Taxiway.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Serve POST /slack/interactions on 127.0.0.1.")
    serve.add_argument("--port", type=int, default=30093)
    serve.add_argument("--state-dir", type=Path, required=True, help="Holds the replay guard's SQLite file.")
    serve.add_argument("--config", type=Path, action="append", required=True, help="A pipeline's taxiway.yaml.")
    serve.add_argument("--signing-secret-file", type=Path, help="File holding Slack's signing secret.")
    serve.add_argument("--slack-api-url", default="", help="Slack Web API base URL, e.g. http://127.0.0.1:30091/api/.")
    serve.add_argument("--meta-project", default="taxiway", help="Where promotions run (the expiry sweep looks there).")
    serve.add_argument("--meta-domain", default="development")
    serve.add_argument("--sweep-seconds", type=float, default=10.0,
                       help="How often approvals past their deadline are rejected (0: never).")  # fmt: skip
    return parser


def signing_secret(path: Path | None, environ: Mapping[str, str]) -> str:
    """The signing secret from the file, else ``$SLACK_SIGNING_SECRET``.

    :raises SystemExit: when there is none (the service would refuse every request).
    """
    secret = path.read_text().strip() if path else environ.get("SLACK_SIGNING_SECRET", "")
    if not secret:
        raise SystemExit("no Slack signing secret: set SLACK_SIGNING_SECRET or pass --signing-secret-file")
    return secret


def _stop(*_: object) -> None:
    # serve_forever runs in this thread, so shutdown() would deadlock; unwind it instead.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the service until SIGTERM/SIGINT."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        configs = [load_pipeline_config(path) for path in args.config]
        settings = FlyteSettings.from_env(os.environ)
    except (TaxiwayError, ValueError) as err:
        raise SystemExit(str(err)) from None
    token = os.environ.get("TAXIWAY_SLACK_TOKEN", "")
    client = web_client(token, args.slack_api_url or None) if token else None
    slack: SlackTransport | None = WebApiTransport(client) if client else None
    remote = FlyteRemote(settings.to_config())
    replay = ReplayGuard(args.state_dir / "replay.sqlite")
    app = ApprovalsApp(signing_secret(args.signing_secret_file, os.environ), configs, FlyteSignals(remote), replay,
                       slack, SlackGroups(client) if client else None, running=FlyteRunning(remote),
                       scopes=[(args.meta_project, args.meta_domain)])  # fmt: skip
    server = ApprovalsServer(args.port, app)
    stopped = threading.Event()
    if args.sweep_seconds > 0:
        threading.Thread(
            target=sweep_forever, args=(app, args.sweep_seconds, stopped), name="sweep", daemon=True
        ).start()
    signal.signal(signal.SIGTERM, _stop)
    print(f"{READY_LINE}{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stopped.set()
        server.server_close()
        replay.close()
    return 0


def sweep_forever(app: ApprovalsApp, every: float, stopped: threading.Event) -> None:
    """Expire approvals past their deadline every ``every`` seconds until ``stopped``; errors are logged."""
    while not stopped.wait(every):
        try:
            for rejected in app.sweep():
                logger.info("approval expired: %s", rejected.why)
        except Exception:  # FlyteAdmin away for a moment must not end the sweep
            logger.exception("approval sweep failed; retrying in %ss", every)
