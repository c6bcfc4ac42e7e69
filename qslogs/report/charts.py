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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from qslogs.report.chart_axes import (
    DAY,
    HOUR,
    Canvas,
    Frame,
    draw_legend,
    ms,
    nice_ticks,
    open_svg,
    px,
    time_ticks,
    utc,
    with_legend,
    x_axis,
    y_axis,
)
from qslogs.report.filters import fmt_int

__all__ = [
    "DAY",
    "HOUR",
    "Band",
    "Frame",
    "HLine",
    "Marker",
    "Series",
    "bar_chart",
    "heatmap",
    "line_chart",
    "ms",
    "nice_ticks",
    "sparkline",
    "time_ticks",
]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: A series with fewer points than this is drawn as labelled dots, not as a line.
SPARSE = 3
#: Colour classes of lines drawn from a model (fitted trend, forecast), not observed: two points make a line.
MODEL_LINES = frozenset({"trend", "fc"})


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


def _path(c: Canvas, points: Sequence[tuple[int, float | None]]) -> str:
    parts: list[str] = []
    pen = "M"
    for t, v in points:
        if v is None:
            pen = "M"
            continue
        parts.append(f"{pen}{px(c.x(t))} {px(c.y(v))}")
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
    min_step: int = 0,
) -> Markup:
    """Lines and dots over time, with optional interval bands, horizontal reference lines and markers.

    The license forecast is one call: observed users (dots), the fitted trend, the forecast
    extension (dashed), its interval band, the capacity line and a marker at the exhaustion date.
    An observed series of fewer than :data:`SPARSE` points is drawn as dots with their values written beside
    them (two points joined by a line would read as a trend). ``min_step`` is the data's own step
    (``DAY`` for daily counts): the x axis never ticks finer, and a short span is widened to show it.
    """
    series = [
        Series(s.name, s.points, s.css, "dots")
        if s.css not in MODEL_LINES and _count(s.points) < SPARSE
        else s
        for s in series
    ]
    legend = [(s.name, s.css, "dots" if s.style == "dots" else "line") for s in series]
    legend += [(b.name, b.css, "box") for b in bands] + [(h.name, h.css, "line") for h in hlines]
    frame = with_legend(frame or Frame(), legend)
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
    if t1 - t0 < max(HOUR, 2 * min_step):
        pad = max(HOUR, min_step // 2)
        t0, t1 = t0 - pad, t1 + pad
    ticks = nice_ticks(min([y_min, *values]), max([y_min + 1, *values]) * 1.04)
    c = Canvas(frame, t0, t1, ticks[0], ticks[-1])
    extra = f' data-min-step="{min_step}"' if min_step else ""
    out = open_svg(frame, title, "time", t0, t1, extra)
    out += y_axis(c, ticks, y_label)
    out += x_axis(c, min_step)
    out.append(
        f'<svg class="plot" x="{frame.left}" y="{frame.top}" width="{px(frame.pw)}" height="{px(frame.ph)}" '
        f'viewBox="0 0 {px(frame.pw)} {px(frame.ph)}" preserveAspectRatio="none">'
    )
    for band, bp in zip(bands, band_pts, strict=True):
        if bp:
            upper = "".join(
                f"{'M' if i == 0 else 'L'}{px(c.x(t or 0))} {px(c.y(hi))}" for i, (t, _, hi) in enumerate(bp)
            )
            lower = "".join(f"L{px(c.x(t or 0))} {px(c.y(lo))}" for t, lo, _ in reversed(bp))
            out.append(f'<path class="{escape(band.css)}" d="{upper}{lower}Z"/>')
    for h in hlines:
        y = px(c.y(h.value))
        out.append(f'<path class="{escape(h.css)}" d="M0 {y}H{px(frame.pw)}"/>')
    for m in markers:
        t = ms(m.at)
        if t is not None:
            out.append(f'<path class="{escape(m.css)}" d="M{px(c.x(t))} 0V{px(frame.ph)}"/>')
    for s, p in zip(series, pts, strict=True):
        if "line" in s.style and p:
            out.append(f'<path class="line {escape(s.css)}" d="{_path(c, p)}"/>')
        if "dots" in s.style and p:
            dots = "".join(f"M{px(c.x(t))} {px(c.y(v))}h0" for t, v in p if v is not None)
            out.append(f'<path class="dots {escape(s.css)}" d="{dots}"/>')
    out.append("</svg>")
    for h in hlines:
        out.append(
            f'<text class="hl" x="{px(frame.left + frame.pw - 4)}" y="{px(frame.top + c.y(h.value) - 4)}" '
            f'text-anchor="end">{escape(h.name)}</text>'
        )
    placed: list[tuple[float, float]] = []
    for s, p in zip(series, pts, strict=True):
        if s.css not in MODEL_LINES and _count(p) < SPARSE:
            out += _value_labels(c, s.css, p, placed)
    for m in markers:
        t = ms(m.at)
        if t is not None:
            out.append(
                f'<text class="mk xpos" data-t="{t}" x="{px(frame.left + c.x(t))}" y="{frame.top - 4}" '
                f'text-anchor="{_anchor(c.x(t), frame.pw)}">{escape(m.name)}</text>'
            )
    out += draw_legend(frame, legend)
    out.append("</svg>")
    return Markup("".join(out))


def _count(points: Sequence[tuple[Any, float | None]]) -> int:
    return sum(1 for _, v in points if v is not None)


def _value_labels(
    c: Canvas, css: str, points: Sequence[tuple[int, float | None]], placed: list[tuple[float, float]]
) -> list[str]:
    """The value of each point of a sparse series, written above it (moved by the date filter's zoom).

    A label that would overlap one already ``placed`` (two series with close values on one day) moves
    up a line until it is clear.
    """
    out = []
    for t, v in points:
        if v is None:
            continue
        x, y = c.f.left + c.x(t), c.f.top + c.y(v) - 8
        while any(abs(x - px_) < 24 and abs(y - py_) < 12 for px_, py_ in placed):
            y -= 12
        placed.append((x, y))
        out.append(
            f'<text class="val {escape(css)} xpos" data-t="{t}" x="{px(x)}" y="{px(y)}" '
            f'text-anchor="{_anchor(c.x(t), c.f.pw)}">{escape(fmt_int(v))}</text>'
        )
    return out


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
    frame = with_legend(frame or Frame(), legend)
    starts = [ms(t) for t in times]
    if not starts or all(t is None for t in starts):
        return Markup(f'<p class="nodata">{escape(title)}: no data</p>')
    valid = [t for t in starts if t is not None]
    t0, t1 = min(valid), max(valid) + bucket_ms
    totals = [sum(float(s[2][i] or 0) for s in stacks) for i in range(len(starts))]
    ticks = nice_ticks(0, max([1.0, *totals]) * 1.04)
    c = Canvas(frame, t0, t1, 0, ticks[-1])
    out = open_svg(frame, title, "time bars", t0, t1)
    out += y_axis(c, ticks, y_label)
    out += x_axis(c)
    out.append(
        f'<svg class="plot" x="{frame.left}" y="{frame.top}" width="{px(frame.pw)}" height="{px(frame.ph)}" '
        f'viewBox="0 0 {px(frame.pw)} {px(frame.ph)}" preserveAspectRatio="none">'
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
                f'<rect x="{px(c.x(t) + gap / 2)}" y="{px(top)}" width="{px(width - gap)}" '
                f'height="{px(bottom - top)}"><title>{escape(utc(t).strftime("%Y-%m-%d %H:%M UTC"))} '
                f"{escape(label)}: {escape(fmt_int(v))}</title></rect>"
            )
        out.append(f'<g class="{escape(css)}">{"".join(rects)}</g>')
    out.append("</svg>")
    out += draw_legend(frame, legend)
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
    short = "UTC" if basis == "UTC" else "node-local time"
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
        f'<rect x="{px(i * bar)}" y="{px(height - v / peak * height)}" width="{px(max(bar - 0.5, 0.5))}" '
        f'height="{px(v / peak * height)}"/>'
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
