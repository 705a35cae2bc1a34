"""The image tag is a content hash of what goes into the image; an existing tag means nothing is built.

Docker itself is exercised in ``tests/integration/test_release_build.py``; here the engine's streamed
output is replayed through small in-memory stand-ins for the SDK's low-level API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tasks.core.build import LABEL_CONTENT_HASH, LABEL_REVISION, build_image, build_images
from tasks.core.build_stream import LOG_TAIL_LINES, BuilderUnavailable, BuildFailed, run_build, run_push
from tasks.core.build_tag import TAG_LENGTH, base_images, image_inputs
from tasks.core.config import parse_pipeline_config
from tasks.core.config_models import DockerfileImage
from tasks.core.errors import PermanentError, RegistryUnavailable, SourceNotFound
from tasks.core.registry import RegistryRejected
from tasks.core.versions import InvalidReleaseInput

pytestmark = pytest.mark.unit

SHA = "0123456789abcdef0123456789abcdef01234567"
DOCKERFILE = (
    "ARG BASE_IMAGE=taxiway/base:bookworm-py311\nFROM ${BASE_IMAGE}\nCOPY requirements.txt /r\nCOPY app/ /app/\n"
)
SPEC = DockerfileImage(
    repository="127.0.0.1:30000/t/app", tag_inputs=("requirements.txt", "lock.txt"), build_args={"A": "1"}
)


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    root = tmp_path / "pipeline"
    (root / "app").mkdir(parents=True)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "requirements.txt").write_text("torch==2.13.0\n")
    (root / "lock.txt").write_text("lock 1\n")
    (root / "app" / "flows.py").write_text("x = 1\n")
    return root


def tag(root: Path, spec: DockerfileImage = SPEC) -> str:
    return image_inputs(root, spec).tag


def test_same_inputs_same_tag(pipeline: Path, tmp_path: Path) -> None:
    first = tag(pipeline)
    assert len(first) == TAG_LENGTH and int(first, 16) >= 0
    assert tag(pipeline) == first
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    for name in ("Dockerfile", "requirements.txt", "lock.txt"):
        (copy / name).write_bytes((pipeline / name).read_bytes())
    assert tag(copy) == first, "the tag must not depend on where the source is checked out"


def test_code_only_change_keeps_the_tag(pipeline: Path) -> None:
    before = tag(pipeline)
    (pipeline / "app" / "flows.py").write_text("x = 2\n")
    (pipeline / "app" / "new.py").write_text("y = 1\n")
    (pipeline / "README.md").write_text("docs\n")
    assert tag(pipeline) == before


@pytest.mark.parametrize(
    ("change", "spec"),
    [
        (lambda root: (root / "requirements.txt").write_text("torch==2.13.0\nnumpy==2.0\n"), SPEC),
        (lambda root: (root / "lock.txt").write_text("lock 2\n"), SPEC),
        (lambda root: (root / "Dockerfile").write_text(DOCKERFILE + "ENV X=1\n"), SPEC),
        (lambda root: None, SPEC.model_copy(update={"build_args": {"A": "2"}})),
        (lambda root: None, SPEC.model_copy(update={"build_args": {"A": "1", "BASE_IMAGE": "other/base:1"}})),
        (lambda root: None, SPEC.model_copy(update={"tag_inputs": ("lock.txt", "requirements.txt")})),
        (lambda root: None, SPEC.model_copy(update={"tag_inputs": ("requirements.txt",)})),
    ],
    ids=["requirements", "lock", "dockerfile", "build-arg", "base-image", "input-order", "fewer-inputs"],
)
def test_dependency_change_gives_a_new_tag(pipeline: Path, change: Any, spec: DockerfileImage) -> None:
    before = tag(pipeline)
    change(pipeline)
    assert tag(pipeline, spec) != before


def test_build_arg_order_does_not_matter(pipeline: Path) -> None:
    one = SPEC.model_copy(update={"build_args": {"A": "1", "B": "2"}})
    two = SPEC.model_copy(update={"build_args": {"B": "2", "A": "1"}})
    assert tag(pipeline, one) == tag(pipeline, two)


@pytest.mark.parametrize(
    ("dockerfile", "args", "expected"),
    [
        (DOCKERFILE, {}, ("taxiway/base:bookworm-py311",)),
        (DOCKERFILE, {"BASE_IMAGE": "b:2"}, ("b:2",)),
        ("ARG V=1\nFROM --platform=linux/amd64 img:${V} AS venv\nFROM venv\nFROM scratch\n", {}, ("img:1",)),
        ("FROM a:1 AS one\n# FROM commented:1\nFROM \\\n  b@sha256:00\nFROM one\n", {}, ("a:1", "b@sha256:00")),
        ("ARG R\nFROM ${R:-default/img:1}\n", {}, ("default/img:1",)),
    ],
)
def test_base_images(dockerfile: str, args: dict[str, str], expected: tuple[str, ...]) -> None:
    assert base_images(dockerfile, args) == expected


def test_missing_dockerfile_names_the_path(pipeline: Path) -> None:
    (pipeline / "Dockerfile").unlink()
    with pytest.raises(SourceNotFound) as caught:
        image_inputs(pipeline, SPEC)
    assert "Dockerfile 'Dockerfile' not found" in str(caught.value)
    assert str(pipeline / "Dockerfile") in str(caught.value)


def test_missing_tag_input_names_it(pipeline: Path) -> None:
    (pipeline / "lock.txt").unlink()
    with pytest.raises(SourceNotFound, match=r"tag input 'lock\.txt' not found"):
        image_inputs(pipeline, SPEC)


@pytest.mark.parametrize("field", ["dockerfile", "context", "tag_inputs"])
def test_image_paths_cannot_leave_the_pipeline(pipeline: Path, field: str) -> None:
    (pipeline.parent / "outside").mkdir()
    (pipeline.parent / "outside" / "Dockerfile").write_text("FROM x\n")
    (pipeline / "link").symlink_to(pipeline.parent / "outside")
    value: Any = (
        ("link/Dockerfile",) if field == "tag_inputs" else ("link/Dockerfile" if field == "dockerfile" else "link")
    )
    with pytest.raises(InvalidReleaseInput, match=f"image.{field}"):
        image_inputs(pipeline, SPEC.model_copy(update={field: value}))


class FakeRegistry:
    """An in-memory registry: tags -> digests, with the answers to successive lookups scripted."""

    def __init__(self, *answers: str | None) -> None:
        self.answers = list(answers)
        self.lookups: list[tuple[str, str]] = []

    def manifest_digest(self, repository: str, tag: str) -> str | None:
        self.lookups.append((repository, tag))
        return self.answers.pop(0)


class FakeApi:
    """Replays the streamed JSON chunks of ``APIClient.build`` / ``push`` and records the calls."""

    def __init__(self, build: Sequence[dict[str, Any]] = (), push: Sequence[dict[str, Any]] = ()) -> None:
        self.build_chunks, self.push_chunks = list(build), list(push)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def build(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(("build", kwargs))
        yield from self.build_chunks

    def push(self, repository: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(("push", {"repository": repository, **kwargs}))
        yield from self.push_chunks


class FakeDocker:
    def __init__(self, api: FakeApi) -> None:
        self.api = api


BUILT: list[dict[str, Any]] = [
    {"stream": "Step 1/2 : FROM x\n"},
    {"stream": "ok"},
    {"stream": "\n"},
    {"aux": {"ID": "sha256:img"}},
]
PUSHED: list[dict[str, Any]] = [
    {"status": "Pushing", "progressDetail": {}},
    {"aux": {"Tag": "t", "Digest": "sha256:d1", "Size": 1}},
]


def test_existing_tag_builds_nothing(pipeline: Path) -> None:
    api, registry = FakeApi(), FakeRegistry("sha256:existing")
    image = build_image(pipeline, SPEC, git_sha=SHA, docker_client=FakeDocker(api), registry=registry)  # type: ignore[arg-type]
    assert (image.built, image.digest, image.tag) == (False, "sha256:existing", tag(pipeline))
    assert api.calls == []


def test_missing_tag_is_built_labelled_and_pushed(pipeline: Path) -> None:
    api, registry = FakeApi(BUILT, PUSHED), FakeRegistry(None, None, "sha256:d1")
    auth = {"username": "bot", "password": "hunter2"}
    image = build_image(
        pipeline,
        SPEC,
        git_sha=SHA,
        docker_client=FakeDocker(api),
        registry=registry,
        auth_config=auth,  # type: ignore[arg-type]
    )
    assert (image.built, image.digest) == (True, "sha256:d1")
    (_, build), (_, push) = api.calls
    assert build["tag"] == f"{SPEC.repository}:{image.tag}" and build["network_mode"] == "host"
    assert build["labels"] == {LABEL_REVISION: SHA, LABEL_CONTENT_HASH: image_inputs(pipeline, SPEC).content_hash}
    assert build["buildargs"] == {"A": "1"} and build["dockerfile"] == "Dockerfile" and build["pull"] is False
    assert push == {
        "repository": SPEC.repository,
        "tag": image.tag,
        "stream": True,
        "decode": True,
        "auth_config": auth,
    }


def test_tag_pushed_meanwhile_is_used_not_overwritten(pipeline: Path) -> None:
    api, registry = FakeApi(BUILT, PUSHED), FakeRegistry(None, "sha256:theirs")
    image = build_image(pipeline, SPEC, git_sha=SHA, docker_client=FakeDocker(api), registry=registry)  # type: ignore[arg-type]
    assert (image.built, image.digest) == (False, "sha256:theirs")
    assert [name for name, _ in api.calls] == ["build"]


def test_docker_factory_is_called_only_when_a_build_follows(pipeline: Path) -> None:
    """A code-only change whose image exists must not need the Docker engine (it may be down)."""
    calls: list[str] = []

    def engine_down() -> Any:
        calls.append("engine")
        raise BuilderUnavailable("Docker engine does not answer", where="unix:///var/run/docker.sock")

    reused = build_image(pipeline, SPEC, git_sha=SHA, docker_client=engine_down, registry=FakeRegistry("sha256:e"))
    assert (reused.built, reused.digest) == (False, "sha256:e") and calls == []

    with pytest.raises(BuilderUnavailable):
        build_image(pipeline, SPEC, git_sha=SHA, docker_client=engine_down, registry=FakeRegistry(None))
    assert calls == ["engine"]

    api = FakeApi(BUILT, PUSHED)
    built = build_image(
        pipeline,
        SPEC,
        git_sha=SHA,
        docker_client=lambda: FakeDocker(api),
        registry=FakeRegistry(None, None, "sha256:d1"),  # type: ignore[arg-type, return-value]
    )
    assert built.built and [name for name, _ in api.calls] == ["build", "push"]


def test_no_image_section_builds_nothing(pipeline: Path) -> None:
    config = parse_pipeline_config(
        "version: 1\npipeline: p\npackages: [app]\ndomains: [{name: development, raw_data_prefix: s3://bucket/p}]\n"
    )
    assert build_images(pipeline, config, git_sha=SHA, docker_client=None, registry=FakeRegistry()) == []  # type: ignore[arg-type]


def test_build_failure_carries_the_last_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    chunks: list[dict[str, Any]] = [{"stream": f"line {n}\n"} for n in range(100)]
    chunks += [{"stream": "partial "}, {"error": "boom", "errorDetail": {"message": "RUN exit 3 returned 3"}}]
    with caplog.at_level(logging.INFO), pytest.raises(BuildFailed) as caught:
        run_build(FakeDocker(FakeApi(chunks)), tag="r:t")  # type: ignore[arg-type]
    message = str(caught.value)
    assert "RUN exit 3 returned 3" in message and "line 99" in message and "partial" in message
    assert "line 50" not in message and message.count("  | ") == LOG_TAIL_LINES
    assert "build r:t | line 0" in caplog.text, "every line reaches the task log"


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ('Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', RegistryUnavailable),
        ("unauthorized: authentication required", RegistryRejected),
        ("manifest invalid", PermanentError),
    ],
)
def test_push_errors_are_translated(message: str, error: type[Exception]) -> None:
    api = FakeApi(push=[{"error": message, "errorDetail": {"message": message}}])
    with pytest.raises(error) as caught:
        run_push(FakeDocker(api), "127.0.0.1:1/t/app", "abc", {"username": "u", "password": "hunter2"})  # type: ignore[arg-type]
    assert "127.0.0.1:1" in str(caught.value) and "hunter2" not in str(caught.value)
