"""Serialization in a sibling container through the engine's archive API, never a bind mount.

Real Docker engine from the stack; the serializing image is the meta image (``taxiway/meta:dev``,
built by ``scripts/build-image`` when missing), which has flytekit. The last test runs the packaging
code itself inside a container with ``DOCKER_HOST=tcp://127.0.0.1:2375``, as a meta-workflow task
does under localflyte's docker runtime: its source tree exists only in that container.
"""

from __future__ import annotations

import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tasks.core.package import SerializationFailed, serialize_package
from tasks.core.package_store import EntityKind, normalize_archive, read_package
from tasks.core.records import ImageRef

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
META_IMAGE = ImageRef(repository="taxiway/meta", tag="dev", digest="")
PACKAGE_LABEL = "taxiway.step=package"
FLOWS = """
from flytekit import task, workflow


@task
def greet(name: str) -> str:
    return "hi " + name


@workflow
def hello(name: str = "x") -> str:
    return greet(name=name)
"""


def tiny_pipeline(root: Path, flows: str = FLOWS) -> Path:
    (root / "tiny").mkdir(parents=True)
    (root / "tiny" / "__init__.py").write_text("")
    (root / "tiny" / "flows.py").write_text(flows)
    return root


@pytest.fixture(scope="module")
def meta_image(docker_client: docker.DockerClient) -> str:
    """The meta image in the engine; built from the top-level Dockerfile when missing."""
    try:
        docker_client.images.get(META_IMAGE.reference)
    except docker.errors.ImageNotFound:
        subprocess.run([str(REPO_ROOT / "scripts" / "build-image"), META_IMAGE.reference], check=True, timeout=1800)
    return META_IMAGE.reference


@pytest.fixture
def no_leftovers(docker_client: docker.DockerClient) -> Iterator[None]:
    before = {c.id for c in docker_client.containers.list(all=True, filters={"label": PACKAGE_LABEL})}
    yield
    after = {c.id for c in docker_client.containers.list(all=True, filters={"label": PACKAGE_LABEL})}
    assert after <= before, "the serialization container must always be removed"


def test_serialization_copies_the_source_in_and_the_package_out(
    docker_client: docker.DockerClient, meta_image: str, tmp_path: Path, no_leftovers: None
) -> None:
    source = tiny_pipeline(tmp_path / "source")
    archive = serialize_package(docker_client, META_IMAGE, source, ["tiny"], tmp_path / "out")
    assert archive == tmp_path / "out" / "flyte-package.tgz"
    entities = read_package(normalize_archive(archive, tmp_path / "normalized.tgz"))
    names = {(kind, entity.template.id.name if kind == EntityKind.TASK else "") for kind, entity in entities}
    assert (EntityKind.TASK, "tiny.flows.greet") in names
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["flyte-package.tgz"], "the source tar is gone"
    assert sorted(p.name for p in source.rglob("*")) == ["__init__.py", "flows.py", "tiny"], "source untouched"


def test_a_failing_module_is_named_and_nothing_is_left(
    docker_client: docker.DockerClient, meta_image: str, tmp_path: Path, no_leftovers: None
) -> None:
    source = tiny_pipeline(tmp_path / "source", FLOWS + "\nraise RuntimeError('broken at import')\n")
    with pytest.raises(SerializationFailed, match=r"module tiny\.flows: RuntimeError: broken at import"):
        serialize_package(docker_client, META_IMAGE, source, ["tiny"], tmp_path / "out")


PROBE = """
import pathlib, sys
import docker
from tasks.core.package import serialize_package
from tasks.core.records import ImageRef

root = pathlib.Path("/tmp/pipeline")  # exists only inside this container
(root / "tiny").mkdir(parents=True)
(root / "tiny" / "__init__.py").write_text("")
(root / "tiny" / "flows.py").write_text(sys.argv[1])
image = ImageRef("taxiway/meta", "dev", "")
archive = serialize_package(docker.from_env(), image, root, ["tiny"], pathlib.Path("/tmp/out"))
print("PACKAGE", archive, archive.stat().st_size)
"""


def test_serialization_works_from_inside_a_task_container(
    docker_client: docker.DockerClient, meta_image: str, tmp_path: Path, no_leftovers: None
) -> None:
    """The packaging code runs in a container (host network, the engine over TCP): no path of it is on the host."""
    with tarfile.open(tmp_path / "code.tar", "w") as tar:
        tar.add(REPO_ROOT / "tasks", arcname="work/tasks", filter=lambda i: None if "__pycache__" in i.name else i)
    container = docker_client.containers.create(
        meta_image, entrypoint=["python", "-c", PROBE], command=[FLOWS], network_mode="host",
        environment={"DOCKER_HOST": "tcp://127.0.0.1:2375", "PYTHONPATH": "/work"}, labels={"taxiway.test": "probe"},
    )  # fmt: skip
    try:
        container.put_archive("/", (tmp_path / "code.tar").read_bytes())
        container.start()
        status = container.wait(timeout=600)["StatusCode"]
        logs = container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
    assert status == 0, logs
    assert "PACKAGE /tmp/out/flyte-package.tgz" in logs, logs
