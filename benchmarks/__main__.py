"""``python -m benchmarks [--quick] [--only P1,P2,...] [--profile]``: run the benchmarks, print the table."""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.ci_runs import p4_ci_runs
from benchmarks.measure import Figure, Machine
from benchmarks.registration import p1_code_change, p2_promotion, p3_builds
from benchmarks.report import read_results, table, write_results
from benchmarks.scale import p4_concurrent, p4_throughput, p5_decision, small_package
from benchmarks.stack import BenchStack
from benchmarks.wheelhouse import ensure_wheelhouse, pipeline_requirements

logger = logging.getLogger("benchmarks")


@dataclass(frozen=True)
class Plan:
    """How much each benchmark repeats."""

    p1_repeats: int
    p1_rebuilds: int
    p2_repeats: int
    p3_commits: int
    p4_creates: int
    p4_runs: int
    p4_ci_runs: int
    p5_repeats: int

    @classmethod
    def of(cls, quick: bool, ci_runs: int | None = None) -> Plan:
        plan = cls(3, 1, 3, 5, 800, 50, 3, 3) if quick else cls(7, 3, 5, 20, 4000, 50, 4, 7)
        return plan if ci_runs is None else replace(plan, p4_ci_runs=ci_runs)


def profile_promotion(stack: BenchStack, work: Path) -> str:
    """cProfile of one 200-entity registration into a fresh domain: the top functions by cumulative time."""
    package = small_package(work / "profile", entities=200)
    project = stack.new_project("prof")
    stack.register(package, project, "development", "rel0001")
    profiler = cProfile.Profile()
    profiler.enable()
    stack.register(package, project, "staging", "rel0001")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


def run(selected: set[str], plan: Plan, work: Path, profile: bool) -> list[Figure]:
    stack = BenchStack.start(work / "stack")
    figures: list[Figure] = []
    try:
        if "P1" in selected:
            figures += p1_code_change(stack, work, plan.p1_repeats, plan.p1_rebuilds)
        if "P2" in selected:
            figures.append(p2_promotion(stack, work, plan.p2_repeats))
        if "P3" in selected:
            figures.append(p3_builds(work, plan.p3_commits))
        if selected & {"P4", "P5"}:
            package = small_package(work / "small")
            if "P4" in selected:
                figures.append(p4_throughput(stack, package, plan.p4_creates))
                figures.append(p4_concurrent(stack, package, plan.p4_runs))
                if plan.p4_ci_runs:
                    wheelhouse = ensure_wheelhouse(pipeline_requirements())
                    figures.append(p4_ci_runs(work / "ci-runs", wheelhouse, plan.p4_ci_runs))
            if "P5" in selected:
                figures.append(p5_decision(stack, package, plan.p5_repeats))
        if profile:
            print(profile_promotion(stack, work))
    finally:
        stack.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", default="P1,P2,P3,P4,P5", help="comma-separated subset, e.g. P2,P5")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of a 200-entity promotion")
    parser.add_argument(
        "--ci-runs", type=int, default=None,
        help="concurrent ci_pipeline executions for P4 (default 4, --quick 3; the issue's figure is 50; 0 skips)",
    )  # fmt: skip
    parser.add_argument("--verbose", action="store_true", help="log every sample")
    parser.add_argument("--show", type=Path, default=None, help="print the table of a result file and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    if args.show is not None:
        figures, machine = read_results(args.show)
        print(table(figures, machine))
        return 0 if all(figure.met for figure in figures) else 1
    selected = {name.strip().upper() for name in args.only.split(",") if name.strip()}
    plan = Plan.of(args.quick, args.ci_runs)
    machine = Machine.current()
    with tempfile.TemporaryDirectory(prefix="taxiway-bench-") as workdir:
        figures = run(selected, plan, Path(workdir), args.profile)
    print(table(figures, machine))
    path = write_results(figures, machine, {"quick": args.quick, "only": sorted(selected), "plan": plan.__dict__})
    print(f"\nresults: {path}")
    return 0 if all(figure.met for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
