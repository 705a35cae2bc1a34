"""Start the model server as a real subprocess on free loopback ports, for tests and the demo.

with ModelServerProcess(tmp_path, repository="s3://taxiway-models/serving", s3_endpoint=moto.endpoint) as server:
    requests.get(f"{server.url}/v2/health/ready")

Runs from the Taxiway environment; the server itself runs from the venv ``install.sh`` makes.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_python(install: bool = True) -> Path:
    """The model server venv's interpreter; runs ``install.sh`` (minutes the first time) when ``install``."""
    if install:
        out = subprocess.run(
            ["bash", str(HERE / "install.sh")], check=True, capture_output=True, text=True, timeout=1800
        )
        return Path(out.stdout.strip().splitlines()[-1])
    digest = hashlib.sha256((HERE / "requirements.txt").read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    venv = os.environ.get("TAXIWAY_MODELSERVER_VENV") or str(cache / "taxiway" / f"modelserver-venv-{digest}")
    return Path(venv) / "bin" / "python"


class ModelServerProcess:
    """``python -m modelserver serve`` (MLServer) on free loopback ports.

    :param state_dir: where settings.json and ``model_server.log`` go.
    :param repository: the serving repository, ``s3://bucket/prefix``.
    :param s3_endpoint: S3 endpoint for the server (moto on the local stack); None for AWS itself.
    :param aws_env: AWS settings for the server (credentials are passed, never logged).
    """

    def __init__(
        self,
        state_dir: Path,
        repository: str,
        s3_endpoint: str | None = None,
        aws_env: Mapping[str, str] | None = None,
        port: int | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.port = port or free_port()
        self.state_dir = state_dir
        self.log = state_dir / "model_server.log"
        state_dir.mkdir(parents=True, exist_ok=True)
        python = venv_python()
        argv = [
            str(python), "-m", "modelserver", "serve",
            "--port", str(self.port),
            "--grpc-port", str(free_port()),
            "--repository", repository,
            "--state-dir", str(state_dir),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
        env.update(aws_env or {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        if s3_endpoint:
            env["AWS_ENDPOINT_URL_S3"] = s3_endpoint
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            argv, stdout=self._log_file, stderr=subprocess.STDOUT, env=env, cwd=str(state_dir)
        )
        self._wait_ready(timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"model server exited with {self.process.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/v2/health/live", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"model server did not answer /v2/health/live within {timeout}s; see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()

    def __enter__(self) -> ModelServerProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
