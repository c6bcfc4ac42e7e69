"""The licenses analysis' conclusions in words: one finding per forecast row, idle allocations, short history.

Each finding points at the rows it is about (:attr:`qslogs.findings.Finding.table` / ``keys``): a forecast
finding at its access type's row of ``forecast``, the idle-users finding at the users of ``unused``. The
short-history finding is about the input, not the site (``about="bundle"``): the report shows it with the
log span in the Bundle section.
"""

from __future__ import annotations

import polars as pl

from qslogs.analyses.licenses.fits import SeriesFit
from qslogs.analyses.licenses.growth import Forecast
from qslogs.findings import Finding, Severity
from qslogs.jsonable import frame_rows
from qslogs.words import plural

#: Months of runway below which a forecast is critical, and below which it is a warning.
CRITICAL_MONTHS, WARNING_MONTHS = 3.0, 6.0
#: Warnings that start so are findings about the input (too little license history to fit).
SHORT_HISTORY = "Short history"


def _fmt(v: float) -> str:
    return f"{v:+.1f}" if abs(v) >= 0.95 else f"{v:+.2f}"


def _band(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return "no interval: too few points"
    return f"95 % CI {lo:.1f}–{hi:.1f}" if max(abs(lo), abs(hi)) >= 0.95 else f"95 % CI {lo:.2f}–{hi:.2f}"


def _severity(fc: Forecast) -> Severity:
    months = fc.months_to_exhaustion
    if fc.status in ("over-capacity", "at-capacity") or (months is not None and months < CRITICAL_MONTHS):
        return Severity.CRITICAL
    if months is not None and months < WARNING_MONTHS:
        return Severity.WARNING
    return Severity.INFO if fc.status in ("unknown-capacity", "exhausts", "no-fit") else Severity.OK


def _title(access_type: str, fc: Forecast, fit: SeriesFit | None, no_fit_reason: str | None) -> str:
    if fit is None:
        trend = "no allocation history to fit"
    elif fit.fit.flat:
        band = _band(fit.fit.ci_low, fit.fit.ci_high)
        trend = f"flat at about {fc.in_use:g} ({_fmt(fit.fit.slope)} users/month, {band})"
    else:
        trend = f"{_fmt(fit.fit.slope)} users/month ({_band(fit.fit.ci_low, fit.fit.ci_high)})"
    cap = f"{fc.capacity:g}" if fc.capacity is not None else None
    if fc.status == "exhausts" and fc.exhaustion_date is not None:
        return f"{access_type}: {trend}; {cap} licenses run out around {fc.exhaustion_date:%Y-%m}"
    if fc.status == "over-capacity":
        return f"{access_type}: already over capacity ({fc.in_use:g} allocated, {cap} licenses); {trend}"
    if fc.status == "at-capacity":
        return f"{access_type}: at capacity (all {cap} licenses allocated); {trend}"
    if fc.status == "no-fit":
        return f"{access_type}: {fc.in_use:g} of {cap} licenses allocated; no forecast ({no_fit_reason})"
    if fc.status == "never":
        return f"{access_type}: {trend}; {cap} licenses never run out at this rate"
    return f"{access_type}: {trend}; capacity unknown"


def forecast_findings(
    analysis: str, fits: list[SeriesFit], forecasts: dict[str, Forecast], forecast: pl.DataFrame
) -> list[Finding]:
    """One finding per row of ``forecast``: the trend, and when (or whether) the licenses run out."""
    out = []
    for row in frame_rows(forecast):
        access_type = row["access_type"]
        fc = forecasts[access_type]
        fit = next((f for f in fits if f.access_type == access_type and f.series == "allocated"), None)
        out.append(
            Finding(
                analysis,
                _severity(fc),
                _title(access_type, fc, fit, row["no_fit_reason"]),
                row["statement"],
                row,
                table="forecast",
                keys=(access_type,),
            )
        )
    return out


def unused_finding(analysis: str, unused: pl.DataFrame) -> list[Finding]:
    """Allocated users idle for 30+ days (and how many for 90+): candidates to release or downgrade."""
    if not unused.height:
        return []
    idle90 = int(unused["no_use_90d"].sum())
    return [
        Finding(
            analysis,
            Severity.INFO,
            f"{plural(unused.height, 'allocated user')} idle for 30+ days ({idle90} for 90+ days)",
            "Candidates to release, or to downgrade from Professional to Analyzer; see the list.",
            {"idle_30d": unused.height, "idle_90d": idle90},
            table="unused",
            keys=tuple(str(u) for u in unused["user"].unique(maintain_order=True).drop_nulls().to_list()),
        )
    ]


def history_findings(analysis: str, warnings: list[str]) -> list[Finding]:
    """The short-history warning as a finding about the input (``about="bundle"``)."""
    return [
        Finding(analysis, Severity.WARNING, w, data={"warning": w}, about="bundle")
        for w in warnings
        if w.startswith(SHORT_HISTORY)
    ]
