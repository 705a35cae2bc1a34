"""The table printed at the end of a run and the JSON result file."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.measure import Figure, Machine

RESULTS = Path(__file__).parent / "results"


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} {unit}" if unit == "s" else f"{value:.1f} {unit}"


def _with_min(figure: Figure, side: str, value: float | None) -> str:
    text = _value(value, figure.unit)
    timing = figure.details.get(side)
    if isinstance(timing, dict) and "min" in timing and timing.get("n", 0) > 1:
        text += f" (min {timing['min']:.3f}, n={timing['n']})"
    return text


def table(figures: list[Figure], machine: Machine) -> str:
    """A Markdown table of the figures (medians, with min and sample count), preceded by the machine."""
    lines = [
        f"Machine: {machine.cores} cores, {machine.memory_gib} GiB, Python {machine.python}, {machine.platform}",
        "",
        "| figure | Taxiway | baseline | ratio | goal | met? |",
        "|---|---|---|---|---|---|",
    ]
    for figure in figures:
        baseline = (
            f"{_with_min(figure, 'baseline', figure.baseline)} ({figure.baseline_name})"
            if figure.baseline_name
            else "-"
        )
        ratio = f"{figure.ratio:.2f}x" if figure.ratio is not None else "-"
        met = "yes" if figure.met else "**no**"
        taxiway = _with_min(figure, "taxiway", figure.taxiway)
        lines.append(f"| {figure.name} | {taxiway} | {baseline} | {ratio} | {figure.goal} | {met} |")
    notes = [f"- {figure.name}: {figure.note}" for figure in figures if figure.note]
    return "\n".join([*lines, "", *notes])


def write_results(figures: list[Figure], machine: Machine, options: dict[str, Any], directory: Path = RESULTS) -> Path:
    """Write ``<directory>/<UTC timestamp>.json``; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{stamp}.json"
    payload = {"machine": asdict(machine), "options": options, "figures": [figure.to_json() for figure in figures]}
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def read_results(path: Path) -> tuple[list[Figure], Machine]:
    """The figures and machine of a result file written by :func:`write_results`."""
    payload = json.loads(path.read_text())
    return [Figure(**figure) for figure in payload["figures"]], Machine(**payload["machine"])
