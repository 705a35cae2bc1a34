"""The benchmarks' synthetic pipeline generator writes what it promises (``pyflyte package`` is run too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from benchmarks.synthetic import PipelineShape, package_pipeline, render_module, write_pipeline
from tasks.core.register_package import load_package

pytestmark = pytest.mark.unit


def test_shape_with_entities_adds_up() -> None:
    shape = PipelineShape.with_entities(200)
    assert (shape.tasks, shape.workflows, shape.entity_count) == (100, 50, 200)


def test_invalid_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one task"):
        PipelineShape(tasks=0, workflows=1)
    with pytest.raises(ValueError, match="need at least one workflow"):
        PipelineShape(tasks=1, workflows=0, extra_launch_plans=1)


def test_revision_changes_code_not_structure() -> None:
    shape = PipelineShape(tasks=4, workflows=2, extra_launch_plans=1)
    first, second = render_module(shape, "synth", 0), render_module(shape, "synth", 1)
    assert first != second
    names = {node.name for node in ast.walk(ast.parse(first)) if isinstance(node, ast.FunctionDef)}
    assert names == {"step_0", "step_1", "step_2", "step_3", "flow_0", "flow_1"}


def test_packaged_pipeline_has_the_promised_entities(tmp_path: Path) -> None:
    shape = PipelineShape(tasks=3, workflows=2, extra_launch_plans=1)
    write_pipeline(tmp_path / "src", shape)
    archive = package_pipeline(
        tmp_path / "src", "synth", "127.0.0.1:30000/taxiway/base:bookworm-py311", tmp_path / "p.tgz"
    )
    package = load_package(archive, tmp_path / "out")
    assert package.entity_count == shape.entity_count == 8
    assert sorted(plan.name for plan in package.launch_plans) == [
        "synth.flows.flow_0", "synth.flows.flow_1", "synth.lp_0",
    ]  # fmt: skip
    assert package.code_bundle is not None
