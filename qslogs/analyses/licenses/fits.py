"""Timelines → growth fits, exhaustion forecasts and the chart data (fitted line, band, projection).

Which points a fit uses (documented in ``qslogs license --help`` too):

- **allocated**: the allocated count at the end of each month (the last month may be partial: its
  value is the count at the end of the data), placed at the end of that day;
- **active**: distinct users per month, only for months fully inside the data (coverage >= 90 %),
  placed at the middle of the month;
- monthly points are used when the fit window holds at least :data:`MIN_MONTHS` of them, else daily
  points (a day's allocated count / distinct users); a fit needs :data:`MIN_POINTS` points.
- a **forecast** needs a monthly fit (at least :data:`MIN_MONTHS` points): daily counts of a short history
  are not independent (one allocation stays in every later day), so their scatter would understate the
  uncertainty. With fewer months the forecast says ``no-fit`` and why (``no_fit_reason``).

x is in mean Gregorian months from the start of the fit window, so slopes are users per month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from qslogs.analyses.licenses.growth import DAYS_PER_MONTH, Fit, Forecast, add_months, fit_series, forecast
from qslogs.analyses.licenses.result import (
    FIT_LINE_SCHEMA,
    FIT_SCHEMA,
    FORECAST_SCHEMA,
    PROJECTION_SCHEMA,
    Capacity,
    Runway,
)
from qslogs.words import plural

MIN_MONTHS = 3
MIN_POINTS = 3
FULL_MONTH = 0.9
#: Forecast rows: access types allocated per user whose count can run out against a bought capacity.
FORECAST_TYPES = ("Professional", "Analyzer")


@dataclass(frozen=True)
class SeriesFit:
    """One fitted series: the line, the points it was fitted on, and where x = 0 is."""

    access_type: str
    series: str
    granularity: str
    fit: Fit
    points: list[tuple[float, float]]  # (day ordinal, value)
    origin: float  # day ordinal of x = 0

    def value_at(self, ordinal: float, slope: float | None = None) -> float:
        """The fitted line at a day ordinal; with ``slope``, the band line pivoting at the points' centre."""
        x = (ordinal - self.origin) / DAYS_PER_MONTH
        if slope is None:
            return self.fit.at(x)
        cx = sum((p[0] - self.origin) / DAYS_PER_MONTH for p in self.points) / len(self.points)
        return self.fit.at(cx) + slope * (x - cx)


def _points(
    timeline: pl.DataFrame, access_type: str, series: str, granularity: str, since: date | None
) -> list[tuple[float, float]]:
    rows = timeline.filter(
        (pl.col("access_type") == access_type)
        & (pl.col("granularity") == granularity)
        & pl.col(series).is_not_null()
    )
    out: list[tuple[float, float]] = []
    for r in rows.select("start", "end", "coverage", series).iter_rows(named=True):
        start, end = r["start"].toordinal(), r["end"].toordinal()
        if series == "allocated":
            at = end + 1.0
        else:
            if granularity == "month" and r["coverage"] < FULL_MONTH:
                continue
            at = (start + end + 1) / 2.0
        if since is not None and at <= since.toordinal():
            continue
        out.append((at, float(r[series])))
    return out


def fit_one(timeline: pl.DataFrame, access_type: str, series: str, since: date | None) -> SeriesFit | None:
    """Fit one series (monthly points when there are enough, else daily); None with too few points."""
    for granularity in ("month", "day"):
        pts = _points(timeline, access_type, series, granularity, since)
        if len(pts) >= (MIN_MONTHS if granularity == "month" else MIN_POINTS):
            break
    else:
        return None
    if len({p[0] for p in pts}) < 2:
        return None
    first = timeline.filter(pl.col("access_type") == access_type)["start"].min()
    origin = (
        float(since.toordinal() if since else first.toordinal()) if isinstance(first, date) else pts[0][0]
    )
    fit = fit_series([(p[0] - origin) / DAYS_PER_MONTH for p in pts], [p[1] for p in pts])
    return SeriesFit(access_type, series, granularity, fit, pts, origin)


def all_fits(timeline: pl.DataFrame, since: date | None) -> list[SeriesFit]:
    """Fits of every access type: ``allocated`` where it is tracked, ``active`` everywhere."""
    out = []
    for access_type in sorted(set(timeline["access_type"].to_list())):
        rows = timeline.filter(pl.col("access_type") == access_type)
        for series in ("allocated", "active"):
            values = rows[series].drop_nulls()
            if values.len() == 0 or (values == 0).all():
                continue  # not tracked for this type (Login passes have no allocation), or nothing happened
            fitted = fit_one(timeline, access_type, series, since)
            if fitted is not None:
                out.append(fitted)
    return out


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def fit_rows(fits: list[SeriesFit]) -> pl.DataFrame:
    """The ``fits`` table: slope per month with its interval, R², points and method (one column per field)."""
    return pl.DataFrame(
        {
            "access_type": [f.access_type for f in fits],
            "series": [f.series for f in fits],
            "slope_per_month": [_r(f.fit.slope) for f in fits],
            "ci_low": [_r(f.fit.ci_low) for f in fits],
            "ci_high": [_r(f.fit.ci_high) for f in fits],
            "r2": [_r(f.fit.r2) for f in fits],
            "n_points": [f.fit.n_points for f in fits],
            "method": [f.fit.method for f in fits],
            "granularity": [f.granularity for f in fits],
            "flat": [f.fit.flat for f in fits],
            "outliers": [f.fit.outliers for f in fits],
            "start": [date.fromordinal(int(f.points[0][0])) for f in fits],
            "end": [date.fromordinal(int(f.points[-1][0])) for f in fits],
        },
        schema=FIT_SCHEMA,
    )


def allocated_number(calinfo: float | None, logs: float | None) -> tuple[float, str, dict[str, Any] | None]:
    """The one allocated count shown everywhere, its source, and the other source when it disagrees.

    Rule: the ``CalInfo`` counter wins when the bundle has one (the license service's own count when the
    bundle was collected; the logs only see the changes they hold); else the last allocated count of the
    logs (and QVDs). When both exist and differ, the other is returned as ``{source, value, note}`` so it
    can be shown beside the number.
    """
    if calinfo is not None:
        other = None
        if logs is not None and logs != calinfo:
            other = {
                "source": "logs",
                "value": logs,
                "note": f"the license events of the logs end at {logs:g} allocated; CalInfo (taken when the "
                f"bundle was collected) says {calinfo:g}: changes outside the logs' period, or events the "
                "logs did not keep, explain the gap",
            }
        return float(calinfo), "bundle CalInfo", other
    if logs is not None:
        return logs, "logs", None
    return 0.0, "none", None


def _months_in(timeline: pl.DataFrame, access_type: str) -> int:
    return timeline.filter(
        (pl.col("access_type") == access_type) & (pl.col("granularity") == "month") & pl.col("allocated").is_not_null()
    ).height


def statement(access_type: str, fc: Forecast, reason: str | None = None) -> str:
    """The forecast in one plain sentence."""
    cap = f"{fc.capacity:g}" if fc.capacity is not None else "?"
    if fc.status == "unknown-capacity":
        return f"{access_type}: capacity unknown (give --{access_type.lower()} N to forecast)."
    if fc.status == "over-capacity":
        return f"{access_type}: already over capacity: {fc.in_use:g} allocated for {cap} licenses."
    if fc.status == "at-capacity":
        return f"{access_type}: exactly at capacity: all {cap} licenses are allocated."
    if fc.status == "no-fit":
        return f"{access_type}: {fc.remaining:g} of {cap} licenses left; no forecast: {reason or 'no fit'}."
    if fc.status == "never":
        return f"{access_type}: {fc.remaining:g} of {cap} licenses left; never exhausted at this rate."
    if fc.status == "beyond-horizon":
        return f"{access_type}: {fc.remaining:g} of {cap} licenses left; not exhausted within 100 years."
    span = ""
    if fc.date_low is not None:
        high = fc.date_high.isoformat() if fc.date_high else "never"
        span = f" (95 % prediction interval {fc.date_low.isoformat()} – {high})"
    when = fc.exhaustion_date.isoformat() if fc.exhaustion_date else "?"
    return (
        f"{access_type}: {fc.remaining:g} of {cap} licenses left; run out around {when} "
        f"in {fc.months_to_exhaustion:.1f} months{span}."
    )


def forecast_rows(
    capacity: Capacity, timeline: pl.DataFrame, fits: list[SeriesFit], as_of: date
) -> tuple[pl.DataFrame, dict[str, Forecast]]:
    """The ``forecast`` table, one row per access type with a capacity or an allocation history, and the
    forecasts themselves (for the findings and the chart)."""
    rows, out = [], {}
    tracked = set(timeline.filter(pl.col("allocated").is_not_null())["access_type"].to_list())
    for access_type in FORECAST_TYPES:
        detail = capacity.detail(access_type)
        bought, held = (detail.capacity, detail.in_use) if detail else (None, None)
        if access_type not in tracked and bought is None and held is None:
            continue
        last = (
            timeline.filter((pl.col("access_type") == access_type) & (pl.col("granularity") == "day"))
            .sort("period")["allocated"]
            .drop_nulls()
        )
        in_use, source, other = allocated_number(held, float(last[-1]) if last.len() else None)
        series = next((f for f in fits if f.access_type == access_type and f.series == "allocated"), None)
        fit, reason, x_now = None, None, None
        if series is None:
            reason = "no allocation history to fit"
        elif series.granularity != "month":
            reason = (
                f"only {plural(_months_in(timeline, access_type), 'monthly point')} of allocation history; a forecast "
                f"needs {MIN_MONTHS} (daily counts of a short history would understate the uncertainty)"
            )
        else:
            fit, x_now = series.fit, (as_of.toordinal() + 1 - series.origin) / DAYS_PER_MONTH
        fc = forecast(bought, float(in_use), fit, as_of, x_now)
        out[access_type] = fc
        rows.append(
            {
                "access_type": access_type,
                "capacity": fc.capacity,
                "in_use": fc.in_use,
                "remaining": fc.remaining,
                "months_to_exhaustion": _r(fc.months_to_exhaustion, 2),
                "exhaustion_date": fc.exhaustion_date,
                "status": fc.status,
                "months_low": _r(fc.months_low, 2),
                "months_high": _r(fc.months_high, 2),
                "date_low": fc.date_low,
                "date_high": fc.date_high,
                "in_use_source": source,
                "in_use_other": other,
                "capacity_source": detail.source if detail else "unknown",
                "as_of": as_of,
                "interval": "prediction" if x_now is not None else None,
                "no_fit_reason": reason if fc.status == "no-fit" else None,
                "statement": statement(access_type, fc, reason),
            }
        )
    return pl.DataFrame(rows, schema=FORECAST_SCHEMA), out


def runway(forecast: pl.DataFrame) -> Runway | None:
    """The row of ``forecast`` that runs out first (fewest months, then by access type); None when none does."""
    first = forecast.filter(pl.col("months_to_exhaustion").is_not_null()).sort("months_to_exhaustion", "access_type")
    if first.is_empty():
        return None
    row = first.row(0, named=True)
    return Runway(access_type=row["access_type"], months=row["months_to_exhaustion"], date=row["exhaustion_date"])


def fit_lines(fits: list[SeriesFit]) -> pl.DataFrame:
    """Each point a fit used, with the fitted line and its band (the slope interval pivoting at the points'
    centre); the line is evaluated in Python, as the fit itself, so chart and fit agree to the last digit."""
    cols: dict[str, list[Any]] = {name: [] for name in FIT_LINE_SCHEMA}
    for f in fits:
        lo_slope = f.fit.ci_low if f.fit.ci_low is not None else f.fit.slope
        hi_slope = f.fit.ci_high if f.fit.ci_high is not None else f.fit.slope
        for ordinal, value in f.points:
            a, b = f.value_at(ordinal, lo_slope), f.value_at(ordinal, hi_slope)
            for name, v in (
                ("access_type", f.access_type), ("series", f.series), ("granularity", f.granularity),
                ("date", date.fromordinal(int(ordinal))), ("value", value), ("fitted", _r(f.value_at(ordinal))),
                ("band_low", _r(min(a, b))), ("band_high", _r(max(a, b))),
            ):
                cols[name].append(v)
    return pl.DataFrame(cols, schema=FIT_LINE_SCHEMA)


def _steps(fc: Forecast, as_of: date) -> list[float]:
    """Months after ``as_of`` at which a projection is drawn: each whole month to a horizon (the latest
    exhaustion date, else a year; at least a month, at most three years), and the exhaustion itself."""
    horizon = fc.date_high or fc.exhaustion_date or add_months(as_of, 12) or as_of
    horizon = min(max(horizon, as_of + timedelta(days=31)), as_of + timedelta(days=3 * 365))
    months = (horizon - as_of).days / DAYS_PER_MONTH
    exhaustion = fc.months_to_exhaustion
    return sorted(
        {
            0.0,
            months,
            *(float(m) for m in range(1, int(months) + 1)),
            *((exhaustion,) if exhaustion and exhaustion < months else ()),
        }
    )


def projections(fits: list[SeriesFit], forecasts: dict[str, Forecast], as_of: date) -> pl.DataFrame:
    """The allocated count projected from ``as_of`` at the fitted slope, with the interval's slopes as band."""
    parts = []
    for access_type, fc in forecasts.items():
        fit = next((f.fit for f in fits if f.access_type == access_type and f.series == "allocated"), None)
        if fit is None or fc.status in ("unknown-capacity",):
            continue
        lo = fit.ci_low if fit.ci_low is not None else fit.slope
        hi = fit.ci_high if fit.ci_high is not None else fit.slope
        steps = _steps(fc, as_of)
        parts.append(
            pl.DataFrame(
                {
                    "access_type": [access_type] * len(steps),
                    "date": [add_months(as_of, m) for m in steps],
                    "months": [_r(m, 2) for m in steps],
                    "projected": [_r(fc.in_use + fit.slope * m) for m in steps],
                    "low": [_r(fc.in_use + lo * m) for m in steps],
                    "high": [_r(fc.in_use + hi * m) for m in steps],
                    "capacity": [fc.capacity] * len(steps),
                },
                schema=PROJECTION_SCHEMA,
            )
        )
    return pl.concat(parts) if parts else pl.DataFrame(schema=PROJECTION_SCHEMA)
