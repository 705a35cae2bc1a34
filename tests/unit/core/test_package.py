"""The entity package: deterministic archive, reading it back, and errors that name the failing module.

The archives come from the real ``pyflyte package`` run on a tiny pipeline on this host; running it
inside the pipeline's image is covered by ``tests/integration/test_release_package.py``.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

from tasks.core.package import describe_serialization_failure
from tasks.core.package_store import EntityKind, normalize_archive, package_key, read_package

pytestmark = pytest.mark.unit

FLOWS = """
from flytekit import LaunchPlan, task, workflow


@task
def greet(name: str) -> str:
    return "hi " + name


@workflow
def hello(name: str = "x") -> str:
    return greet(name=name)


hello_lp = LaunchPlan.get_or_create(hello, name="hello_lp")
"""


def pyflyte_package(source: Path, output: Path) -> Path:
    pyflyte = Path(sys.executable).parent / "pyflyte"
    subprocess.run(
        [str(pyflyte), "--pkgs", "tiny", "package", "--image", "r/tiny:1", "--copy", "all", "-f", "-o", str(output)],
        cwd=source, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return output


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("tiny-source")
    (source / "tiny").mkdir()
    (source / "tiny" / "__init__.py").write_text("")
    (source / "tiny" / "flows.py").write_text(FLOWS)
    return source


def test_normalized_archive_is_stable_across_serializations(tiny: Path, tmp_path: Path) -> None:
    first = normalize_archive(pyflyte_package(tiny, tmp_path / "a.tgz"), tmp_path / "a-norm.tgz")
    time.sleep(1.1)  # pyflyte stamps members with the current time
    second = normalize_archive(pyflyte_package(tiny, tmp_path / "b.tgz"), tmp_path / "b-norm.tgz")
    assert (tmp_path / "a.tgz").read_bytes() != (tmp_path / "b.tgz").read_bytes()
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as archive:
        members = archive.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {m.mtime for m in members} == {0}


def test_code_change_changes_the_package_hash(tiny: Path, tmp_path: Path) -> None:
    before = normalize_archive(pyflyte_package(tiny, tmp_path / "a.tgz"), tmp_path / "a-norm.tgz").read_bytes()
    changed = tmp_path / "changed"
    (changed / "tiny").mkdir(parents=True)
    (changed / "tiny" / "__init__.py").write_text("")
    (changed / "tiny" / "flows.py").write_text(FLOWS.replace('"hi "', '"hello "'))
    after = normalize_archive(pyflyte_package(changed, tmp_path / "b.tgz"), tmp_path / "b-norm.tgz").read_bytes()
    assert hashlib.sha256(before).hexdigest() != hashlib.sha256(after).hexdigest()


def test_read_package_lists_entities_by_kind(tiny: Path, tmp_path: Path) -> None:
    archive = normalize_archive(pyflyte_package(tiny, tmp_path / "p.tgz"), tmp_path / "n.tgz")
    entities = read_package(archive)
    kinds = [kind for kind, _ in entities]
    assert kinds == [EntityKind.TASK, EntityKind.WORKFLOW, EntityKind.LAUNCH_PLAN, EntityKind.LAUNCH_PLAN]
    task, workflow = entities[0][1], entities[1][1]
    assert isinstance(task, task_pb2.TaskSpec) and task.template.id.name == "tiny.flows.greet"
    assert isinstance(workflow, workflow_pb2.WorkflowSpec)
    assert {lp.id.name for _, lp in entities[2:] if isinstance(lp, launch_plan_pb2.LaunchPlan)} == {
        "hello_lp", "tiny.flows.hello",
    }  # fmt: skip
    # pyflyte package has no version flag: ids are blank until registration hydrates them.
    assert task.template.id.version == "" and task.template.id.project == ""
    assert "{{ .remote_package_path }}" in task.template.container.args


def test_package_key_is_content_addressed() -> None:
    assert package_key("training", "ab" * 32) == f"taxiway/packages/training/{'ab' * 32}.tgz"


PYFLYTE_IMPORT_ERROR = """\
Loading packages ['training'] under source root /src
╭──────────── Traceback (most recent call last) ────────────╮
│ /opt/venv/lib/python3.11/site-packages/flytekit/tools/module_loader.py:40 in just_load_modules │
│ /src/training/workflows.py:3 in <module>                  │
│ /src/training/broken.py:1 in <module>                     │
│                                                           │
│ ❱ 1 import helper_that_does_not_exist                     │
╰───────────────────────────────────────────────────────────╯
ModuleNotFoundError: No module named 'helper_that_does_not_exist'
"""


@pytest.mark.parametrize(
    ("logs", "expected"),
    [
        (PYFLYTE_IMPORT_ERROR, "in module training.broken: ModuleNotFoundError: No module named"),
        (
            "│ /src/training/__init__.py:2 in <module> │\nValueError: bad default\n",
            "in module training: ValueError: bad default",
        ),
        ("Error: No module named 'trainig'\n", "module trainig not found"),
        ("something odd\n", "serialization of packages training failed: something odd"),
    ],
)
def testdescribe_serialization_failure_names_the_module(logs: str, expected: str) -> None:
    error = describe_serialization_failure(logs, ["training"], "r/img:t", 1)
    assert expected in str(error)
    assert "r/img:t" in str(error) and not error.retryable


def test_normalize_sorts_upstream_node_ids_everywhere(tmp_path: Path) -> None:
    """flytekit lists a node's upstream ids in set order; the package must not depend on it."""
    spec = workflow_pb2.WorkflowSpec()
    node = spec.template.nodes.add(id="n2", upstream_node_ids=["n1", "n0"])
    inner = node.branch_node.if_else.case.then_node
    inner.id, inner.upstream_node_ids[:] = "n3", ["b", "a"]
    spec.sub_workflows.add().nodes.add(id="s", upstream_node_ids=["z", "y"])
    raw = tmp_path / "raw.tgz"
    with tarfile.open(raw, "w:gz") as archive:
        data = spec.SerializeToString()
        info = tarfile.TarInfo("0_wf_2.pb")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    ((kind, read),) = read_package(normalize_archive(raw, tmp_path / "norm.tgz"))
    assert kind is EntityKind.WORKFLOW and isinstance(read, workflow_pb2.WorkflowSpec)
    assert list(read.template.nodes[0].upstream_node_ids) == ["n0", "n1"]
    assert list(read.template.nodes[0].branch_node.if_else.case.then_node.upstream_node_ids) == ["a", "b"]
    assert list(read.sub_workflows[0].nodes[0].upstream_node_ids) == ["y", "z"]
