"""The example pipeline's image builds from the local base image and serializes the pipeline inside.

Needs the Docker engine and the base image from ``scripts/stack up`` (fixtures ``docker_client`` and
``base_image`` in the shared conftest files). A cold build (venv with torch) takes about four
minutes, hence also ``e2e``; a warm one reuses the layer cache.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
import requests
from docker.models.containers import Container
from flyteidl.admin.launch_plan_pb2 import LaunchPlan
from flyteidl.admin.task_pb2 import TaskSpec
from flyteidl.admin.workflow_pb2 import WorkflowSpec

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

EXAMPLE_ROOT = Path(__file__).resolve().parents[2] / "examples" / "training"
CONTAINER_TIMEOUT_S = 300
CONTEXT_FILES = ("Dockerfile", ".dockerignore", "requirements.txt", "prepare_context.sh")

TASKS = (
    "training.data.generate_dataset",
    "training.train.train_elastic",
    "training.train.train_multiworker",
    "training.evaluate.evaluate",
)
WORKFLOWS = ("training.workflows.training_workflow", "training.workflows.multiworker_training_workflow")
LAUNCH_PLANS = ("validation_lp", "nightly_retraining_lp", *WORKFLOWS)


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    size_bytes: int
    build_seconds: float


def _content_tag(base_image: str) -> str:
    """Tag by what goes into the image, so an unchanged example reuses the same tag."""
    digest = hashlib.sha256(base_image.encode())
    for path in sorted(
        [*(EXAMPLE_ROOT / "training").glob("*.py"), EXAMPLE_ROOT / "Dockerfile", EXAMPLE_ROOT / "requirements.txt"]
    ):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"taxiway-example/training:{digest.hexdigest()[:16]}"


@pytest.fixture(scope="module")
def image(docker_client: docker.DockerClient, base_image: str, tmp_path_factory: pytest.TempPathFactory) -> BuiltImage:
    """Build the example image from a copy of its context, wheelhouse included."""
    context = tmp_path_factory.mktemp("training-context")
    for name in CONTEXT_FILES:
        shutil.copy2(EXAMPLE_ROOT / name, context / name)
    shutil.copytree(EXAMPLE_ROOT / "training", context / "training", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([str(context / "prepare_context.sh"), str(context / ".wheels")], check=True, timeout=600)

    tag = _content_tag(base_image)
    started = time.monotonic()
    docker_client.images.build(
        path=str(context),
        tag=tag,
        buildargs={"BASE_IMAGE": base_image},
        network_mode="host",
        rm=True,
        forcerm=True,
    )
    seconds = time.monotonic() - started
    size = int(docker_client.images.get(tag).attrs["Size"])
    print(f"\nexample image {tag}: {size / 2**20:.0f} MiB, built in {seconds:.0f}s")
    return BuiltImage(tag=tag, size_bytes=size, build_seconds=seconds)


def _run(client: docker.DockerClient, image: BuiltImage, command: list[str], out_dir: Path) -> str:
    """Run ``command`` in the image without network; return its output, fail on a non-zero exit."""
    container = client.containers.run(
        image.tag,
        command=command,
        volumes={str(out_dir): {"bind": "/out", "mode": "rw"}},
        network_mode="none",
        # With no network docker leaves the container's hostname out of /etc/hosts, and torchelastic
        # tells its workers to meet at the agent's hostname: it must resolve (it does in a pod).
        hostname="localhost",
        detach=True,
    )
    try:
        try:
            status = container.wait(timeout=CONTAINER_TIMEOUT_S)
        except requests.exceptions.RequestException:
            container.kill()
            pytest.fail(f"{command[:3]} still running after {CONTAINER_TIMEOUT_S}s:\n{_logs(container)}")
        logs = _logs(container)
        assert status["StatusCode"] == 0, f"{command[:3]} exited {status['StatusCode']}:\n{logs}"
        return logs
    finally:
        container.remove(force=True)


def _logs(container: Container) -> str:
    return bytes(container.logs(stdout=True, stderr=True)).decode(errors="replace")


def test_image_has_pinned_torch_and_one_thread_default(
    docker_client: docker.DockerClient, image: BuiltImage, tmp_path: Path
) -> None:
    out = _run(
        docker_client,
        image,
        [
            "python",
            "-c",
            "import os, torch, flytekit; print(torch.__version__, flytekit.__version__, "
            "os.environ['OMP_NUM_THREADS'], torch.cuda.is_available())",
        ],
        tmp_path,
    )
    assert out.strip().splitlines()[-1] == "2.13.0+cpu 1.16.31 1 False"


def test_package_inside_image_has_protos_and_fast_bundle(
    docker_client: docker.DockerClient, image: BuiltImage, tmp_path: Path
) -> None:
    tmp_path.chmod(0o777)
    command = [
        "pyflyte",
        "--pkgs",
        "training",
        "package",
        "--image",
        image.tag,
        "--fast",
        "-p",
        "/opt/venv/bin/python",
        "-o",
        "/out/package.tgz",
    ]
    logs = _run(docker_client, image, command, tmp_path)
    package = tmp_path / "package.tgz"
    assert package.is_file(), f"pyflyte package wrote no package.tgz; container output:\n{logs}"

    with tarfile.open(package) as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}  # type: ignore[union-attr]

    tasks, workflows, launch_plans = {}, {}, {}
    for name, data in members.items():
        if not name.endswith(".pb"):
            continue
        kind = name.rsplit("_", 1)[-1]  # pyflyte names them <n>_<entity>_<1 task|2 workflow|3 launch plan>.pb
        if kind == "1.pb":
            task = TaskSpec.FromString(data)
            tasks[task.template.id.name] = task
        elif kind == "2.pb":
            workflow = WorkflowSpec.FromString(data)
            workflows[workflow.template.id.name] = workflow
        elif kind == "3.pb":
            launch_plan = LaunchPlan.FromString(data)
            launch_plans[launch_plan.id.name] = launch_plan

    assert set(tasks) == set(TASKS)
    assert set(workflows) == set(WORKFLOWS)
    assert set(launch_plans) == set(LAUNCH_PLANS)
    for task in tasks.values():
        assert task.template.container.image == image.tag
        assert task.template.container.args[0] == "pyflyte-fast-execute"
    assert tasks["training.train.train_elastic"].template.type == "python-task"
    assert tasks["training.train.train_multiworker"].template.type == "pytorch"
    schedule = launch_plans["nightly_retraining_lp"].spec.entity_metadata.schedule
    assert schedule.cron_schedule.schedule == "0 2 * * *"
    assert schedule.kickoff_time_input_arg == "as_of"

    bundles = [name for name in members if name.startswith("fast") and name.endswith(".tar.gz")]
    assert len(bundles) == 1, f"expected one fast-registration bundle, got {sorted(members)}"
    bundle_path = tmp_path / bundles[0]
    bundle_path.write_bytes(members[bundles[0]])
    with tarfile.open(bundle_path) as bundle:
        code = set(bundle.getnames())
    assert {"training/workflows.py", "training/train.py", "training/launch_plans.py"} <= code
    assert not any(".wheels" in name for name in code)


def test_validation_lp_trains_inside_image(
    docker_client: docker.DockerClient, image: BuiltImage, tmp_path: Path
) -> None:
    """`pyflyte run` of validation_lp in the image: two torchelastic workers on loopback, no network."""
    logs = _run(docker_client, image, ["pyflyte", "run", "training/launch_plans.py", "validation_lp"], tmp_path)
    # pyflyte run prints the outputs' repr: EvaluationOutputs(metrics=EvaluationMetrics(accuracy=..., ...
    metrics = re.search(r"EvaluationMetrics\(accuracy=([0-9.]+),.*?world_size=(\d+),", logs)
    assert metrics, f"no metrics in the container output:\n{logs}"
    assert float(metrics.group(1)) >= 0.8
    assert int(metrics.group(2)) == 2
