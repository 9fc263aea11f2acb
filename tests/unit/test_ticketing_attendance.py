"""The attendance area's pure parts: the arrival curve's axis and sums over random inputs, the
picture's escaping and accessible names, and its catalogues (every text in zh and ru, placeholders
kept, short words in their own context)."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from tests.unit.catalogues import (
    LOCALES,
    NO_FAULTS,
    ROOT,
    catalogue_placeholders_changed,
    faults,
)
from ticketing.attendance import charts, exports, pages

ZONE = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2027, 9, 1)


def test_the_axis_step_is_the_smallest_round_step_with_at_most_eight_lines():
    rng = random.Random(1)
    for top in [1, 8, 9, 16, 17, 40, 41, 80, 81, *(rng.randrange(1, 10**7) for _ in range(500))]:
        step = charts.nice_step(top)
        digits = str(step).rstrip("0")
        assert digits in ("1", "2", "5"), step
        assert top <= 8 * step, (top, step)
        smaller = {1: 0.5, 2: 0.5, 5: 0.4}[int(digits)] * step
        assert smaller < 1 or top > 8 * smaller, (top, step)


def random_quarters(rng: random.Random) -> Counter[dt.datetime]:
    counts: Counter[dt.datetime] = Counter()
    for _ in range(rng.randrange(1, 60)):
        moment = dt.datetime.combine(DAY, dt.time(rng.randrange(6, 22), 15 * rng.randrange(4)), ZONE)
        counts[moment] += rng.randrange(1, 30)
    return counts


def test_the_curve_adds_up_every_entry_of_its_span():
    rng = random.Random(2)
    for _ in range(200):
        counts = random_quarters(rng)
        start, end = charts.curve_span({1: counts}, DAY)
        assert start.minute == end.minute == 0
        assert end - start >= dt.timedelta(hours=2) or end.hour == 0
        values = charts.cumulative(counts, start, end)
        assert len(values) == (end - start) // dt.timedelta(minutes=15)
        assert values == sorted(values)  # never falls
        assert values[-1] == sum(counts.values())  # the span holds every entry of the day


def test_the_span_reaches_the_time_now_and_skips_empty_days():
    counts = Counter({dt.datetime.combine(DAY, dt.time(9), ZONE): 3})
    assert charts.curve_span({1: counts}, DAY + dt.timedelta(days=1)) is None
    now = dt.datetime.combine(DAY, dt.time(13, 20), ZONE).astimezone(dt.UTC)
    start, end = charts.curve_span({1: counts}, DAY, now)
    assert (start.hour, end.hour) == (9, 14)


def test_the_picture_escapes_names_and_tells_lines_apart_without_colour():
    start = dt.datetime.combine(DAY, dt.time(9), ZONE)
    lines = [(f"<b>List {i}</b>", [i, i + 1, i + 2, i + 3]) for i in range(charts.MAX_LINES)]
    svg = str(charts.arrival_curve("k", "Title & <x>", "Desc", lines, start))
    assert "<b>" not in svg
    assert "&lt;b&gt;List 0&lt;/b&gt;" in svg
    assert '<title id="k-title">Title &amp; &lt;x&gt;</title>' in svg
    assert 'role="img"' in svg
    assert 'aria-labelledby="k-title k-desc"' in svg
    dashes = re.findall(r'<polyline [^>]*?(?:stroke-dasharray="([^"]+)")?/>', svg)
    assert len(dashes) == charts.MAX_LINES
    assert len(set(dashes)) == charts.MAX_LINES  # every line its own dash pattern


def _area_ids() -> tuple[set[str], set[str]]:
    """The area's texts: (without context, in the context "attendance")."""
    template = ROOT / "backend/templates/ticketing/attendance/attendance.html.jinja"
    short = {m[1] for m in re.findall(r"""a_\((["'])(.*?)\1\)""", template.read_text())}
    plain = {m[1] for m in re.findall(r"""(?<![\w])_\((["'])(.*?)\1\)""", template.read_text())}
    source = (ROOT / "ticketing/attendance/pages.py").read_text()
    plain |= {m[1] for m in re.findall(r"""t\.gettext\(\s*(["'])(.*?)\1\s*\)""", source, re.S)}
    plain |= set(pages.EXPORTS.values()) | {exports.ONLY_XLSX}
    context = {
        *pages.KINDS.values(),
        *pages.REASONS.values(),
        *exports.HEADERS,
        *exports.SHEET_TITLES.values(),
    }
    context |= short | {"Hour"}
    return plain, context


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_of_the_area_is_translated(locale):
    from backend.i18n import translations

    plain, context = _area_ids()
    assert faults(locale, plain) == NO_FAULTS
    t = translations(locale)
    missing = sorted(w for w in context if t.pgettext(pages.CONTEXT, w) == w)
    assert missing == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_keeps_every_placeholder(locale):
    assert catalogue_placeholders_changed(locale, "ticketing_attendance") == []
