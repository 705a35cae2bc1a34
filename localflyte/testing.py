"""Start localflyte (and a moto S3 server for it) as real subprocesses, for tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import boto3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_pair(attempts: int = 50) -> int:
    """A free port P whose neighbour P + 1 is free too (localflyte's HTTP endpoint defaults to P + 1)."""
    for _ in range(attempts):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError(f"found no two adjacent free ports on 127.0.0.1 in {attempts} attempts")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s; see {log}")


class _Subprocess:
    def __init__(self, argv: Sequence[str], port: int, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            list(argv), stdout=self._log_file, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        _wait_for_port(port, self.process, log)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()


class MotoServer(_Subprocess):
    """A moto server on a free loopback port, with the given buckets created."""

    def __init__(self, workdir: Path, buckets: Sequence[str] = ("taxiway-data",)) -> None:
        port = free_port()
        moto = Path(sys.executable).with_name("moto_server")
        super().__init__([str(moto), "-H", "127.0.0.1", "-p", str(port)], port, workdir / "moto.log")
        self.endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        for bucket in buckets:
            client.create_bucket(Bucket=bucket)


class LocalFlyteProcess(_Subprocess):
    """``python -m localflyte serve`` on a free loopback port.

    :param task_env: ``--task-env NAME=VALUE`` for each item: what every task container gets.
    :param secrets_dir: ``--secrets-dir``: the local secret store requested secrets are read from.
    """

    def __init__(
        self,
        state_dir: Path,
        s3_endpoint: str,
        bucket: str = "taxiway-data",
        runtime: str = "none",
        extra_args: Sequence[str] = (),
        port: int | None = None,
        task_env: Mapping[str, str] | None = None,
        secrets_dir: Path | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.s3_endpoint = s3_endpoint
        port = port or free_port_pair()
        argv = [
            sys.executable, "-m", "localflyte", "serve",
            "--port", str(port),
            "--state-dir", str(state_dir),
            "--s3-endpoint", s3_endpoint,
            "--bucket", bucket,
            "--runtime", runtime,
            *(arg for name, value in (task_env or {}).items() for arg in ("--task-env", f"{name}={value}")),
            *(("--secrets-dir", str(secrets_dir)) if secrets_dir is not None else ()),
            *extra_args,
        ]  # fmt: skip
        env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        super().__init__(argv, port, state_dir / "localflyte.log", env=env)
        self.endpoint = f"127.0.0.1:{port}"
        self.http_port = port + 1
