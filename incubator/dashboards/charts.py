"""KPI time series as server-drawn SVG pictures (pure: numbers in, markup out).

One picture per figure or group of figures, periods along the bottom. Each is ``role="img"`` with a
``<title>`` and a ``<desc>`` (a sentence saying the first, last and highest values); the page shows
the same figures as a table. Lines differ by dash pattern as well as colour and are named in a
legend, points are marked, a period without a value breaks the line rather than drawing a zero.
Styles and the axis' steps are the attendance curve's (``ticketing.attendance.charts``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from ticketing.attendance.charts import AXIS, GRID, INK, STYLES, nice_step

WIDTH = 640
HEIGHT = 260
LEFT = 70
RIGHT = 16
TOP = 34  # room for the legend
BOTTOM = 34
MAX_LABELS = 8

Number = int | float | Decimal | None


def _text(x: float, y: float, text: str, anchor: str = "end", fill: str = AXIS) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" text-anchor="{anchor}" fill="{fill}">'
        f"{escape(text)}</text>"
    )


def number(value: Number) -> str:
    """A value as the axis and the table write it: thousands apart by a thin space, two decimals
    for amounts that have them."""
    if value is None:
        return "–"
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value:,.2f}".replace(",", "\u2009")
    return f"{int(value):,}".replace(",", "\u2009")


def _segments(values: Sequence[Number]) -> list[list[tuple[int, float]]]:
    """The runs of consecutive periods that have a value."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, float(value)))
    return [run for run in runs if run]


def line_chart(
    key: str, title: str, desc: str, labels: Sequence[str], lines: Sequence[tuple[str, Sequence[Number]]]
) -> Markup:
    """``lines`` (name, one value or ``None`` per label), at most ``len(STYLES)``, over ``labels``."""
    lines = lines[: len(STYLES)]
    values = [float(v) for _, vs in lines for v in vs if v is not None]
    top, bottom = max(values, default=0.0), min(values, default=0.0)
    step = nice_step(max(1, math.ceil(max(top, -bottom))))
    ceiling = max(step, math.ceil(top / step) * step) if top > 0 else 0
    floor = min(0, math.floor(bottom / step) * step)
    span = (ceiling - floor) or step
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    count = max(len(labels), 1)

    def x(i: float) -> float:
        return LEFT + (i + 0.5) / count * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - (v - floor) / span * plot_h

    body = []
    for v in range(int(floor), int(ceiling) + 1, step):
        body.append(
            f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{LEFT + plot_w}" y2="{y(v):.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(LEFT - 6, y(v) + 4, number(v)))
    every = max(1, math.ceil(len(labels) / MAX_LABELS))
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(_text(x(i), HEIGHT - BOTTOM + 18, label, "middle"))
    body.append(f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{LEFT + plot_w}" y2="{y(0):.1f}" stroke="{AXIS}"/>')
    legend_x = float(LEFT)
    for index, (name, series) in enumerate(lines):
        colour, dash = STYLES[index]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line x1="{legend_x:.1f}" y1="12" x2="{legend_x + 24:.1f}" y2="12" stroke="{colour}" '
            f'stroke-width="2.5"{dashed}/>'
        )
        body.append(_text(legend_x + 30, 16, name, "start", INK))
        legend_x += 40 + sum(11 if ord(c) > 0x2E80 else 6.5 for c in name)  # CJK glyphs are wider
        for run in _segments(series):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            body.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"{dashed}/>'
            )
            body.extend(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>' for i, v in run)
    head = (
        f'<svg class="kpi-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{key}-title {key}-desc" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMinYMin meet">'
        f'<title id="{key}-title">{escape(title)}</title><desc id="{key}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text above is escaped
