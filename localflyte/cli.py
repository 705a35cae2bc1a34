"""``python -m localflyte serve ...``: run the control plane in the foreground."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from localflyte.settings import DEFAULT_DOMAINS, ServerSettings


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
    serve.add_argument("--runtime", choices=("docker", "process"), default="docker")
    serve.add_argument("--log-level", default="INFO")
    return parser


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
    )


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
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
