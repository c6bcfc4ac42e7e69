"""Chart scaffolding shared by every SVG chart: geometry, time and value ticks, axes and legend.

Pure functions from numbers to SVG fragments; :mod:`qslogs.report.charts` assembles them into charts.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from markupsafe import escape

from qslogs.report.filters import fmt_int, parse_ts

HOUR = 3_600_000
DAY = 24 * HOUR


@dataclass(frozen=True)
class Frame:
    """Geometry of a chart: outer size and the plot area inside it."""

    width: int = 760
    height: int = 240
    left: int = 52
    right: int = 20
    top: int = 16
    bottom: int = 44

    @property
    def pw(self) -> float:
        return self.width - self.left - self.right

    @property
    def ph(self) -> float:
        return self.height - self.top - self.bottom


def ms(value: Any) -> int | None:
    """A time (datetime, ISO string, date or epoch ms) → epoch milliseconds UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    parsed = parse_ts(value)
    return int(parsed.timestamp() * 1000) if parsed else None


def px(value: float) -> str:
    """A coordinate with at most one decimal and no trailing zero (small, deterministic output)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round y-axis ticks (1, 2, 5 × 10ⁿ) covering low..high."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


_TIME_STEPS: tuple[tuple[int, int, str], ...] = (
    (HOUR, 0, "%H:%M"),
    (3 * HOUR, 0, "%H:%M"),
    (6 * HOUR, 0, "%H:%M"),
    (12 * HOUR, 0, "%m-%d %H:%M"),
    (DAY, 0, "%m-%d"),
    (2 * DAY, 0, "%m-%d"),
    (7 * DAY, 0, "%m-%d"),
    (0, 1, "%Y-%m"),
    (0, 3, "%Y-%m"),
    (0, 6, "%Y-%m"),
    (0, 12, "%Y"),
)


def time_ticks(t0: int, t1: int, max_ticks: int = 8, min_step: int = 0) -> list[tuple[int, str]]:
    """Readable UTC time ticks between t0 and t1 (ms): hours, days, weeks, months or years.

    Steps shorter than ``min_step`` are not used (a daily series gets day ticks however short it is).
    Hour ticks carry the date on the first tick and at every midnight, so a span that crosses midnight
    reads ``10-24 22:00, 10-25 00:00, 02:00``, never a row of bare ``00:00``.
    """
    span = max(t1 - t0, 1)
    for step_ms, months, fmt in _TIME_STEPS:
        if step_ms and step_ms >= min_step and span / step_ms <= max_ticks:
            offset = 4 * DAY if step_ms == 7 * DAY else 0  # weeks start on Monday (1970-01-01 was a Thursday)
            first = math.ceil((t0 - offset) / step_ms) * step_ms + offset
            ticks = [(t, utc(t).strftime(fmt)) for t in range(first, t1 + 1, step_ms)]
            if step_ms < DAY and ticks and span + (t0 % DAY) >= DAY:
                ticks = [(t, utc(t).strftime("%m-%d %H:%M")) if i == 0 or t % DAY == 0 else (t, s)
                         for i, (t, s) in enumerate(ticks)]
            return ticks
        if months and span / (months * 30.44 * DAY) <= max_ticks:
            return month_ticks(t0, t1, months, fmt)
    return month_ticks(t0, t1, 12 * max(1, math.ceil(span / (365.25 * DAY) / max_ticks)), "%Y")


def month_ticks(t0: int, t1: int, months: int, fmt: str) -> list[tuple[int, str]]:
    start = utc(t0)
    year, month = start.year, start.month
    ticks: list[tuple[int, str]] = []
    while True:
        index = year * 12 + month - 1
        if index % months == 0:
            t = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
            if t > t1:
                return ticks
            if t >= t0:
                ticks.append((t, utc(t).strftime(fmt)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def utc(t: int) -> datetime:
    return datetime.fromtimestamp(t / 1000, tz=UTC)


class Canvas:
    """Maps (ms, value) to plot pixels for one chart."""

    def __init__(self, frame: Frame, t0: int, t1: int, y0: float, y1: float) -> None:
        self.f, self.t0, self.t1, self.y0, self.y1 = frame, t0, t1, y0, y1

    def x(self, t: int) -> float:
        return (t - self.t0) / (self.t1 - self.t0) * self.f.pw

    def y(self, v: float) -> float:
        return self.f.ph - (v - self.y0) / (self.y1 - self.y0) * self.f.ph


def open_svg(frame: Frame, title: str, kind: str, t0: int, t1: int, extra: str = "") -> list[str]:
    """The chart's outer ``<svg>`` with what the date filter needs to zoom it (``extra``: more attributes)."""
    return [
        f'<svg class="chart {kind}" viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'aria-label="{escape(title)}" data-t0="{t0}" data-t1="{t1}" data-pw="{px(frame.pw)}" '
        f'data-left="{frame.left}"{extra} xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]


def y_axis(c: Canvas, ticks: list[float], label: str) -> list[str]:
    f = c.f
    out = ['<g class="grid">']
    for v in ticks:
        y = px(f.top + c.y(v))
        out.append(
            f'<line x1="{f.left}" x2="{f.left + f.pw:g}" y1="{y}" y2="{y}"/>'
            f'<text x="{f.left - 6}" y="{y}" dy="0.32em" text-anchor="end">{escape(fmt_int(v))}</text>'
        )
    if label:
        out.append(f'<text class="ylabel" x="4" y="{f.top - 4}">{escape(label)}</text>')
    out.append("</g>")
    return out


def x_axis(c: Canvas, min_step: int = 0) -> list[str]:
    """Time ticks under the plot, and the clock they are in (UTC) at the axis's right end."""
    f = c.f
    out = [
        f'<text class="zone" x="{f.left - 6}" y="{px(f.top + f.ph + 16)}" text-anchor="end">UTC</text>',
        f'<g class="xt" transform="translate({f.left},{px(f.top + f.ph)})">',
    ]
    for t, text in time_ticks(c.t0, c.t1, min_step=min_step):
        x = px(c.x(t))
        out.append(
            f'<line x1="{x}" x2="{x}" y1="0" y2="4"/><text x="{x}" y="16" text-anchor="middle">'
            f"{escape(text)}</text>"
        )
    out.append("</g>")
    return out


LEGEND_ROW = 16


def legend_rows(frame: Frame, items: list[tuple[str, str, str]]) -> list[list[tuple[float, str, str, str]]]:
    """Legend entries laid out left to right, wrapping to a new row at the chart's width."""
    rows: list[list[tuple[float, str, str, str]]] = [[]]
    x = 0.0
    for label, css, shape in items:
        width = 28 + 6.2 * len(label)
        if rows[-1] and x + width > frame.width - frame.left - 8:
            rows.append([])
            x = 0.0
        rows[-1].append((x, label, css, shape))
        x += width
    return rows


def with_legend(frame: Frame, items: list[tuple[str, str, str]]) -> Frame:
    """The frame grown by the extra legend rows."""
    extra = (len(legend_rows(frame, items)) - 1) * LEGEND_ROW
    return replace(frame, height=frame.height + extra, bottom=frame.bottom + extra)


def draw_legend(frame: Frame, items: list[tuple[str, str, str]]) -> list[str]:
    """(label, css class, shape: line|box|dots) entries in rows under the x axis."""
    rows = legend_rows(frame, items)
    top = frame.top + frame.ph + 34
    out = [f'<g class="legend" transform="translate({frame.left},{top})">']
    for r, row in enumerate(rows):
        y = r * LEGEND_ROW
        for x, label, css, shape in row:
            if shape == "box":
                out.append(f'<rect class="{escape(css)}" x="{px(x)}" y="{y - 8}" width="14" height="9"/>')
            elif shape == "dots":
                out.append(f'<path class="dots {escape(css)}" d="M{px(x + 7)} {y - 4}h0"/>')
            else:
                out.append(
                    f'<line class="{escape(css)}" x1="{px(x)}" x2="{px(x + 14)}" y1="{y - 4}" y2="{y - 4}"/>'
                )
            out.append(f'<text x="{px(x + 18)}" y="{y}">{escape(label)}</text>')
    out.append("</g>")
    return out
