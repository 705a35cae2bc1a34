"""Reading a ``pyflyte package --fast`` archive, and the tiny package the register tests share.

:func:`build_package` writes a small pipeline package (tasks, a sub-workflow, a workflow that calls a
launch plan, a scheduled launch plan with its own labels) and runs the real ``pyflyte --pkgs tinypkg
package --fast`` on it, as Taxiway's package step does inside the pipeline's image.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tasks.core.errors import SourceNotFound
from tasks.core.register_package import InvalidPackage, load_package

pytestmark = pytest.mark.unit

PACKAGE_IMAGE = "127.0.0.1:30000/taxiway/tiny:0123456789ab"

FLOWS = '''
from flytekit import CronSchedule, LaunchPlan, task, workflow


@task(retries={retries})
def greet(name: str) -> str:
    """Say hello."""
    return "Hello, " + name


@task
def shout(text: str) -> str:
    return text.upper()
{extra}

@workflow
def polite(name: str) -> str:
    return shout(text=greet(name=name))


polite_lp = LaunchPlan.get_or_create(polite, name="tinypkg.polite_lp", labels=None)


@workflow
def hello(name: str = "world") -> str:
    """Greets through a sub-workflow and a launch plan."""
    first = polite(name=name)
    return polite_lp(name=first)


nightly = LaunchPlan.get_or_create(
    hello,
    name="tinypkg.nightly",
    schedule=CronSchedule(schedule="@daily"),
    default_inputs={{"name": "night"}},
)
'''

EXTRA_TASK = """

@task
def whisper(text: str) -> str:
    return text.lower()
"""


def build_package(root: Path, *, retries: int = 0, extra_task: bool = False) -> Path:
    """Write ``tinypkg`` under ``root`` and package it with ``pyflyte package --fast``; the archive's path.

    :param retries: ``greet``'s retries: a different value is a different task structure.
    :param extra_task: add a task ``whisper`` that only this variant has.
    """
    source = root / "src"
    package = source / "tinypkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    flows = FLOWS.format(retries=retries, extra=EXTRA_TASK if extra_task else "")
    (package / "flows.py").write_text(flows)
    output = root / "flyte-package.tgz"
    pyflyte = Path(sys.executable).with_name("pyflyte")
    result = subprocess.run(
        [str(pyflyte), "--pkgs", "tinypkg", "package", "--fast", "--image", PACKAGE_IMAGE, "--output", str(output)],
        cwd=source, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return output


@pytest.fixture(scope="session")
def tiny_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(tmp_path_factory.mktemp("tinypkg"))


def test_load_package_reads_every_entity_in_package_order(tiny_package: Path, tmp_path: Path) -> None:
    package = load_package(tiny_package, tmp_path)
    assert [task.name for task in package.tasks] == ["tinypkg.flows.greet", "tinypkg.flows.shout"]
    assert [workflow.name for workflow in package.workflows] == ["tinypkg.flows.polite", "tinypkg.flows.hello"]
    assert sorted(plan.name for plan in package.launch_plans) == [
        "tinypkg.flows.hello", "tinypkg.flows.polite", "tinypkg.nightly", "tinypkg.polite_lp",
    ]  # fmt: skip
    assert package.entity_count == 8
    assert package.code_bundle is not None and package.code_bundle.name.startswith("fast")
    # pyflyte package leaves identities blank: registration fills them in.
    assert package.tasks[0].spec.template.id.project == ""
    assert package.tasks[0].spec.template.id.version == ""


def test_load_package_accepts_an_extracted_directory(tiny_package: Path, tmp_path: Path) -> None:
    with tarfile.open(tiny_package) as tar:
        tar.extractall(tmp_path / "extracted", filter="data")
    package = load_package(tmp_path / "extracted", tmp_path / "unused")
    assert package.entity_count == 8


def test_missing_package_is_source_not_found(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound, match="entity package not found"):
        load_package(tmp_path / "nope.tgz", tmp_path)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"README.md": b"hello"}, "holds no task, workflow or launch plan"),
        ({"0_broken_1.pb": b"\xff\xff\xff"}, "0_broken_1.pb is not a valid TaskSpec protobuf"),
    ],
)
def test_invalid_package_is_reported(tmp_path: Path, files: dict[str, bytes], message: str) -> None:
    directory = tmp_path / "pkg"
    directory.mkdir()
    for name, data in files.items():
        (directory / name).write_bytes(data)
    with pytest.raises(InvalidPackage, match=message):
        load_package(directory, tmp_path)


def test_archive_that_is_not_a_tarball_is_invalid(tmp_path: Path) -> None:
    archive = tmp_path / "flyte-package.tgz"
    archive.write_bytes(b"not a tarball")
    with pytest.raises(InvalidPackage, match="cannot extract the package archive"):
        load_package(archive, tmp_path / "out")
