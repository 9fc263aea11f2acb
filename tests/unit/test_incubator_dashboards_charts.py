"""The KPI pictures: well-formed SVG with an accessible name, a line per series broken where a period
has no value (never drawn as zero), every text escaped, negative values below the axis."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from incubator.dashboards.charts import line_chart, number

NS = {"svg": "http://www.w3.org/2000/svg"}


def parsed(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - the markup is ours


def test_a_picture_names_itself_and_draws_each_run_of_values():
    svg = parsed(
        line_chart(
            "kpi-revenue",
            "Revenue <CNY>",
            "Revenue: 10 in 2026-01",
            ["2026-01", "2026-02", "2026-03", "2026-04"],
            [("Revenue", [Decimal("10.50"), None, Decimal("30"), 40]), ("GMV", [1, 2, 3, 4])],
        )
    )
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "kpi-revenue-title kpi-revenue-desc"
    assert svg.find("svg:title", NS).text == "Revenue <CNY>"
    lines = svg.findall("svg:polyline", NS)
    assert len(lines) == 3  # revenue: two runs around the missing period; GMV: one
    assert len(svg.findall("svg:circle", NS)) == 3 + 4
    assert {line.get("stroke-dasharray") for line in lines} == {None, "6 3"}


def test_no_values_and_negative_values_draw_without_error():
    empty = parsed(line_chart("k", "T", "D", ["a", "b"], [("x", [None, None])]))
    assert not empty.findall("svg:polyline", NS)
    below = parsed(line_chart("k", "T", "D", ["a", "b"], [("x", [-5, 12])]))
    ys = [float(p.split(",")[1]) for p in below.find("svg:polyline", NS).get("points").split()]
    assert ys[0] > ys[1]


def test_numbers_are_written_with_thin_spaces_and_cents_when_they_have_them():
    assert number(None) == "–"
    assert number(1234567) == "1\u2009234\u2009567"
    assert number(Decimal("12000.50")) == "12\u2009000.50"
    assert number(Decimal("12000.00")) == "12\u2009000"
