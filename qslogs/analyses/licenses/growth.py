"""Growth fits and license-exhaustion forecasts: pure numeric functions, no polars, no I/O.

Series here are short (a year of monthly points, or a few hundred daily ones), so the arithmetic is
plain Python over floats: numpy is not a runtime dependency of qslogs and scipy is not needed.

- :func:`ols` is ordinary least squares with a two-sided confidence interval for the slope from the
  Student t distribution with ``n - 2`` degrees of freedom (:func:`t_quantile`).
- :func:`theil_sen` is the median of pairwise slopes with Sen's (1968) distribution-free interval:
  with ``N`` pairwise slopes sorted and ``C = z * sqrt(Var S)`` (``Var S`` the Kendall variance,
  tie-corrected), the bounds are the slopes of rank ``(N - C) / 2`` and ``(N + C) / 2 + 1``.
- :func:`fit_series` picks between them by a documented rule (:data:`OUTLIER_Z`), and marks flat lines.
- :func:`forecast` turns a slope and its interval into months and a date of exhaustion. With the fit's
  residual scatter and the x of "now" it uses the **prediction interval** of a future monthly point,
  ``line ± t(n-2) · s · sqrt(1 + 1/n + (x - mean x)² / Sxx)`` (slope uncertainty *and* the scatter of
  the points): the earliest exhaustion is where its upper bound reaches the capacity, the latest where
  its lower bound does (:func:`prediction_months`).

Slopes are in units per month, where a month is the mean Gregorian month (:data:`DAYS_PER_MONTH`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import NormalDist, median

# The fits' t distribution lives in tdist; re-exported here for readers of this module's intervals.
from qslogs.analyses.licenses.tdist import betainc as betainc
from qslogs.analyses.licenses.tdist import t_cdf as t_cdf
from qslogs.analyses.licenses.tdist import t_quantile as t_quantile

#: The mean Gregorian month in days: x values and slopes are expressed in these months.
DAYS_PER_MONTH = 365.2425 / 12

#: A point is an outlier when its residual from the Theil–Sen line exceeds this many robust standard
#: deviations (1.4826 × the median absolute residual).
OUTLIER_Z = 3.0

#: A slope is "tiny" (the line is flat when its interval also holds 0) below this many units a month...
FLAT_ABS = 0.25
#: ...or below this fraction of the series' mean level a month, whichever is larger.
FLAT_REL = 0.01

#: Forecasts further out than this many months get no date (they are reported as beyond the horizon).
HORIZON_MONTHS = 1200.0


@dataclass(frozen=True)
class Fit:
    """A straight line through a series, with the slope's confidence interval."""

    method: str = field(metadata={"help": "ols (least squares) or theil-sen (median of pairwise slopes)"})
    slope: float = field(metadata={"help": "units per x unit (per month for the license series)"})
    intercept: float = field(metadata={"help": "value of the line at x = 0"})
    ci_low: float | None = field(
        metadata={"help": "lower bound of the slope's interval (None below 3 points)"}
    )
    ci_high: float | None = field(
        metadata={"help": "upper bound of the slope's interval (None below 3 points)"}
    )
    r2: float | None = field(
        metadata={"help": "share of variance explained by the line (None for a constant)"}
    )
    n_points: int = field(metadata={"help": "points the line was fitted on"})
    outliers: int = field(default=0, metadata={"help": "points flagged as outliers (see OUTLIER_Z)"})
    flat: bool = field(default=False, metadata={"help": "interval holds 0 and the slope is tiny"})
    level: float = field(default=0.95, metadata={"help": "confidence level of the interval"})
    x_mean: float | None = field(default=None, metadata={"help": "mean of the x values (prediction interval)"})
    sxx: float | None = field(
        default=None, metadata={"help": "sum of squared x deviations from their mean (prediction interval)"}
    )
    resid_sd: float | None = field(
        default=None, metadata={"help": "residual standard deviation around the line, n - 2 degrees of freedom"}
    )

    def at(self, x: float) -> float:
        """The line's value at ``x``."""
        return self.intercept + self.slope * x


def _r2(x: list[float], y: list[float], slope: float, intercept: float) -> float | None:
    mean_y = sum(y) / len(y)
    sst = sum((v - mean_y) ** 2 for v in y)
    if sst <= 1e-12 * max(1.0, mean_y * mean_y) * len(y):
        return None
    sse = sum((v - intercept - slope * u) ** 2 for u, v in zip(x, y, strict=True))
    return 1.0 - sse / sst


def _check(x: list[float], y: list[float]) -> None:
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length ({len(x)} and {len(y)})")
    if len(x) < 2 or len(set(x)) < 2:
        raise ValueError("a line needs at least two distinct x values")


def ols(x: list[float], y: list[float], level: float = 0.95) -> Fit:
    """Least-squares line with the slope's t interval (needs 2 distinct x; an interval needs 3 points)."""
    _check(x, y)
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((u - mx) ** 2 for u in x)
    sxy = sum((u - mx) * (v - my) for u, v in zip(x, y, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    low = high = None
    if n >= 3:
        sse = sum((v - intercept - slope * u) ** 2 for u, v in zip(x, y, strict=True))
        se = math.sqrt(max(sse, 0.0) / (n - 2) / sxx)
        half = t_quantile(0.5 + level / 2.0, n - 2) * se
        low, high = slope - half, slope + half
    mx, sxx_, sd = _spread(x, y, slope, intercept)
    return Fit("ols", slope, intercept, low, high, _r2(x, y, slope, intercept), n, level=level,
               x_mean=mx, sxx=sxx_, resid_sd=sd)


def _spread(x: list[float], y: list[float], slope: float, intercept: float) -> tuple[float, float, float | None]:
    """``x_mean``, ``sxx`` and ``resid_sd`` of a line (resid_sd None below 3 points)."""
    n = len(x)
    mx = sum(x) / n
    sse = sum((v - intercept - slope * u) ** 2 for u, v in zip(x, y, strict=True))
    return mx, sum((u - mx) ** 2 for u in x), math.sqrt(max(sse, 0.0) / (n - 2)) if n >= 3 else None


def _tie_term(values: list[float]) -> float:
    counts: dict[float, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return sum(k * (k - 1) * (2 * k + 5) for k in counts.values() if k > 1)


def theil_sen(x: list[float], y: list[float], level: float = 0.95) -> Fit:
    """Median of pairwise slopes with Sen's distribution-free interval; intercept = median(y - slope x)."""
    _check(x, y)
    n = len(x)
    slopes = sorted((y[j] - y[i]) / (x[j] - x[i]) for i in range(n) for j in range(i + 1, n) if x[j] != x[i])
    slope = median(slopes)
    intercept = median(v - slope * u for u, v in zip(x, y, strict=True))
    low = high = None
    if n >= 3:
        var_s = (n * (n - 1) * (2 * n + 5) - _tie_term(x) - _tie_term(y)) / 18.0
        c = NormalDist().inv_cdf(0.5 + level / 2.0) * math.sqrt(max(var_s, 0.0))
        count = len(slopes)
        lo_rank = int(round((count - c) / 2.0))  # 1-based rank of the lower bound
        hi_rank = int(round((count + c) / 2.0)) + 1
        low = slopes[min(max(lo_rank, 1), count) - 1]
        high = slopes[min(max(hi_rank, 1), count) - 1]
    mx, sxx_, sd = _spread(x, y, slope, intercept)
    return Fit("theil-sen", slope, intercept, low, high, _r2(x, y, slope, intercept), n, level=level,
               x_mean=mx, sxx=sxx_, resid_sd=sd)


def outlier_mask(x: list[float], y: list[float], fit: Fit) -> list[bool]:
    """Points whose residual from ``fit`` exceeds :data:`OUTLIER_Z` robust standard deviations.

    The scale is 1.4826 × the median absolute residual. When more than half the points sit exactly
    on the line (scale 0), every point off it is an outlier.
    """
    res = [v - fit.at(u) for u, v in zip(x, y, strict=True)]
    scale = 1.4826 * median(abs(r) for r in res)
    eps = 1e-9 * max(1.0, max(abs(v) for v in y))
    if scale <= eps:
        return [abs(r) > eps for r in res]
    return [abs(r) > OUTLIER_Z * scale for r in res]


def is_flat(fit: Fit, mean_level: float) -> bool:
    """True when the interval holds 0 and |slope| < max(:data:`FLAT_ABS`, :data:`FLAT_REL` × level)."""
    if fit.ci_low is None or fit.ci_high is None:
        return False
    tiny = max(FLAT_ABS, FLAT_REL * abs(mean_level))
    return fit.ci_low <= 0.0 <= fit.ci_high and abs(fit.slope) < tiny


def fit_series(x: list[float], y: list[float], level: float = 0.95) -> Fit:
    """Least squares, or Theil–Sen when outliers dominate; flat lines are marked ``flat``.

    Rule: fit both lines; flag outliers against the Theil–Sen line (:func:`outlier_mask`). Theil–Sen is
    reported when there are at least 5 points, at least one outlier, and dropping the outliers moves the
    least-squares slope by more than its own standard error (the outliers, not the bulk of the points,
    decide the least-squares line). Otherwise least squares is reported.
    """
    _check(x, y)
    fit = ols(x, y, level)
    robust = theil_sen(x, y, level)
    mask = outlier_mask(x, y, robust)
    n_out = sum(mask)
    chosen = fit
    if len(x) >= 5 and n_out and fit.ci_high is not None:
        keep = [i for i, bad in enumerate(mask) if not bad]
        kx, ky = [x[i] for i in keep], [y[i] for i in keep]
        se = (fit.ci_high - fit.slope) / t_quantile(0.5 + level / 2.0, len(x) - 2)
        if len(keep) < 3 or len(set(kx)) < 2:
            chosen = robust
        else:
            inlier_slope = ols(kx, ky, level).slope
            if abs(inlier_slope - fit.slope) > se:
                chosen = robust
    mean_level = sum(y) / len(y)
    return Fit(
        chosen.method,
        chosen.slope,
        chosen.intercept,
        chosen.ci_low,
        chosen.ci_high,
        chosen.r2,
        chosen.n_points,
        n_out,
        is_flat(chosen, mean_level),
        level,
        chosen.x_mean,
        chosen.sxx,
        chosen.resid_sd,
    )


@dataclass(frozen=True)
class Forecast:
    """When the licenses of one access type run out at the fitted rate."""

    capacity: float | None = field(metadata={"help": "licenses bought (None when unknown)"})
    in_use: float = field(metadata={"help": "licenses allocated at the end of the data"})
    remaining: float | None = field(metadata={"help": "capacity - in_use (negative: over capacity)"})
    status: str = field(
        metadata={
            "help": "unknown-capacity, over-capacity, at-capacity, no-fit (too few monthly points), never, "
            "beyond-horizon or exhausts"
        }
    )
    months_to_exhaustion: float | None = field(
        metadata={"help": "months from the end of the data; 0 if at or over capacity; None if never"}
    )
    months_low: float | None = field(
        default=None, metadata={"help": "earliest (at the interval's high slope)"}
    )
    months_high: float | None = field(
        default=None, metadata={"help": "latest (at the interval's low slope); None when that slope is <= 0"}
    )
    exhaustion_date: date | None = field(default=None, metadata={"help": "as_of + months"})
    date_low: date | None = field(default=None, metadata={"help": "earliest exhaustion date"})
    date_high: date | None = field(
        default=None, metadata={"help": "latest exhaustion date (None: maybe never)"}
    )


def add_months(day: date, months: float) -> date | None:
    """``day`` plus a (fractional) number of mean months; None beyond :data:`HORIZON_MONTHS`."""
    if months > HORIZON_MONTHS:
        return None
    return day + timedelta(days=round(months * DAYS_PER_MONTH))


def _months(remaining: float, slope: float | None) -> float | None:
    if slope is None or slope <= 0.0:
        return None
    return remaining / slope


def prediction_half_width(fit: Fit, x: float) -> float | None:
    """Half-width of the prediction interval of a new point at ``x`` (None without the fit's spread)."""
    if fit.resid_sd is None or fit.sxx is None or fit.x_mean is None or fit.n_points < 3 or fit.sxx <= 0:
        return None
    t = t_quantile(0.5 + fit.level / 2.0, fit.n_points - 2)
    return t * fit.resid_sd * math.sqrt(1.0 + 1.0 / fit.n_points + (x - fit.x_mean) ** 2 / fit.sxx)


def _first_reach(value: Callable[[float], float], target: float) -> float | None:
    """The smallest m in [0, HORIZON_MONTHS] with value(m) >= target (scan, then bisection); None if none."""
    if value(0.0) >= target:
        return 0.0
    step, lo = 0.25, 0.0
    while lo < HORIZON_MONTHS:
        hi = min(lo + step, HORIZON_MONTHS)
        if value(hi) >= target:
            for _ in range(40):
                mid = (lo + hi) / 2.0
                lo, hi = (lo, mid) if value(mid) >= target else (mid, hi)
            return hi
        lo, step = hi, min(step * 1.05, 6.0)
    return None


def prediction_months(
    fit: Fit, in_use: float, capacity: float, x_now: float
) -> tuple[float | None, float | None] | None:
    """Earliest and latest months until exhaustion from the prediction interval (None: no spread known).

    The path is ``in_use + slope · m``; earliest is where its upper prediction bound reaches ``capacity``,
    latest where its lower bound does (None when that never happens within the horizon).
    """
    if prediction_half_width(fit, x_now) is None:
        return None

    def bound(sign: float) -> Callable[[float], float]:
        return lambda m: in_use + fit.slope * m + sign * (prediction_half_width(fit, x_now + m) or 0.0)

    return _first_reach(bound(1.0), capacity), _first_reach(bound(-1.0), capacity)


def forecast(
    capacity: float | None, in_use: float, fit: Fit | None, as_of: date, x_now: float | None = None
) -> Forecast:
    """Months and date at which ``in_use`` growing at the fitted slope reaches ``capacity``.

    Over capacity and exactly at capacity give 0 months and ``as_of``; no fit gives ``no-fit``; a slope
    <= 0 or a flat line gives ``never``. The interval is the prediction interval when the fit carries its
    spread and ``x_now`` (the fit's x of ``as_of``) is given, else it comes from the slope's interval alone
    (high slope → earliest date).
    """
    if capacity is None:
        return Forecast(None, in_use, None, "unknown-capacity", None)
    remaining = capacity - in_use
    if remaining < 0:
        return Forecast(capacity, in_use, remaining, "over-capacity", 0.0, 0.0, 0.0, as_of, as_of, as_of)
    if remaining == 0:
        return Forecast(capacity, in_use, remaining, "at-capacity", 0.0, 0.0, 0.0, as_of, as_of, as_of)
    if fit is None:
        return Forecast(capacity, in_use, remaining, "no-fit", None)
    if fit.flat or fit.slope <= 0.0:
        return Forecast(capacity, in_use, remaining, "never", None)
    months = remaining / fit.slope
    span = prediction_months(fit, in_use, capacity, x_now) if x_now is not None else None
    low, high = span if span is not None else (_months(remaining, fit.ci_high), _months(remaining, fit.ci_low))
    when = add_months(as_of, months)
    status = "exhausts" if when is not None else "beyond-horizon"
    return Forecast(
        capacity,
        in_use,
        remaining,
        status,
        months,
        low,
        high,
        when,
        add_months(as_of, low) if low is not None else None,
        add_months(as_of, high) if high is not None else None,
    )
