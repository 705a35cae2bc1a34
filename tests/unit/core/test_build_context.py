"""``image.prepare`` runs in a copy of the pipeline directory, never in the one that gets packaged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tasks.core.build_context import prepare_build_root
from tasks.core.build_stream import BuildFailed
from tasks.core.config_models import DockerfileImage

pytestmark = pytest.mark.unit


def pipeline(root: Path, script: str) -> Path:
    (root / "ctx").mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / ".git").mkdir()
    prepare = root / "ctx" / "prepare.sh"
    prepare.write_text(f"#!/bin/sh\n{script}\n")
    prepare.chmod(0o755)
    return root


def spec(*prepare: str) -> DockerfileImage:
    return DockerfileImage(repository="127.0.0.1:30000/t/p", context="ctx", prepare=prepare)


def test_prepare_runs_in_a_copy_from_the_context_directory(tmp_path: Path) -> None:
    root = pipeline(tmp_path / "src" / "pipe", "mkdir -p .wheels && echo wheel > .wheels/a.whl")
    build_root = prepare_build_root(root, spec("./prepare.sh"), tmp_path / "work")
    assert build_root == tmp_path / "work" / "pipe"
    assert (build_root / "ctx" / ".wheels" / "a.whl").read_text() == "wheel\n"
    assert (build_root / "Dockerfile").is_file()
    assert not (build_root / ".git").exists()
    assert not (root / "ctx" / ".wheels").exists(), "the packaged directory must stay as committed"


def test_without_prepare_the_directory_itself_is_the_build_root(tmp_path: Path) -> None:
    root = pipeline(tmp_path / "pipe", "exit 1")
    assert prepare_build_root(root, spec(), tmp_path / "work") == root
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize(
    ("command", "message"),
    [(("./prepare.sh",), "failed (exit 3)"), (("./missing.sh",), "could not run")],
)
def test_a_failing_prepare_names_the_command(tmp_path: Path, command: tuple[str, ...], message: str) -> None:
    root = pipeline(tmp_path / "pipe", "echo no wheel for you >&2; exit 3")
    with pytest.raises(BuildFailed, match=re.escape(message)) as caught:
        prepare_build_root(root, spec(*command), tmp_path / "work")
    assert command[0] in str(caught.value)
    if "exit 3" in message:
        assert "no wheel for you" in str(caught.value)
