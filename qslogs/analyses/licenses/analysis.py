"""The ``licenses`` analysis: allocation vs capacity, usage timeline, growth fit and exhaustion forecast.

Data flow: :mod:`license_events` (logs → canonical events) and :mod:`license_qvd` (QVDs → the same
events) feed :mod:`license_timeline` (allocation state, daily/monthly timeline, lists), then
:mod:`license_fits` (fits, forecasts, chart data, over :mod:`growth`). This module wires them into the
analysis contract and turns the numbers into findings.

**Capacity** (formats.md §1.3). In ``CalInfo`` the ``<X>AllocatedTokens`` of Professional/Analyzer are
the allocations *held by users* (in use), ``<X>UsedTokens`` those that have been used. The licenses
*bought* are not among the observed keys; qslogs reads them from ``<X>TotalTokens`` or, failing that,
``<X>AllocatedTokens + <X>AvailableTokens`` when a bundle has them, and otherwise needs
``--professional``/``--analyzer``. Tokens: ``TotalTokens`` (0 = no token license). Command-line values
win over the bundle. ``capacity.source`` says where the numbers came from.

**Time window**: ``--until`` drops later events and is the "now" of the lists and forecasts (default:
the end of the bundle). ``--since`` only chooses the fit window: the allocation count needs the whole
history to know who already held a license.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from qslogs.analyses.base import Analysis, AnalysisOptions, AnalysisResult, run
from qslogs.analyses.licenses.denials import denial_findings, denials_by_user, service_users
from qslogs.analyses.licenses.events import (
    AUDIT_SECURITY,
    LICENSE_LOG,
    LicenseRules,
    audit_security_events,
    dedupe_events,
    license_log_events,
    site_activity,
)
from qslogs.analyses.licenses.fits import SeriesFit, all_fits, chart_data, fit_rows, forecast_rows
from qslogs.analyses.licenses.growth import Forecast
from qslogs.analyses.licenses.qvd import drop_covered, qvd_license_events
from qslogs.analyses.licenses.timeline import (
    daily_timeline,
    denial_list,
    monthly_timeline,
    recent_changes,
    unused_allocations,
)
from qslogs.findings import Finding, Severity
from qslogs.frames import Frames
from qslogs.jsonable import to_jsonable
from qslogs.words import plural

NAME = "licenses"
#: Keys of ``qslogs license --json``, in order (``AnalysisResult.tables`` has these plus ``chart``).
JSON_KEYS = (
    "capacity",
    "timeline",
    "fits",
    "forecast",
    "changes_7d",
    "unused",
    "denials",
    "denials_by_user",
    "warnings",
    "qvd_mapping",
)
SHORT_HISTORY_DAYS = 90
CRITICAL_MONTHS, WARNING_MONTHS = 3.0, 6.0


def _num(cal: dict[str, Any], key: str) -> float | None:
    lower = {k.lower(): v for k, v in cal.items()}
    value = lower.get(key.lower())
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def capacity_table(meta: dict[str, Any], options: AnalysisOptions) -> dict[str, Any]:
    """Licenses bought and in use per access type, with where each number came from (module docstring)."""
    cal = meta.get("CalInfo")
    if isinstance(cal, list):
        cal = next((c for c in cal if isinstance(c, dict)), None)
    cal = cal if isinstance(cal, dict) else {}
    details = []
    for access_type, cli in (("Professional", options.professional), ("Analyzer", options.analyzer)):
        allocated = _num(cal, f"{access_type}AllocatedTokens")
        available = _num(cal, f"{access_type}AvailableTokens")
        bundle = _num(cal, f"{access_type}TotalTokens")
        if bundle is None and allocated is not None and available is not None:
            bundle = allocated + available
        source = "command line" if cli is not None else "bundle CalInfo" if bundle is not None else "unknown"
        details.append(
            {
                "access_type": access_type,
                "capacity": float(cli) if cli is not None else bundle,
                "source": source,
                "in_use": allocated,
                "used": _num(cal, f"{access_type}UsedTokens"),
                "quarantined": _num(cal, f"{access_type}QuarantinedTokens"),
            }
        )
    total = _num(cal, "TotalTokens")
    tokens_bundle = total if total else None
    details.append(
        {
            "access_type": "Tokens",
            "capacity": float(options.tokens) if options.tokens is not None else tokens_bundle,
            "source": "command line"
            if options.tokens is not None
            else "bundle CalInfo"
            if tokens_bundle is not None
            else "unknown",
            "in_use": tokens_bundle - (_num(cal, "AvailableTokens") or 0.0) if tokens_bundle else None,
            "used": None,
            "quarantined": None,
        }
    )
    sources = {str(d["source"]) for d in details if d["source"] != "unknown"}
    source = " + ".join(sorted(sources, reverse=True)) if sources else "unknown"
    return {
        "source": source,
        "professional": details[0]["capacity"],
        "analyzer": details[1]["capacity"],
        "tokens": details[2]["capacity"],
        "details": details,
        "calinfo": {k: v for k, v in cal.items() if isinstance(v, int | float)} if cal else None,
    }


def queries(frames: Frames, options: AnalysisOptions) -> dict[str, pl.LazyFrame]:
    """License events from the logs (lazy), site activity (lazy), and the events of the loaded QVDs.

    The QVDs were read by the loading layer (:attr:`Frames.qvds`, only the fields this analysis uses);
    their events and mapping table are small frames handed on as lazy ones to :func:`build`.
    """
    qvd_map = options.qvd_map
    rules = LicenseRules().with_overrides(qvd_map.commands) if qvd_map else LicenseRules()
    qvd_events, mapping = qvd_license_events(frames.qvds, qvd_map)
    return {
        "log_events": pl.concat([license_log_events(frames), audit_security_events(frames, rules)]),
        "activity": site_activity(frames),
        "qvd_events": qvd_events.lazy(),
        "qvd_mapping": mapping.lazy(),
        "service_users": service_users(frames),
    }


def _fmt(v: float) -> str:
    return f"{v:+.1f}" if abs(v) >= 0.95 else f"{v:+.2f}"


def _band(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return "no interval: too few points"
    return f"95 % CI {lo:.1f}–{hi:.1f}" if max(abs(lo), abs(hi)) >= 0.95 else f"95 % CI {lo:.2f}–{hi:.2f}"


def _findings(
    fits: list[SeriesFit],
    forecasts: dict[str, Forecast],
    fc_rows: list[dict[str, Any]],
    unused: pl.DataFrame,
    by_user: list[dict[str, Any]],
    warnings: list[str],
) -> list[Finding]:
    out: list[Finding] = []
    for row in fc_rows:
        access_type, fc = row["access_type"], forecasts[row["access_type"]]
        fit = next((f for f in fits if f.access_type == access_type and f.series == "allocated"), None)
        if fit is None:
            trend = "no allocation history to fit"
        elif fit.fit.flat:
            band = _band(fit.fit.ci_low, fit.fit.ci_high)
            trend = f"flat at about {fc.in_use:g} ({_fmt(fit.fit.slope)} users/month, {band})"
        else:
            trend = f"{_fmt(fit.fit.slope)} users/month ({_band(fit.fit.ci_low, fit.fit.ci_high)})"
        cap = f"{fc.capacity:g}" if fc.capacity is not None else None
        if fc.status == "exhausts" and fc.exhaustion_date is not None:
            title = f"{access_type}: {trend}; {cap} licenses run out around {fc.exhaustion_date:%Y-%m}"
        elif fc.status == "over-capacity":
            title = f"{access_type}: already over capacity ({fc.in_use:g} allocated, {cap} licenses); {trend}"
        elif fc.status == "at-capacity":
            title = f"{access_type}: at capacity (all {cap} licenses allocated); {trend}"
        elif fc.status == "no-fit":
            title = f"{access_type}: {fc.in_use:g} of {cap} licenses allocated; no forecast ({row['no_fit_reason']})"
        elif fc.status == "never":
            title = f"{access_type}: {trend}; {cap} licenses never run out at this rate"
        else:
            title = f"{access_type}: {trend}; capacity unknown"
        months = fc.months_to_exhaustion
        severity = (
            Severity.CRITICAL
            if fc.status in ("over-capacity", "at-capacity")
            or (months is not None and months < CRITICAL_MONTHS)
            else Severity.WARNING
            if months is not None and months < WARNING_MONTHS
            else Severity.INFO
            if fc.status in ("unknown-capacity", "exhausts", "no-fit")
            else Severity.OK
        )
        out.append(Finding(NAME, severity, title, row["statement"], to_jsonable(row)))
    out += denial_findings(NAME, by_user)
    if unused.height:
        idle90 = int(unused["no_use_90d"].sum())
        out.append(
            Finding(
                NAME,
                Severity.INFO,
                f"{plural(unused.height, 'allocated user')} idle for 30+ days ({idle90} for 90+ days)",
                "Candidates to release, or to downgrade from Professional to Analyzer; see the list.",
                {"idle_30d": unused.height, "idle_90d": idle90},
            )
        )
    out += [
        Finding(NAME, Severity.WARNING, w, data={"warning": w}, about="bundle")
        for w in warnings
        if w.startswith("Short history")
    ]
    return out


def _window(
    frames: Frames, events: pl.DataFrame, activity: pl.DataFrame, options: AnalysisOptions
) -> tuple[datetime | None, datetime | None]:
    firsts = [v for v in (events["time"].min(), activity["first"].min()) if isinstance(v, datetime)]
    lasts = [
        v
        for v in (events["time"].max(), activity["last"].max(), frames.time_span[1])
        if isinstance(v, datetime)
    ]
    first = min(firsts) if firsts else None
    end = options.until or (max(lasts) if lasts else None)
    return first, end


def build(results: dict[str, pl.DataFrame], frames: Frames, options: AnalysisOptions) -> AnalysisResult:
    """Events → timeline, fits, forecasts, lists, findings, and the JSON-ready tables."""
    warnings: list[str] = []
    mapping = results["qvd_mapping"]
    for row in mapping.filter(pl.col("status") == "error").iter_rows(named=True):
        warnings.append(f"QVD {row['file']} not used: {row['reason']}")
    qvd_events = drop_covered(results["qvd_events"], frames, (LICENSE_LOG, AUDIT_SECURITY))
    events = dedupe_events(pl.concat([results["log_events"], qvd_events]))
    activity = results["activity"]
    if options.until is not None:
        events = events.filter(pl.col("time") <= options.until)
        activity = activity.filter(pl.col("first") <= options.until)
    capacity = capacity_table(frames.meta, options)
    first, end = _window(frames, events, activity, options)
    tables: dict[str, Any] = {
        "capacity": capacity,
        "timeline": [],
        "fits": [],
        "forecast": [],
        "changes_7d": [],
        "unused": [],
        "denials": [],
        "denials_by_user": [],
        "warnings": warnings,
        "qvd_mapping": mapping.to_dicts(),
        "chart": {"fit_lines": [], "projection": []},
    }
    if first is None or end is None or events.is_empty():
        warnings.append(
            "No license events found (no Repository/License or AuditSecurity license rows, no "
            "license QVD): nothing to fit."
        )
        return AnalysisResult(
            NAME,
            [Finding(NAME, Severity.INFO, "No license events in the bundle", warnings[-1])],
            to_jsonable(tables),
        )
    daily = daily_timeline(events, activity, first.date(), end.date())
    timeline = pl.concat([monthly_timeline(daily, events, activity), daily])
    fit_from = _fit_start(results["log_events"], qvd_events, mapping, options.since, warnings)
    since = fit_from.date() if fit_from is not None else None
    fits = all_fits(timeline, since)
    span_days = (end - max(first, fit_from or first)).total_seconds() / 86400
    if span_days < SHORT_HISTORY_DAYS:
        warnings.append(
            f"Short history: {span_days:.0f} days of license data in the fit window "
            f"(fits need {SHORT_HISTORY_DAYS}+ days to mean much; the License Monitor keeps 12 months)."
        )
    if since is not None and since > end.date():
        warnings.append(f"--since {since} is after the end of the data ({end.date()}): nothing to fit.")
    fc_rows, forecasts = forecast_rows(capacity, timeline, fits, end.date())
    for row in fc_rows:
        if row["capacity"] is None:
            warnings.append(f"{row['access_type']}: capacity unknown; give --{row['access_type'].lower()} N.")
    _check_calinfo(capacity, timeline, warnings)
    unused = unused_allocations(events, activity, end)
    denials, denials_total = denial_list(events)
    by_user = denials_by_user(events, set(results["service_users"]["service_user"].to_list()))
    if denials_total > denials.height:
        warnings.append(f"{denials_total} denials: only the last {denials.height} are listed.")
    tables.update(
        timeline=timeline.select(
            "granularity",
            "period",
            "access_type",
            "allocated",
            "active",
            "denied",
            "start",
            "end",
            "coverage",
        ).to_dicts(),
        fits=fit_rows(fits),
        forecast=fc_rows,
        changes_7d=recent_changes(events, end).to_dicts(),
        unused=unused.to_dicts(),
        denials=denials.to_dicts(),
        denials_by_user=by_user,
        chart={**chart_data(fits, forecasts, end.date()), "end": end, "start": first},
    )
    findings = _findings(fits, forecasts, fc_rows, unused, by_user, warnings)
    return AnalysisResult(NAME, findings, to_jsonable(tables))


def _fit_start(
    log_events: pl.DataFrame,
    qvd_events: pl.DataFrame,
    mapping: pl.DataFrame,
    since: datetime | None,
    warnings: list[str],
) -> datetime | None:
    """Start of the fit window: ``--since``, else the first log event if a snapshot QVD reaches further back.

    A QVD listing current allocations (an allocation table without a removal date) shows only the
    allocations that survived: before the logs begin, its history misses every removal, so fitting on
    it would bias the slope. Its rows still set who held what when the logs begin.
    """
    snapshot = mapping.filter(
        (pl.col("status") == "used") & (pl.col("kind") == "allocation") & pl.col("end_time").is_null()
    )
    first_log = log_events["time"].min()
    first_qvd = qvd_events["time"].min()
    files = ", ".join(snapshot["file"].to_list())
    if not snapshot.is_empty() and not isinstance(first_log, datetime):
        warnings.append(
            f"{files} lists current allocations only (removed ones are invisible): growth from it alone may "
            "be overstated; add the bundle's license logs to see removals."
        )
    if since is not None or snapshot.is_empty():
        return since
    if not isinstance(first_log, datetime) or not isinstance(first_qvd, datetime) or first_qvd >= first_log:
        return None
    warnings.append(
        f"Fit window starts where the logs begin ({first_log:%Y-%m-%d}): earlier history comes only from "
        f"{files}, which lists current allocations (removed ones are invisible). Use --since to fit earlier."
    )
    return first_log


def _check_calinfo(capacity: dict[str, Any], timeline: pl.DataFrame, warnings: list[str]) -> None:
    """Warn when the logs' allocated count differs from CalInfo's (allocations older than the logs)."""
    for d in capacity["details"]:
        if d["in_use"] is None or d["access_type"] == "Tokens":
            continue
        last = (
            timeline.filter((pl.col("access_type") == d["access_type"]) & (pl.col("granularity") == "day"))
            .sort("period")["allocated"]
            .drop_nulls()
        )
        if last.len() and float(last[-1]) != d["in_use"]:
            warnings.append(
                f"{d['access_type']}: the logs account for {last[-1]} allocations, CalInfo says "
                f"{d['in_use']:g} (allocations made before the logs begin and never used since "
                f"are invisible in the logs); the forecast uses CalInfo's number."
            )


ANALYSIS = Analysis(NAME, queries, build)


def license_json(result: AnalysisResult) -> dict[str, Any]:
    """The ``qslogs license --json`` object: exactly :data:`JSON_KEYS` from the result's tables."""
    return {k: result.tables.get(k, []) for k in JSON_KEYS}


def no_logs() -> Frames:
    """Empty frames, for ``qslogs license`` run on QVD files alone."""
    from qslogs.frames import FILE_STATS_SCHEMA, OFFSETS_SCHEMA
    from qslogs.schemas import BAD_LINE_SCHEMA

    return Frames(
        frames={},
        files=pl.DataFrame(schema=FILE_STATS_SCHEMA),
        bad_lines=pl.DataFrame(schema=BAD_LINE_SCHEMA),
        file_issues=[],
        offsets=pl.DataFrame(schema=OFFSETS_SCHEMA),
    )


def license_analysis(frames: Frames, options: AnalysisOptions | None = None) -> AnalysisResult:
    """Run just the licenses analysis (what ``qslogs license`` shows)."""
    result = run([ANALYSIS], frames, options or AnalysisOptions())[NAME]
    assert isinstance(result, AnalysisResult)
    return result
