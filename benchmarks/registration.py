"""P1 (code-only change to development), P2 (promotion to staging) and P3 (image builds per commit)."""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

from benchmarks.measure import Figure, interleave, ratio_figure, repeat
from benchmarks.pipeline import PACKAGE, SyntheticPipeline, docker_client
from benchmarks.stack import BenchStack
from benchmarks.synthetic import PipelineShape, package_pipeline
from tasks.core.register_package import load_package

logger = logging.getLogger(__name__)


def _taxiway_release(
    pipeline: SyntheticPipeline,
    stack: BenchStack,
    project: str,
    version: str,
    work: Path,
    stages: dict[str, list[float]],
) -> None:
    """What Taxiway's CI does for a commit: build step (reuse), package, register into development."""
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages.setdefault(stage, []).append(now - clock)
        clock = now

    images = pipeline.build_images(docker_client(), requests.Session())
    lap("build step (tag reused)")
    archive = package_pipeline(
        pipeline.source, PACKAGE, f"{images[0].repository}:{images[0].tag}", work / f"{version}.tgz"
    )
    lap("pyflyte package --fast")
    package = load_package(archive, work / version)
    lap("load package")
    stack.register(package, project, "development", version)
    lap("register_package")


def _pyflyte_startup(_: int) -> None:
    """Interpreter start and flytekit import: the fixed cost of every ``pyflyte`` subprocess."""
    pyflyte = Path(sys.executable).with_name("pyflyte")
    subprocess.run([str(pyflyte), "--help"], capture_output=True, check=True, timeout=120)


def p1_code_change(stack: BenchStack, work: Path, repeats: int, entities: int = 20) -> list[Figure]:
    """A code-only change registered in development: fast path vs rebuild path vs bare pyflyte register."""
    pipeline = SyntheticPipeline.create(work / "p1", PipelineShape.with_entities(entities))
    client, session = docker_client(), requests.Session()
    first = pipeline.build_images(client, session)[0]  # the dependencies' image, built once before the commits
    image = f"{first.repository}:{first.tag}"
    projects = {name: stack.new_project(f"p1{name}") for name in ("fast", "rebuild", "bare")}
    revision = iter(range(1, 10_000))
    stages: dict[str, list[float]] = {}

    def commit(_: int) -> None:
        pipeline.commit(next(revision))

    def fast(index: int) -> None:
        _taxiway_release(pipeline, stack, projects["fast"], f"fast{index:04d}", work / "p1-fast", stages)

    def rebuild(index: int) -> None:
        reference = pipeline.rebuild_image(client, f"rev{index:04d}")
        archive = package_pipeline(pipeline.source, PACKAGE, reference, work / "p1-rebuild" / f"{index}.tgz")
        stack.register(
            load_package(archive, work / "p1-rebuild" / str(index)),
            projects["rebuild"],
            "development",
            f"rb{index:04d}",
        )

    def bare(index: int) -> None:
        stack.pyflyte_register(pipeline.source, PACKAGE, projects["bare"], "development", f"bare{index:04d}", image)

    timings = interleave({"fast": fast, "rebuild": rebuild, "bare": bare}, repeats, setup=commit)
    fast_t, rebuild_t, bare_t = timings["fast"], timings["rebuild"], timings["bare"]
    note = (
        f"{pipeline.shape.entity_count} entities; fast = build step (tag reused) + pyflyte package --fast"
        " + register_package"
    )
    startup = repeat(_pyflyte_startup, repeats)
    stages["(of which pyflyte start-up: `pyflyte --help`)"] = list(startup.samples)
    breakdown = "; ".join(f"{stage} {statistics.median(times):.3f}s" for stage, times in stages.items())
    note += f" (medians: {breakdown})"
    return [
        ratio_figure("P1 code change: fast path vs rebuild", fast_t, rebuild_t, "docker build+push+register", 0.1,
                     note=note + "; rebuild = docker build (code COPY'd) + push + same package/register"),
        ratio_figure("P1 code change: Taxiway vs bare pyflyte register", fast_t, bare_t, "pyflyte register (fast)", 1.2,
                     note="same code, same localflyte"),
    ]  # fmt: skip


def p2_promotion(stack: BenchStack, work: Path, repeats: int, entities: int = 200) -> Figure:
    """Promotion of an already packaged release to staging vs ``pyflyte register`` into staging."""
    pipeline = SyntheticPipeline.create(work / "p2", PipelineShape.with_entities(entities))
    client, session = docker_client(), requests.Session()
    ref = pipeline.build_images(client, session)[0]
    image = f"{ref.repository}:{ref.tag}"
    package = load_package(package_pipeline(pipeline.source, PACKAGE, image, work / "p2.tgz"), work / "p2-pkg")
    projects: list[str] = []

    def in_development(index: int) -> None:
        projects.append(stack.new_project("p2"))
        stack.register(package, projects[index], "development", "rel0001")

    def promote(index: int) -> None:
        stack.register(package, projects[index], "staging", "rel0001")

    def bare(index: int) -> None:
        stack.pyflyte_register(pipeline.source, PACKAGE, projects[index], "staging", "bare0001", image)

    taxiway = repeat(promote, repeats, setup=in_development)
    baseline = repeat(bare, repeats)
    return ratio_figure(
        "P2 promotion to staging", taxiway, baseline, "pyflyte register into staging", 0.3,
        note=f"{package.entity_count} entities; register_package of the built package (no serialization)",
    )  # fmt: skip


def p3_builds(work: Path, commits: int) -> Figure:
    """Image builds triggered by ``commits`` code-only commits (the dependencies' tag already pushed)."""
    pipeline = SyntheticPipeline.create(work / "p3", PipelineShape.with_entities(8))
    client, session = docker_client(), requests.Session()
    initial = pipeline.build_images(client, session)[0]
    built: list[bool] = []

    def commit(index: int) -> None:
        pipeline.commit(index + 1)

    def build_step(_: int) -> None:
        built.extend(ref.built for ref in pipeline.build_images(client, session))

    timing = repeat(build_step, commits, setup=commit)
    return Figure(
        name=f"P3 image builds for {commits} code-only commits",
        taxiway=float(sum(built)),
        baseline=float(commits),
        unit="builds",
        goal="exactly 0",
        met=sum(built) == 0,
        ratio=sum(built) / commits,
        baseline_name="build on every commit",
        note=(
            f"initial build of the dependencies' image built={initial.built}; "
            f"build step median {timing.median * 1000:.1f} ms"
        ),
        details={"build_step": timing.summary(), "initial_tag": initial.tag},
    )
