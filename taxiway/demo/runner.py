"""The demo's step runner: timing, one line per step, a log file per step, a failure that names both."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)


class StepFailed(Exception):
    """A step could not finish; ``message`` says what and how to go on (the runner adds the log)."""


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo reads and writes, all under the repository."""

    root: Path

    @property
    def stack(self) -> Path:
        return self.root / ".stack"

    @property
    def demo(self) -> Path:
        return self.stack / "demo"

    def log(self, step: str) -> Path:
        return self.demo / f"{step}.log"


@dataclass
class DemoContext:
    """What steps share: paths, the environment for subprocesses, and values earlier steps found.

    :param paths: the repository's demo paths.
    :param env: the environment subprocesses get (``.stack/env`` is merged in after the stack step).
    :param values: facts for later steps and the summary (``version``, ``meta_image``, execution names).
    :param out: where the console lines go.
    """

    paths: DemoPaths
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    values: dict[str, Any] = field(default_factory=dict)
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    step: str = ""

    @property
    def log_path(self) -> Path:
        return self.paths.log(self.step)

    def log(self, message: str) -> None:
        """Append one line to the current step's log."""
        with self.log_path.open("a") as handle:
            handle.write(message.rstrip("\n") + "\n")

    def say(self, message: str) -> None:
        """A line for the reader, indented under the step (also logged)."""
        self.out.write(f"      {message}\n")
        self.out.flush()
        self.log(message)

    def run(self, argv: Sequence[str], *, timeout: float = 1800, check: bool = True,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """Run ``argv`` in the repository with its output appended to the step's log.

        :raises StepFailed: if it exits non-zero (with ``check``) or outlives ``timeout`` seconds.
        """
        self.log(f"$ {shlex.join(argv)}")
        with self.log_path.open("a") as handle:
            try:
                result = subprocess.run(
                    list(argv), cwd=self.paths.root, env={**self.env, **(env or {})}, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired as err:
                handle.write(str(err.output or ""))
                raise StepFailed(f"`{shlex.join(argv)}` did not finish within {timeout:.0f}s") from None
            handle.write(result.stdout)
        if check and result.returncode != 0:
            last = _last_line(result.stdout)
            raise StepFailed(f"`{shlex.join(argv)}` exited {result.returncode}: {last}")
        return result


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


@dataclass(frozen=True)
class Step:
    """One step of the demo: a short name (its log file) and a function returning a one-line result."""

    name: str
    title: str
    run: Callable[[DemoContext], str]


def run_steps(steps: Sequence[Step], context: DemoContext, first: int = 1, last: int = 0) -> int:
    """Run ``steps`` numbered ``first`` to ``last`` (0: to the end), a line per step, then a summary.

    :returns: the exit code: 0 when every step ran passed, 1 when one failed (named with its log).
    """
    out = context.out
    context.paths.demo.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: list[tuple[Step, str, float]] = []
    for number, step in enumerate(steps, start=1):
        if number < first or (last and number > last):
            continue
        context.step = step.name
        context.log_path.write_text(f"# taxiway demo step {number} ({step.name}): {step.title}\n")
        out.write(f"[{number}/{len(steps)}] {step.title} ...\n")
        out.flush()
        step_start = time.monotonic()
        try:
            result = step.run(context)
        except StepFailed as err:
            return _failed(context, number, step, str(err), time.monotonic() - step_start)
        except Exception as err:  # any bug or client error still names the step and its log
            logger.debug("step %s raised", step.name, exc_info=True)
            context.log(f"{type(err).__name__}: {err}")
            return _failed(context, number, step, f"{type(err).__name__}: {err}", time.monotonic() - step_start)
        elapsed = time.monotonic() - step_start
        results.append((step, result, elapsed))
        out.write(f"[{number}/{len(steps)}] {step.name:<10} ok   {elapsed:7.1f}s  {result}\n")
        out.flush()
    end = last or len(steps)
    which = "every step passed" if (first, end) == (1, len(steps)) else f"steps {first}-{end} passed"
    out.write(f"\ndemo finished in {time.monotonic() - started:.1f}s: {which}\n")
    for step, result, elapsed in results:
        out.write(f"  {step.name:<10} {elapsed:7.1f}s  {result}\n")
    out.write(f"  logs: {context.paths.demo}/<step>.log\n")
    return 0


def _failed(context: DemoContext, number: int, step: Step, message: str, elapsed: float) -> int:
    context.log(f"FAILED: {message}")
    context.out.write(
        f"[{number}] {step.name:<10} FAILED {elapsed:6.1f}s  {message}\n"
        f"demo stopped at step {number} ({step.name}); its log: {context.log_path}\n"
        f"re-run from this step with: python -m taxiway.demo --from {step.name}\n"
    )
    context.out.flush()
    return 1
