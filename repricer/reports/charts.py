"""Charts as inline SVG strings, so a report opens offline with no script or CDN.

Every piece of text that goes into the SVG (labels, legends, titles, which may come from
scraped pages) is escaped here; the HTML template inserts these strings as markup.
Coordinates are floats: they are geometry, not money.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 34, 56
# Competitor lines; blue is kept for "after"/"proposed", black for our price, grey for cost.
PALETTE = ("#f59e0b", "#0891b2", "#db2777", "#65a30d", "#7c3aed", "#ea580c", "#be123c", "#0d9488")
UP, DOWN, SAME, BEFORE, AFTER = "#16a34a", "#dc2626", "#94a3b8", "#94a3b8", "#2563eb"

Fmt = Callable[[float], str]


@dataclass(frozen=True)
class Bars:
    """One bar series; ``colors`` (one per bar) overrides ``color``."""

    name: str
    values: Sequence[float]
    color: str = AFTER
    colors: Sequence[str] = ()


@dataclass(frozen=True)
class Line:
    name: str
    points: Sequence[tuple[datetime, float]]
    color: str
    dashed: bool = False
    width: float = 2.0


def _text(
    x: float, y: float, text: str, *, anchor: str = "middle", size: int = 11, cls: str = ""
) -> str:
    klass = f' class="{escape(cls)}"' if cls else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{klass}>'
        f"{escape(text)}</text>"
    )


def _svg(body: list[str], title: str, *, height: int = HEIGHT) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" fill="#1e293b">'
    )
    return "".join(
        [
            head,
            f"<title>{escape(title)}</title>",
            _text(LEFT, 18, title, anchor="start", size=13, cls="chart-title"),
            *body,
            "</svg>",
        ]
    )


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (always including 0 when in range)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = [first + i * step for i in range(count + 3)]
    return [t for t in ticks if t <= high + step * 0.999][: count + 2]


def _y_axis(ticks: list[float], scale: Callable[[float], float], fmt: Fmt) -> list[str]:
    out = []
    for tick in ticks:
        y = scale(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>'
        )
        out.append(_text(LEFT - 6, y + 4, fmt(tick), anchor="end", size=10))
    return out


def _label(x: float, y: float, text: str, *, tilt: bool) -> str:
    if not tilt:
        return _text(x, y, text, size=10)
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="end" font-size="10" '
        f'transform="rotate(-30 {x:.1f} {y:.1f})">{escape(text)}</text>'
    )


def _legend(items: Sequence[tuple[str, str, bool]], y: float) -> list[str]:
    out, x = [], float(LEFT)
    for name, color, dashed in items:
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(
            f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y - 4:.1f}" y2="{y - 4:.1f}" stroke="{escape(color)}" stroke-width="4"{dash}/>'
        )
        label = name if len(name) <= 28 else name[:27] + "…"
        out.append(_text(x + 22, y, label, anchor="start", size=10))
        x += 34 + 6.2 * len(label)
    return out


def bar_chart(
    title: str, labels: Sequence[str], series: Sequence[Bars], fmt: Fmt = lambda v: f"{v:g}"
) -> str:
    """Grouped vertical bars, one group per label, one bar per series."""
    values = [v for s in series for v in s.values] or [0.0]
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values))
    low, high = ticks[0], ticks[-1]
    plot_h = HEIGHT - TOP - BOTTOM

    def scale(v: float) -> float:
        return TOP + plot_h * (high - v) / (high - low)

    body = _y_axis(ticks, scale, fmt)
    group_w = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    bar_w = group_w * 0.8 / max(1, len(series))
    for i, label in enumerate(labels):
        x0 = LEFT + i * group_w + group_w * 0.1
        for j, s in enumerate(series):
            v = s.values[i]
            color = s.colors[i] if s.colors else s.color
            top, bottom = sorted((scale(v), scale(0.0)))
            body.append(
                f'<rect class="bar" x="{x0 + j * bar_w:.1f}" y="{top:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}" fill="{escape(color)}"><title>{escape(f"{s.name}: {label}: {fmt(v)}")}</title></rect>'
            )
        body.append(
            _label(LEFT + (i + 0.5) * group_w, HEIGHT - BOTTOM + 14, label, tilt=len(labels) > 6)
        )
    if len(series) > 1:
        body += _legend([(s.name, s.color, False) for s in series], HEIGHT - 12)
    return _svg(body, title)


def line_chart(title: str, lines: Sequence[Line], fmt: Fmt) -> str:
    """Lines over time (a single point is drawn as a dot)."""
    points = [p for line in lines for p in line.points]
    if not points:
        return _svg([_text(WIDTH / 2, HEIGHT / 2, "no history yet")], title)
    t0 = min(p[0] for p in points).timestamp()
    t1 = max(max(p[0] for p in points).timestamp(), t0 + 3600)
    ticks = nice_ticks(min(p[1] for p in points) * 0.97, max(p[1] for p in points) * 1.03)
    low, high, plot_h, plot_w = ticks[0], ticks[-1], HEIGHT - TOP - BOTTOM, WIDTH - LEFT - RIGHT

    def xy(p: tuple[datetime, float]) -> str:
        x = LEFT + plot_w * (p[0].timestamp() - t0) / (t1 - t0)
        return f"{x:.1f},{TOP + plot_h * (high - p[1]) / (high - low):.1f}"

    body = _y_axis(ticks, lambda v: TOP + plot_h * (high - v) / (high - low), fmt)
    for frac in (0.0, 0.5, 1.0):
        when = datetime.fromtimestamp(t0 + frac * (t1 - t0), tz=points[0][0].tzinfo)
        body.append(
            _text(
                LEFT + frac * plot_w,
                HEIGHT - BOTTOM + 14,
                f"{when:%d.%m %H:%M}",
                anchor=("start", "middle", "end")[int(frac * 2)],
                size=10,
            )
        )
    for line in lines:
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        coords = " ".join(xy(p) for p in sorted(line.points))
        body.append(
            f'<polyline class="series" fill="none" stroke="{escape(line.color)}" stroke-width="{line.width}"{dash} points="{coords}"/>'
        )
        for p in line.points:
            x, y = xy(p).split(",")
            body.append(
                f'<circle cx="{x}" cy="{y}" r="3" fill="{escape(line.color)}"><title>{escape(f"{line.name}: {fmt(p[1])} ({p[0]:%Y-%m-%d %H:%M})")}</title></circle>'
            )
    body += _legend([(line.name, line.color, line.dashed) for line in lines], HEIGHT - 12)
    return _svg(body, title)
