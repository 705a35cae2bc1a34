"""The ``taxiway`` command line, driven through click's CliRunner and once as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tasks.core.config import export_json_schema
from taxiway.cli import EXIT_INVALID, cli

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).parent / "core" / "fixtures" / "taxiway.yaml"


def test_validate_prints_a_summary_of_a_valid_file() -> None:
    result = CliRunner().invoke(cli, ["config", "validate", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert f"{FIXTURE}: valid" in result.stdout
    assert "domains: development -> staging -> production (approval, 8h timeout)" in result.stdout
    assert "validation accuracy-gate: training.workflows.validation_lp in all domains: accuracy >= 0.8" in result.stdout
    assert "serving: oip http://127.0.0.1:30092 from production" in result.stdout


def test_validate_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "taxiway.yaml"
    text = FIXTURE.read_text().replace("s3://taxiway-data/staging/raw", "bucket").replace("version: 1", "version: 7")
    config.write_text(text)
    result = CliRunner().invoke(cli, ["config", "validate", str(config)])
    assert result.exit_code == EXIT_INVALID == 2
    assert result.stdout == ""
    assert f"{config} is invalid (2 problems):" in result.stderr
    assert f"{config}: domains.staging.raw_data_prefix: expected an s3://, gs:// or file:// URI, got 'bucket'" in (
        result.stderr
    )
    assert f"{config}: version: expected 1" in result.stderr


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml: pipeline config file not found" in result.stderr


def test_schema_prints_the_committed_schema() -> None:
    result = CliRunner().invoke(cli, ["config", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == export_json_schema()


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(cli, ["config", "--help"])
    assert result.exit_code == 0
    assert "validate" in result.stdout and "schema" in result.stdout


def test_python_dash_m_taxiway_runs_the_cli() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "taxiway", "config", "validate", str(FIXTURE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert completed.returncode == 0, completed.stderr
    assert "pipeline: training (Flyte project training)" in completed.stdout
