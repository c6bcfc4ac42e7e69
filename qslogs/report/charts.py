"""Charts as inline SVG strings, drawn from plain data (no JavaScript needed to see them).

Every chart is a pure function: data in, an SVG string (``Markup``) out, deterministic to the byte.
Colours are CSS classes (``c0``…``c5``, ``err``, ``warn``, ``trend``, ``band``, ``cap``, ``fc``,
``h0``…``h5``) so the stylesheet decides light, dark and print colours; series also differ by dash
pattern so a black-and-white print still tells them apart.

Time charts put their data in an inner ``<svg class="plot">`` whose viewBox spans the full time range
(``data-t0``/``data-t1``, milliseconds UTC): the report's date filter zooms a chart by narrowing that
viewBox and redrawing the ``x`` ticks; strokes use ``vector-effect: non-scaling-stroke`` and dots are
zero-length round-capped strokes, so nothing is distorted by the zoom. Text from logs is escaped.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from qslogs.report.filters import fmt_int, parse_ts

HOUR = 3_600_000
DAY = 24 * HOUR
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Series:
    """One line (or set of dots) over time: ``points`` are (time, value); a None value breaks the line."""

    name: str = field(metadata={"help": "legend label"})
    points: Sequence[tuple[Any, float | None]] = field(metadata={"help": "(time as datetime/ISO/ms, value)"})
    css: str = field(default="c0", metadata={"help": "colour class: c0…c5, err, warn, trend, fc, …"})
    style: str = field(default="line", metadata={"help": "line, dots, or both ('line dots')"})


@dataclass(frozen=True)
class Band:
    """A shaded interval over time (a forecast's prediction interval): (time, low, high) triples."""

    name: str = field(metadata={"help": "legend label"})
    points: Sequence[tuple[Any, float, float]] = field(metadata={"help": "(time, lower, upper)"})
    css: str = field(default="band", metadata={"help": "fill class"})


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line across the chart (licenses bought, a threshold)."""

    name: str = field(metadata={"help": "label written at the line's right end"})
    value: float = field(metadata={"help": "y value"})
    css: str = field(default="cap", metadata={"help": "stroke class"})


@dataclass(frozen=True)
class Marker:
    """A vertical line at one instant with a short label (the projected exhaustion date)."""

    name: str = field(metadata={"help": "label written at the top of the line"})
    at: Any = field(metadata={"help": "time as datetime/ISO/ms"})
    css: str = field(default="mark", metadata={"help": "stroke class"})


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


def _n(value: float) -> str:
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


def time_ticks(t0: int, t1: int, max_ticks: int = 8) -> list[tuple[int, str]]:
    """Readable UTC time ticks between t0 and t1 (ms): hours, days, weeks, months or years."""
    span = max(t1 - t0, 1)
    for step_ms, months, fmt in _TIME_STEPS:
        if step_ms and span / step_ms <= max_ticks:
            offset = 4 * DAY if step_ms == 7 * DAY else 0  # weeks start on Monday (1970-01-01 was a Thursday)
            first = math.ceil((t0 - offset) / step_ms) * step_ms + offset
            return [(t, _utc(t).strftime(fmt)) for t in range(first, t1 + 1, step_ms)]
        if months and span / (months * 30.44 * DAY) <= max_ticks:
            return _month_ticks(t0, t1, months, fmt)
    return _month_ticks(t0, t1, 12 * max(1, math.ceil(span / (365.25 * DAY) / max_ticks)), "%Y")


def _month_ticks(t0: int, t1: int, months: int, fmt: str) -> list[tuple[int, str]]:
    start = _utc(t0)
    year, month = start.year, start.month
    ticks: list[tuple[int, str]] = []
    while True:
        index = year * 12 + month - 1
        if index % months == 0:
            t = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
            if t > t1:
                return ticks
            if t >= t0:
                ticks.append((t, _utc(t).strftime(fmt)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _utc(t: int) -> datetime:
    return datetime.fromtimestamp(t / 1000, tz=UTC)


class _Canvas:
    """Maps (ms, value) to plot pixels for one chart."""

    def __init__(self, frame: Frame, t0: int, t1: int, y0: float, y1: float) -> None:
        self.f, self.t0, self.t1, self.y0, self.y1 = frame, t0, t1, y0, y1

    def x(self, t: int) -> float:
        return (t - self.t0) / (self.t1 - self.t0) * self.f.pw

    def y(self, v: float) -> float:
        return self.f.ph - (v - self.y0) / (self.y1 - self.y0) * self.f.ph


def _open(frame: Frame, title: str, kind: str, t0: int, t1: int, extra: str = "") -> list[str]:
    return [
        f'<svg class="chart {kind}" viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'aria-label="{escape(title)}" data-t0="{t0}" data-t1="{t1}" data-pw="{_n(frame.pw)}" '
        f'data-left="{frame.left}"{extra} xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]


def _y_axis(c: _Canvas, ticks: list[float], label: str) -> list[str]:
    f = c.f
    out = ['<g class="grid">']
    for v in ticks:
        y = _n(f.top + c.y(v))
        out.append(
            f'<line x1="{f.left}" x2="{f.left + f.pw:g}" y1="{y}" y2="{y}"/>'
            f'<text x="{f.left - 6}" y="{y}" dy="0.32em" text-anchor="end">{escape(fmt_int(v))}</text>'
        )
    if label:
        out.append(f'<text class="ylabel" x="4" y="{f.top - 4}">{escape(label)}</text>')
    out.append("</g>")
    return out


def _x_axis(c: _Canvas) -> list[str]:
    f = c.f
    out = [f'<g class="xt" transform="translate({f.left},{_n(f.top + f.ph)})">']
    for t, text in time_ticks(c.t0, c.t1):
        x = _n(c.x(t))
        out.append(
            f'<line x1="{x}" x2="{x}" y1="0" y2="4"/><text x="{x}" y="16" text-anchor="middle">'
            f"{escape(text)}</text>"
        )
    out.append("</g>")
    return out


LEGEND_ROW = 16


def _legend_rows(frame: Frame, items: list[tuple[str, str, str]]) -> list[list[tuple[float, str, str, str]]]:
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


def _with_legend(frame: Frame, items: list[tuple[str, str, str]]) -> Frame:
    """The frame grown by the extra legend rows."""
    extra = (len(_legend_rows(frame, items)) - 1) * LEGEND_ROW
    return replace(frame, height=frame.height + extra, bottom=frame.bottom + extra)


def _legend(frame: Frame, items: list[tuple[str, str, str]]) -> list[str]:
    """(label, css class, shape: line|box|dots) entries in rows under the x axis."""
    rows = _legend_rows(frame, items)
    top = frame.top + frame.ph + 34
    out = [f'<g class="legend" transform="translate({frame.left},{top})">']
    for r, row in enumerate(rows):
        y = r * LEGEND_ROW
        for x, label, css, shape in row:
            if shape == "box":
                out.append(f'<rect class="{escape(css)}" x="{_n(x)}" y="{y - 8}" width="14" height="9"/>')
            elif shape == "dots":
                out.append(f'<path class="dots {escape(css)}" d="M{_n(x + 7)} {y - 4}h0"/>')
            else:
                out.append(
                    f'<line class="{escape(css)}" x1="{_n(x)}" x2="{_n(x + 14)}" y1="{y - 4}" y2="{y - 4}"/>'
                )
            out.append(f'<text x="{_n(x + 18)}" y="{y}">{escape(label)}</text>')
    out.append("</g>")
    return out


def _path(c: _Canvas, points: Sequence[tuple[int, float | None]]) -> str:
    parts: list[str] = []
    pen = "M"
    for t, v in points:
        if v is None:
            pen = "M"
            continue
        parts.append(f"{pen}{_n(c.x(t))} {_n(c.y(v))}")
        pen = "L"
    return "".join(parts)


def _series_points(points: Sequence[tuple[Any, float | None]]) -> list[tuple[int, float | None]]:
    out = [(t, None if v is None else float(v)) for t, v in ((ms(a), b) for a, b in points) if t is not None]
    return sorted(out, key=lambda p: p[0])


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    y_label: str = "",
    bands: Sequence[Band] = (),
    hlines: Sequence[HLine] = (),
    markers: Sequence[Marker] = (),
    frame: Frame | None = None,
    y_min: float = 0.0,
) -> Markup:
    """Lines and dots over time, with optional interval bands, horizontal reference lines and markers.

    The license forecast is one call: observed users (dots), the fitted trend, the forecast
    extension (dashed), its interval band, the capacity line and a marker at the exhaustion date.
    """
    legend = [(s.name, s.css, "dots" if s.style == "dots" else "line") for s in series]
    legend += [(b.name, b.css, "box") for b in bands] + [(h.name, h.css, "line") for h in hlines]
    frame = _with_legend(frame or Frame(), legend)
    pts = [_series_points(s.points) for s in series]
    band_pts = [
        sorted(((ms(t), lo, hi) for t, lo, hi in b.points if ms(t) is not None), key=lambda p: p[0] or 0)
        for b in bands
    ]
    times = [t for p in pts for t, _ in p] + [t for b in band_pts for t, _, _ in b if t is not None]
    times += [t for t in (ms(m.at) for m in markers) if t is not None]
    values = [v for p in pts for _, v in p if v is not None] + [h.value for h in hlines]
    values += [hi for b in band_pts for _, _, hi in b] + [lo for b in band_pts for _, lo, _ in b]
    if not times:
        return Markup(f'<p class="nodata">{escape(title)}: no data</p>')
    t0, t1 = min(times), max(times)
    if t1 - t0 < HOUR:
        t0, t1 = t0 - HOUR, t1 + HOUR
    ticks = nice_ticks(min([y_min, *values]), max([y_min + 1, *values]) * 1.04)
    c = _Canvas(frame, t0, t1, ticks[0], ticks[-1])
    out = _open(frame, title, "time", t0, t1)
    out += _y_axis(c, ticks, y_label)
    out += _x_axis(c)
    out.append(
        f'<svg class="plot" x="{frame.left}" y="{frame.top}" width="{_n(frame.pw)}" height="{_n(frame.ph)}" '
        f'viewBox="0 0 {_n(frame.pw)} {_n(frame.ph)}" preserveAspectRatio="none">'
    )
    for band, bp in zip(bands, band_pts, strict=True):
        if bp:
            upper = "".join(
                f"{'M' if i == 0 else 'L'}{_n(c.x(t or 0))} {_n(c.y(hi))}" for i, (t, _, hi) in enumerate(bp)
            )
            lower = "".join(f"L{_n(c.x(t or 0))} {_n(c.y(lo))}" for t, lo, _ in reversed(bp))
            out.append(f'<path class="{escape(band.css)}" d="{upper}{lower}Z"/>')
    for h in hlines:
        y = _n(c.y(h.value))
        out.append(f'<path class="{escape(h.css)}" d="M0 {y}H{_n(frame.pw)}"/>')
    for m in markers:
        t = ms(m.at)
        if t is not None:
            out.append(f'<path class="{escape(m.css)}" d="M{_n(c.x(t))} 0V{_n(frame.ph)}"/>')
    for s, p in zip(series, pts, strict=True):
        if "line" in s.style and p:
            out.append(f'<path class="line {escape(s.css)}" d="{_path(c, p)}"/>')
        if "dots" in s.style and p:
            dots = "".join(f"M{_n(c.x(t))} {_n(c.y(v))}h0" for t, v in p if v is not None)
            out.append(f'<path class="dots {escape(s.css)}" d="{dots}"/>')
    out.append("</svg>")
    for h in hlines:
        out.append(
            f'<text class="hl" x="{_n(frame.left + frame.pw - 4)}" y="{_n(frame.top + c.y(h.value) - 4)}" '
            f'text-anchor="end">{escape(h.name)}</text>'
        )
    for m in markers:
        t = ms(m.at)
        if t is not None:
            out.append(
                f'<text class="mk xpos" data-t="{t}" x="{_n(frame.left + c.x(t))}" y="{frame.top - 4}" '
                f'text-anchor="{_anchor(c.x(t), frame.pw)}">{escape(m.name)}</text>'
            )
    out += _legend(frame, legend)
    out.append("</svg>")
    return Markup("".join(out))


def _anchor(x: float, width: float) -> str:
    """Keep a label inside the chart: right-aligned near the right edge, left-aligned near the left."""
    return "end" if x > width * 0.85 else "start" if x < width * 0.15 else "middle"


def bar_chart(
    times: Sequence[Any],
    stacks: Sequence[tuple[str, str, Sequence[float]]],
    *,
    title: str,
    bucket_ms: int = DAY,
    y_label: str = "",
    frame: Frame | None = None,
) -> Markup:
    """Stacked bars per time bucket: ``stacks`` are (label, css class, values aligned with ``times``)."""
    legend = [(label, css, "box") for label, css, _ in stacks]
    frame = _with_legend(frame or Frame(), legend)
    starts = [ms(t) for t in times]
    if not starts or all(t is None for t in starts):
        return Markup(f'<p class="nodata">{escape(title)}: no data</p>')
    valid = [t for t in starts if t is not None]
    t0, t1 = min(valid), max(valid) + bucket_ms
    totals = [sum(float(s[2][i] or 0) for s in stacks) for i in range(len(starts))]
    ticks = nice_ticks(0, max([1.0, *totals]) * 1.04)
    c = _Canvas(frame, t0, t1, 0, ticks[-1])
    out = _open(frame, title, "time bars", t0, t1)
    out += _y_axis(c, ticks, y_label)
    out += _x_axis(c)
    out.append(
        f'<svg class="plot" x="{frame.left}" y="{frame.top}" width="{_n(frame.pw)}" height="{_n(frame.ph)}" '
        f'viewBox="0 0 {_n(frame.pw)} {_n(frame.ph)}" preserveAspectRatio="none">'
    )
    width = max(c.x(t0 + bucket_ms) - c.x(t0), 0.2)
    gap = width * 0.12 if width > 3 else 0
    for k, (label, css, values) in enumerate(stacks):
        rects = []
        for i, t in enumerate(starts):
            v = float(values[i] or 0)
            if t is None or v <= 0:
                continue
            below = sum(float(s[2][i] or 0) for s in stacks[:k])
            top, bottom = c.y(below + v), c.y(below)
            rects.append(
                f'<rect x="{_n(c.x(t) + gap / 2)}" y="{_n(top)}" width="{_n(width - gap)}" '
                f'height="{_n(bottom - top)}"><title>{escape(_utc(t).strftime("%Y-%m-%d %H:%M"))} '
                f"{escape(label)}: {escape(fmt_int(v))}</title></rect>"
            )
        out.append(f'<g class="{escape(css)}">{"".join(rects)}</g>')
    out.append("</svg>")
    out += _legend(frame, legend)
    out.append("</svg>")
    return Markup("".join(out))


def heatmap(
    counts: Sequence[Sequence[float]],
    *,
    title: str,
    unit: str = "failures",
    source: str = "",
    basis: str = "UTC",
) -> Markup:
    """Hour × weekday grid: ``counts[weekday][hour]`` (Monday = 0), six shades from none to the maximum.

    ``source`` names the event list (in the report's JSON) the date filter recounts; ``basis`` says which
    clock the hours are in (UTC, or the executing node's local time).
    """
    cell_w, cell_h, left, top = 26, 20, 40, 18
    width, height = left + 24 * cell_w + 4, top + 7 * cell_h + 30
    peak = max([0.0, *(float(v) for row in counts for v in row)])
    extra = f' data-source="{escape(source)}"' if source else ""
    out = [
        f'<svg class="chart heat" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'data-unit="{escape(unit)}"{extra} xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for hour in range(0, 24, 3):
        out.append(
            f'<text x="{left + hour * cell_w + cell_w / 2:g}" y="{top - 6}" text-anchor="middle">'
            f"{hour:02d}h</text>"
        )
    for day in range(7):
        y = top + day * cell_h
        out.append(
            f'<text x="{left - 6}" y="{y + cell_h / 2:g}" dy="0.32em" '
            f'text-anchor="end">{WEEKDAYS[day]}</text>'
        )
        row = counts[day] if day < len(counts) else []
        for hour in range(24):
            v = float(row[hour]) if hour < len(row) and row[hour] else 0.0
            level = 0 if v <= 0 else 1 + min(4, int(4 * v / peak)) if peak else 0
            label = f"{WEEKDAYS[day]} {hour:02d}:00–{hour:02d}:59: {fmt_int(v)} {unit}"
            text = f'<text x="{cell_w / 2:g}" y="{cell_h / 2:g}" dy="0.32em">{fmt_int(v)}</text>' if v else ""
            out.append(
                f'<g class="cell" data-wd="{day}" data-hr="{hour}" transform="translate('
                f'{left + hour * cell_w},{y})"><rect class="h{level}" width="{cell_w - 2}" '
                f'height="{cell_h - 2}"><title>{escape(label)}</title></rect>{text}</g>'
            )
    short = "UTC" if basis == "UTC" else "local time"
    out.append(
        f'<text class="note" x="{left}" y="{height - 8}">Hour of day ({escape(short)}) × weekday; darker = '
        f"more {escape(unit)} (max {escape(fmt_int(peak))})</text></svg>"
    )
    return Markup("".join(out))


def sparkline(
    values: Sequence[float | None], *, css: str = "err", width: int = 120, height: int = 22, title: str = ""
) -> Markup:
    """A tiny bar strip (one bar per bucket) to sit in a table cell."""
    vals = [float(v or 0) for v in values]
    if not vals:
        return Markup("")
    peak = max(vals) or 1.0
    bar = width / len(vals)
    rects = "".join(
        f'<rect x="{_n(i * bar)}" y="{_n(height - v / peak * height)}" width="{_n(max(bar - 0.5, 0.5))}" '
        f'height="{_n(v / peak * height)}"/>'
        for i, v in enumerate(vals)
        if v > 0
    )
    label = f"<title>{escape(title)}</title>" if title else ""
    return Markup(
        f'<svg class="spark {escape(css)}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">{label}<line x1="0" x2="{width}" y1="{height - 0.5}" '
        f'y2="{height - 0.5}"/>{rects}</svg>'
    )
