"""``python -m localslack serve ...``: run the local Slack Web API endpoint in the foreground."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from localslack.server import LocalSlack, LocalSlackServer, ServerConfig
from localslack.state import Workspace

#: Accepted when neither --token nor $LOCALSLACK_TOKENS names one (the local stack's bot token).
DEFAULT_TOKEN = "xoxb-localslack-taxiway"
TOKENS_ENV = "LOCALSLACK_TOKENS"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="localslack", description="A local Slack Web API endpoint.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the Slack Web API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=30091, help="port on 127.0.0.1 (0 picks a free one)")
    serve.add_argument("--state-dir", type=Path, default=Path(".stack/slack"), help="where messages.jsonl is kept")
    serve.add_argument(
        "--token",
        action="append",
        default=None,
        help=f"an accepted bot token (repeatable; also ${TOKENS_ENV}, comma-separated; default {DEFAULT_TOKEN})",
    )
    serve.add_argument(
        "--channel",
        action="append",
        default=None,
        help="a channel that exists (repeatable); without any, channels are created on first post",
    )
    serve.add_argument(
        "--webhook",
        action="append",
        default=None,
        metavar="ID=CHANNEL",
        help="an incoming webhook /services/ID posting to CHANNEL (repeatable); without any, every id is accepted",
    )
    serve.add_argument(
        "--usergroup",
        action="append",
        default=None,
        metavar="ID=USER,USER",
        help="a user group and its member ids, answered by usergroups.users.list (repeatable)",
    )
    serve.add_argument("--log-level", default="INFO")
    return parser


def accepted_tokens(flags: list[str] | None, environ: dict[str, str]) -> frozenset[str]:
    """Tokens from the flags and the environment; the default token when neither gives any."""
    tokens = {token.strip() for token in flags or () if token.strip()}
    tokens |= {token.strip() for token in environ.get(TOKENS_ENV, "").split(",") if token.strip()}
    return frozenset(tokens or {DEFAULT_TOKEN})


def parse_webhooks(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    """``ID=CHANNEL`` pairs; exits with a usage error naming the bad value."""
    hooks: list[tuple[str, str]] = []
    for value in values or ():
        hook_id, sep, channel = value.partition("=")
        if not sep or not hook_id.strip("/") or not channel:
            raise SystemExit(f"localslack: --webhook expects ID=CHANNEL (e.g. T0/B0/secret=#releases), got {value!r}")
        hooks.append((hook_id.strip("/"), channel))
    return tuple(hooks)


def parse_usergroups(values: list[str] | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``ID=U1,U2`` pairs; exits with a usage error naming the bad value."""
    groups: list[tuple[str, tuple[str, ...]]] = []
    for value in values or ():
        group, sep, users = value.partition("=")
        if not sep or not group.strip():
            raise SystemExit(f"localslack: --usergroup expects ID=USER,USER (e.g. S0REL=U1,U2), got {value!r}")
        groups.append((group.strip(), tuple(user.strip() for user in users.split(",") if user.strip())))
    return tuple(groups)


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    logging.basicConfig(level=arguments.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = ServerConfig(
        tokens=accepted_tokens(arguments.token, dict(os.environ)),
        webhooks=parse_webhooks(arguments.webhook),
        usergroups=parse_usergroups(arguments.usergroup),
    )
    workspace = Workspace(arguments.state_dir.resolve(), tuple(arguments.channel or ()))
    server = LocalSlackServer(arguments.port, LocalSlack(workspace, config))
    # shutdown() blocks until serve_forever returns, so it must not run on the serving thread.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    # Test fixtures and scripts/stack wait for this exact line.
    print(f"localslack serving on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        workspace.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
