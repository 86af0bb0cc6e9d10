"""The charts drawn on the server: well-formed SVG that scales (a viewBox, no width, no
style), each value and label in the drawing's tooltips and in the table beside it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from backoffice import charts
from backoffice.charts import Point


def fmt(value: float) -> str:
    return f"{value:.0f} u"


def _svg(chart: charts.Chart) -> ET.Element:
    root = ET.fromstring(str(chart.svg))
    assert root.tag == "svg" and root.get("viewBox", "").startswith("0 0 ")
    assert root.get("width") is None and root.get("style") is None
    assert root.get("aria-hidden") == "true"  # the table is what a screen reader reads
    assert "style=" not in str(chart.svg) and "<script" not in str(chart.svg)
    return root


def _titles(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter("title")]


def test_a_bar_chart_has_a_bar_per_point_with_its_value_and_the_table_says_the_same() -> None:
    chart = charts.bar([Point("Lun", 12), Point("Mar", 30), Point("Mer", 0)], fmt, "Ventes",
                       "Jour", "Montant")
    root = _svg(chart)
    bars = [r for r in root.iter("rect") if "chart-bar" in (r.get("class") or "")]
    assert len(bars) == 3
    heights = [float(b.get("height") or 0) for b in bars]
    assert heights[1] > heights[0] > heights[2] == 0
    assert _titles(root) == ["Lun: 12 u", "Mar: 30 u", "Mer: 0 u"]
    assert chart.headers == ("Jour", "Montant")
    assert chart.rows == (("Lun", "12 u"), ("Mar", "30 u"), ("Mer", "0 u"))
    assert [t.text for t in root.iter("text") if t.get("class") == "chart-value"] == [
        "12 u", "30 u", "0 u"]


def test_a_negative_bar_hangs_below_the_axis() -> None:
    root = _svg(charts.bar([Point("A", 10), Point("B", -5)], fmt, "c", "x", "y"))
    negative = [r for r in root.iter("rect") if "negative" in (r.get("class") or "")]
    axis = next(root.iter("line"))
    assert len(negative) == 1 and float(negative[0].get("y") or 0) == float(
        axis.get("y1") or 0)


def test_labels_are_escaped_and_thinned_when_many() -> None:
    chart = charts.bar([Point(f"<b>{n}</b>", n) for n in range(60)], fmt, "c", "x", "y")
    root = _svg(chart)
    labels = [t.text for t in root.iter("text") if t.get("class") == "chart-label"]
    assert 0 < len(labels) < 60 and labels[0] == "<b>0</b>"  # escaped, read back as text
    assert len(chart.rows) == 60  # the table keeps every point


def test_a_line_with_its_comparison_is_dashed_behind_and_a_third_column() -> None:
    chart = charts.line([Point("1", 5), Point("2", 10)], fmt, "Cafés", "Jour", "Cette semaine",
                        compare=[Point("1", 8), Point("2", 2)], compare_header="Avant")
    root = _svg(chart)
    lines = [p.get("class") for p in root.iter("polyline")]
    assert lines == ["chart-line compare", "chart-line current"]
    assert chart.headers == ("Jour", "Cette semaine", "Avant")
    assert chart.rows == (("1", "5 u", "8 u"), ("2", "10 u", "2 u"))
    assert "10 u" in [t.text for t in root.iter("text")]  # the top of the scale
    alone = charts.line([Point("1", 5)], fmt, "c", "x", "y")
    assert alone.headers == ("x", "y") and [p.get("class") for p in _svg(alone).iter(
        "polyline")] == ["chart-line current"]


def test_the_heat_map_shades_each_hour_by_its_share_of_the_busiest() -> None:
    cells = {(2, 9): 10.0, (2, 10): 5.0, (6, 20): 1.0}
    days = ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"]
    chart = charts.heat_map(cells, days, fmt, "Tickets", "Jour")
    root = _svg(chart)
    rects = list(root.iter("rect"))
    assert len(rects) == 7 * 24
    shade = {t.text: r.get("class") for r in rects for t in r.iter("title")}
    assert shade["mar 9:00: 10 u"] == "heat heat-5"
    assert shade["mar 10:00: 5 u"] == "heat heat-3"
    assert shade["sam 20:00: 1 u"] == "heat heat-1"
    assert shade["lun 0:00: 0 u"] == "heat heat-0"
    assert chart.headers[0] == "Jour" and len(chart.headers) == 25
    assert chart.rows[1][0] == "mar" and chart.rows[1][1 + 9] == "10 u"


def test_nothing_to_draw_draws_an_empty_chart_not_an_error() -> None:
    assert charts.bar([], fmt, "c", "x", "y").rows == ()
    assert charts.line([], fmt, "c", "x", "y").rows == ()
    assert charts.heat_map({}, ["d"] * 7, fmt, "c", "x").rows[0][1] == "0 u"
    assert charts.level(0, 0) == 0 and charts.level(1, 1) == charts.LEVELS
