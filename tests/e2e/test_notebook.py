"""``examples/notebooks/release_validation.ipynb`` runs top to bottom against a validated release.

Real parts, all of this module's own: a moto S3 and a localflyte whose ``process`` runtime runs the
example pipeline's tasks as host processes (torch CPU, two-process Elastic training). The example's
package is registered with ``pyflyte register`` into development and staging, and Taxiway's own
validation (``run_validation``: deterministic names, labels, expectations) validates one release in
both. The notebook is then executed with nbclient, finding that release by its labels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest
from flytekit.models.project import Project

from localflyte.testing import LocalFlyteProcess, MotoServer
from tasks.core.config import PipelineConfig, load_pipeline_config
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.promote import validation_request
from tasks.core.promote_flyte import FlyteExecutions
from tasks.core.validate import ValidationReport, run_validation
from tasks.core.vocabulary import Verdict

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "training"
NOTEBOOK = REPO_ROOT / "examples" / "notebooks" / "release_validation.ipynb"
VERSION = "0123456789ab"
VALIDATED_IN = ("development", "staging")


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalFlyteProcess, MotoServer]]:
    """localflyte (process runtime) + moto; task processes import the example package from its directory."""
    patch = pytest.MonkeyPatch()
    patch.setenv("PYTHONPATH", os.pathsep.join([str(EXAMPLE), str(REPO_ROOT)]))
    moto = MotoServer(tmp_path_factory.mktemp("moto"))
    process = LocalFlyteProcess(tmp_path_factory.mktemp("localflyte"), s3_endpoint=moto.endpoint, runtime="process")
    yield process, moto
    process.stop()
    moto.stop()
    patch.undo()


@pytest.fixture(scope="module")
def settings(admin: tuple[LocalFlyteProcess, MotoServer]) -> FlyteSettings:
    process, moto = admin
    return FlyteSettings(process.endpoint, True, moto.endpoint, "testing", "testing")


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return load_pipeline_config(EXAMPLE / "taxiway.yaml")


@pytest.fixture(scope="module")
def validated(settings: FlyteSettings, config: PipelineConfig) -> dict[str, ValidationReport]:
    """The release registered (as a platform team would with pyflyte) and validated in two domains."""
    remotes = FlyteRemotes(settings)
    remotes.for_domain(config.project, "development").client.register_project(
        Project(id=config.project, name=config.project, description="notebook test")
    )
    env = {**os.environ, "FLYTE_PLATFORM_URL": settings.endpoint, "FLYTE_PLATFORM_INSECURE": "True"}
    pyflyte = Path(sys.executable).parent / "pyflyte"
    for domain in VALIDATED_IN:
        subprocess.run(
            [str(pyflyte), "register", "--copy", "none", "--project", config.project, "--domain", domain,
             "--version", VERSION, "--image", "127.0.0.1:30000/taxiway/training:notebook-test", "training"],
            cwd=EXAMPLE, env=env, check=True, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    executions = FlyteExecutions(lambda domain: remotes.for_domain(config.project, domain))
    return {domain: run_validation(validation_request(config, VERSION, domain), executions) for domain in VALIDATED_IN}


@pytest.fixture(scope="module")
def executed(
    validated: dict[str, ValidationReport], settings: FlyteSettings, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, Path]:
    """The notebook after nbclient ran it, pointed at this module's localflyte through the environment."""
    for domain, report in validated.items():
        assert report.verdict is Verdict.PASSED, (domain, report.failures())
    output = tmp_path_factory.mktemp("notebook")
    patch = pytest.MonkeyPatch()
    env = {"FLYTE_PLATFORM_URL": settings.endpoint, "FLYTE_PLATFORM_INSECURE": "True",
           "FLYTE_AWS_ENDPOINT": settings.s3_endpoint, "FLYTE_AWS_ACCESS_KEY_ID": "testing",
           "FLYTE_AWS_SECRET_ACCESS_KEY": "testing", "TAXIWAY_NOTEBOOK_OUTPUT": str(output)}  # fmt: skip
    for name, value in env.items():
        patch.setenv(name, value)
    patch.delenv("TAXIWAY_RELEASE_VERSION", raising=False)  # the notebook finds the release by its labels
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    try:
        client.execute()
    finally:
        patch.undo()
    return notebook, output


def _outputs(notebook: Any) -> list[dict[str, Any]]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


def _summary(notebook: Any) -> dict[str, Any]:
    text = "".join(output.get("text", "") for output in _outputs(notebook) if output.get("output_type") == "stream")
    [line] = [line for line in text.splitlines() if line.startswith("SUMMARY ")]
    return dict(json.loads(line.removeprefix("SUMMARY ")))


def test_notebook_finds_the_release_and_its_validation_executions(
    executed: tuple[Any, Path], validated: dict[str, ValidationReport]
) -> None:
    notebook, _ = executed
    assert not [output for output in _outputs(notebook) if output.get("output_type") == "error"]
    summary = _summary(notebook)
    assert summary["version"] == VERSION
    expected = {f"{domain}/{case.case}": case.execution_id.rsplit("/", 1)[1]
                for domain, report in validated.items() for case in report.cases}  # fmt: skip
    assert summary["executions"] == expected
    assert set(summary["phases"].values()) == {"SUCCEEDED"}
    assert "production/accuracy-gate" not in summary["executions"], "production was never validated"


def test_notebook_reads_intermediate_and_final_outputs_and_plots_them(executed: tuple[Any, Path]) -> None:
    notebook, output = executed
    rows = _summary(notebook)["metrics"]
    assert [row["domain"] for row in rows] == list(VALIDATED_IN)
    for row in rows:
        assert row["accuracy"] >= 0.8 and 0 < row["test_loss"] < 0.5  # the final outputs, as validated
        assert 0 < row["train_loss"] < 5 and row["world_size"] == 2  # the training node's intermediate output
    assert any("image/png" in item.get("data", {}) for item in _outputs(notebook))
    figure = Path(_summary(notebook)["figure"])
    assert figure.parent == output and figure.stat().st_size > 10_000
