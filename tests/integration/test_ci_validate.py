"""``ci_pipeline`` validates in development for real, and reports the run to Slack in one thread.

Real parts: the stack's Docker engine and registry (the image is built once under a repository of
this test, then its content-hash tag is reused), this module's moto and a localflyte that really runs
executions (process runtime: the example's training workflow runs on the host, torch included), and a
localslack of this module's own. ``ci_pipeline`` is called in-process with real inputs, as ``pyflyte run``
without ``--remote`` would; its validation task launches ``validation_lp`` in ``development`` on localflyte.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flytekit.configuration import Config, PlatformConfig
from flytekit.models.project import Project
from flytekit.remote import FlyteRemote

from localflyte.testing import LocalFlyteProcess, MotoServer
from localslack.testing import LocalSlackProcess
from meta_workflows.ci import ci_pipeline
from tasks.core.config import load_pipeline_config
from tasks.core.errors import ValidationFailed
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.promote import validation_request
from tasks.core.promote_flyte import FlyteExecutions
from tasks.core.records import Release
from tasks.core.validate import inspect_validation
from tasks.core.vocabulary import Phase, Verdict
from tasks.notify import BASE_URL_ENV, TOKEN_ENV

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "training"
PROJECT, DOMAIN, CHANNEL = "training", "development", "training-releases"
AUTHOR = "ci-author@example.com"
TOKEN = "xoxb-ci-validate-sentinel"


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "CI Author",
        "GIT_AUTHOR_EMAIL": AUTHOR,
        "HOME": str(repo.parent),
        "PATH": "/usr/bin:/bin",
    }
    env |= {"GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlackProcess]:
    with LocalSlackProcess(tmp_path_factory.mktemp("localslack"), tokens=(TOKEN,), channels=(CHANNEL,)) as process:
        yield process


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str], slack: LocalSlackProcess) -> Path:
    """A git copy of the example: its image under a repository of this test, its Slack at this localslack."""
    root = tmp_path_factory.mktemp("ci-validate") / "training-repo"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".wheels"))
    config_path = root / "taxiway.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["image"]["repository"] = f"{stack_env['TAXIWAY_REGISTRY']}/taxiway-test/ci-validate-training"
    config["notifications"]["slack"]["api_url"] = slack.api_url
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    git(root, "init", "--quiet", "--initial-branch", "main")
    commit_all(root, "the example pipeline")
    return root


@pytest.fixture(scope="module")
def remote(localflyte: LocalFlyteProcess) -> FlyteRemote:
    config = Config(platform=PlatformConfig(endpoint=localflyte.endpoint, insecure=True))
    flyte = FlyteRemote(config, default_project=PROJECT, default_domain=DOMAIN)
    flyte.client.register_project(Project(id=PROJECT, name=PROJECT, description="ci_pipeline validation"))
    return flyte


@pytest.fixture(scope="module")
def task_env(
    stack_env: dict[str, str], localflyte: LocalFlyteProcess, moto: MotoServer, slack: LocalSlackProcess
) -> Iterator[None]:
    """What Flyte would inject into the tasks: this module's FlyteAdmin and S3, the stack's Docker, a token."""
    patch = pytest.MonkeyPatch()
    patch.setenv("FLYTE_PLATFORM_URL", localflyte.endpoint)
    patch.setenv("FLYTE_PLATFORM_INSECURE", "True")
    for name in ("AWS_ENDPOINT_URL", "FLYTE_AWS_ENDPOINT"):
        patch.setenv(name, moto.endpoint)
    patch.setenv(TOKEN_ENV, TOKEN)
    patch.setenv(BASE_URL_ENV, slack.api_url)
    yield
    patch.undo()


def run_ci(repo: Path) -> Release:
    release = ci_pipeline(git_url=f"file://{repo}", git_ref="main")
    assert isinstance(release, Release)
    return release


def ci_thread(slack: LocalSlackProcess, version: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ci run's main message for ``version`` and its thread replies."""
    messages = slack.messages(CHANNEL)
    mains = [m for m in messages if m["thread_ts"] is None and f"ci · training {version}" in text(m)]
    assert len(mains) == 1, f"expected one ci message for {version}, got {len(mains)}"
    main = mains[0]
    return main, [m for m in messages if m["thread_ts"] == main["ts"]]


def text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


@pytest.fixture(scope="module")
def validated(repo: Path, remote: FlyteRemote, task_env: None) -> Release:
    return run_ci(repo)


def test_ci_validates_the_release_in_development(validated: Release, repo: Path, remote: FlyteRemote) -> None:
    assert validated.version == git(repo, "rev-parse", "HEAD")[:12]
    assert validated.author == AUTHOR
    validation = validated.validation
    assert validation is not None, "ci_pipeline validates by default"
    assert (validation.domain, validation.version, validation.verdict) == (DOMAIN, validated.version, Verdict.PASSED)
    [case] = validation.cases
    assert (case.case, case.phase, case.verdict) == ("accuracy-gate", Phase.SUCCEEDED, Verdict.PASSED)
    assert {check.expectation for check in case.checks if check.passed} >= {"metrics.accuracy >= 0.8", "model exists"}
    # The evidence is a real execution in development, under its deterministic name (what promotion looks for).
    execution = remote.fetch_execution(PROJECT, DOMAIN, case.execution_id.rpartition("/")[2])
    assert execution.closure.phase == 4  # SUCCEEDED
    assert execution.spec.launch_plan.version == validated.version


def test_promotion_out_of_development_finds_the_ci_validation(validated: Release, repo: Path) -> None:
    # What the promotion gate reads (launching nothing): the executions ci_pipeline created, by name.
    config = load_pipeline_config(repo / "taxiway.yaml")
    remotes = FlyteRemotes(FlyteSettings.from_env(os.environ))
    executions = FlyteExecutions(lambda domain: remotes.for_domain(PROJECT, domain))
    evidence = inspect_validation(validation_request(config, validated.version, DOMAIN), executions)
    assert evidence is not None and evidence.verdict is Verdict.PASSED


def test_ci_reports_one_thread_started_built_registered_validated(validated: Release, slack: LocalSlackProcess) -> None:
    main, replies = ci_thread(slack, validated.version)
    body = text(main)
    assert "SUCCEEDED" in body and validated.version in body
    assert "/console/projects/" in body, "the main message links the run's execution"
    events = [reply["text"].split(":", 1)[0] for reply in replies]
    assert events == ["RunStarted", "ImageBuilt" if validated.images[0].built else "ImageReused",
                      "ReleaseRegistered", "ValidationSucceeded"]  # fmt: skip
    validated_reply = text(replies[-1])
    assert "metrics.accuracy" in validated_reply
    [case] = validated.validation.cases if validated.validation else []
    assert case.console_url and case.console_url in validated_reply, "the reply links the validation execution"


def test_a_failed_validation_fails_the_run_after_reporting_it(
    validated: Release, repo: Path, slack: LocalSlackProcess, task_env: None
) -> None:
    config_path = repo / "taxiway.yaml"
    config = yaml.safe_load(config_path.read_text())
    [case] = config["validation"]
    case["inputs"] = {"n_samples": 200, "epochs": 1, "seed": 7}  # a short run: only the verdict matters here
    case["expectations"] = ["metrics.accuracy > 1.5"]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    version = commit_all(repo, "an expectation no model meets")[:12]

    with pytest.raises(ValidationFailed, match=rf"release {version} failed validation in development: accuracy-gate"):
        run_ci(repo)

    main, replies = ci_thread(slack, version)
    assert "accuracy-gate" in text(replies[-1]) and "`metrics.accuracy`" in text(replies[-1])
    assert "FAILED" in text(main) and "validate failed" in text(main)
    assert replies[-1]["text"].startswith("ValidationFailed")
    # Reported once, in the run's thread: the failure handler does not post a second message.
    assert [m for m in slack.messages(CHANNEL) if m["thread_ts"] is None and version in text(m)] == [main]
