"""``ci_pipeline`` end to end, run in-process, on a git copy of ``examples/training``.

Real parts: the stack's Docker engine, registry and moto S3, and a localflyte of this module's own
(executor off: nothing is launched, only registered, hence ``validate=False``; validation for real is
in ``tests/integration/test_ci_validate.py``). The workflow function is called with real inputs, as
``pyflyte run`` without ``--remote`` would; its tasks clone the repository over ``file://``, build and
push the image, serialize the package inside it and register into ``development``.

The image repository is unique to the run, so the first run really builds (the engine's layer cache
keeps it at about a minute); later runs find the tag and build nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flytekit.remote import FlyteRemote

from localflyte.testing import LocalFlyteProcess
from tasks.core.records import Release
from tests.e2e.ci_repo import DOMAIN, active_launch_plans, commit_all, example_repo, flyte_remote, git, run_ci

pytestmark = pytest.mark.e2e

PROJECT = "training"
WORKFLOW = "training.workflows.training_workflow"
TASK = "training.data.generate_dataset"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str], run_id: str) -> Path:
    """A git repository holding the example, pushing to an image repository of this run only."""
    root = tmp_path_factory.mktemp("ci-repo") / "training-repo"
    return example_repo(root, f"{stack_env['TAXIWAY_REGISTRY']}/taxiway-test/ci-training-{run_id}")


@pytest.fixture(scope="module")
def remote(admin: LocalFlyteProcess) -> FlyteRemote:
    return flyte_remote(admin.endpoint, PROJECT)


@pytest.fixture(scope="module")
def first_sha(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def first(repo: Path, remote: FlyteRemote, task_env: None, first_sha: str) -> Release:
    return run_ci(repo)


@pytest.fixture(scope="module")
def code_change(repo: Path, remote: FlyteRemote, task_env: None, first: Release) -> tuple[str, Release]:
    module = repo / "training" / "data.py"
    module.write_text(module.read_text() + "\n# a code-only change: no dependency, no Dockerfile touched\n")
    sha = commit_all(repo, "code only")
    return sha, run_ci(repo)


def test_first_run_builds_the_image_and_registers_into_development(
    remote: FlyteRemote, first_sha: str, first: Release
) -> None:
    assert first.git_sha == first_sha
    assert first.version == first_sha[:12]
    assert first.pr_number == 0
    assert first.author == "e2e@example.com", "the commit author, for approval policies"
    assert first.validation is None, "validate=False skips validation"
    [image] = first.images
    assert image.built, "the run's image repository is new: the first run must build"
    assert image.digest.startswith("sha256:")
    [registration] = first.registrations
    assert (registration.project, registration.domain, registration.version) == (PROJECT, DOMAIN, first.version)
    assert registration.created_count == first.package.entity_count > 0
    workflow = remote.fetch_workflow(PROJECT, DOMAIN, WORKFLOW, first.version)
    assert workflow.id.version == first.version
    task = remote.fetch_task(PROJECT, DOMAIN, TASK, first.version)
    assert task.template.container is not None
    assert task.template.container.image == image.reference
    assert active_launch_plans(remote, PROJECT) == [], "ci_pipeline never activates launch plans"


def test_code_only_change_builds_nothing_and_registers_a_new_version(
    remote: FlyteRemote, first: Release, code_change: tuple[str, Release]
) -> None:
    sha, release = code_change
    assert release.git_sha == sha != first.git_sha
    assert release.version == sha[:12]
    [image] = release.images
    assert not image.built
    assert (image.tag, image.digest) == (first.images[0].tag, first.images[0].digest)
    assert release.package.content_hash != first.package.content_hash  # the code bundle changed
    assert release.registrations[0].created_count == release.package.entity_count
    assert remote.fetch_workflow(PROJECT, DOMAIN, WORKFLOW, release.version).id.version == release.version
    # The old version is still there, untouched.
    assert remote.fetch_workflow(PROJECT, DOMAIN, WORKFLOW, first.version).id.version == first.version


def test_same_commit_again_builds_and_creates_nothing(
    repo: Path, task_env: None, code_change: tuple[str, Release]
) -> None:
    _, before = code_change
    again = run_ci(repo)
    assert again.version == before.version
    assert not again.images[0].built
    assert again.package == before.package, "the package is content-addressed: same commit, same package"
    [registration] = again.registrations
    assert registration.created_count == 0
    assert len(registration.entities) == before.package.entity_count


def test_pr_run_gets_a_pr_version_and_activates_nothing(
    repo: Path, remote: FlyteRemote, task_env: None, code_change: tuple[str, Release]
) -> None:
    sha, main_release = code_change
    release = run_ci(repo, pr_number=7)
    assert release.version == f"pr7-{sha[:12]}"
    assert release.pr_number == 7
    assert not release.images[0].built
    assert release.package == main_release.package  # the same commit serializes to the same package
    assert release.registrations[0].created_count == release.package.entity_count
    assert remote.fetch_workflow(PROJECT, DOMAIN, WORKFLOW, release.version).id.version == release.version
    assert active_launch_plans(remote, PROJECT) == []
