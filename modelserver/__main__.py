"""``python -m modelserver serve``: write MLServer's settings.json and exec ``mlserver start``.

Run it with the model server venv's interpreter (``modelserver/install.sh`` prints it)::

    $VENV/bin/python -m modelserver serve --port 30092 --grpc-port 30094 \\
        --repository s3://taxiway-models/serving --state-dir .stack/model_server
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

READY_LINE = "Uvicorn running on"


def settings_document(port: int, grpc_port: int, repository: str) -> dict[str, object]:
    """MLServer's server settings: loopback only, no metrics port, inference in the server process."""
    return {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": grpc_port,
        "metrics_endpoint": None,
        "parallel_workers": 0,
        "load_models_at_startup": True,
        "model_repository_implementation": "modelserver.repository.S3ModelRepository",
        "model_repository_implementation_args": {"uri": repository},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m modelserver")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the S3 serving repository over OIP v2 on 127.0.0.1")
    serve.add_argument("--port", type=int, default=30092, help="HTTP port (OIP v2 REST)")
    serve.add_argument("--grpc-port", type=int, default=30094, help="gRPC port (MLServer always opens one)")
    serve.add_argument("--repository", default="s3://taxiway-models/serving", help="s3://bucket/prefix")
    serve.add_argument("--state-dir", type=Path, required=True, help="where settings.json is written")
    args = parser.parse_args(argv)
    args.state_dir.mkdir(parents=True, exist_ok=True)
    settings = settings_document(args.port, args.grpc_port, args.repository)
    (args.state_dir / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    mlserver = Path(sys.executable).with_name("mlserver")
    # Exec rather than wrap: the stack's pid file and signals then reach MLServer itself.
    os.execv(str(mlserver), [str(mlserver), "start", str(args.state_dir)])


if __name__ == "__main__":
    main()
