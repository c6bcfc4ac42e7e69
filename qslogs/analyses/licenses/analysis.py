"""The ``licenses`` analysis: allocation vs capacity, usage timeline, growth fit and exhaustion forecast.

Data flow: :mod:`~.events` (logs → canonical events) and :mod:`~.qvd` (QVDs → the same events) feed
:mod:`~.timeline` (allocation state, daily/monthly timeline, lists), then :mod:`~.fits` (fits, forecasts,
chart data, over :mod:`~.growth`); :mod:`~.findings` and :mod:`~.denials` put the numbers in words. This
module wires them into the analysis contract: :func:`build` returns a :class:`~.result.LicensesResult`.

**Capacity**: :mod:`~.capacity` (the bundle's CalInfo and the command line, formats.md §1.3).

**Time window**: ``--until`` drops later events and is the "now" of the lists and forecasts (default:
the end of the bundle). ``--since`` only chooses the fit window: the allocation count needs the whole
history to know who already held a license.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from qslogs.analyses.base import Analysis, AnalysisOptions
from qslogs.analyses.licenses.capacity import capacity_table, check_calinfo
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
from qslogs.analyses.licenses.findings import (
    SHORT_HISTORY,
    forecast_findings,
    history_findings,
    unused_finding,
)
from qslogs.analyses.licenses.fits import all_fits, fit_lines, fit_rows, forecast_rows, projections, runway
from qslogs.analyses.licenses.qvd import drop_covered, qvd_license_events
from qslogs.analyses.licenses.result import Capacity, LicensesResult
from qslogs.analyses.licenses.timeline import (
    daily_timeline,
    denial_list,
    monthly_timeline,
    recent_changes,
    unused_allocations,
)
from qslogs.findings import Finding, Severity
from qslogs.frames import Frames

NAME = LicensesResult.NAME
#: Fewer days of license data in the fit window than this give a "Short history" warning (and finding).
SHORT_HISTORY_DAYS = 90


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


def build(results: dict[str, pl.DataFrame], frames: Frames, options: AnalysisOptions) -> LicensesResult:
    """Events → timeline, fits, forecasts, lists and findings, as a :class:`LicensesResult`."""
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
    if first is None or end is None or events.is_empty():
        warnings.append(
            "No license events found (no Repository/License or AuditSecurity license rows, no "
            "license QVD): nothing to fit."
        )
        return _no_events(capacity, mapping, warnings)
    daily = daily_timeline(events, activity, first.date(), end.date())
    timeline = LicensesResult.conform("timeline", pl.concat([monthly_timeline(daily, events, activity), daily]))
    fit_from = _fit_start(results["log_events"], qvd_events, mapping, options.since, warnings)
    since = fit_from.date() if fit_from is not None else None
    fits = all_fits(timeline, since)
    span_days = (end - max(first, fit_from or first)).total_seconds() / 86400
    if span_days < SHORT_HISTORY_DAYS:
        warnings.append(
            f"{SHORT_HISTORY}: {span_days:.0f} days of license data in the fit window "
            f"(fits need {SHORT_HISTORY_DAYS}+ days to mean much; the License Monitor keeps 12 months)."
        )
    if since is not None and since > end.date():
        warnings.append(f"--since {since} is after the end of the data ({end.date()}): nothing to fit.")
    forecast, forecasts = forecast_rows(capacity, timeline, fits, end.date())
    warnings += [
        f"{t}: capacity unknown; give --{t.lower()} N."
        for t in forecast.filter(pl.col("capacity").is_null())["access_type"].to_list()
    ]
    check_calinfo(capacity, timeline, warnings)
    unused = LicensesResult.conform("unused", unused_allocations(events, activity, end))
    denials, denials_total = denial_list(events)
    by_user = denials_by_user(events, set(results["service_users"]["service_user"].to_list()))
    if denials_total > denials.height:
        warnings.append(f"{denials_total} denials: only the last {denials.height} are listed.")
    findings = [
        *forecast_findings(NAME, fits, forecasts, forecast),
        *denial_findings(NAME, by_user),
        *unused_finding(NAME, unused),
        *history_findings(NAME, warnings),
    ]
    return LicensesResult(
        capacity=capacity,
        timeline=timeline,
        fits=fit_rows(fits),
        forecast=forecast,
        changes_7d=LicensesResult.conform("changes_7d", recent_changes(events, end)),
        unused=unused,
        denials=LicensesResult.conform("denials", denials),
        denials_by_user=by_user,
        warnings=tuple(warnings),
        qvd_mapping=LicensesResult.conform("qvd_mapping", mapping),
        fit_lines=fit_lines(fits),
        projection=projections(fits, forecasts, end.date()),
        runway=runway(forecast),
        start=first,
        end=end,
        findings=tuple(findings),
    )


def _no_events(capacity: Capacity, mapping: pl.DataFrame, warnings: list[str]) -> LicensesResult:
    """The result without license events: capacity, the QVDs looked at and the warnings; empty tables."""
    empty = LicensesResult.empty_frame
    return LicensesResult(
        capacity=capacity,
        timeline=empty("timeline"),
        fits=empty("fits"),
        forecast=empty("forecast"),
        changes_7d=empty("changes_7d"),
        unused=empty("unused"),
        denials=empty("denials"),
        denials_by_user=empty("denials_by_user"),
        warnings=tuple(warnings),
        qvd_mapping=LicensesResult.conform("qvd_mapping", mapping),
        fit_lines=empty("fit_lines"),
        projection=empty("projection"),
        findings=(Finding(NAME, Severity.INFO, "No license events in the bundle", warnings[-1]),),
    )


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


ANALYSIS = Analysis(NAME, queries, build)


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
