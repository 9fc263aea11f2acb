"""The arrival curve as a server-drawn SVG picture (pure: numbers in, markup out).

For one local day, one line per check-in list: the entries admitted there so far, in quarter-hour
steps. The picture is ``role="img"`` with a ``<title>`` and a ``<desc>``; the page adds a sentence and
the same figures as a table. Lines differ by dash pattern and carry their list's name at their end,
so nothing is said by colour alone; every colour keeps a 3:1 contrast on white.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 300
LEFT = 48
RIGHT = 130  # room for the lines' names
TOP = 16
BOTTOM = 34
INK = "#1f2933"
AXIS = "#52606d"
GRID = "#d9e2ec"
# (colour, dash pattern): each line is told apart by its dash pattern as well as its colour
STYLES = (
    ("#0b5cad", ""),
    ("#b42318", "6 3"),
    ("#1d7a3a", "2 3"),
    ("#7a4cc2", "10 3 2 3"),
    ("#8f5a00", "4 4"),
    ("#3e4c59", "1 2"),
)
MAX_LINES = len(STYLES)


def _text(x: float, y: float, text: str, anchor: str = "end", size: int = 11, fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(text)}</text>'
    )


def nice_step(top: int) -> int:
    """A step for the vertical axis: 1, 2 or 5 times a power of ten, at most eight gridlines."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if top <= 8 * factor * magnitude:
                return factor * magnitude
        magnitude *= 10


def curve_span(
    quarters: Mapping[int, Counter[dt.datetime]], day: dt.date, until: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime] | None:
    """The hours the picture shows: from the hour of the day's first entry to the hour after its
    last (or after ``until``, the time now, when that is later the same day), at least two hours,
    never past midnight; ``None`` for a day without entries."""
    moments = [q for counts in quarters.values() for q, n in counts.items() if q.date() == day and n]
    if not moments:
        return None
    first = min(moments).replace(minute=0, second=0, microsecond=0)
    last = max(moments) + dt.timedelta(minutes=15)
    if until is not None and until.tzinfo is not None:
        now = until.astimezone(first.tzinfo)
        if now.date() == day and now > last:
            last = now
    end = last.replace(minute=0, second=0, microsecond=0)
    if end < last:
        end += dt.timedelta(hours=1)
    end = max(end, first + dt.timedelta(hours=2))
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), first.tzinfo)
    return first, min(end, midnight)


def cumulative(counts: Counter[dt.datetime], start: dt.datetime, end: dt.datetime) -> list[int]:
    """Entries so far at the end of each quarter hour from ``start`` to ``end``."""
    before = sum(n for q, n in counts.items() if q.date() == start.date() and q < start)
    steps = int((end - start).total_seconds() // 900)
    out, total = [], before
    for i in range(steps):
        total += counts.get(start + dt.timedelta(minutes=15 * i), 0)
        out.append(total)
    return out


def arrival_curve(
    key: str,
    title: str,
    desc: str,
    lines: Sequence[tuple[str, list[int]]],
    start: dt.datetime,
) -> Markup:
    """The picture: ``lines`` (name, cumulative entries per quarter hour from ``start``), at most
    :data:`MAX_LINES`, the first drawn on top."""
    steps = max((len(values) for _, values in lines), default=0)
    top = max((max(values) for _, values in lines if values), default=0)
    step = nice_step(max(top, 1))
    ceiling = max(step, -(-max(top, 1) // step) * step)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x(i: float) -> float:
        return LEFT + i / max(steps, 1) * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - v / ceiling * plot_h

    body = []
    for v in range(0, ceiling + 1, step):
        body.append(
            f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{LEFT + plot_w}" y2="{y(v):.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(LEFT - 6, y(v) + 4, f"{v:,}".replace(",", " "), fill=AXIS))
    hours = steps // 4
    every = 1 if hours <= 8 else 2 if hours <= 16 else 3
    for h in range(0, hours + 1, every):
        label = (start + dt.timedelta(hours=h)).strftime("%H:%M")
        body.append(
            f'<line x1="{x(4 * h):.1f}" y1="{TOP + plot_h}" x2="{x(4 * h):.1f}" y2="{TOP + plot_h + 4}" stroke="{AXIS}"/>'
        )
        body.append(_text(x(4 * h), HEIGHT - BOTTOM + 18, label, "middle", fill=AXIS))
    body.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="{AXIS}"/>'
    )
    ends: list[float] = []
    for index in reversed(range(len(lines[:MAX_LINES]))):
        name, values = lines[index]
        colour, dash = STYLES[index]
        points = [f"{x(0):.1f},{y(0):.1f}"] + [f"{x(i + 1):.1f},{y(v):.1f}" for i, v in enumerate(values)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2.5"{dashed}/>'
        )
        end_y = y(values[-1] if values else 0)
        while any(abs(end_y - other) < 13 for other in ends):  # keep the names apart
            end_y += 13
        ends.append(end_y)
        label = name if len(name) <= 16 else name[:15] + "…"
        body.append(
            _text(
                LEFT + plot_w + 6, end_y + 4, f"{label} {values[-1] if values else 0}", "start", fill=colour
            )
        )
    head = (
        f'<svg class="attendance-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{key}-title {key}-desc" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMinYMin meet">'
        f'<title id="{key}-title">{escape(title)}</title><desc id="{key}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text above is escaped
