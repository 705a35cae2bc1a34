"""The benchmark harness's own logic: the pipeline's requirements, plans, timings and the dockerfiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.__main__ import Plan
from benchmarks.measure import Timing, interleave
from benchmarks.pipeline import SyntheticPipeline
from benchmarks.synthetic import PipelineShape
from benchmarks.wheelhouse import pipeline_requirements

pytestmark = pytest.mark.unit


def test_pipeline_requirements_are_the_example_lock_without_torch() -> None:
    requirements = pipeline_requirements().splitlines()
    assert "flytekit==1.16.31" in requirements
    assert not [line for line in requirements if line.startswith(("torch", "flytekitplugins-kfpytorch", "#"))]
    assert all("==" in line for line in requirements), "every requirement is pinned"


@pytest.mark.parametrize(("quick", "ci_runs", "expected"), [(True, None, 3), (False, None, 4), (False, 50, 50)])
def test_ci_runs_default_and_override(quick: bool, ci_runs: int | None, expected: int) -> None:
    plan = Plan.of(quick, ci_runs)
    assert plan.p4_ci_runs == expected
    assert 1 <= plan.p1_rebuilds <= plan.p1_repeats


def test_interleave_numbers_rounds_from_first() -> None:
    seen: list[tuple[str, int]] = []
    timings = interleave({"a": lambda i: seen.append(("a", i)), "b": lambda i: seen.append(("b", i))}, 2, first=3)
    assert seen == [("a", 3), ("b", 3), ("a", 4), ("b", 4)]
    merged = timings["a"].extended(Timing((9.0,)))
    assert len(merged.samples) == 3 and merged.samples[-1] == 9.0


def test_rebuild_dockerfile_is_the_dependencies_image_plus_the_code(tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheels"
    wheelhouse.mkdir()
    (wheelhouse / "flytekit-1.16.31-py3-none-any.whl").write_bytes(b"")
    (wheelhouse / ".complete").write_text("x")
    pipeline = SyntheticPipeline.create(tmp_path / "p", PipelineShape.with_entities(8), wheelhouse)
    dependencies = (pipeline.root / "Dockerfile").read_text()
    rebuild = (pipeline.root / "Dockerfile.rebuild").read_text()
    assert "pip install" in dependencies and "--no-index" in dependencies
    assert rebuild.startswith(dependencies) and rebuild.removeprefix(dependencies).startswith("COPY synth/")
    assert (pipeline.root / ".wheels" / "flytekit-1.16.31-py3-none-any.whl").is_file()
    assert not (pipeline.root / ".wheels" / ".complete").exists()
