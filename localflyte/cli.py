"""``python -m localflyte serve ...`` runs the control plane in the foreground; ``tick`` advances its clock."""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path

from localflyte.settings import DEFAULT_DOMAINS, ServerSettings

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="localflyte", description="A FlyteAdmin-compatible local control plane.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve FlyteAdmin's gRPC API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=30080, help="gRPC port on 127.0.0.1 (0 picks a free one)")
    serve.add_argument("--state-dir", type=Path, default=Path(".stack/localflyte"))
    serve.add_argument("--domains", default=",".join(DEFAULT_DOMAINS), help="comma-separated domain names")
    serve.add_argument("--seed-project", action="append", default=None, help="project to create at start-up")
    serve.add_argument("--s3-endpoint", default="http://127.0.0.1:30002")
    serve.add_argument("--bucket", default="taxiway-data")
    serve.add_argument(
        "--runtime", choices=("docker", "process", "none"), default="docker",
        help="run tasks in their image (docker), as host processes (process), or not at all (none)",
    )  # fmt: skip
    serve.add_argument("--http-port", type=int, default=None, help="logs and tick endpoint (default: --port + 1)")
    serve.add_argument("--max-running", type=int, default=4, help="top-level executions running at once")
    serve.add_argument("--max-catch-up", type=int, default=10, help="missed schedule slots fired at most, per check")
    serve.add_argument(
        "--task-env", action="append", default=[], metavar="NAME=VALUE", type=_env_pair,
        help="a variable every task gets, repeatable (propeller's plugins.k8s.default-env-vars)",
    )  # fmt: skip
    serve.add_argument(
        "--secrets-dir", type=Path, default=None, metavar="DIR",
        help="local secret store DIR/<group>/<key>; requested secrets are injected as _FSEC_<GROUP>_<KEY>",
    )  # fmt: skip
    serve.add_argument("--log-level", default="INFO")
    tick = commands.add_parser("tick", help="advance a running localflyte's clock and fire due schedules")
    tick.add_argument("--port", type=int, default=30080, help="the localflyte's gRPC port")
    tick.add_argument("--http-port", type=int, default=None, help="its HTTP port (default: --port + 1)")
    amount = tick.add_mutually_exclusive_group(required=True)
    amount.add_argument("--seconds", type=float, help="move the clock forward by this many seconds")
    amount.add_argument("--to", help="move the clock to this ISO 8601 time (with a time zone)")
    return parser


def _env_pair(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` → ``(NAME, VALUE)``; the value may be empty or contain ``=``."""
    name, sep, value = text.partition("=")
    if not sep or not name or not _ENV_NAME.match(name):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with NAME made of letters, digits and _, got {text!r}")
    return name, value


def settings_from_args(arguments: argparse.Namespace) -> ServerSettings:
    domains = tuple(domain.strip() for domain in arguments.domains.split(",") if domain.strip())
    return ServerSettings(
        port=arguments.port,
        state_dir=arguments.state_dir.resolve(),
        domains=domains,
        seed_projects=tuple(arguments.seed_project or ("flytesnacks",)),
        s3_endpoint=arguments.s3_endpoint,
        bucket=arguments.bucket,
        runtime=arguments.runtime,
        http_port=arguments.http_port,
        max_running_executions=arguments.max_running,
        max_catch_up=arguments.max_catch_up,
        task_env=dict(arguments.task_env),
        secrets_dir=arguments.secrets_dir.resolve() if arguments.secrets_dir else None,
    )


def tick(arguments: argparse.Namespace) -> int:
    """POST /tick to the running localflyte; prints its answer (the executions it created) as JSON."""
    port = arguments.http_port or arguments.port + 1
    body = {"seconds": arguments.seconds} if arguments.seconds is not None else {"to": arguments.to}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/tick", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            print(response.read().decode())
    except urllib.error.HTTPError as error:
        print(f"localflyte refused the tick: {error.read().decode()}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"no localflyte HTTP endpoint on 127.0.0.1:{port} ({error}); is it running?", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if arguments.command == "tick":
        return tick(arguments)
    logging.basicConfig(level=arguments.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from localflyte.app import LocalFlyte

    instance = LocalFlyte(settings_from_args(arguments)).start()
    signal.signal(signal.SIGTERM, lambda *_: instance.stop())
    # Test fixtures and scripts/stack wait for this exact line.
    print(f"localflyte serving on 127.0.0.1:{instance.port}", flush=True)
    try:
        instance.wait()
    except KeyboardInterrupt:
        instance.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
