"""P1 (code-only change to development), P2 (promotion to staging) and P3 (image builds per commit)."""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import requests

from benchmarks.measure import Figure, interleave, ratio_figure, repeat
from benchmarks.pipeline import PACKAGE, SyntheticPipeline, docker_client
from benchmarks.stack import BUCKET, BenchStack
from benchmarks.synthetic import PipelineShape, package_pipeline
from benchmarks.wheelhouse import ensure_wheelhouse, pipeline_requirements
from tasks.core.package import package_release
from tasks.core.package_store import download_package
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
    """What Taxiway's CI does for a commit, with its own code: build step (tag reused), package step
    (serialize in the pipeline's image, store content-addressed), register step (fetch the package,
    register into development)."""
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages.setdefault(stage, []).append(now - clock)
        clock = now

    client = docker_client()
    images = pipeline.build_images(client, requests.Session())
    lap("build step (tag reused)")
    ref = package_release(
        pipeline.root, pipeline.config, images, docker_client=client, s3_client=stack.s3_client(), bucket=BUCKET
    )
    lap("package step (pyflyte package in the pipeline image + store)")
    (work / version / "package").mkdir(parents=True, exist_ok=True)
    archive = download_package(stack.s3_client(), ref.uri, work / version / "flyte-package.tgz")
    package = load_package(archive, work / version / "package")
    lap("fetch + load package")
    stack.register(package, project, "development", version, content_hash=ref.content_hash)
    lap("register_package")


def _pyflyte_startup(_: int) -> None:
    """Interpreter start and flytekit import: the fixed cost of every ``pyflyte`` subprocess."""
    pyflyte = Path(sys.executable).with_name("pyflyte")
    subprocess.run([str(pyflyte), "--help"], capture_output=True, check=True, timeout=120)


def p1_code_change(stack: BenchStack, work: Path, repeats: int, rebuilds: int, entities: int = 20) -> list[Figure]:
    """A code-only change registered in development: fast path vs rebuild path vs bare pyflyte register.

    :param repeats: samples of the fast path and of bare ``pyflyte register``.
    :param rebuilds: samples of the rebuild path (each a from-scratch image build: minutes), at most ``repeats``.
    """
    wheelhouse = ensure_wheelhouse(pipeline_requirements())
    pipeline = SyntheticPipeline.create(work / "p1", PipelineShape.with_entities(entities), wheelhouse)
    client, session = docker_client(), requests.Session()
    first = pipeline.build_images(client, session)[0]  # the dependencies' image, built once before the commits
    image = f"{first.repository}:{first.tag}"
    projects = {name: stack.new_project(f"p1{name}") for name in ("fast", "rebuild", "bare")}
    revision = iter(range(1, 10_000))
    stages: dict[str, list[float]] = {}
    rebuilt: list[str] = []

    def commit(_: int) -> None:
        pipeline.commit(next(revision))

    def fast(index: int) -> None:
        _taxiway_release(pipeline, stack, projects["fast"], f"fast{index:04d}", work / "p1-fast", stages)

    def rebuild(index: int) -> None:
        reference = pipeline.rebuild_image(client, f"rev{index:04d}")
        rebuilt.append(reference)
        stack.pyflyte_register(
            pipeline.source, PACKAGE, projects["rebuild"], "development", f"rb{index:04d}", reference, copy="none"
        )

    def bare(index: int) -> None:
        stack.pyflyte_register(pipeline.source, PACKAGE, projects["bare"], "development", f"bare{index:04d}", image)

    rebuilds = max(1, min(rebuilds, repeats))
    try:
        first_rounds = interleave({"fast": fast, "rebuild": rebuild, "bare": bare}, rebuilds, setup=commit)
        more = interleave({"fast": fast, "bare": bare}, repeats - rebuilds, setup=commit, first=rebuilds)
    finally:
        for reference in rebuilt:  # each is a from-scratch image of hundreds of MB
            client.images.remove(reference, force=True)
    fast_t = first_rounds["fast"].extended(more["fast"])
    rebuild_t = first_rounds["rebuild"]
    bare_t = first_rounds["bare"].extended(more["bare"])
    startup = repeat(_pyflyte_startup, repeats)
    stages["(for scale: a pyflyte process start, `pyflyte --help` on the host)"] = list(startup.samples)
    breakdown = "; ".join(f"{stage} {statistics.median(times):.3f}s" for stage, times in stages.items())
    note = (
        f"{pipeline.shape.entity_count} entities; fast = Taxiway's build step (tag reused) + package step + "
        f"register step (medians: {breakdown}); rebuild = docker build --no-cache of the pipeline image "
        f"(venv with flytekit from a local wheelhouse, code COPY'd) + docker push + pyflyte register --copy none, "
        f"{len(rebuild_t.samples)} samples"
    )
    return [
        ratio_figure("P1 code change: fast path vs rebuild", fast_t, rebuild_t,
                     "docker build --no-cache + push + pyflyte register", 0.1, note=note),
        ratio_figure("P1 code change: Taxiway vs bare pyflyte register", fast_t, bare_t, "pyflyte register (fast)", 1.2,
                     note="same code, same localflyte; Taxiway serializes in the pipeline's image (a container), "
                     "pyflyte register on the host"),
    ]  # fmt: skip


def p2_promotion(stack: BenchStack, work: Path, repeats: int, entities: int = 200) -> Figure:
    """Promotion of an already packaged release to staging vs ``pyflyte register`` into staging."""
    pipeline = SyntheticPipeline.create(work / "p2", PipelineShape.with_entities(entities))
    client, session = docker_client(), requests.Session()
    ref = pipeline.build_images(client, session)[0]
    image = f"{ref.repository}:{ref.tag}"
    package = load_package(package_pipeline(pipeline.source, PACKAGE, image, work / "p2.tgz"), work / "p2-pkg")
    projects: dict[str, list[str]] = {"concurrent": [], "serial": []}

    def in_development(mode: str) -> Callable[[int], None]:
        def setup(index: int) -> None:
            projects[mode].append(stack.new_project("p2"))
            stack.register(package, projects[mode][index], "development", "rel0001")

        return setup

    def promote(index: int) -> None:
        stack.register(package, projects["concurrent"][index], "staging", "rel0001")

    def promote_serially(index: int) -> None:
        stack.register(package, projects["serial"][index], "staging", "rel0001", max_workers=1)

    def bare(index: int) -> None:
        stack.pyflyte_register(pipeline.source, PACKAGE, projects["concurrent"][index], "staging", "bare0001", image)

    taxiway = repeat(promote, repeats, setup=in_development("concurrent"))
    serial = repeat(promote_serially, repeats, setup=in_development("serial"))
    baseline = repeat(bare, repeats)
    figure = ratio_figure(
        "P2 promotion to staging", taxiway, baseline, "pyflyte register into staging", 0.3,
        note=(f"{package.entity_count} entities; register_package of the built package (no serialization), "
              f"8 concurrent calls per dependency wave; the same one call at a time: median {serial.median:.3f}s "
              f"({serial.median / taxiway.median:.1f}x slower)"),
    )  # fmt: skip
    return replace(figure, details={**figure.details, "serial": serial.summary()})


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
