"""A synthetic pipeline package of any size, for the benchmarks.

:func:`write_pipeline` writes a Python package with ``tasks`` tasks and ``workflows`` workflows (each
workflow chains a few of the tasks and gets the default launch plan ``pyflyte package`` makes for it)
plus ``extra_launch_plans`` named launch plans. ``pyflyte package`` therefore finds
``tasks + 2 * workflows + extra_launch_plans`` entities. :func:`package_pipeline` runs the real
``pyflyte --pkgs <name> package --fast`` on it, as Taxiway's package step does.

``revision`` only changes a function *body*: a code-only change that keeps every entity's structure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Tasks each workflow chains.
TASKS_PER_WORKFLOW = 3

_HEADER = '''"""Synthetic: {tasks} tasks, {workflows} workflows, {extra} extra launch plans, rev. {revision}."""

from flytekit import LaunchPlan, task, workflow

REVISION = {revision}
'''

_TASK = '''

@task
def step_{index}(x: int) -> int:
    """Synthetic step {index}."""
    return x + {index} + REVISION
'''

_WORKFLOW = '''

@workflow
def flow_{index}(x: int = 1) -> int:
    """Synthetic workflow {index}."""
{body}    return v{last}
'''

_LAUNCH_PLAN = """

lp_{index} = LaunchPlan.get_or_create(flow_{workflow}, name="{package}.lp_{index}", default_inputs={{"x": {index}}})
"""


@dataclass(frozen=True)
class PipelineShape:
    """How many entities the synthetic pipeline has.

    :param tasks: tasks (``step_<i>``).
    :param workflows: workflows (``flow_<i>``), each with its default launch plan.
    :param extra_launch_plans: named launch plans on top of the default ones.
    """

    tasks: int
    workflows: int
    extra_launch_plans: int = 0

    def __post_init__(self) -> None:
        if self.tasks < 1 or self.workflows < 0 or self.extra_launch_plans < 0:
            raise ValueError(f"a pipeline needs at least one task and no negative counts, got {self}")
        if self.extra_launch_plans and not self.workflows:
            raise ValueError("extra launch plans need at least one workflow to launch")

    @property
    def entity_count(self) -> int:
        """What ``pyflyte package`` serializes: tasks, workflows, their default and the extra launch plans."""
        return self.tasks + 2 * self.workflows + self.extra_launch_plans

    @classmethod
    def with_entities(cls, entities: int) -> PipelineShape:
        """A shape of about half tasks, a quarter workflows and a quarter default launch plans."""
        workflows = max(1, entities // 4)
        return cls(tasks=max(1, entities - 2 * workflows), workflows=workflows)


def render_module(shape: PipelineShape, package: str, revision: int = 0) -> str:
    """The source of ``<package>/flows.py`` for ``shape``."""
    parts = [
        _HEADER.format(tasks=shape.tasks, workflows=shape.workflows, extra=shape.extra_launch_plans, revision=revision)
    ]
    parts.extend(_TASK.format(index=index) for index in range(shape.tasks))
    for index in range(shape.workflows):
        steps = [(index * TASKS_PER_WORKFLOW + offset) % shape.tasks for offset in range(TASKS_PER_WORKFLOW)]
        lines, previous = [], "x"
        for position, step in enumerate(steps):
            lines.append(f"    v{position} = step_{step}(x={previous})\n")
            previous = f"v{position}"
        parts.append(_WORKFLOW.format(index=index, body="".join(lines), last=len(steps) - 1))
    for index in range(shape.extra_launch_plans):
        parts.append(_LAUNCH_PLAN.format(index=index, workflow=index % shape.workflows, package=package))
    return "".join(parts)


def write_pipeline(source: Path, shape: PipelineShape, package: str = "synth", revision: int = 0) -> Path:
    """Write (or rewrite) the package ``source/<package>``; returns the package directory."""
    directory = source / package
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "__init__.py").write_text("")
    (directory / "flows.py").write_text(render_module(shape, package, revision))
    return directory


def package_pipeline(source: Path, package: str, image: str, output: Path) -> Path:
    """Run ``pyflyte --pkgs <package> package --fast`` in ``source``; the archive's path.

    :raises RuntimeError: with pyflyte's output if packaging fails.
    """
    pyflyte = Path(sys.executable).with_name("pyflyte")
    output.parent.mkdir(parents=True, exist_ok=True)
    argv = [str(pyflyte), "--pkgs", package, "package", "--fast", "--force", "--image", image, "--output", str(output)]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FLYTE_", "FLYTECTL_"))}
    result = subprocess.run(argv, cwd=source, capture_output=True, text=True, timeout=600, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"pyflyte package failed in {source}:\n{result.stdout}\n{result.stderr}")
    return output
