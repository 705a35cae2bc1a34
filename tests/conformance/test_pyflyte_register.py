"""``pyflyte register`` of a small package: works, is a no-op when repeated, and a changed task under the
same version is refused with FlyteAdmin's message (``pkg/errors/errors.go``:
NewTaskExistsDifferentStructureError; flytekit's register reports it and exits non-zero)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.models.common import NamedEntityIdentifier

from localflyte.testing import LocalFlyteProcess

pytestmark = pytest.mark.conformance

TASK_SOURCE = """
from flytekit import task, workflow


@task(retries={retries})
def greet(name: str) -> str:
    return "Hello, " + name


@workflow
def hello(name: str = "world") -> str:
    return greet(name=name)
"""


def _write_package(root: Path, retries: int) -> Path:
    package = root / "tinypkg"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "flows.py").write_text(TASK_SOURCE.replace("{retries}", str(retries)))
    return package


def _register(root: Path, config: Path, project: str) -> subprocess.CompletedProcess[str]:
    pyflyte = Path(sys.executable).with_name("pyflyte")
    return subprocess.run(
        [str(pyflyte), "--config", str(config), "register", "--copy", "none", "--version", "v1",
         "--project", project, "--domain", "development", "--image", "python:3.11-slim", "tinypkg"],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_pyflyte_register_package(
    tmp_path: Path, localflyte: LocalFlyteProcess, client: SynchronousFlyteClient, project: str
) -> None:
    """Register, re-register (no-op), then a changed task under the same version is refused."""
    config = tmp_path / "flyte.yaml"
    config.write_text(
        textwrap.dedent(
            f"""\
            admin:
              endpoint: dns:///{localflyte.endpoint}
              insecure: true
            """
        )
    )
    _write_package(tmp_path, retries=0)
    first = _register(tmp_path, config, project)
    assert first.returncode == 0, first.stdout + first.stderr
    tasks, _ = client.list_task_ids_paginated(project, "development", limit=10)
    assert [entity.name for entity in tasks] == ["tinypkg.flows.greet"]
    workflows, _ = client.list_workflow_ids_paginated(project, "development", limit=10)
    assert [entity.name for entity in workflows] == ["tinypkg.flows.hello"]
    plans, _ = client.list_launch_plan_ids_paginated(project, "development", limit=10)
    assert [entity.name for entity in plans] == ["tinypkg.flows.hello"]

    again = _register(tmp_path, config, project)
    assert again.returncode == 0, again.stdout + again.stderr

    # With --copy none the code is not part of the template; a changed decorator is a changed structure.
    _write_package(tmp_path, retries=2)
    changed = _register(tmp_path, config, project)
    output = changed.stdout + changed.stderr
    assert changed.returncode != 0, output
    assert "task with different structure already exists" in output, output


def test_pyflyte_fast_register_package(
    tmp_path: Path, localflyte: LocalFlyteProcess, client: SynchronousFlyteClient, project: str
) -> None:
    """Fast registration uploads the code bundle through DataProxy CreateUploadLocation, then registers."""
    config = tmp_path / "flyte.yaml"
    config.write_text(f"admin:\n  endpoint: dns:///{localflyte.endpoint}\n  insecure: true\n")
    _write_package(tmp_path, retries=0)
    pyflyte = Path(sys.executable).with_name("pyflyte")
    result = subprocess.run(
        [str(pyflyte), "--config", str(config), "register", "--version", "fast1", "--project", project,
         "--domain", "development", "--image", "python:3.11-slim", "tinypkg"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    tasks, _ = client.list_tasks_paginated(
        NamedEntityIdentifier(project, "development", "tinypkg.flows.greet"), limit=5
    )
    args = list(tasks[0].closure.compiled_task.template.container.args)
    assert "pyflyte-fast-execute" in args
    assert any(arg.startswith("s3://") for arg in args), args
