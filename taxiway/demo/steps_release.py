"""Demo steps 1-3: the stack, the platform team's registration, and external CI running ``ci_pipeline``."""

from __future__ import annotations

import hashlib
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tasks.core.versions import release_version
from taxiway.demo.flyte import META_DOMAIN, META_PROJECT, Flyte
from taxiway.demo.runner import DemoContext, StepFailed

#: The image the meta-workflows run in: scripts/build-image builds LOCAL_META_IMAGE, the demo pushes it.
LOCAL_META_IMAGE = "taxiway/meta:dev"
META_REPOSITORY = "taxiway/meta"
#: What the meta image's tag hashes: a code-only change never rebuilds (fast registration ships the code).
META_IMAGE_INPUTS = ("Dockerfile", "pyproject.toml")
#: What the meta-workflows' registration version hashes (with the image): Taxiway's own code.
META_CODE_DIRS = ("meta_workflows", "launchplans", "tasks", "taxiway")
#: The git daemon serving the demo's copy of the example pipeline (a port of its own, on loopback).
GIT_PORT = 30096
PIPELINE_DIR = Path("examples/training")
#: Fixed author and dates: the same example content gives the same commit SHA, hence the same version.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Taxiway demo", "GIT_AUTHOR_EMAIL": "demo@taxiway.invalid",
    "GIT_COMMITTER_NAME": "Taxiway demo", "GIT_COMMITTER_EMAIL": "demo@taxiway.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
}  # fmt: skip


def load_env_file(path: Path) -> dict[str, str]:
    """The ``export NAME=VALUE`` lines of ``.stack/env``."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line.strip().removeprefix("export "), comments=True)
        if len(words) == 1 and "=" in words[0]:
            name, value = words[0].split("=", 1)
            env[name] = value
    return env


def stack_step(ctx: DemoContext) -> str:
    """``scripts/stack up`` (idempotent), then load ``.stack/env`` for everything that follows."""
    ctx.run(["scripts/stack", "up"], timeout=1800)
    ctx.env.update(load_env_file(ctx.paths.stack / "env"))
    status = ctx.run(["scripts/stack", "status"], check=False)
    parts = [line.split()[0] for line in status.stdout.splitlines() if " up " in f"{line} "]
    return f"{len(parts)} parts up ({', '.join(parts)}); settings in .stack/env"


def ensure_env(ctx: DemoContext) -> None:
    """Load ``.stack/env`` when the run starts after the stack step (``--from``)."""
    if "FLYTE_PLATFORM_URL" not in ctx.env or "TAXIWAY_REGISTRY" not in ctx.env:
        path = ctx.paths.stack / "env"
        if not path.is_file():
            raise StepFailed(f"{path} not found: the stack is not up; run the demo from step 1 (scripts/stack up)")
        ctx.env.update(load_env_file(path))


def _digest(root: Path, names: list[str], extra: str = "") -> str:
    sha = hashlib.sha256(extra.encode())
    for name in sorted(names):
        sha.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return sha.hexdigest()


def meta_image(ctx: DemoContext) -> str:
    """The registry reference of the meta image: ``<registry>/taxiway/meta:<hash of its build inputs>``."""
    ensure_env(ctx)
    tag = _digest(ctx.paths.root, list(META_IMAGE_INPUTS), ctx.env.get("TAXIWAY_BASE_IMAGE", ""))[:16]
    return f"{ctx.env['TAXIWAY_REGISTRY']}/{META_REPOSITORY}:{tag}"


def meta_version(ctx: DemoContext, image: str) -> str:
    """The registration version of Taxiway's meta-workflows: a hash of the image and Taxiway's own code."""
    root = ctx.paths.root
    files = [str(path.relative_to(root)) for d in META_CODE_DIRS for path in (root / d).rglob("*.py")
             if "__pycache__" not in path.parts and "demo" not in path.relative_to(root).parts[:2]]  # fmt: skip
    return "m" + _digest(root, files, image)[:15]


def _registry_has(ctx: DemoContext, image: str) -> bool:
    registry, _, rest = image.partition("/")
    repository, _, tag = rest.rpartition(":")
    accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
    response = requests.head(f"http://{registry}/v2/{repository}/manifests/{tag}", headers={"Accept": accept},
                             timeout=10)  # fmt: skip
    return response.status_code == 200


def _engine_has(ctx: DemoContext, image: str) -> bool:
    return ctx.run(["docker", "image", "inspect", "--format", "{{.Id}}", image], check=False).returncode == 0


def ensure_meta_image(ctx: DemoContext) -> tuple[str, bool]:
    """Build and push the meta image unless the registry has its tag; returns (reference, built)."""
    image = meta_image(ctx)
    if _registry_has(ctx, image):
        if not _engine_has(ctx, image):  # localflyte never pulls: the engine needs it locally
            ctx.run(["docker", "pull", image], timeout=600)
        return image, False
    ctx.run(["scripts/build-image", LOCAL_META_IMAGE], timeout=1800)
    ctx.run(["docker", "tag", LOCAL_META_IMAGE, image])
    ctx.run(["docker", "push", image], timeout=600)
    return image, True


def register_step(ctx: DemoContext) -> str:
    """Build + push the meta image, create the projects, ``pyflyte register`` the meta-workflows and launch plans."""
    image, built = ensure_meta_image(ctx)
    ctx.say(f"meta image {image} ({'built and pushed' if built else 'already in the registry: reused'})")
    flyte = Flyte.from_env(ctx.env)
    for project, what in ((META_PROJECT, "Taxiway's meta-workflows"), ("training", "the example pipeline")):
        if flyte.ensure_project(project, what):
            ctx.say(f"created project {project}")
    version = meta_version(ctx, image)
    ctx.values.update(meta_image=image, meta_version=version)
    remote = flyte.remote()
    try:
        remote.fetch_launch_plan(META_PROJECT, META_DOMAIN, "taxiway.ci_from_git", version)
        return f"meta-workflows already registered in {META_PROJECT}/{META_DOMAIN} as version {version}"
    except Exception:  # not registered yet (FlyteEntityNotExistException), register below
        pass
    ctx.run([_pyflyte(), "--config", str(ctx.paths.stack / "flyte.yaml"), "register", "--project", META_PROJECT,
             "--domain", META_DOMAIN, "--image", image, "--version", version, "--copy", "auto",
             "meta_workflows", "launchplans"], timeout=900)  # fmt: skip
    names, _ = remote.client.list_launch_plan_ids_paginated(META_PROJECT, META_DOMAIN, limit=100)
    return f"registered into {META_PROJECT}/{META_DOMAIN} as {version}: {len(names)} launch plans"


def _pyflyte() -> str:
    """The ``pyflyte`` of this interpreter's environment (PATH may hold another one)."""
    beside = Path(sys.executable).parent / "pyflyte"
    return str(beside) if beside.is_file() else "pyflyte"


def _git(ctx: DemoContext, repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, env={**ctx.env, **GIT_IDENTITY}, capture_output=True, text=True,
                            check=False)  # fmt: skip
    ctx.log(f"$ git {' '.join(args)}\n{result.stdout}{result.stderr}")
    if result.returncode != 0:
        raise StepFailed(f"git {' '.join(args)} in {repo} failed: {result.stderr.strip()[:300]}")
    return result.stdout.strip()


def pipeline_repo(ctx: DemoContext) -> tuple[Path, str]:
    """A git repository under ``.stack/demo/git/training`` with the example, committed; (path, SHA).

    The example is copied afresh each run; a commit is made only when its content changed, with a fixed
    identity and date so that the same content always gives the same SHA (and the same release version).
    """
    repo = ctx.paths.demo / "git" / "training"
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        _git(ctx, repo, "init", "--quiet", "--initial-branch", "main")
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(ctx.paths.root / PIPELINE_DIR, repo, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".wheels", "*.pyc"))  # fmt: skip
    _git(ctx, repo, "add", "-A")
    if _git(ctx, repo, "status", "--porcelain"):
        _git(ctx, repo, "commit", "--quiet", "-m", "The example pipeline (examples/training)")
    return repo, _git(ctx, repo, "rev-parse", "HEAD")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ensure_git_daemon(ctx: DemoContext) -> str:
    """Serve ``.stack/demo/git`` with ``git daemon`` on 127.0.0.1 (left running, like the stack); the clone URL."""
    base = ctx.paths.demo / "git"
    url = f"git://127.0.0.1:{GIT_PORT}/training"
    if not _port_open(GIT_PORT):
        log = (ctx.paths.demo / "git-daemon.log").open("a")
        process = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={GIT_PORT}", f"--base-path={base}",
             "--export-all", "--informative-errors", str(base)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        (ctx.paths.demo / "git-daemon.pid").write_text(f"{process.pid}\n")
        ctx.say(f"started git daemon (pid {process.pid}) serving {base} on 127.0.0.1:{GIT_PORT}")
        deadline = time.monotonic() + 15
        while not _port_open(GIT_PORT):
            if process.poll() is not None or time.monotonic() > deadline:
                log_path = ctx.paths.demo / "git-daemon.log"
                raise StepFailed(f"git daemon did not start on 127.0.0.1:{GIT_PORT}; see {log_path}")
            time.sleep(0.2)
    ctx.run(["git", "ls-remote", url, "main"], timeout=30)
    return url


def release_of_demo_repo(ctx: DemoContext) -> tuple[str, str]:
    """(git SHA, release version) of the demo repository, committing the example first if needed."""
    if "version" not in ctx.values:
        _, sha = pipeline_repo(ctx)
        ctx.values.update(git_sha=sha, version=release_version(sha))
    return ctx.values["git_sha"], ctx.values["version"]


def ci_step(ctx: DemoContext) -> str:
    """External CI: ``pyflyte run --remote --wait --name ci-<version> meta_workflows/ci.py ci_pipeline`` from git."""
    ensure_env(ctx)
    sha, version = release_of_demo_repo(ctx)
    url = ensure_git_daemon(ctx)
    image = ctx.values.get("meta_image") or meta_image(ctx)
    flyte = Flyte.from_env(ctx.env)
    name, exists = flyte.reusable_name(f"ci-{version}")
    ctx.values["ci_execution"] = name
    if not exists:
        ctx.say(f"release {version} (commit {sha[:12]} of {url}); launching {name}")
        argv = [_pyflyte(), "--config", str(ctx.paths.stack / "flyte.yaml"), "run", "--remote", "--wait",
                "--project", META_PROJECT, "--domain", META_DOMAIN, "--image", image, "--name", name,
                "meta_workflows/ci.py", "ci_pipeline", "--git_url", url, "--git_ref", "main", "--git_sha", sha,
                "--pipeline_dir", ".", "--pr_number", "0"]  # fmt: skip
        launched = ctx.run(argv, timeout=2400, check=False)
        if flyte.fetch(name) is None:  # pyflyte failed before creating it (registration, upload, config)
            raise StepFailed(f"pyflyte run exited {launched.returncode} without creating {name}; see the log")
    else:
        ctx.say(f"release {version}: execution {name} exists, reusing it")
    flyte.wait(name, timeout=2400)
    return f"release {version} built and registered by {name}: {flyte.execution_url(META_PROJECT, META_DOMAIN, name)}"
