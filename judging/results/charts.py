"""The results page's diagnostics as server-drawn SVG pictures. Each picture is ``role="img"`` with a
``<title>`` and a ``<desc>``; the page adds a text summary and the same figures as a data table for
screen readers (the ``rows`` of each :class:`Chart`). Colours keep a 3:1 contrast on white and no
picture says anything by colour alone (intervals are drawn, flagged entries also get a mark).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from judging.engine.diagnostics import Z95

WIDTH = 640
ROW = 22
LEFT = 150  # room for the labels
RIGHT = 20
INK = "#1f2933"
AXIS = "#52606d"
MARK = "#0b5cad"
ALERT = "#b42318"
CELL = ("#f0f4f8", "#bcccdc", "#829ab1", "#486581", "#243b53")


@dataclass
class Chart:
    """One picture with its accessible parts: ``title``, ``svg`` (markup), ``summary`` (a sentence)
    and the data table (``headers`` and ``rows``)."""

    key: str
    title: str
    svg: Markup
    summary: str
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def _svg(key: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg class="results-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{key}-title {key}-desc" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{key}-title">{escape(title)}</title><desc id="{key}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text above and in body is escaped


def _scale(lo: float, hi: float) -> Any:
    span = (hi - lo) or 1.0

    def x(v: float) -> float:
        return LEFT + (v - lo) / span * (WIDTH - LEFT - RIGHT)

    return x


def _text(x: float, y: float, text: str, anchor: str = "end", size: int = 12, fill: str = INK) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'


def interval_chart(
    key: str,
    title: str,
    desc: str,
    items: list[tuple[str, float, float | None, bool]],
    reference: float,
    reference_label: str,
) -> str | Markup:
    """One row per item: a dot at the estimate and a bar of ``± 1.96 se`` (95 %), a line at
    ``reference``; ``True`` items (significant) are drawn in the alert colour with a ``*``."""
    if not items:
        return ""
    lows = [v - Z95 * (se or 0) for _, v, se, _ in items] + [reference]
    highs = [v + Z95 * (se or 0) for _, v, se, _ in items] + [reference]
    lo, hi = min(lows), max(highs)
    pad = (hi - lo) * 0.05 or 0.5
    x = _scale(lo - pad, hi + pad)
    height = 30 + ROW * len(items) + 24
    body = [
        f'<line x1="{x(reference):.1f}" y1="20" x2="{x(reference):.1f}" y2="{height - 24}" stroke="{AXIS}" stroke-dasharray="4 3"/>',
        _text(x(reference), 14, reference_label, "middle", 11, AXIS),
    ]
    for i, (label, value, se, flagged) in enumerate(items):
        y = 30 + ROW * i + ROW / 2
        colour = ALERT if flagged else MARK
        body.append(_text(LEFT - 8, y + 4, label + (" *" if flagged else "")))
        if se:
            body.append(
                f'<line x1="{x(value - Z95 * se):.1f}" y1="{y:.1f}" x2="{x(value + Z95 * se):.1f}" y2="{y:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
        body.append(f'<circle cx="{x(value):.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
    body += [
        _text(LEFT, height - 6, f"{lo - pad:.2f}", "start", 11, AXIS),
        _text(WIDTH - RIGHT, height - 6, f"{hi + pad:.2f}", "end", 11, AXIS),
    ]
    return _svg(key, title, desc, height, body)


def bar_chart(key: str, title: str, desc: str, bars: list[tuple[str, float]]) -> str | Markup:
    """Horizontal bars, longest scale at the widest bar, each with its value written."""
    if not bars:
        return ""
    top = max(v for _, v in bars) or 1.0
    x = _scale(0.0, top * 1.15)
    height = 20 + ROW * len(bars) + 10
    body = []
    for i, (label, value) in enumerate(bars):
        y = 20 + ROW * i
        body.append(_text(LEFT - 8, y + 15, label))
        body.append(
            f'<rect x="{LEFT}" y="{y + 3:.1f}" width="{max(1.0, x(value) - LEFT):.1f}" height="{ROW - 6}" fill="{MARK}"/>'
        )
        body.append(_text(x(value) + 6, y + 15, f"{value:g}", "start"))
    return _svg(key, title, desc, height, body)


def heat_map(key: str, title: str, desc: str, labels: list[str], matrix: list[list[int]]) -> str | Markup:
    """A square matrix of counts, darker for more (five steps), the count written in each cell."""
    n = len(labels)
    if not n:
        return ""
    size = max(12, min(28, (WIDTH - LEFT - RIGHT) // n))
    top = max((max(row) for row in matrix), default=0) or 1
    height = LEFT + size * n + 10
    body = []
    for j, label in enumerate(labels):
        cx = LEFT + size * j + size / 2
        body.append(
            f'<text x="{cx:.1f}" y="{LEFT - 8}" font-size="11" fill="{INK}" text-anchor="start" '
            f'transform="rotate(-60 {cx:.1f} {LEFT - 8})">{escape(label)}</text>'
        )
    for i, row in enumerate(matrix):
        y = LEFT + size * i
        body.append(_text(LEFT - 8, y + size / 2 + 4, labels[i], size=11))
        for j, count in enumerate(row):
            shade = 0 if i == j else min(4, 1 + (count * 4) // top) if count else 0
            fill = CELL[shade]
            body.append(
                f'<rect x="{LEFT + size * j}" y="{y}" width="{size - 1}" height="{size - 1}" fill="{fill}"/>'
            )
            if size >= 18 and i != j:
                colour = "#ffffff" if shade >= 3 else INK
                body.append(
                    _text(LEFT + size * j + size / 2, y + size / 2 + 4, str(count), "middle", 10, colour)
                )
    return _svg(key, title, desc, height, body)


def spread_chart(
    key: str, title: str, desc: str, rows: list[tuple[str, list[float], bool]], lo: float, hi: float
) -> str | Markup:
    """Per entry, its judges' totals as dots on a line from the lowest to the highest; entries the
    engine flags as disagreeing are drawn in the alert colour with a ``*``."""
    if not rows:
        return ""
    x = _scale(lo, hi)
    height = 20 + ROW * len(rows) + 24
    body = []
    for i, (label, totals, flagged) in enumerate(rows):
        y = 20 + ROW * i + ROW / 2
        colour = ALERT if flagged else MARK
        body.append(_text(LEFT - 8, y + 4, label + (" *" if flagged else "")))
        body.append(
            f'<line x1="{x(min(totals)):.1f}" y1="{y:.1f}" x2="{x(max(totals)):.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2"/>'
        )
        body += [f'<circle cx="{x(t):.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for t in totals]
    body += [
        _text(LEFT, height - 6, f"{lo:g}", "start", 11, AXIS),
        _text(WIDTH - RIGHT, height - 6, f"{hi:g}", "end", 11, AXIS),
    ]
    return _svg(key, title, desc, height, body)
