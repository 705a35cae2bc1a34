"""``ci_pipeline`` scenarios beyond the happy path, on git copies of ``examples/training``.

Same approach as ``test_ci_pipeline.py``: the stack's Docker engine, registry and moto S3 are real,
localflyte is this module's own (executor off, hence ``validate=False``), and ``ci_pipeline`` runs as
``pyflyte run`` without ``--remote`` runs it, its tasks cloning the repository over ``file://``.

One image is built (``base``), and every scenario that does not change the dependencies reuses it;
each scenario commits on a branch of its own. Covered here:

- a dependency change: exactly one rebuild, under a new tag, the old tag untouched;
- two PRs at once: two ``pyflyte run`` processes (flytekit's local execution is not thread-safe),
  each registering its ``pr<N>-<sha12>`` version, neither activating a launch plan;
- two pipelines (two Flyte projects) through the same Taxiway, each in its own project and package prefix;
- bad input through ``ci_pipeline``: each fails with an error saying what, where and how to fix, and
  registers nothing. The same refusals at the core level are in ``tests/reliability/test_bad_input.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
import requests
from flytekit.remote import FlyteRemote
from flytekit.types.directory import FlyteDirectory

from localflyte.testing import LocalFlyteProcess, free_port
from meta_workflows.ci import ci_pipeline
from tasks.core.build import LABEL_CONTENT_HASH, LABEL_REVISION
from tasks.core.errors import RegistryUnavailable, SourceNotFound, TaxiwayError, VersionConflict
from tasks.core.package import SerializationFailed
from tasks.core.records import Release
from tasks.core.registry import RegistryClient
from tests.e2e.ci_repo import (
    DOMAIN,
    REPO_ROOT,
    active_launch_plans,
    append_line,
    branch,
    edit_image_config,
    example_repo,
    flyte_remote,
    git,
    launch_plan_states,
    registered,
    run_ci,
    versions,
)

# Module-scoped fixtures are charged to the first test that uses them: the dependency scenario carries the
# first build and, on a cold layer cache, a full reinstall of the example's venv (minutes on 2 busy cores).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

PROJECT = "training"
OTHER = "forecast"  # the second pipeline's name and Flyte project
TASK = "training.data.generate_dataset"
CI_FILE = REPO_ROOT / "meta_workflows" / "ci.py"
PR_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def image_repository(registry: str, run_id: str) -> str:
    return f"{registry}/taxiway-test/ci-scenarios-{run_id}"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, image_repository: str) -> Path:
    return example_repo(tmp_path_factory.mktemp("ci-scenarios") / "training-repo", image_repository)


@pytest.fixture(scope="module")
def remote(admin: LocalFlyteProcess) -> FlyteRemote:
    return flyte_remote(admin.endpoint, PROJECT)


@pytest.fixture(scope="module")
def registry_client() -> RegistryClient:
    return RegistryClient(requests.Session())


@pytest.fixture(scope="module")
def base(repo: Path, remote: FlyteRemote, task_env: None) -> Release:
    """The first release of ``main``: the one image build the other scenarios reuse."""
    release = run_ci(repo)
    assert release.images[0].built, "the run's image repository is new: the first run must build"
    return release


# ------------------------------------------------------------------------------------ dependency change


@pytest.fixture(scope="module")
def dependency_change(repo: Path, task_env: None, base: Release) -> tuple[str, Release, Release]:
    """A commit changing requirements.txt, then a code-only commit on top of it: (its SHA, both releases)."""
    # A fixed line, so that the engine's layer cache serves later runs of this module; the tag still
    # changes (it hashes the file) and the run's image repository does not have it yet.
    sha = branch(repo, "deps", lambda r: append_line(r / "requirements.txt", "# reviewed by e2e: the pins above"))
    rebuilt = run_ci(repo, git_ref="deps")
    branch(repo, "deps-code", lambda r: append_line(r / "training" / "data.py", "# code on top"), start="deps")
    return sha, rebuilt, run_ci(repo, git_ref="deps-code")


def test_dependency_change_rebuilds_once_under_a_new_tag(
    remote: FlyteRemote,
    docker_client: docker.DockerClient,
    registry_client: RegistryClient,
    image_repository: str,
    base: Release,
    dependency_change: tuple[str, Release, Release],
) -> None:
    sha, rebuilt, after = dependency_change
    [old], [new], [reused] = base.images, rebuilt.images, after.images
    assert new.built, "requirements.txt is hashed into the tag: a new tag, a new build"
    assert (new.repository, new.tag != old.tag, new.digest != old.digest) == (old.repository, True, True)
    assert not reused.built, "a code change on top of the new dependencies rebuilds nothing"
    assert (reused.tag, reused.digest) == (new.tag, new.digest)
    # Both tags in the registry; the old one still points at the first build.
    assert registry_client.manifest_digest(image_repository, old.tag) == old.digest
    assert registry_client.manifest_digest(image_repository, new.tag) == new.digest
    labels = docker_client.images.get(new.reference).labels
    assert labels[LABEL_REVISION] == sha
    assert labels[LABEL_CONTENT_HASH].startswith(new.tag)
    # Each release's tasks run in their own image; the earlier release is untouched.
    assert remote.fetch_task(PROJECT, DOMAIN, TASK, rebuilt.version).template.container.image == new.reference
    assert remote.fetch_task(PROJECT, DOMAIN, TASK, after.version).template.container.image == new.reference
    assert remote.fetch_task(PROJECT, DOMAIN, TASK, base.version).template.container.image == old.reference


# ------------------------------------------------------------------------------------ two PRs at once


def code_change(line: str) -> Callable[[Path], None]:
    """A change to the pipeline's code only (no dependency file, no Dockerfile)."""
    return lambda repo: append_line(repo / "training" / "model.py", line)


def start_pyflyte_ci(repo: Path, git_ref: str, pr_number: int, log: Path) -> subprocess.Popen[bytes]:
    """``pyflyte run`` (local execution) of ci_pipeline in a process of its own, logging to ``log``."""
    argv = [
        sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", "run", str(CI_FILE), "ci_pipeline",
        "--git_url", f"file://{repo}", "--git_ref", git_ref, "--pr_number", str(pr_number), "--no-validate",
    ]  # fmt: skip
    with log.open("wb") as out:
        # os.environ carries the stack's settings and this module's FlyteAdmin (task_env).
        return subprocess.Popen(argv, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))


@pytest.fixture(scope="module")
def concurrent_prs(
    repo: Path, task_env: None, base: Release, tmp_path_factory: pytest.TempPathFactory
) -> dict[int, str]:
    """PRs 21 and 22, each a code-only commit, run by ci_pipeline at the same time: ``{pr: sha}``."""
    shas = {pr: branch(repo, f"pr-{pr}", code_change(f"# PR {pr}")) for pr in (21, 22)}
    logs = tmp_path_factory.mktemp("pyflyte")
    processes = {pr: start_pyflyte_ci(repo, f"pr-{pr}", pr, logs / f"pr{pr}.log") for pr in shas}
    time.sleep(5)
    assert all(p.poll() is None for p in processes.values()), "both runs are under way together"
    for pr, process in processes.items():
        status = process.wait(timeout=PR_TIMEOUT_S)
        tail = "\n".join((logs / f"pr{pr}.log").read_text(errors="replace").splitlines()[-30:])
        assert status == 0, f"ci_pipeline for PR {pr} failed (exit {status}):\n{tail}"
    return shas


def test_two_prs_at_once_register_their_own_versions_and_activate_nothing(
    remote: FlyteRemote, base: Release, concurrent_prs: dict[int, str]
) -> None:
    entities = registered(remote, PROJECT)
    for pr, sha in concurrent_prs.items():
        version = f"pr{pr}-{sha[:12]}"
        own = {(entity.kind, entity.name) for entity in entities if entity.version == version}
        assert len(own) == base.package.entity_count, f"PR {pr}: every entity under {version}"
        task = remote.fetch_task(PROJECT, DOMAIN, TASK, version)
        assert task.template.container.image == base.images[0].reference, "code-only PRs reuse the image"
        states = launch_plan_states(remote, PROJECT, version)
        assert states, f"PR {pr}: launch plans registered under {version}"
        assert set(states.values()) == {"INACTIVE"}, f"PR {pr} activated a launch plan: {states}"
    assert active_launch_plans(remote, PROJECT) == [], "no PR (and no ci run) activates a launch plan"


# ------------------------------------------------------------------------------------ two pipelines


@pytest.fixture(scope="module")
def other_pipeline(
    tmp_path_factory: pytest.TempPathFactory, admin: LocalFlyteProcess, image_repository: str, task_env: None
) -> Release:
    """A second pipeline (a copy of the example as project and pipeline ``forecast``) through the same Taxiway."""
    root = tmp_path_factory.mktemp("ci-scenarios-other") / "forecast-repo"
    repo = example_repo(root, f"{image_repository}-{OTHER}", project=OTHER, pipeline=OTHER)
    flyte_remote(admin.endpoint, OTHER)
    return run_ci(repo)


def test_two_pipelines_stay_in_their_own_projects_and_package_prefixes(
    remote: FlyteRemote, base: Release, other_pipeline: Release
) -> None:
    other = other_pipeline
    assert (other.pipeline, other.project) == (OTHER, OTHER)
    assert [(r.project, r.domain) for r in other.registrations] == [(OTHER, DOMAIN)]
    assert other.registrations[0].created_count == other.package.entity_count
    ours, theirs = registered(remote, PROJECT), registered(remote, OTHER)
    assert versions(theirs) == {other.version}, "the second project holds only its own release"
    assert other.version not in versions(ours)
    # The same entity names live in both projects, apart.
    assert {(e.kind, e.name) for e in theirs} == {(e.kind, e.name) for e in ours if e.version == base.version}
    assert active_launch_plans(remote, OTHER) == []
    assert f"/taxiway/packages/{PROJECT}/" in base.package.uri
    assert f"/taxiway/packages/{OTHER}/" in other.package.uri
    assert other.images[0].repository != base.images[0].repository
    task = remote.fetch_task(OTHER, DOMAIN, TASK, other.version)
    assert task.template.container.image == other.images[0].reference


# ------------------------------------------------------------------------------------ bad input


def ci_failure(expected: type[TaxiwayError], **inputs: object) -> str:
    """Run ci_pipeline (validation off) expecting ``expected`` to stop it; the error's text, with its causes.

    flytekit's local execution re-raises a task's error prefixed with the task's name, and the task layer
    turns transient errors into ``FlyteRecoverableException``: the Taxiway error is found in the chain.
    """
    with pytest.raises(Exception) as caught:
        ci_pipeline(validate=False, **inputs)
    chain: list[BaseException] = []
    error: BaseException | None = caught.value
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(link, expected) for link in chain), f"expected {expected.__name__}, got {chain!r}"
    return "\n".join(str(link) for link in chain)


def test_missing_dockerfile_names_it_and_registers_nothing(repo: Path, remote: FlyteRemote, task_env: None) -> None:
    branch(repo, "no-dockerfile", lambda r: (r / "Dockerfile").unlink())
    before = registered(remote, PROJECT)
    message = ci_failure(SourceNotFound, git_url=f"file://{repo}", git_ref="no-dockerfile")
    assert "Dockerfile 'Dockerfile' not found" in message
    assert "/Dockerfile" in message, "where: the path looked at"
    assert "image.dockerfile" in message, "fix: add it or point image.dockerfile at it"
    assert registered(remote, PROJECT) == before


def test_unknown_git_ref_names_it_and_registers_nothing(repo: Path, remote: FlyteRemote, task_env: None) -> None:
    before = registered(remote, PROJECT)
    message = ci_failure(SourceNotFound, git_url=f"file://{repo}", git_ref="no-such-branch")
    assert "git ref 'no-such-branch' not found" in message
    assert str(repo) in message, "where: the repository"
    assert "push the branch or tag first" in message
    assert registered(remote, PROJECT) == before


def test_unreachable_registry_names_it_and_registers_nothing(repo: Path, remote: FlyteRemote, task_env: None) -> None:
    unused = f"127.0.0.1:{free_port()}"  # nothing listens there
    branch(repo, "registry-down", lambda r: edit_image_config(r, "repository", f"{unused}/taxiway-test/unreachable"))
    before = registered(remote, PROJECT)
    message = ci_failure(RegistryUnavailable, git_url=f"file://{repo}", git_ref="registry-down")
    assert "image registry unreachable" in message
    assert unused in message, "where: the registry's host:port"
    assert "check that the image registry is running" in message
    assert registered(remote, PROJECT) == before


def test_module_failing_at_import_is_named_and_registers_nothing(
    repo: Path, remote: FlyteRemote, task_env: None, base: Release
) -> None:
    broken = 'raise RuntimeError("broken on purpose by the e2e scenario")\n'
    branch(repo, "broken-module", lambda r: (r / "training" / "broken_import.py").write_text(broken))
    before = registered(remote, PROJECT)
    message = ci_failure(SerializationFailed, git_url=f"file://{repo}", git_ref="broken-module")
    assert "serialization failed in module training.broken_import" in message
    assert "broken on purpose by the e2e scenario" in message
    assert base.images[0].reference in message, "where: the image serialization ran in"
    assert "pyflyte" in message, "fix: reproduce it with pyflyte package in the image"
    assert registered(remote, PROJECT) == before


def test_same_version_with_another_structure_is_a_conflict_and_registers_nothing(
    repo: Path, remote: FlyteRemote, task_env: None, base: Release, tmp_path: Path
) -> None:
    # An upload of base's commit with one task changed, claiming base's SHA: the same version, another structure.
    tree = tmp_path / "upload"
    tree.mkdir()
    archive = tmp_path / "source.tar"
    git(repo, "archive", "--output", str(archive), base.git_sha)
    subprocess.run(["tar", "-xf", str(archive), "-C", str(tree)], check=True)
    data = tree / "training" / "data.py"
    text = data.read_text()
    assert 'Resources(cpu="1", mem="1Gi")' in text, "the example's task this scenario changes"
    data.write_text(text.replace('Resources(cpu="1", mem="1Gi")', 'Resources(cpu="1", mem="2Gi")', 1))
    before = registered(remote, PROJECT)
    message = ci_failure(VersionConflict, source=FlyteDirectory(str(tree)), git_sha=base.git_sha)
    assert f"version {base.version} is already registered with a different structure" in message
    assert TASK in message, "what: the entity that differs"
    assert f"{PROJECT}/{DOMAIN}" in message, "where: the project and domain"
    assert "bump the version" in message
    assert registered(remote, PROJECT) == before
