"""The demo's step runner: one line per step with its time; a failure names the step and its log."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from taxiway.demo.runner import DemoContext, DemoPaths, Step, StepFailed, run_steps

pytestmark = pytest.mark.unit


def _context(tmp_path: Path) -> tuple[DemoContext, io.StringIO]:
    out = io.StringIO()
    return DemoContext(DemoPaths(tmp_path), out=out), out


def test_every_step_gets_a_line_and_its_output_goes_to_its_log(tmp_path: Path) -> None:
    def echo(ctx: DemoContext) -> str:
        ctx.run([sys.executable, "-c", "print('hello from a subprocess')"])
        return "said hello"

    context, out = _context(tmp_path)
    code = run_steps([Step("one", "first", echo), Step("two", "second", lambda ctx: "done")], context)
    assert code == 0
    assert "[1/2] one        ok" in out.getvalue() and "said hello" in out.getvalue()
    assert "[2/2] two        ok" in out.getvalue() and "every step passed" in out.getvalue()
    assert "hello from a subprocess" in (tmp_path / ".stack" / "demo" / "one.log").read_text()


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        ([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], "exited 3: boom"),
        ([sys.executable, "-c", "raise SystemExit('bad input')"], "exited 1: bad input"),
    ],
)
def test_a_failed_command_names_the_step_and_its_log_and_stops(
    tmp_path: Path, failing: list[str], message: str
) -> None:
    ran: list[str] = []

    def fails(ctx: DemoContext) -> str:
        ctx.run(failing)
        return "never"

    context, out = _context(tmp_path)
    steps = [Step("good", "fine", lambda ctx: "ok"), Step("bad", "breaks", fails), Step("late", "never", ran.append)]
    assert run_steps(steps, context) == 1
    text = out.getvalue()
    log = tmp_path / ".stack" / "demo" / "bad.log"
    assert "[2] bad        FAILED" in text and message in text
    assert f"demo stopped at step 2 (bad); its log: {log}" in text
    assert "FAILED: " in log.read_text() and ran == []


def test_an_unexpected_error_is_reported_like_a_failure_and_from_skips_earlier_steps(tmp_path: Path) -> None:
    def broken(ctx: DemoContext) -> str:
        raise KeyError("version")

    context, out = _context(tmp_path)
    steps = [Step("skipped", "never", lambda ctx: (_ for _ in ()).throw(StepFailed("ran"))), Step("x", "x", broken)]
    assert run_steps(steps, context, first=2) == 1
    assert "[2] x          FAILED" in out.getvalue() and "KeyError: 'version'" in out.getvalue()
    assert not (tmp_path / ".stack" / "demo" / "skipped.log").exists()
