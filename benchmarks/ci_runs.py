"""P4 for real: N concurrent ``ci_pipeline`` executions on a localflyte that runs them (process runtime).

Nothing is called in-process. A localflyte of this benchmark runs every task of Taxiway's
meta-workflows as a process on the host, like propeller would run their pods; Taxiway's
meta-workflows and launch plans are registered with ``pyflyte register``, as the platform team does,
and the runs are launched through ``FlyteRemote`` from the ``taxiway.ci_from_git`` launch plan, as
external CI does. Each run gets its own branch of a synthetic pipeline's git repository (a distinct
code-only commit, so a distinct release): clone, build step (the tag exists: nothing is built),
package step (serialization in the pipeline's image: one container per run) and registration into
development. ``validate=False``: the synthetic pipeline has no validation section.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests
from flytekit.configuration import Config, DataConfig, PlatformConfig, S3Config
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.models.project import Project
from flytekit.remote import FlyteRemote

from benchmarks.measure import Figure, Timing, percentiles
from benchmarks.pipeline import SyntheticPipeline, docker_client
from benchmarks.stack import config_only_env
from benchmarks.synthetic import PipelineShape
from localflyte.testing import LocalFlyteProcess, MotoServer, free_port_pair

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
META_PROJECT, META_DOMAIN, META_VERSION = "taxiway", "development", "bench1"
PLAN = "taxiway.ci_from_git"
_DONE = ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")
_GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com", "PATH": "/usr/bin:/bin"}  # fmt: skip


def _git(repo: Path, *args: str) -> str:
    env = {**_GIT_ENV, "HOME": str(repo.parent)}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in this process's environment (inherited by localflyte and its task processes)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _pipeline_repo(root: Path, wheelhouse: Path, runs: int) -> tuple[SyntheticPipeline, list[str]]:
    """The pipeline on ``main`` and one branch per run, each a code-only commit of its own."""
    pipeline = SyntheticPipeline.create(root, PipelineShape.with_entities(8), wheelhouse)
    (root / ".gitignore").write_text(".wheels/\n")  # the image is built once, before the runs
    _git(root, "init", "--quiet", "--initial-branch", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "synthetic pipeline")
    branches = []
    for index in range(runs):
        branch = f"run{index:03d}"
        _git(root, "checkout", "--quiet", "-b", branch, "main")
        pipeline.commit(1000 + index)
        _git(root, "commit", "--quiet", "-am", f"code-only change {index}")
        branches.append(branch)
    _git(root, "checkout", "--quiet", "main")
    return pipeline, branches


def p4_ci_runs(work: Path, wheelhouse: Path, runs: int, timeout: float = 3600.0) -> Figure:
    """``runs`` concurrent ``ci_pipeline`` executions: success rate, p50/p95 launch-to-done latency."""
    pipeline, branches = _pipeline_repo(work / "repo", wheelhouse, runs)
    # The image is built once here: the runs measure Taxiway's CI on code-only commits, not a first build.
    pipeline.build_images(docker_client(), requests.Session())
    moto = MotoServer(work / "moto")
    port = free_port_pair()
    task_env = {
        "FLYTE_PLATFORM_URL": f"127.0.0.1:{port}", "FLYTE_PLATFORM_INSECURE": "True",
        "AWS_ENDPOINT_URL": moto.endpoint, "FLYTE_AWS_ENDPOINT": moto.endpoint,
        "FLYTE_AWS_ACCESS_KEY_ID": "testing", "FLYTE_AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    }  # fmt: skip
    with _environ(task_env):
        admin = LocalFlyteProcess(work / "localflyte", moto.endpoint, runtime="process", port=port)
    try:
        remote = _register_meta_workflows(admin, moto, work, pipeline.config.project)
        return _launch_and_wait(remote, work / "repo", branches, timeout)
    finally:
        admin.stop()
        moto.stop()


def _register_meta_workflows(admin: LocalFlyteProcess, moto: MotoServer, work: Path, project: str) -> FlyteRemote:
    config = Config(
        platform=PlatformConfig(endpoint=admin.endpoint, insecure=True),
        data_config=DataConfig(
            s3=S3Config(endpoint=moto.endpoint, access_key_id="testing", secret_access_key="testing")
        ),
    )
    remote = FlyteRemote(config, default_project=META_PROJECT, default_domain=META_DOMAIN)
    for name in (META_PROJECT, project):
        remote.client.register_project(Project(id=name, name=name, description="benchmarks"))
    file = work / "flyte.yaml"
    file.write_text(
        f"admin:\n  endpoint: dns:///{admin.endpoint}\n  insecure: true\n"
        f"storage:\n  type: s3\n  connection:\n    endpoint: {moto.endpoint}\n    access-key: testing\n"
        "    secret-key: testing\n    auth-type: accesskey\n    region: us-east-1\n    disable-ssl: true\n"
    )
    argv = [
        str(Path(sys.executable).with_name("pyflyte")), "--config", str(file), "register", "--project", META_PROJECT,
        "--domain", META_DOMAIN, "--version", META_VERSION, "--copy", "auto",
        "--image", "localflyte-process-runtime:unused", "meta_workflows", "launchplans",
    ]  # fmt: skip
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, env=config_only_env())
    if done.returncode != 0:
        raise RuntimeError(f"registering Taxiway's meta-workflows failed:\n{done.stdout}\n{done.stderr}")
    return remote


def _launch_and_wait(remote: FlyteRemote, repo: Path, branches: list[str], timeout: float) -> Figure:
    plan = remote.fetch_launch_plan(META_PROJECT, META_DOMAIN, PLAN, META_VERSION)
    launched: dict[str, float] = {}
    started = time.perf_counter()
    for index, branch in enumerate(branches):
        name = f"ci-bench-{index:03d}"
        inputs = {"git_url": f"file://{repo}", "git_ref": branch, "validate": False}
        remote.execute(plan, inputs=inputs, execution_name=name, wait=False)
        launched[name] = time.perf_counter()
    logger.info("P4 ci runs launched=%d in %.1fs", len(launched), time.perf_counter() - started)
    finished: dict[str, tuple[str, float, str]] = {}
    deadline = started + timeout
    while len(finished) < len(launched) and time.perf_counter() < deadline:
        for name in launched.keys() - finished.keys():
            execution = remote.fetch_execution(name=name)
            phase = WorkflowExecutionPhase.enum_to_string(execution.closure.phase)
            if phase in _DONE:
                error = execution.closure.error.message[:300] if execution.closure.error else ""
                finished[name] = (phase, time.perf_counter() - launched[name], error)
                logger.info("P4 ci run %s %s after %.1fs %s", name, phase, finished[name][1], error)
        time.sleep(1.0)
    wall = time.perf_counter() - started
    succeeded = [latency for phase, latency, _ in finished.values() if phase == "SUCCEEDED"]
    failures = [f"{name}: {phase} {error}" for name, (phase, _, error) in sorted(finished.items())
                if phase != "SUCCEEDED"]  # fmt: skip
    failures += [f"{name}: not finished after {timeout:.0f}s" for name in sorted(launched.keys() - finished.keys())]
    runs = len(launched)
    success = len(succeeded) / runs
    p50, p95 = percentiles(succeeded, 0.5, 0.95) if succeeded else (float("nan"), float("nan"))
    return Figure(
        name=f"P4 {runs} concurrent ci_pipeline runs (process runtime)",
        taxiway=success * 100, baseline=None, unit="% success", goal="100%", met=success == 1.0,
        note=(f"p50 {p50:.1f}s p95 {p95:.1f}s launch-to-SUCCEEDED (1 s poll), all {runs} done in {wall:.0f}s; "
              "each: clone, build step (tag reused), package step (a container), register into development; "
              "validate=False"),
        details={"p50_s": p50, "p95_s": p95, "wall_s": wall, "failures": failures[:10],
                 "latencies": Timing(tuple(succeeded)).summary() if succeeded else {}},
    )  # fmt: skip
