"""A small inline SVG bar plot of validation metrics against their thresholds (no plotting library).

Each metric gets one row on its own scale (metrics differ in units: accuracy, loss, world size): a
bar for the value, coloured by whether the check passed, and a dark tick for the threshold.
"""

from __future__ import annotations

from html import escape

from tasks.core.notify_records import MetricCheck

ROW_HEIGHT = 28
LABEL_WIDTH = 190
BAR_WIDTH = 320
VALUE_WIDTH = 150
PASS_COLOUR = "#2e7d32"
FAIL_COLOUR = "#c62828"

_OPERATORS = {">=": "≥", "<=": "≤", "!=": "≠"}


def _scale(metric: MetricCheck) -> tuple[float, float]:
    """The row's axis (low, high): includes zero, the value and the threshold, with 10% headroom."""
    low = min(0.0, metric.value, metric.threshold)
    high = max(0.0, metric.value, metric.threshold)
    span = (high - low) or 1.0
    return low - (0.1 * span if low < 0 else 0.0), high + 0.1 * span


def _x(value: float, low: float, high: float) -> float:
    return LABEL_WIDTH + (value - low) / (high - low) * BAR_WIDTH


def metrics_svg(metrics: tuple[MetricCheck, ...] | list[MetricCheck]) -> str:
    """An ``<svg>`` element plotting each metric's value (bar) against its threshold (tick)."""
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = ROW_HEIGHT * max(len(metrics), 1) + 8
    parts = [
        f'<svg class="metrics-plot" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="validation metrics against thresholds">'
    ]
    for row, metric in enumerate(metrics):
        low, high = _scale(metric)
        top = 4 + row * ROW_HEIGHT
        zero, value, threshold = (_x(v, low, high) for v in (0.0, metric.value, metric.threshold))
        colour = PASS_COLOUR if metric.passed else FAIL_COLOUR
        operator = escape(_OPERATORS.get(metric.operator, metric.operator))
        name = escape(metric.name)
        parts += [
            f'<g class="metric" data-metric="{name}" data-passed="{str(metric.passed).lower()}">',
            f'<text x="{LABEL_WIDTH - 8}" y="{top + 17}" text-anchor="end" font-size="12">{name}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{top + 4}" width="{BAR_WIDTH}" height="18" fill="#eeeeee"/>',
            f'<rect class="value" x="{min(zero, value):.1f}" y="{top + 4}" width="{abs(value - zero):.1f}" '
            f'height="18" fill="{colour}"><title>{name} = {metric.value:.4g}</title></rect>',
            f'<line class="threshold" x1="{threshold:.1f}" x2="{threshold:.1f}" y1="{top}" y2="{top + 26}" '
            f'stroke="#212121" stroke-width="2"><title>threshold {operator} {metric.threshold:.4g}</title></line>',
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 8}" y="{top + 17}" font-size="12" fill="{colour}">'
            f"{metric.value:.4g} {operator} {metric.threshold:.4g}</text>",
            "</g>",
        ]
    parts.append("</svg>")
    return "".join(parts)
