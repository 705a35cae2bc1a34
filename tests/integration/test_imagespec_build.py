"""ImageSpec images built against the stack's real Docker engine and registry (uv installs from PyPI).

Each test writes its own pipeline with a fresh registry prefix, so flytekit's tags (which hash the
registry) are new and a first build is a real build. Cold (no docker layer cache) ~2 min, warm ~15 s.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import docker
import pytest
import requests

from tasks.core.build_stream import BuildFailed
from tasks.core.config import load_pipeline_config
from tasks.core.imagespec_build import BuildSettings, ImageSpecBuild, build_image_specs, image_overrides
from tasks.core.registry import RegistryClient

pytestmark = pytest.mark.integration

IMAGES = """\
from flytekit import ImageSpec

def spec(name, *packages):
    return ImageSpec(
        name=name,
        registry="{registry}",
        base_image="{base}",
        python_exec="/usr/bin/python3",
        python_version="3.11",
        packages=["flytekit==1.16.31", *packages],
    )

light_image = spec("light", "numpy==2.2.6")
training_image = spec("training", "numpy==2.2.6", {training})
"""
WORKFLOWS = """\
from flytekit import task
from demo.images import light_image, training_image

@task(container_image=light_image)
def prepare(n: int) -> int:
    return n

@task(container_image=training_image)
def fit(n: int) -> int:
    return n + 1
"""
CONFIG = """\
version: 1
pipeline: demo
packages: [demo]
image_specs:
  registry: {registry}
  base_image: {base}
domains:
  - name: development
    raw_data_prefix: s3://taxiway-data/development/demo
"""


def write_pipeline(root: Path, registry: str, base: str, training: str) -> None:
    (root / "demo").mkdir(parents=True, exist_ok=True)
    (root / "demo" / "__init__.py").write_text("")
    (root / "demo" / "images.py").write_text(IMAGES.format(registry=registry, base=base, training=training))
    (root / "demo" / "workflows.py").write_text(WORKFLOWS)
    (root / "taxiway.yaml").write_text(CONFIG.format(registry=registry, base=base))


@pytest.fixture
def prefix(registry: str) -> str:
    return f"{registry}/taxiway-test/imagespec-{uuid.uuid4().hex[:8]}"


def build(root: Path, base_image: str, docker_client: docker.DockerClient) -> dict[str, ImageSpecBuild]:
    builds = build_image_specs(
        root,
        load_pipeline_config(root / "taxiway.yaml"),
        settings=BuildSettings(base_image=base_image),
        docker_client=docker_client,
        registry=RegistryClient(requests.Session()),
    )
    return {b.image.repository.rsplit("/", 1)[1]: b for b in builds}


def test_builds_missing_images_only(
    tmp_path: Path, prefix: str, base_image: str, docker_client: docker.DockerClient
) -> None:
    registry = RegistryClient(requests.Session())
    write_pipeline(tmp_path, prefix, base_image, '"pandas==2.2.3"')

    first = build(tmp_path, base_image, docker_client)
    assert {name: b.image.built for name, b in first.items()} == {"light": True, "training": True}
    for b in first.values():
        assert b.image.digest == registry.manifest_digest(b.image.repository, b.image.tag)
    assert set(image_overrides(list(first.values()))[1::2]) == {
        f"{b.spec_id}={b.image.reference}" for b in first.values()
    }
    ran = docker_client.containers.run(
        first["training"].image.reference,
        ["python", "-c", "import pandas, flytekit; print(flytekit.__version__)"],
        network_mode="none",
        remove=True,
    )
    assert ran.decode().strip() == "1.16.31"

    (tmp_path / "demo" / "workflows.py").write_text(WORKFLOWS + "\n# a code-only change\n")
    second = build(tmp_path, base_image, docker_client)
    assert not any(b.image.built for b in second.values())
    assert {n: b.image for n, b in second.items()} == {
        n: b.image.__class__(b.image.repository, b.image.tag, b.image.digest, built=False) for n, b in first.items()
    }

    write_pipeline(tmp_path, prefix, base_image, '"pandas==2.2.2"')
    third = build(tmp_path, base_image, docker_client)
    assert third["light"].image.built is False and third["light"].image.tag == first["light"].image.tag
    assert third["training"].image.built is True and third["training"].image.tag != first["training"].image.tag


def test_unknown_package_fails_with_the_builders_message_and_pushes_nothing(
    tmp_path: Path, prefix: str, base_image: str, docker_client: docker.DockerClient
) -> None:
    missing = f"taxiway-no-such-package-{uuid.uuid4().hex[:8]}"
    write_pipeline(tmp_path, prefix, base_image, '"pandas==2.2.3"')
    images = tmp_path / "demo" / "images.py"
    # The training image (built first) is fine; the light one cannot be built.
    images.write_text(images.read_text().replace('spec("light", "numpy==2.2.6")', f'spec("light", "{missing}==1.0")'))
    with pytest.raises(BuildFailed) as failure:
        build(tmp_path, base_image, docker_client)
    message = str(failure.value)
    assert missing in message  # uv's own resolution error, naming the package
    assert "not found in the package registry" in message or "No solution found" in message
    host, path = prefix.split("/", 1)
    for name in ("light", "training"):
        tags = requests.get(f"http://{host}/v2/{path}/{name}/tags/list", timeout=10)
        assert tags.status_code == 404 or not tags.json().get("tags"), f"{name} was pushed: {tags.text}"
