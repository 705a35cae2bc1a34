"""Helpers for the ``ci_pipeline`` e2e modules: a git copy of ``examples/training`` and what localflyte holds.

A test's pipeline repository is a copy of the example, committed on ``main``, whose taxiway.yaml points
at an image repository of the run only (so a build really happens the first time) and, optionally, at
another Flyte project and pipeline name. Everything here is plain functions; the fixtures that use
them live in ``tests/e2e/conftest.py`` and in the test modules.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flytekit.configuration import Config, PlatformConfig
from flytekit.models.launch_plan import LaunchPlanState
from flytekit.models.project import Project
from flytekit.remote import FlyteRemote

from meta_workflows.ci import ci_pipeline
from tasks.core.records import Release

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "training"
DOMAIN = "development"
_PAGE = 100


def git(repo: Path, *args: str) -> str:
    """Run ``git`` in ``repo`` as a fixed author (no user config needed) and return its stdout."""
    env = {"GIT_AUTHOR_NAME": "e2e", "GIT_AUTHOR_EMAIL": "e2e@example.com", "HOME": str(repo.parent)}
    env |= {"GIT_COMMITTER_NAME": "e2e", "GIT_COMMITTER_EMAIL": "e2e@example.com", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    """Commit every change in ``repo`` on the current branch; return the new commit's SHA."""
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def example_repo(root: Path, image_repository: str, *, project: str = "", pipeline: str = "") -> Path:
    """A git repository at ``root`` holding the example on ``main``, pushing to ``image_repository``.

    :param project: the Flyte project to register into (default: the example's own).
    :param pipeline: the pipeline name (default: the example's own); packages are stored under it.
    """
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".wheels"))
    config_path = root / "taxiway.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["image"]["repository"] = image_repository
    if project:
        config["project"] = project
    if pipeline:
        config["pipeline"] = pipeline
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    git(root, "init", "--quiet", "--initial-branch", "main")
    commit_all(root, "the example pipeline")
    return root


def edit_image_config(repo: Path, key: str, value: Any) -> None:
    """Set ``image.<key>`` in the repository's taxiway.yaml (uncommitted)."""
    config_path = repo / "taxiway.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["image"][key] = value
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))


def append_line(path: Path, line: str) -> None:
    """Append ``line`` to a text file (uncommitted)."""
    path.write_text(path.read_text() + line + "\n")


def branch(repo: Path, name: str, change: Callable[[Path], object], *, start: str = "main") -> str:
    """Commit ``change(repo)`` on a new branch ``name`` off ``start``; return its SHA, leaving ``main`` checked out.

    Each scenario gets a branch of its own, so that none sees another's changes.
    """
    git(repo, "switch", "--quiet", "--create", name, start)
    try:
        change(repo)
        return commit_all(repo, f"{name}: a change for the e2e scenario")
    finally:
        git(repo, "switch", "--quiet", "--force", "main")


def run_ci(repo: Path, *, git_ref: str = "main", pr_number: int = 0) -> Release:
    """Call ``ci_pipeline`` in-process (as ``pyflyte run`` without ``--remote`` would) on ``repo``.

    Validation is off: the e2e localflyte does not execute, so validation would wait for executions
    that never run.
    """
    release = ci_pipeline(git_url=f"file://{repo}", git_ref=git_ref, pr_number=pr_number, validate=False)
    assert isinstance(release, Release)
    return release


def flyte_remote(endpoint: str, project: str) -> FlyteRemote:
    """A FlyteRemote on ``endpoint`` defaulting to ``project``/development, creating the project."""
    config = Config(platform=PlatformConfig(endpoint=endpoint, insecure=True))
    remote = FlyteRemote(config, default_project=project, default_domain=DOMAIN)
    remote.client.register_project(Project(id=project, name=project, description="ci_pipeline e2e"))
    return remote


@dataclass(frozen=True, order=True)
class Entity:
    """One registered entity version: ``kind`` is task, workflow or launch_plan."""

    kind: str
    name: str
    version: str


def registered(remote: FlyteRemote, project: str, domain: str = DOMAIN) -> set[Entity]:
    """Every task, workflow and launch-plan version registered in ``project``/``domain``."""
    client = remote.client
    kinds = (
        ("task", client.list_task_ids_paginated, client.list_tasks_paginated),
        ("workflow", client.list_workflow_ids_paginated, client.list_workflows_paginated),
        ("launch_plan", client.list_launch_plan_ids_paginated, client.list_launch_plans_paginated),
    )
    found: set[Entity] = set()
    for kind, list_ids, list_versions in kinds:
        names, _ = list_ids(project, domain, limit=_PAGE)
        assert len(names) < _PAGE, "more entities than one page: raise _PAGE"
        for name in names:
            versions, _ = list_versions(name, limit=_PAGE)
            found |= {Entity(kind, entity.id.name, entity.id.version) for entity in versions}
    return found


def versions(entities: set[Entity]) -> set[str]:
    """The versions that ``entities`` were registered under."""
    return {entity.version for entity in entities}


def active_launch_plans(remote: FlyteRemote, project: str, domain: str = DOMAIN) -> list[str]:
    """``name@version`` of every active launch plan in ``project``/``domain``."""
    plans, _ = remote.client.list_active_launch_plans_paginated(project, domain, limit=_PAGE)
    return [f"{plan.id.name}@{plan.id.version}" for plan in plans]


def launch_plan_states(remote: FlyteRemote, project: str, version: str, domain: str = DOMAIN) -> dict[str, str]:
    """``{name: ACTIVE|INACTIVE}`` of the launch plans registered under ``version``."""
    names, _ = remote.client.list_launch_plan_ids_paginated(project, domain, limit=_PAGE)
    states: dict[str, str] = {}
    for name in names:
        plans, _ = remote.client.list_launch_plans_paginated(name, limit=_PAGE)
        for plan in plans:
            if plan.id.version == version:
                states[plan.id.name] = LaunchPlanState.enum_to_string(plan.closure.state)
    return states
