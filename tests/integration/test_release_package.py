"""The example pipeline's release: its image built once, its entities serialized inside it, stored in S3.

Real Docker engine, registry and moto S3 from the stack. A cold build of the example image (a venv with
torch) takes minutes, hence ``e2e``; with the engine's layer cache it takes about a minute.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import time
import uuid
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from tasks.core.build import build_images
from tasks.core.config import PipelineConfig, load_pipeline_config
from tasks.core.package import SerializationFailed, package_release
from tasks.core.package_store import EntityKind, download_package, read_package
from tasks.core.records import ImageRef
from tasks.core.registry import RegistryClient

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

EXAMPLE_ROOT = Path(__file__).resolve().parents[2] / "examples" / "training"
BUCKET = "taxiway-data"
SHA = "5eed" * 10
TASKS = {
    "training.data.generate_dataset",
    "training.train.train_elastic",
    "training.train.train_multiworker",
    "training.evaluate.evaluate",
}
WORKFLOWS = {"training.workflows.training_workflow", "training.workflows.multiworker_training_workflow"}
LAUNCH_PLANS = {"validation_lp", "nightly_retraining_lp", *WORKFLOWS}


def copy_example(destination: Path) -> Path:
    shutil.copytree(EXAMPLE_ROOT, destination, ignore=shutil.ignore_patterns("__pycache__", ".wheels"))
    return destination


def example_config(root: Path, registry: str, run: str) -> PipelineConfig:
    """The example's taxiway.yaml, pushing to a repository and storing under a pipeline name of this run."""
    config = load_pipeline_config(root / "taxiway.yaml")
    assert config.image is not None
    image = config.image.model_copy(update={"repository": f"{registry}/taxiway-test/training-{run}"})
    return config.model_copy(update={"image": image, "pipeline": f"taxiway-test-training-{run}"})


@pytest.fixture(scope="module")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example with its wheelhouse: the build context."""
    root = copy_example(tmp_path_factory.mktemp("build") / "training")
    subprocess.run([str(root / "prepare_context.sh"), str(root / ".wheels")], check=True, timeout=600)
    return root


@pytest.fixture(scope="module")
def first_build(
    docker_client: docker.DockerClient, registry: str, build_root: Path, run_id: str
) -> tuple[PipelineConfig, list[ImageRef]]:
    config = example_config(build_root, registry, run_id)
    images = build_images(
        build_root, config, git_sha=SHA, docker_client=docker_client, registry=RegistryClient(requests.Session())
    )
    return config, images


def test_example_image_is_built_once(
    docker_client: docker.DockerClient, build_root: Path, first_build: tuple[PipelineConfig, list[ImageRef]]
) -> None:
    config, (image,) = first_build
    assert image.built and image.repository == config.image.repository  # type: ignore[union-attr]
    image_id = docker_client.images.get(image.reference).id
    time.sleep(1.1)  # docker events have one-second resolution: leave the first build's second
    started = time.time()
    (again,) = build_images(
        build_root, config, git_sha=SHA, docker_client=docker_client, registry=RegistryClient(requests.Session())
    )
    assert (again.built, again.tag, again.digest) == (False, image.tag, image.digest)
    events = docker_client.events(since=int(started), until=int(time.time()) + 1, decode=True)
    assert [e for e in events if image.repository in str(e.get("Actor", {}))] == []
    assert docker_client.images.get(image.reference).id == image_id


@pytest.fixture(scope="module")
def source_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean checkout of the example (no wheelhouse): what the package step serializes."""
    return copy_example(tmp_path_factory.mktemp("source") / "training")


def test_package_holds_specs_and_fast_bundle(
    docker_client: docker.DockerClient,
    s3_client: Any,
    source_root: Path,
    first_build: tuple[PipelineConfig, list[ImageRef]],
    tmp_path: Path,
) -> None:
    config, images = first_build
    package = package_release(
        source_root, config, images, docker_client=docker_client, s3_client=s3_client, bucket=BUCKET
    )
    key = f"taxiway/packages/{config.pipeline}/{package.content_hash}.tgz"
    assert package.uri == f"s3://{BUCKET}/{key}" and package.entity_count == 10
    stored = s3_client.head_object(Bucket=BUCKET, Key=key)

    archive = download_package(s3_client, package.uri, tmp_path / "package.tgz")
    entities = read_package(archive)
    names = {kind: set() for kind in EntityKind}  # type: dict[EntityKind, set[str]]
    for kind, proto in entities:
        names[kind].add(proto.id.name if kind is EntityKind.LAUNCH_PLAN else proto.template.id.name)  # type: ignore[attr-defined]
        if kind is EntityKind.TASK:
            assert proto.template.container.image == images[0].reference  # type: ignore[attr-defined]
            assert proto.template.container.args[0] == "pyflyte-fast-execute"  # type: ignore[attr-defined]
    assert names == {EntityKind.TASK: TASKS, EntityKind.WORKFLOW: WORKFLOWS, EntityKind.LAUNCH_PLAN: LAUNCH_PLANS}

    with tarfile.open(archive) as outer:
        (bundle_name,) = [n for n in outer.getnames() if n.startswith("fast") and n.endswith(".tar.gz")]
        outer.extract(bundle_name, tmp_path, filter="data")
    with tarfile.open(tmp_path / bundle_name) as bundle:
        code = set(bundle.getnames())
    assert {"training/workflows.py", "training/train.py", "training/launch_plans.py"} <= code
    assert not any(".wheels" in name for name in code)

    # Serializing the same source again gives the same content hash, and the object is not rewritten.
    again = package_release(
        source_root, config, images, docker_client=docker_client, s3_client=s3_client, bucket=BUCKET
    )
    assert again == package
    assert s3_client.head_object(Bucket=BUCKET, Key=key)["LastModified"] == stored["LastModified"]


def test_broken_module_is_named(
    docker_client: docker.DockerClient,
    s3_client: Any,
    first_build: tuple[PipelineConfig, list[ImageRef]],
    tmp_path: Path,
) -> None:
    config, images = first_build
    broken = copy_example(tmp_path / "training")
    (broken / "training" / "broken.py").write_text("import helper_that_does_not_exist\n")
    prefix = f"taxiway/packages/{config.pipeline}/"
    before = s3_client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    with pytest.raises(SerializationFailed) as caught:
        package_release(broken, config, images, docker_client=docker_client, s3_client=s3_client, bucket=BUCKET)
    message = str(caught.value)
    assert "module training.broken" in message and "helper_that_does_not_exist" in message
    after = s3_client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    assert [o["Key"] for o in after] == [o["Key"] for o in before], "a failed serialization stores nothing"
