"""``python -m taxiway.demo [--from STEP]``: the lifecycle demo (``make demo``)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from taxiway.demo.runner import DemoContext, DemoPaths, Step, run_steps
from taxiway.demo.steps_promote import nightly_step, production_step, release_step, report_step
from taxiway.demo.steps_release import ci_step, register_step, stack_step

STEPS = (
    Step("stack", "local stack up (scripts/stack up)", stack_step),
    Step("register", "meta image built + pushed; meta-workflows + launch plans registered", register_step),
    Step("ci", "ci_pipeline on examples/training (pyflyte run --remote, from git)", ci_step),
    Step("nightly", "nightly launch plan promotes development -> staging (clock advanced)", nightly_step),
    Step("production", "promotion to production through the approval gate", production_step),
    Step("release", "release_model to the model server, then a prediction", release_step),
    Step("report", "taxiway status, Slack messages, console and Decks", report_step),
)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 when every step passed, 1 when one failed (it is named with its log)."""
    parser = argparse.ArgumentParser(prog="python -m taxiway.demo", description=__doc__)
    names = [step.name for step in STEPS]
    parser.add_argument("--from", dest="first", default=names[0], choices=names + [str(i) for i in range(1, 8)],
                        help="start at this step (name or number); earlier steps' results are looked up")  # fmt: skip
    parser.add_argument("--to", dest="last", default=names[-1], choices=names + [str(i) for i in range(1, 8)],
                        help="stop after this step (name or number)")  # fmt: skip
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2], help="the repository")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")  # fmt: skip
    first, last = (int(step) if step.isdigit() else names.index(step) + 1 for step in (args.first, args.last))
    return run_steps(STEPS, DemoContext(DemoPaths(args.root.resolve())), first, last)


if __name__ == "__main__":
    sys.exit(main())
