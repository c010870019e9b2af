"""Charts drawn on the server as SVG: geometry here, markup in the templates.

Each function returns plain numbers and labels that `templates/insights/_charts.html`
turns into <svg> with a title and a description (the text alternative); the
page puts the chart's data table beside it. No JavaScript, nothing fetched.
"""

import math
from dataclasses import dataclass, field

WIDTH = 640
BAR_HEIGHT = 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 40, 12, 12, 48
MAX_LABELS = 12


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str


@dataclass
class Tick:
    y: float
    value: int


@dataclass
class AxisLabel:
    x: float
    text: str


@dataclass
class BarChart:
    width: int
    height: int
    rects: list[Rect]
    ticks: list[Tick]
    labels: list[AxisLabel]
    baseline: float
    legend: list[tuple[str, str]] = field(default_factory=list)


def _ticks(top: int) -> list[int]:
    step = max(1, math.ceil(top / 4))
    return list(range(0, top + step, step))


def bar_chart(
    *, categories: list[str], series: list[tuple[str, str, list[int]]], stacked: bool
) -> BarChart:
    """Bars per category: stacked (one bar of several series) or side by side.

    `series` is (label, css class, one value per category).
    """
    count = max(1, len(categories))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = BAR_HEIGHT - PAD_TOP - PAD_BOTTOM
    totals = [sum(values[i] for _l, _c, values in series) for i in range(len(categories))]
    peak = max(totals if stacked else [v for _l, _c, vs in series for v in vs] or [0], default=0)
    top = max(_ticks(max(peak, 1)))
    scale = plot_h / top
    slot = plot_w / count
    baseline = PAD_TOP + plot_h
    rects: list[Rect] = []
    for i, category in enumerate(categories):
        x0 = PAD_LEFT + i * slot + slot * 0.15
        width = slot * 0.7
        y = baseline
        for n, (label, css, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            height = value * scale
            if stacked:
                y -= height
                rects.append(Rect(x0, y, width, height, css, f"{category}, {label}: {value}"))
            else:
                w = width / len(series)
                rects.append(
                    Rect(
                        x0 + n * w,
                        baseline - height,
                        w,
                        height,
                        css,
                        f"{category}, {label}: {value}",
                    )
                )
    ticks = [Tick(baseline - value * scale, value) for value in _ticks(top) if value <= top]
    # At most MAX_LABELS labels under the bars (a long period has hundreds of meetings):
    # every bar keeps its own in its title, and the table has them all.
    every = max(1, math.ceil(len(categories) / MAX_LABELS))
    labels = [
        AxisLabel(PAD_LEFT + (i + 0.5) * slot, c)
        for i, c in enumerate(categories)
        if i % every == 0
    ]
    legend = [(label, css) for label, css, _v in series]
    return BarChart(WIDTH, BAR_HEIGHT, rects, ticks, labels, baseline, legend)


@dataclass
class Node:
    x: float
    y: float
    label: str
    css: str
    anchor: str


@dataclass
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    label: str


@dataclass
class Network:
    size: int
    nodes: list[Node]
    edges: list[Edge]


def network(*, names: list[tuple[str, str]], weights: dict[tuple[int, int], int]) -> Network:
    """Departments on a circle, a line between two for every idea or link between them,
    thicker the more there are. `names` is (short name, css class); `weights` is
    keyed by index pairs (either order counts once)."""
    size = 420
    centre, radius = size / 2, size / 2 - 60
    nodes = []
    for i, (label, css) in enumerate(names):
        angle = 2 * math.pi * i / max(1, len(names)) - math.pi / 2
        x, y = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
        anchor = "middle" if abs(x - centre) < 20 else ("start" if x > centre else "end")
        nodes.append(Node(round(x, 1), round(y, 1), label, css, anchor))
    undirected: dict[tuple[int, int], int] = {}
    for (a, b), weight in weights.items():
        if a != b:
            key = (min(a, b), max(a, b))
            undirected[key] = undirected.get(key, 0) + weight
    heaviest = max(undirected.values(), default=1)
    edges = [
        Edge(
            nodes[a].x,
            nodes[a].y,
            nodes[b].x,
            nodes[b].y,
            round(1.5 + 6.5 * weight / heaviest, 1),
            f"{nodes[a].label} – {nodes[b].label}: {weight}",
        )
        for (a, b), weight in sorted(undirected.items())
    ]
    return Network(size, nodes, edges)


@dataclass
class GridLine:
    x: float
    value: int


@dataclass
class RowLabel:
    y: float
    text: str  # shortened to fit; the full text is in the bars' titles and the table


@dataclass
class HBarChart:
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_bottom: float
    rects: list[Rect]
    grid: list[GridLine]
    labels: list[RowLabel]
    legend: list[tuple[str, str]] = field(default_factory=list)


HBAR_LABEL_WIDTH = 220
HBAR_ROW = 44
HBAR_LABEL_CHARS = 34


def _shorten(text: str, limit: int = HBAR_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def hbar_chart(*, categories: list[str], series: list[tuple[str, str, list[int]]]) -> HBarChart:
    """Horizontal bars side by side, one row per category: for long names (strategy
    goals) that would not fit under a vertical bar. `series` as in `bar_chart`."""
    rows = max(1, len(categories))
    top_pad, bottom_pad = PAD_TOP, 28
    plot_left = HBAR_LABEL_WIDTH
    plot_w = WIDTH - plot_left - PAD_RIGHT - 8
    height = top_pad + rows * HBAR_ROW + bottom_pad
    peak = max([v for _l, _c, values in series for v in values] or [0], default=0)
    top = max(_ticks(max(peak, 1)))
    scale = plot_w / top
    bar = (HBAR_ROW * 0.7) / max(1, len(series))
    rects: list[Rect] = []
    labels: list[RowLabel] = []
    for i, category in enumerate(categories):
        y0 = top_pad + i * HBAR_ROW + HBAR_ROW * 0.15
        labels.append(RowLabel(top_pad + (i + 0.5) * HBAR_ROW, _shorten(category)))
        for n, (label, css, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            rects.append(
                Rect(
                    plot_left,
                    y0 + n * bar,
                    value * scale,
                    bar,
                    css,
                    f"{category}, {label}: {value}",
                )
            )
    plot_bottom = top_pad + rows * HBAR_ROW
    grid = [GridLine(plot_left + value * scale, value) for value in _ticks(top) if value <= top]
    legend = [(label, css) for label, css, _v in series]
    return HBarChart(WIDTH, height, plot_left, top_pad, plot_bottom, rects, grid, labels, legend)
