"""Charts drawn on the server as SVG (bars, lines with an optional comparison, a heat map of
weekdays by hours), each with its figures as a table for screen readers. Pure functions.

The SVG scales to its container (a viewBox, no fixed width: static/stats.css sets the width)
and carries no style of its own: the strict Content-Security-Policy refuses inline styles,
so colours come from classes. Screen readers skip the drawing (`aria-hidden`) and read the
table beside it; the figures arrive already formatted (money, counts: by the caller's locale).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

Format = Callable[[float], str]

# The viewBox's units: drawn from about 300 px wide (a widget on a phone) to 960 px, so
# that its text (static/stats.css: 18 units) reads at 11 to 14 px.
WIDTH = 480
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 8, 8, 26, 36  # room for the value on top, the labels below
HEAT_LABEL = 48  # the weekdays' column
CHAR = 11  # about how wide a character of a label is, in units


@dataclass(frozen=True)
class Point:
    """One bar, one point of a line: its label (a bucket, a site…) and its value."""

    label: str
    value: float


@dataclass(frozen=True)
class Chart:
    """A drawing and the same figures as a table: `headers` and `rows` of text."""

    svg: Markup
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _svg(body: str, width: int, height: int, kind: str) -> Markup:
    return Markup(
        f'<svg class="chart chart-{kind}" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMidYMid meet" aria-hidden="true" focusable="false">'
        f"{body}</svg>")


def _top(values: Sequence[float]) -> float:
    """The value the plot's top stands for: the largest, or 1 when all are nothing."""
    return max((abs(v) for v in values), default=0) or 1


def _thin(labels: Sequence[str], room: int) -> set[int]:
    """Which labels fit under the axis: every n-th, so that they never overlap."""
    if not labels:
        return set()
    step = max(1, -(-len(labels) * CHAR * (max(len(t) for t in labels) + 3) // room))
    return set(range(0, len(labels), step))


def _x_labels(labels: Sequence[str], xs: Sequence[float], bottom: float, width: int) -> str:
    shown = _thin(labels, width - LEFT - RIGHT)

    def anchor(label: str, x: float) -> str:
        """A label at an edge is kept inside the drawing."""
        half = len(label) * CHAR / 2
        return "start" if x - half < 0 else "end" if x + half > width else "middle"

    return "".join(
        f'<text class="chart-label" x="{x:.1f}" y="{bottom + 22:.1f}" '
        f'text-anchor="{anchor(label, x)}">{escape(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, xs, strict=True)) if i in shown)


def bar(points: Sequence[Point], fmt: Format, caption: str, label_header: str,
        value_header: str, width: int = WIDTH) -> Chart:
    """Bars of `points`, each with its value in its <title> (a tooltip) and in the table.
    A negative value (refunds outweighing sales) hangs below the axis."""
    values = [p.value for p in points]
    top = _top(values)
    low = min([0.0, *values])
    span = top - low if low < 0 else top
    plot = HEIGHT - TOP - BOTTOM
    zero = TOP + plot * (top / span if low < 0 else 1)
    slot = (width - LEFT - RIGHT) / max(len(points), 1)
    thick = max(slot * 0.7, 1)
    parts = [f'<line class="chart-axis" x1="{LEFT}" x2="{width - RIGHT}" '
             f'y1="{zero:.1f}" y2="{zero:.1f}"/>']
    xs: list[float] = []
    for i, point in enumerate(points):
        x = LEFT + slot * i + (slot - thick) / 2
        xs.append(x + thick / 2)
        h = plot * abs(point.value) / span
        y = zero - h if point.value >= 0 else zero
        shown = escape(fmt(point.value))
        parts.append(
            f'<rect class="chart-bar{" negative" if point.value < 0 else ""}" '
            f'x="{x:.1f}" y="{y:.1f}" width="{thick:.1f}" height="{h:.1f}">'
            f"<title>{escape(point.label)}: {shown}</title></rect>")
        if len(points) <= 8:
            parts.append(f'<text class="chart-value" x="{x + thick / 2:.1f}" '
                         f'y="{min(y, zero) - 5:.1f}" text-anchor="middle">{shown}</text>')
    parts.append(_x_labels([p.label for p in points], xs, HEIGHT - BOTTOM, width))
    rows = tuple((p.label, fmt(p.value)) for p in points)
    return Chart(_svg("".join(parts), width, HEIGHT, "bar"), caption, (label_header, value_header),
                 rows)


def line(points: Sequence[Point], fmt: Format, caption: str, label_header: str,
         value_header: str, compare: Sequence[Point] | None = None,
         compare_header: str = "", width: int = WIDTH) -> Chart:
    """A line of `points`; with `compare` (the previous period, bucket for bucket), a second,
    dashed line behind it, and a third column in the table."""
    values = [p.value for p in points] + [p.value for p in compare or ()]
    top = _top(values)
    low = min([0.0, *values])
    span = top - low
    plot = HEIGHT - TOP - BOTTOM
    count = max(len(points), len(compare or ()), 1)
    step = (width - LEFT - RIGHT) / max(count - 1, 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        x = LEFT + step * i if count > 1 else width / 2
        return x, TOP + plot * (top - value) / span

    def path(series: Sequence[Point], kind: str) -> str:
        spots = [xy(i, p.value) for i, p in enumerate(series)]
        if not spots:
            return ""
        drawn = " ".join(f"{x:.1f},{y:.1f}" for x, y in spots)
        dots = "".join(
            f'<circle class="chart-dot {kind}" cx="{x:.1f}" cy="{y:.1f}" r="4">'
            f"<title>{escape(p.label)}: {escape(fmt(p.value))}</title></circle>"
            for (x, y), p in zip(spots, series, strict=True))
        return f'<polyline class="chart-line {kind}" points="{drawn}"/>{dots}'

    zero = xy(0, 0)[1]
    # The top's value, on a faint line: a line's scale (each point's value is in the table).
    scale = (f'<line class="chart-grid" x1="{LEFT}" x2="{width - RIGHT}" y1="{TOP}" '
             f'y2="{TOP}"/><text class="chart-label" x="{LEFT}" y="{TOP - 8}">'
             f"{escape(fmt(top))}</text>") if any(values) else ""
    parts = [scale, f'<line class="chart-axis" x1="{LEFT}" x2="{width - RIGHT}" '
             f'y1="{zero:.1f}" y2="{zero:.1f}"/>',
             path(compare or (), "compare"), path(points, "current"),
             _x_labels([p.label for p in points], [xy(i, 0)[0] for i in range(len(points))],
                       HEIGHT - BOTTOM, width)]
    rows: tuple[tuple[str, ...], ...]
    if compare is None:
        rows = tuple((p.label, fmt(p.value)) for p in points)
        headers: tuple[str, ...] = (label_header, value_header)
    else:
        rows = tuple((p.label, fmt(p.value),
                      fmt(compare[i].value) if i < len(compare) else "")
                     for i, p in enumerate(points))
        headers = (label_header, value_header, compare_header)
    return Chart(_svg("".join(parts), width, HEIGHT, "line"), caption, headers, rows)


LEVELS = 5  # the heat map's shades, lightest to darkest (classes heat-0 … heat-5)


def level(value: float, top: float) -> int:
    """The shade of a cell: 0 for nothing, else 1 to LEVELS by its share of the busiest."""
    if value <= 0 or top <= 0:
        return 0
    return max(1, min(LEVELS, -(-int(value * LEVELS * 1000) // int(top * 1000))))


def heat_map(cells: Mapping[tuple[int, int], float], days: Sequence[str], fmt: Format,
             caption: str, corner: str, hours: Sequence[str] | None = None,
             width: int = WIDTH) -> Chart:
    """Seven rows (ISO weekdays 1-7, named by `days`) by 24 hours (named by `hours`, the
    locale's way); each cell shaded by its value's share of the busiest. The table: a row
    per day, a column per hour."""
    named = list(hours) if hours is not None else [f"{hour}:00" for hour in range(24)]
    top = max(cells.values(), default=0)
    cell_w = (width - HEAT_LABEL - RIGHT) / 24
    cell_h = 26
    height = TOP + cell_h * 7 + 4
    parts: list[str] = []
    for hour in range(0, 24, 3):
        parts.append(f'<text class="chart-label" x="{HEAT_LABEL + cell_w * (hour + .5):.1f}" '
                     f'y="{TOP - 6}" text-anchor="middle">{hour}</text>')
    for row, day in enumerate(days, start=1):
        y = TOP + cell_h * (row - 1)
        parts.append(f'<text class="chart-label" x="{HEAT_LABEL - 6}" y="{y + cell_h * .68:.1f}" '
                     f'text-anchor="end">{escape(day)}</text>')
        for hour in range(24):
            value = cells.get((row, hour), 0)
            parts.append(
                f'<rect class="heat heat-{level(value, top)}" '
                f'x="{HEAT_LABEL + cell_w * hour:.1f}" y="{y:.1f}" width="{cell_w - 2:.1f}" '
                f'height="{cell_h - 2}"><title>{escape(day)} {escape(named[hour])}: '
                f"{escape(fmt(value))}</title></rect>")
    rows = tuple((day, *(fmt(cells.get((row, hour), 0)) for hour in range(24)))
                 for row, day in enumerate(days, start=1))
    headers = (corner, *named)
    return Chart(_svg("".join(parts), width, height, "heat"), caption, headers, rows)
