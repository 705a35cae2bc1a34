"""``ci_pipeline`` run remotely, its tasks in the Taxiway meta image under localflyte's docker runtime.

What a platform team does, end to end: build the meta image from the top-level Dockerfile and push it
to the registry (``scripts/build-image --push``, reused when its tag exists), then external CI runs
``pyflyte run --remote --wait --image <meta image> meta_workflows/ci.py ci_pipeline --git_url ...``.
Every task runs in its own container (host network) that sees only what localflyte injects: the
platform's settings (``--task-env``: ``DOCKER_HOST`` over loopback TCP, the registry, Slack) and the
secrets it requests (``--secrets-dir``). The package step serializes in a sibling container fed through
the engine's archive API, since the task's files do not exist on the engine's host.

The pipeline is a git copy of ``examples/training`` served by ``git daemon`` on loopback. Its image is
built and pushed from the host beforehand (reused when its tag exists): ``image.prepare`` needs the
host's torch wheel, which a task container does not have, so in the run the build step finds the tag.
Validation is off (``--no-validate``): it would run the PyTorch training itself, covered elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
import yaml
from flytekit.configuration import Config, PlatformConfig
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.remote import FlyteRemote

from localflyte.testing import LocalFlyteProcess, free_port
from localslack.testing import LocalSlackProcess
from tasks.core.build import build_images
from tasks.core.build_context import prepare_build_root
from tasks.core.config import load_pipeline_config
from tasks.core.records import Release
from tasks.core.registry import RegistryClient
from tests.e2e.ci_repo import REPO_ROOT, active_launch_plans, commit_all, example_repo, git, registered, versions

pytestmark = pytest.mark.e2e

META_PROJECT = "taxiway"
PROJECT = "training"
DOMAIN = "development"
WORKFLOW = "training.workflows.training_workflow"
#: One repository for every run: the pipeline image is built once and reused afterwards.
PIPELINE_REPOSITORY = "taxiway-test/ci-remote-training"
SLACK_TOKEN = "xoxb-e2e-remote-docker"


@pytest.fixture(scope="module")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def meta_image(stack_env: dict[str, str]) -> str:
    """``<registry>/taxiway/meta:<content hash>``: built and pushed unless the registry has it."""
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "build-image"), "--push"],
        env={**os.environ, **stack_env, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"},
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"scripts/build-image --push failed:\n{result.stderr[-3000:]}"
    reference = result.stdout.strip().splitlines()[-1]
    assert reference.startswith(f"{stack_env['TAXIWAY_REGISTRY']}/taxiway/meta:"), reference
    return reference


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlackProcess]:
    """A Slack Web API of this module that accepts only the token in the platform's secret store."""
    process = LocalSlackProcess(tmp_path_factory.mktemp("slack"), tokens=(SLACK_TOKEN,))
    yield process
    process.stop()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str], slack: LocalSlackProcess) -> Path:
    """A git copy of the example on ``main``, reporting to this module's Slack, under a ``git daemon`` root."""
    base = tmp_path_factory.mktemp("git")
    root = example_repo(base / "training", f"{stack_env['TAXIWAY_REGISTRY']}/{PIPELINE_REPOSITORY}")
    config = yaml.safe_load((root / "taxiway.yaml").read_text())
    config["notifications"]["slack"]["api_url"] = slack.api_url
    (root / "taxiway.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    commit_all(root, "report to the e2e Slack")
    return root


@pytest.fixture(scope="module")
def pipeline_image(repo: Path, docker_client: docker.DockerClient) -> str:
    """The pipeline's image in the registry, built from the host when its tag is missing (idempotent)."""
    config = load_pipeline_config(repo / "taxiway.yaml")
    assert config.image is not None
    with tempfile.TemporaryDirectory(prefix="e2e-remote-build-") as workdir:
        root = prepare_build_root(repo, config.image, Path(workdir))
        [image] = build_images(
            root, config, git_sha=git(repo, "rev-parse", "HEAD"), docker_client=docker_client,
            registry=RegistryClient(requests.Session()),
        )  # fmt: skip
    return image.reference


@pytest.fixture(scope="module")
def git_url(repo: Path) -> Iterator[str]:
    """``git://127.0.0.1:<port>/training``, served by a ``git daemon`` of this module."""
    port = free_port()
    log = (repo.parent / "git-daemon.log").open("ab")
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}", "--export-all",
         f"--base-path={repo.parent}", "--informative-errors", str(repo.parent)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"git://127.0.0.1:{port}/training"
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["git", "ls-remote", url, "main"], capture_output=True, check=False).returncode:
            assert daemon.poll() is None and time.monotonic() < deadline, f"git daemon did not serve {url}"
            time.sleep(0.2)
        yield url
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The platform's secret store: the Slack token ``tasks/notify.py`` requests (slack/bot-token)."""
    root = tmp_path_factory.mktemp("secrets")
    (root / "slack").mkdir()
    (root / "slack" / "bot-token").write_text(SLACK_TOKEN)
    return root


@pytest.fixture(scope="module")
def admin(
    tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str], s3_client: Any, run_id: str, secrets_dir: Path
) -> Iterator[LocalFlyteProcess]:
    """A localflyte of this module running tasks in docker, with the settings scripts/stack gives its own."""
    bucket = f"taxiway-e2e-remote-{run_id}"
    s3_client.create_bucket(Bucket=bucket)
    task_env = {
        "DOCKER_HOST": "tcp://127.0.0.1:2375",  # the engine's loopback TCP socket (scripts/lib/parts.sh)
        "TAXIWAY_REGISTRY": stack_env["TAXIWAY_REGISTRY"],
        "SLACK_BASE_URL": stack_env["SLACK_BASE_URL"],
        "AWS_ENDPOINT_URL": stack_env["AWS_ENDPOINT_URL"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    process = LocalFlyteProcess(
        tmp_path_factory.mktemp("localflyte"), s3_endpoint=stack_env["AWS_ENDPOINT_URL"], bucket=bucket,
        runtime="docker", task_env=task_env, secrets_dir=secrets_dir,
        extra_args=["--seed-project", META_PROJECT, "--seed-project", PROJECT],
    )  # fmt: skip
    yield process
    process.stop()


@pytest.fixture(scope="module")
def flyte_config(admin: LocalFlyteProcess, stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pyflyte config for this module's localflyte, as ``.stack/flyte.yaml`` is for the stack's."""
    path = tmp_path_factory.mktemp("config") / "flyte.yaml"
    path.write_text(
        f"admin:\n  endpoint: dns:///{admin.endpoint}\n  insecure: true\n"
        f"storage:\n  type: s3\n  connection:\n    endpoint: {stack_env['AWS_ENDPOINT_URL']}\n"
        "    access-key: testing\n    secret-key: testing\n    auth-type: accesskey\n    region: us-east-1\n"
        "    disable-ssl: true\n"
    )
    return path


@pytest.fixture(scope="module")
def remote(admin: LocalFlyteProcess) -> FlyteRemote:
    config = Config(platform=PlatformConfig(endpoint=admin.endpoint, insecure=True))
    return FlyteRemote(config, default_project=META_PROJECT, default_domain=DOMAIN)


@pytest.fixture(scope="module")
def ci_run(
    meta_image: str, pipeline_image: str, git_url: str, flyte_config: Path, run_id: str,
    docker_client: docker.DockerClient, admin: LocalFlyteProcess,
) -> tuple[str, subprocess.CompletedProcess[str], list[str]]:  # fmt: skip
    """``pyflyte run --remote --wait`` as external CI would; (execution name, the run, containers left)."""
    name = f"ci-remote-{run_id}"
    argv = [
        str(Path(sys.executable).parent / "pyflyte"), "--config", str(flyte_config),
        "run", "--remote", "--wait", "--project", META_PROJECT, "--domain", DOMAIN,
        "--image", meta_image, "--name", name,
        "meta_workflows/ci.py", "ci_pipeline",
        "--git_url", git_url, "--git_ref", "main", "--pipeline_dir", ".", "--no-validate",
    ]  # fmt: skip
    # FLYTE_PLATFORM_URL beats --config in flytekit: the stack's value must not send the run elsewhere.
    env = {key: value for key, value in os.environ.items() if key != "FLYTECTL_CONFIG"}
    env |= {"FLYTE_PLATFORM_URL": admin.endpoint, "FLYTE_PLATFORM_INSECURE": "True"}
    result = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
    time.sleep(2)  # the executor removes a container right after its task's outputs are read
    left = [
        container.name
        for container in docker_client.containers.list(all=True)
        if name in (container.name or "")
        or (container.labels.get("taxiway.step") == "package" and PIPELINE_REPOSITORY in str(container.image.tags))
    ]
    return name, result, left


def test_ci_pipeline_succeeds_in_the_docker_runtime(
    ci_run: tuple[str, subprocess.CompletedProcess[str], list[str]], remote: FlyteRemote
) -> None:
    name, result, _ = ci_run
    assert result.returncode == 0, f"pyflyte run failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    execution = remote.fetch_execution(name=name)
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED


def test_release_carries_the_commit_and_the_pinned_image(
    ci_run: tuple[str, subprocess.CompletedProcess[str], list[str]],
    remote: FlyteRemote,
    repo: Path,
    pipeline_image: str,
    stack_env: dict[str, str],
) -> None:
    name, _, _ = ci_run
    execution = remote.sync_execution(remote.fetch_execution(name=name))
    release = execution.outputs.get("o0", as_type=Release)
    sha = git(repo, "rev-parse", "HEAD")
    assert (release.git_sha, release.version, release.pr_number) == (sha, sha[:12], 0)
    [image] = release.images
    assert image.reference == pipeline_image
    assert not image.built, "the tag was pushed beforehand: the build step reuses it"
    registry_digest = RegistryClient(requests.Session()).manifest_digest(image.repository, image.tag)
    assert image.digest == registry_digest and image.digest.startswith("sha256:")
    assert release.package.entity_count > 0 and release.package.uri.startswith("s3://")
    assert [(r.project, r.domain, r.version) for r in release.registrations] == [(PROJECT, DOMAIN, release.version)]


def test_pipeline_entities_are_registered_in_development(
    ci_run: tuple[str, subprocess.CompletedProcess[str], list[str]], remote: FlyteRemote, repo: Path
) -> None:
    name, _, _ = ci_run
    release = remote.sync_execution(remote.fetch_execution(name=name)).outputs.get("o0", as_type=Release)
    entities = registered(remote, PROJECT)
    assert versions(entities) == {release.version}
    assert len(entities) == release.package.entity_count
    workflow = remote.fetch_workflow(PROJECT, DOMAIN, WORKFLOW, release.version)
    assert workflow.id.version == release.version
    assert active_launch_plans(remote, PROJECT) == [], "ci_pipeline never activates launch plans"


def test_no_container_is_left_behind(ci_run: tuple[str, subprocess.CompletedProcess[str], list[str]]) -> None:
    _, _, left = ci_run
    assert left == [], f"containers left after the run: {left}"


def test_requested_secret_reaches_the_tasks(
    ci_run: tuple[str, subprocess.CompletedProcess[str], list[str]], slack: LocalSlackProcess
) -> None:
    """The report tasks request slack/bot-token; only the secret store has it, and this Slack accepts only it."""
    posts = slack.calls("chat.postMessage")
    assert posts, "no task posted to Slack: the requested secret did not reach the task containers"
    assert [call for call in posts if call.get("error")] == [], "every post was accepted: the token was right"
    assert slack.messages(), "the run was reported"
