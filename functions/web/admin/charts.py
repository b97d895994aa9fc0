"""Bar charts drawn on the server as inline SVG: no script, no outside library, readable on a phone.

One horizontal bar per group (an area, a unit type), its length the group's expected reports, split into
segments (valid, with errors, missing). Bars share one scale, so a longer bar is a bigger group.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

# Drawn for a phone's width (the viewBox is about a phone's CSS width, so text stays ~12px there);
# admin.css caps the chart's width on a desktop so the text does not grow huge.
ROW_HEIGHT = 24
BAR_HEIGHT = 16
LABEL_WIDTH = 92
COUNT_WIDTH = 48
WIDTH = 360


@dataclass(frozen=True)
class Segment:
    name: str  # css class: valid, errors, missing
    value: int
    x: float
    width: float


@dataclass(frozen=True)
class BarRow:
    label: str
    segments: list[Segment]
    y: float
    total: int
    text: str  # e.g. 18/20 shown after the bar


def layout(
    rows: list[tuple[str, list[tuple[str, int]]]], *, width: int = WIDTH, suffix: dict[str, str] | None = None
) -> tuple[list[BarRow], int]:
    """Geometry of a chart: `rows` are (label, [(segment name, value)…]); returns the rows and the height."""
    bar_space = width - LABEL_WIDTH - COUNT_WIDTH
    largest = max((sum(v for _, v in segs) for _, segs in rows), default=0)
    scale = bar_space / largest if largest else 0.0
    out: list[BarRow] = []
    for i, (label, segs) in enumerate(rows):
        x = float(LABEL_WIDTH)
        placed = []
        for name, value in segs:
            w = value * scale
            placed.append(Segment(name, value, round(x, 2), round(w, 2)))
            x += w
        total = sum(v for _, v in segs)
        out.append(BarRow(label, placed, i * ROW_HEIGHT + 4, total, (suffix or {}).get(label, str(total))))
    return out, len(rows) * ROW_HEIGHT + 8


def _short(label: str, limit: int = 7) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(
    title: str,
    rows: list[tuple[str, list[tuple[str, int]]]],
    *,
    legend: dict[str, str],
    suffix: dict[str, str] | None = None,
    width: int = WIDTH,
) -> str:
    """The chart as an <svg> element; every text escaped (labels are area and type names from the roster)."""
    placed, height = layout(rows, width=width, suffix=suffix)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for row in placed:
        text_y = row.y + BAR_HEIGHT - 3
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 6}" y="{text_y}" text-anchor="end">'
            f"<title>{escape(row.label)}</title>{escape(_short(row.label))}</text>"
        )
        for seg in row.segments:
            if seg.width <= 0:
                continue
            parts.append(
                f'<rect class="seg {escape(seg.name)}" x="{seg.x}" y="{row.y}" width="{seg.width}" '
                f'height="{BAR_HEIGHT}"><title>{escape(legend.get(seg.name, seg.name))}：{seg.value}</title></rect>'
            )
        end = max((s.x + s.width for s in row.segments), default=float(LABEL_WIDTH))
        parts.append(f'<text class="count" x="{round(end + 4, 2)}" y="{text_y}">{escape(row.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
