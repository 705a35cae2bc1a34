"""``release_model``'s tasks end to end on the local stack: a release validated for real, served by the stack's
model server, answering a real prediction.

Real parts: the stack's Docker engine and registry (the example's image, built once under the repository
``test_ci_validate`` uses, then its content-hash tag is reused), the stack's moto (S3: raw data, model store,
serving repository) and MLServer on 127.0.0.1:30092, a localflyte of this module that really runs executions
(process runtime: the example's training runs on the host, torch included), and a localslack of its own.
``ci_pipeline`` builds and validates the release in development in-process; then the tasks of
``meta_workflows.release_model.release_model`` run in-process in its order. ``locate_release`` is left out: an
in-process run has no ``ci-<version>`` execution on FlyteAdmin to find (it is the promotion's, tested there).
Each test uses a model name of its own on the shared server, so nothing the demo serves is touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import torch
import yaml
from flytekit.exceptions.user import FlyteRecoverableException
from flytekit.models.project import Project
from flytekit.types.file import FlyteFile

from localflyte.testing import LocalFlyteProcess, free_port_pair
from localslack.testing import LocalSlackProcess
from meta_workflows.ci import ci_pipeline
from meta_workflows.release_model import release_model as release_model_workflow
from tasks.core.errors import PermanentError, SourceNotFound
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.records import Release
from tasks.core.rollout import RolloutRequest, roll_out
from tasks.core.rollout_errors import RolloutRefused, ServingRejected
from tasks.core.rollout_records import RolloutOutcome, RolloutRecord
from tasks.core.rollout_s3 import split_uri
from tasks.core.serving_oip import OipTarget
from tasks.core.vocabulary import Verdict
from tasks.notify import BASE_URL_ENV, TOKEN_ENV
from tasks.rollout import locate_model, report_rollout, roll_out_model
from tasks.validate import ReleaseContext
from tests.integration.test_localflyte_executor import pyflyte, write_config

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "training"
PROJECT, DOMAIN, CHANNEL = "training", "development", "training-releases"
TOKEN = "xoxb-release-model-sentinel"
SERVER = "http://127.0.0.1:30092"  # the stack's MLServer; its repository is s3://taxiway-models/serving
POINT = [0.25, -0.5]
RUN = uuid.uuid4().hex[:8]
MODEL = f"release-model-{RUN}"


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "Rollout", "GIT_AUTHOR_EMAIL": "rollout@example.com", "HOME": str(repo.parent),
           "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.com", "PATH": "/usr/bin:/bin"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlackProcess]:
    with LocalSlackProcess(tmp_path_factory.mktemp("localslack"), tokens=(TOKEN,), channels=(CHANNEL,)) as process:
        yield process


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str], slack: LocalSlackProcess) -> Path:
    """A git copy of the example serving under a model name of this run, reporting to this module's Slack."""
    root = tmp_path_factory.mktemp("release-model") / "training-repo"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".wheels"))
    config_path = root / "taxiway.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["image"]["repository"] = f"{stack_env['TAXIWAY_REGISTRY']}/taxiway-test/ci-validate-training"
    config["notifications"]["slack"]["api_url"] = slack.api_url
    config["serving"] |= {"model_name": MODEL, "url": SERVER, "domain": DOMAIN}
    config["serving"]["smoke"][0]["expectations"] = [f'model_name == "{MODEL}"', "outputs.0.shape.1 == 3"]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    git(root, "init", "--quiet", "--initial-branch", "main")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "the example pipeline")
    return root


@pytest.fixture(scope="module")
def localflyte(
    tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str], s3_client: Any, slack: LocalSlackProcess
) -> Iterator[LocalFlyteProcess]:
    """localflyte (process runtime) storing in a bucket of its own on the stack's moto, where the model server
    reads; its tasks, and the tasks run in-process here, see this FlyteAdmin, the stack's S3 and Docker, a token."""
    bucket = f"taxiway-release-model-{RUN}"
    s3_client.create_bucket(Bucket=bucket)
    port = free_port_pair()
    patch = pytest.MonkeyPatch()
    for name, value in {"FLYTE_PLATFORM_URL": f"127.0.0.1:{port}", "FLYTE_PLATFORM_INSECURE": "True",
                        TOKEN_ENV: TOKEN, BASE_URL_ENV: slack.api_url}.items():  # fmt: skip
        patch.setenv(name, value)
    process = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=stack_env["AWS_ENDPOINT_URL"],
                                bucket=bucket, runtime="process", port=port)  # fmt: skip
    yield process
    process.stop()
    patch.undo()


@pytest.fixture(scope="module")
def context(repo: Path, localflyte: LocalFlyteProcess) -> ReleaseContext:
    """The release ``ci_pipeline`` built and validated in development, with its taxiway.yaml."""
    remotes = FlyteRemotes(
        FlyteSettings.from_env({"FLYTE_PLATFORM_URL": localflyte.endpoint, "FLYTE_PLATFORM_INSECURE": "true"})
    )
    remotes.for_domain(PROJECT, DOMAIN).client.register_project(Project(PROJECT, PROJECT, "release_model"))
    release = ci_pipeline(git_url=f"file://{repo}", git_ref="main")
    assert isinstance(release, Release) and release.validation is not None
    assert release.validation.verdict is Verdict.PASSED, release.validation.failures()
    return ReleaseContext(release, (repo / "taxiway.yaml").read_text(), "taxiway.yaml")


def with_serving(context: ReleaseContext, **changes: Any) -> ReleaseContext:
    """The same release with its serving section changed (what the workflow's ``config`` input does)."""
    config = yaml.safe_load(context.config_yaml)
    for key, value in changes.items():
        if key == "smoke_expectations":
            config["serving"]["smoke"][0]["expectations"] = value
        else:
            config["serving"][key] = value
    return ReleaseContext(context.release, yaml.safe_dump(config, sort_keys=False), "changed taxiway.yaml")


def release_model(context: ReleaseContext, domain: str = "") -> RolloutRecord:
    """``meta_workflows.release_model.release_model`` after ``locate-release``: its tasks, in its order."""
    model = locate_model(context=context, domain=domain)
    record = roll_out_model(context=context, model=model)
    report_rollout(context=context, model=model, record=record)
    assert isinstance(record, RolloutRecord)
    return record


def predict(model: str, version: str | None = None) -> tuple[list[float], str]:
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
    body = {"inputs": [{"name": "input-0", "shape": [1, 2], "datatype": "FP32", "data": POINT}]}
    response = requests.post(SERVER + path, json=body, timeout=30)
    assert response.status_code == 200, response.text
    answer = response.json()
    return [float(x) for x in answer["outputs"][0]["data"]], str(answer.get("model_version"))


def outside_serving(s3_client: Any, uri: str, tmp_path: Path) -> list[float]:
    """The model's answer to ``POINT`` from ``torch.jit.load``, without the model server."""
    bucket, key = split_uri(uri)
    local = tmp_path / "model.pt"
    s3_client.download_file(bucket, key, str(local))
    with torch.no_grad():
        return [float(x) for x in torch.jit.load(str(local))(torch.tensor([POINT], dtype=torch.float32))[0]]


def snapshot(s3_client: Any, model: str = MODEL) -> tuple[Any, ...]:
    """What a rollout may change: the model store's keys of the pipeline and the model's serving repository."""

    def listing(bucket: str, prefix: str) -> list[tuple[str, str]]:
        found = s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        return sorted((item["Key"], item["ETag"]) for item in found)

    return tuple(listing("taxiway-models", prefix) for prefix in ("training/", f"serving/{model}/"))


def test_release_model_serves_the_validated_model(
    context: ReleaseContext, s3_client: Any, slack: LocalSlackProcess, tmp_path: Path
) -> None:
    version = context.release.version
    record = release_model(context)  # "" -> serving.domain: development, where ci_pipeline validated

    assert record.outcome is RolloutOutcome.ROLLED_OUT, record.reason
    assert record.model_uri == f"s3://taxiway-models/training/{version}/{record.checksum}/model.pt"
    bucket, key = split_uri(record.model_uri.replace("model.pt", "manifest.json"))
    manifest = json.loads(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert (manifest["version"], manifest["git_sha"]) == (version, context.release.git_sha)
    assert manifest["execution_id"].startswith(f"{PROJECT}/{DOMAIN}/val-{version}-accuracy-gate")
    assert manifest["metrics"]["accuracy"] >= 0.8
    logits, served = predict(MODEL)
    assert served == version
    assert logits == pytest.approx(outside_serving(s3_client, record.model_uri, tmp_path), abs=1e-5)
    replies = [m for m in slack.messages(CHANNEL) if m["thread_ts"] is not None]
    assert any("now serves" in json.dumps(m["blocks"]) for m in replies), "the rollout is reported in its thread"


def test_running_it_again_changes_nothing(context: ReleaseContext, s3_client: Any) -> None:
    before = snapshot(s3_client)
    record = release_model(context, DOMAIN)
    assert record.outcome is RolloutOutcome.NO_OP and record.reason == "this model already serves"
    assert snapshot(s3_client) == before
    assert predict(MODEL)[1] == context.release.version


def test_a_failed_smoke_test_keeps_the_previous_model_serving(context: ReleaseContext, s3_client: Any) -> None:
    other = f"{MODEL}-smoke"
    model = locate_model(context=context, domain=DOMAIN)
    # An earlier version serves under this name (the same file, an earlier version name).
    target = OipTarget(url=SERVER, model_name=other, s3_client=s3_client, timeout=60)
    earlier = roll_out(RolloutRequest("training", "v0", model.model_uri, "0" * 40, "earlier"), s3_client=s3_client,
                       target=target, smoke=())  # fmt: skip
    assert earlier.outcome is RolloutOutcome.ROLLED_OUT

    failing = with_serving(context, model_name=other, smoke_expectations=["outputs.0.shape.1 == 4"])
    record = release_model(failing, DOMAIN)

    assert record.outcome is RolloutOutcome.KEPT_PREVIOUS and record.serving_version == "v0"
    assert "outputs.0.shape.1 is equal to 4: NOT met" in record.reason
    assert predict(other)[1] == "v0"
    version = context.release.version
    assert requests.get(f"{SERVER}/v2/models/{other}/versions/{version}/ready", timeout=10).status_code != 200


@pytest.mark.parametrize(
    ("domain", "changes", "error", "message"),
    [
        ("staging", {}, RolloutRefused, "was never validated in staging"),
        (DOMAIN, {"source": {"validation": "accuracy-gate", "output": "weights"}}, SourceNotFound,
         "no model output 'weights'"),
        (DOMAIN, {"url": f"{SERVER}/nope"}, ServingRejected, "no Open Inference Protocol v2 server"),
        (DOMAIN, {"model_store": f"taxiway-missing-{RUN}"}, PermanentError, f"bucket taxiway-missing-{RUN} does not"),
        (DOMAIN, {"url": "http://127.0.0.1:9"}, FlyteRecoverableException, "model server did not answer"),
    ],
    ids=["unvalidated-release", "no-model-output", "not-a-model-server", "bucket-missing", "server-unreachable"],
)  # fmt: skip
def test_bad_input_fails_clearly_and_changes_nothing(
    context: ReleaseContext, s3_client: Any, domain: str, changes: dict[str, Any], error: type, message: str
) -> None:
    before, serving = snapshot(s3_client), predict(MODEL)
    with pytest.raises(error, match=message):
        release_model(with_serving(context, **changes), domain)
    assert snapshot(s3_client) == before
    assert predict(MODEL) == serving


def test_release_model_runs_remotely_with_pyflyte_run(
    context: ReleaseContext, repo: Path, localflyte: LocalFlyteProcess, stack_env: dict[str, str], s3_client: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    """As a demo script or external CI would: ``ci_pipeline`` then ``release_model``, each ``pyflyte run --remote``
    under its deterministic name; every task runs in localflyte's process runtime. The release's validation
    executions in development are reused, so only the rollout is new: under a model name given by ``--config``."""
    version, remote_model = context.release.version, f"{MODEL}-remote"
    flyte_config = write_config(tmp_path / "flyte.yaml", localflyte.endpoint, stack_env["AWS_ENDPOINT_URL"])
    where = ("--project", PROJECT, "--domain", DOMAIN)
    ci = pyflyte(flyte_config, "run", "--remote", "--wait", *where, "--name", f"ci-{version}", "meta_workflows/ci.py",
                 "ci_pipeline", "--git_url", f"file://{repo}", "--git_ref", "main", timeout=900)  # fmt: skip
    assert ci.returncode == 0, ci.stdout + ci.stderr
    changed = tmp_path / "taxiway.yaml"
    changed.write_text(with_serving(context, model_name=remote_model, smoke_expectations=["outputs.0.data exists"])
                       .config_yaml)  # fmt: skip
    name = f"release-{version}-{DOMAIN}"
    done = pyflyte(flyte_config, "run", "--remote", "--wait", *where, "--name", name,
                   "meta_workflows/release_model.py", "release_model", "--pipeline", "training", "--version", version,
                   "--domain", DOMAIN, "--config", str(changed), timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr

    remote = FlyteRemotes(FlyteSettings.from_env(dict(os.environ))).for_domain(PROJECT, DOMAIN)
    execution = remote.sync_execution(remote.fetch_execution(name=name))
    assert execution.is_successful, execution.closure.error
    record = execution.outputs.get("o0", as_type=RolloutRecord)
    assert record.outcome is RolloutOutcome.ROLLED_OUT and record.version == version, record.reason
    logits, served = predict(remote_model)
    assert served == version
    assert logits == pytest.approx(outside_serving(s3_client, record.model_uri, tmp_path), abs=1e-5)


def test_a_failed_run_is_reported_in_slack_naming_its_step(
    repo: Path, localflyte: LocalFlyteProcess, slack: LocalSlackProcess
) -> None:
    """The workflow itself, in-process: an unknown version fails at ``locate-release``; the failure handler
    posts one message in the domain's channel naming the step and the task."""
    unknown = "0000000000aa"
    with pytest.raises(Exception, match=unknown):
        release_model_workflow(pipeline="training", version=unknown, domain=DOMAIN,
                               config=FlyteFile(str(repo / "taxiway.yaml")))  # fmt: skip
    [message] = [m for m in slack.messages(CHANNEL) if m["thread_ts"] is None and unknown in json.dumps(m["blocks"])]
    assert "*FAILED* · start failed" in json.dumps(message["blocks"], ensure_ascii=False)
    replies = [m for m in slack.messages(CHANNEL) if m["thread_ts"] == message["ts"]]
    assert any("tasks.promote_locate.locate_release" in json.dumps(reply) for reply in replies), replies
