"""Timings, figures and the machine they were measured on."""

from __future__ import annotations

import logging
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timing:
    """Repeated measurements of one thing, in seconds (or any unit named by ``unit``)."""

    samples: tuple[float, ...]
    unit: str = "s"

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def percentile(self, q: float) -> float:
        """The ``q`` quantile (0..1), nearest-rank on the sorted samples."""
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]

    def extended(self, other: Timing) -> Timing:
        """These samples followed by ``other``'s."""
        return Timing(self.samples + other.samples, self.unit)

    def summary(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "n": len(self.samples),
            "min": round(self.min, 4),
            "median": round(self.median, 4),
            "max": round(max(self.samples), 4),
            "samples": [round(s, 4) for s in self.samples],
        }


def repeat(action: Callable[[int], None], times: int, setup: Callable[[int], None] | None = None) -> Timing:
    """Time ``action(i)`` for ``i`` in ``range(times)``; ``setup(i)`` runs before each and is not timed."""
    samples = []
    for index in range(times):
        if setup is not None:
            setup(index)
        started = time.perf_counter()
        action(index)
        samples.append(time.perf_counter() - started)
        logger.info("sample %s #%d %.3fs", getattr(action, "__name__", "action"), index, samples[-1])
    return Timing(tuple(samples))


def interleave(
    actions: Mapping[str, Callable[[int], None]],
    times: int,
    setup: Callable[[int], None] | None = None,
    first: int = 0,
) -> dict[str, Timing]:
    """Time every action once per round, ``times`` rounds, so that no side profits from a warmer cache.

    ``setup(round)`` runs (untimed) before each action of a round; rounds are numbered from ``first``.
    """
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for index in range(first, first + times):
        for name, action in actions.items():
            if setup is not None:
                setup(index)
            started = time.perf_counter()
            action(index)
            samples[name].append(time.perf_counter() - started)
            logger.info("sample %s #%d %.3fs", name, index, samples[name][-1])
    return {name: Timing(tuple(values)) for name, values in samples.items()}


@dataclass(frozen=True)
class Figure:
    """One line of the table: Taxiway's figure against a baseline, and the goal it must meet.

    :param name: what is measured, e.g. ``P1 fast path vs rebuild``.
    :param taxiway: Taxiway's value (a median, a count, a rate).
    :param baseline: the baseline's value, or None when the figure has no baseline.
    :param unit: unit of both values.
    :param goal: the goal in words, e.g. ``ratio <= 0.1``.
    :param met: whether the goal is met.
    :param ratio: ``taxiway / baseline`` (None without a baseline).
    :param baseline_name: what the baseline is.
    :param note: anything the reader must know (stand-ins, caveats).
    :param details: the raw timings behind the figure.
    """

    name: str
    taxiway: float
    baseline: float | None
    unit: str
    goal: str
    met: bool
    ratio: float | None = None
    baseline_name: str = ""
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ratio_figure(
    name: str, taxiway: Timing, baseline: Timing, baseline_name: str, limit: float, note: str = ""
) -> Figure:
    """A figure comparing medians, met when ``taxiway / baseline <= limit``."""
    ratio = taxiway.median / baseline.median
    return Figure(
        name=name,
        taxiway=taxiway.median,
        baseline=baseline.median,
        unit=taxiway.unit,
        goal=f"ratio <= {limit:g}",
        met=ratio <= limit,
        ratio=ratio,
        baseline_name=baseline_name,
        note=note,
        details={"taxiway": taxiway.summary(), "baseline": baseline.summary()},
    )


@dataclass(frozen=True)
class Machine:
    """Where the benchmarks ran."""

    cores: int
    memory_gib: float
    python: str
    platform: str

    @classmethod
    def current(cls) -> Machine:
        return cls(
            os.cpu_count() or 0, round(_memory_bytes() / 2**30, 1), platform.python_version(), platform.platform()
        )


def _memory_bytes() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def percentiles(samples: Sequence[float], *qs: float) -> list[float]:
    """Quantiles of ``samples`` (see :meth:`Timing.percentile`)."""
    timing = Timing(tuple(samples))
    return [timing.percentile(q) for q in qs]
