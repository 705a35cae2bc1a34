"""The local stack answers as the rest of Taxiway expects (``scripts/stack up`` must have run)."""

from __future__ import annotations

import io
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

pytestmark = pytest.mark.integration

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def test_docker_engine_answers_on_socket_and_loopback_tcp(docker_client: docker.DockerClient) -> None:
    assert docker_client.info()["ServerVersion"]
    # Task containers on the host network reach the engine over loopback TCP.
    tcp_client = docker.DockerClient(base_url="tcp://127.0.0.1:2375", timeout=10)
    try:
        assert tcp_client.ping() is True
    finally:
        tcp_client.close()


def test_registry_answers_v2(registry: str) -> None:
    response = requests.get(f"http://{registry}/v2/", timeout=5)
    assert response.status_code == 200
    assert response.headers.get("Docker-Distribution-Api-Version") == "registry/2.0"


def test_s3_lists_the_stack_buckets(s3_client: Any) -> None:
    names = {bucket["Name"] for bucket in s3_client.list_buckets()["Buckets"]}
    assert {"taxiway-data", "taxiway-models"} <= names


def test_base_image_runs_python_311_without_network(docker_client: docker.DockerClient, base_image: str) -> None:
    output = docker_client.containers.run(base_image, ["python3", "--version"], network_mode="none", remove=True)
    assert output.decode().startswith("Python 3.11."), output


def _push(client: docker.DockerClient, repository: str, tag: str) -> str:
    """Push and return the manifest digest the engine reports; raise on a push error."""
    digest = ""
    for event in client.images.push(repository, tag=tag, stream=True, decode=True):
        if "error" in event:
            raise RuntimeError(f"push {repository}:{tag} failed: {event['error']}")
        digest = event.get("aux", {}).get("Digest", digest)
    assert digest.startswith("sha256:"), f"push of {repository}:{tag} reported no digest"
    return digest


def test_image_built_from_base_is_pushed_and_its_digest_read_back(
    docker_client: docker.DockerClient, registry: str, base_image: str
) -> None:
    tag = uuid.uuid4().hex[:12]
    repository = f"{registry}/taxiway-test/stack-check"
    # A unique file makes a new image each run, so the push really uploads a layer.
    dockerfile = f"FROM {base_image}\nRUN echo {tag} > /stack-check\n"
    image, _ = docker_client.images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=f"{repository}:{tag}", network_mode="host", rm=True
    )
    try:
        pushed = _push(docker_client, repository, tag)
        path = repository.removeprefix(f"{registry}/")
        url = f"http://{registry}/v2/{path}/manifests/{tag}"
        head = requests.head(url, headers={"Accept": MANIFEST_V2}, timeout=5)
        assert head.status_code == 200, head.text
        assert head.headers["Docker-Content-Digest"] == pushed
        # Deletion is enabled in the registry config, which the image cleanup later relies on.
        deleted = requests.delete(f"http://{registry}/v2/{path}/manifests/{pushed}", timeout=5)
        assert deleted.status_code == 202, deleted.text
    finally:
        docker_client.images.remove(image.id, force=True)


def _pids(stack_dir: Path) -> dict[str, str]:
    return {path.stem: path.read_text().strip() for path in sorted((stack_dir / "run").glob("*.pid"))}


def test_second_up_is_a_fast_no_op(repo_root: Path, stack_dir: Path) -> None:
    before = _pids(stack_dir)
    assert before, f"no pid files under {stack_dir / 'run'}"
    started = time.monotonic()
    result = subprocess.run(
        [str(repo_root / "scripts" / "stack"), "up"], capture_output=True, text=True, timeout=300, check=False
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert _pids(stack_dir) == before
    assert "starting" not in result.stdout, result.stdout
    for part, pid in before.items():
        assert Path(f"/proc/{pid}").exists(), f"{part} (pid {pid}) is not running after a second up"
    assert elapsed < 20, f"a second scripts/stack up took {elapsed:.1f}s; it should only check health"
