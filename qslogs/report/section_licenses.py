"""The Licenses section: allocated vs capacity, the timeline with its fitted trend, interval band,
capacity line and forecast to the exhaustion date, the numbers in words, the last 7 days' changes,
unused allocations and denials.

Reads the typed fields of :class:`~qslogs.analyses.licenses.result.LicensesResult` (``capacity``,
``timeline``, ``fits``, ``forecast``, ``changes_7d``, ``unused``, ``denials``, ``denials_by_user``,
``warnings``, ``fit_lines``, ``projection``); the sentences come from its findings. It picks rows and places
them; every number is the analysis'.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import polars as pl

from qslogs.analyses.licenses.result import Capacity, LicensesResult
from qslogs.jsonable import frame_rows
from qslogs.report.charts import Band, HLine, Marker, Series, line_chart
from qslogs.report.evidence import chart_anchor
from qslogs.report.filters import fmt_int, fmt_num, fmt_signed
from qslogs.report.model import Block, Callout, Chart, Column, Fact, Section
from qslogs.report.sections import make_table

#: Access types drawn with a forecast chart, in this order.
CHART_TYPES = ("Professional", "Analyzer")
ALL_USERS = "All users"
#: A forecast row by its access type (the row's columns, typed; see FORECAST_SCHEMA).
Forecasts = dict[str, dict[str, Any]]


def licenses_section(result: LicensesResult, data: dict[str, Any]) -> Section:
    """The section (the date filter narrows its tables and zooms its charts; no aggregate needed)."""
    forecast: Forecasts = result.forecast.rows_by_key("access_type", named=True, unique=True)
    words = [Callout(str(f.severity), f.title, f.detail) for f in result.findings if f.table == "forecast"]
    blocks = [
        Block(
            title="",
            callouts=words + [Callout("info", w) for w in result.warnings],
            facts=_facts(result.capacity, forecast),
        )
    ]
    blocks.append(_capacity_table(result.capacity, forecast))
    charts = [c for c in (_forecast_chart(result, a, forecast.get(a)) for a in CHART_TYPES) if c is not None]
    active = _active_chart(result)
    if active is not None:
        charts.append(active)
    blocks.append(
        Block(
            title="Users over time and forecast",
            id="licenses-timeline",
            charts=charts,
            intro="Allocated licenses per day; the dashed line is the fitted trend over monthly points, "
            "the shaded band its 95 % interval, extended past today to the capacity line.",
        )
    )
    blocks.append(_fits(result.fits))
    blocks.append(_lists(result))
    blocks += _denials(result)
    source = result.capacity.source
    intro = (
        "How many Professional and Analyzer licenses are allocated, how fast that grows, and when the "
        "licenses bought run out. "
        + (
            f"Capacity from {source}."
            if source and source != "unknown"
            else "The bundle does not say how many licenses were bought: give --professional N --analyzer N."
        )
    )
    return Section(id="licenses", title="Licenses", intro=intro, blocks=blocks)


def _facts(capacity: Capacity, forecast: Forecasts) -> list[Fact]:
    facts = []
    for d in capacity.details:
        if d.capacity is None and d.in_use is None:
            continue
        fc = forecast.get(d.access_type)
        status = fc["status"] if fc else None
        css = (
            "critical"
            if status in ("over-capacity", "at-capacity")
            else "warning"
            if status == "exhausts"
            else "ok"
            if status == "never"
            else ""
        )
        note = f"of {fmt_int(d.capacity)} bought" if d.capacity is not None else "capacity unknown"
        if fc and fc["exhaustion_date"]:
            note += f"; runs out ~{str(fc['exhaustion_date'])[:7]}"
        shown = fc["in_use"] if fc else d.in_use
        if fc and fc["in_use_source"]:
            note += f"; from {fc['in_use_source']}"
        other = fc["in_use_other"] if fc else None
        if other:
            note += f" ({other['source']} say {fmt_int(other['value'])})"
        facts.append(Fact(f"{d.access_type} allocated", fmt_int(shown), note, css))
    return facts


def _capacity_table(capacity: Capacity, forecast: Forecasts) -> Block:
    rows = []
    for d in capacity.details:
        fc = forecast.get(d.access_type)
        rows.append(
            {
                **asdict(d),
                "remaining": fc["remaining"] if fc else None,
                "status": fc["status"] if fc else None,
                "exhaustion_date": fc["exhaustion_date"] if fc else None,
                "months": fc["months_to_exhaustion"] if fc else None,
                "interval": f"{fc['date_low']} – {fc['date_high'] or 'never'}" if fc and fc["date_low"] else None,
                "source": d.source if d.source != "unknown" else None,
            }
        )
    table = make_table(
        "t-licenses-capacity",
        [
            Column("access_type", "Access type"),
            Column("capacity", "Bought", "int"),
            Column("in_use", "Allocated", "int"),
            Column("used", "Used", "int"),
            Column("quarantined", "Quarantined", "int"),
            Column("remaining", "Left", "int"),
            Column("status", "Forecast"),
            Column("months", "Months left", "num"),
            Column("exhaustion_date", "Runs out", "day"),
            Column("interval", "95 % interval"),
            Column("source", "Capacity from"),
        ],
        rows,
        empty="No capacity information: give --professional N --analyzer N.",
    )
    return Block(title="Allocated vs capacity", id="licenses-capacity", tables=[table])


def _points(frame: pl.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    """The rows of ``frame`` as tuples of ``columns`` (a chart's points)."""
    return list(frame.select(columns).iter_rows())


def _forecast_chart(result: LicensesResult, access_type: str, fc: dict[str, Any] | None) -> Chart | None:
    daily = result.timeline.filter(
        (pl.col("access_type") == access_type) & (pl.col("granularity") == "day") & pl.col("allocated").is_not_null()
    )
    fit = result.fit_lines.filter((pl.col("access_type") == access_type) & (pl.col("series") == "allocated"))
    proj = result.projection.filter(pl.col("access_type") == access_type)
    if daily.is_empty() and fit.is_empty():
        return None
    series = [Series("allocated (day)", _points(daily, "start", "allocated"), "c0", "line")]
    if not fit.is_empty():
        series.append(Series("monthly points", _points(fit, "date", "value"), "c0", "dots"))
        series.append(Series("fitted trend", _points(fit, "date", "fitted"), "trend", "line"))
    bands = []
    if not fit.is_empty() or not proj.is_empty():
        band = _points(fit, "date", "band_low", "band_high") + _points(proj, "date", "low", "high")
        bands.append(Band("95 % interval", band))
    if not proj.is_empty():
        series.append(Series("forecast", _points(proj, "date", "projected"), "fc", "line"))
    hlines, markers = [], []
    capacity = fc["capacity"] if fc else None
    if capacity is not None:
        hlines.append(HLine(f"capacity {fmt_int(capacity)}", float(capacity)))
    if fc and fc["exhaustion_date"]:
        markers.append(Marker(f"runs out ~{str(fc['exhaustion_date'])[:7]}", fc["exhaustion_date"]))
    svg = line_chart(
        series,
        title=f"{access_type} licenses allocated, trend and forecast",
        y_label="licenses",
        bands=bands,
        hlines=hlines,
        markers=markers,
    )
    caption = fc["statement"] if fc else ""
    return Chart(
        svg,
        caption or f"{access_type}: allocated licenses per day.",
        f"{access_type} licenses",
        chart_anchor("licenses", access_type),
    )


def _active_chart(result: LicensesResult) -> Chart | None:
    monthly = result.timeline.filter(
        (pl.col("access_type") == ALL_USERS) & (pl.col("granularity") == "month") & pl.col("active").is_not_null()
    )
    if monthly.is_empty():
        return None
    fit = result.fit_lines.filter((pl.col("access_type") == ALL_USERS) & (pl.col("series") == "active"))
    series = [Series("active users (month)", _points(monthly, "start", "active"), "c2", "line dots")]
    bands = []
    if not fit.is_empty():
        series.append(Series("fitted trend", _points(fit, "date", "fitted"), "trend", "line"))
        bands.append(Band("95 % interval", _points(fit, "date", "band_low", "band_high")))
    svg = line_chart(series, title="Distinct active users per month", y_label="users", bands=bands)
    return Chart(svg, "Users who opened anything in the month, whatever their access type.",
                 "Active users, all access types")


def _fits(fits: pl.DataFrame) -> Block:
    rows = [
        {
            **f,
            "slope": f"{fmt_signed(f['slope_per_month'], 2)} /month",
            "ci": (
                f"{fmt_num(f['ci_low'], 2)} – {fmt_num(f['ci_high'], 2)}"
                if f["ci_low"] is not None
                else "too few points"
            ),
        }
        for f in frame_rows(fits)
    ]
    table = make_table(
        "t-licenses-fits",
        [
            Column("access_type", "Access type"),
            Column("series", "Series"),
            Column("slope", "Growth"),
            Column("ci", "95 % interval"),
            Column("r2", "R²", "num"),
            Column("n_points", "Points", "int"),
            Column("method", "Method"),
            Column("granularity", "Per"),
            Column("start", "From", "day"),
            Column("end", "To", "day"),
            Column("flat", "Flat", "bool"),
            Column("outliers", "Outliers", "int"),
        ],
        rows,
        ts="start",
        te="end",
        empty="Not enough history to fit a trend.",
    )
    return Block(
        title="Growth fits",
        id="licenses-fits",
        tables=[table],
        intro="Least squares (or Theil–Sen when outliers are present) over monthly points; "
        "'flat' means the interval holds zero and the slope is tiny.",
    )


def _lists(result: LicensesResult) -> Block:
    changes = make_table(
        "t-licenses-changes",
        [
            Column("time", "Time", "ts"),
            Column("user", "User"),
            Column("access_type", "Access type"),
            Column("operation", "Operation"),
            Column("change", "Change", "int"),
            Column("by", "By"),
            Column("source", "Source"),
        ],
        frame_rows(result.changes_7d),
        ts="time",
        caption="Allocation changes in the 7 days before the end of the data.",
        empty="No allocation changed in the last 7 days.",
    )
    unused = make_table(
        "t-licenses-unused",
        [
            Column("user", "User"),
            Column("access_type", "Access type"),
            Column("allocated_since", "Allocated", "ts"),
            Column("last_used", "Last used", "ts"),
            Column("idle_days", "Idle days", "int"),
            Column("suggestion", "Suggestion"),
        ],
        frame_rows(result.unused),
        ts="allocated_since",
        te="last_used",
        css=lambda r: "warning" if r["no_use_90d"] else "",
        caption="Allocated users who have not used Qlik Sense for 30 days or more.",
        empty="Every allocated user used Qlik Sense in the last 30 days.",
    )
    return Block(
        title="Changes and unused allocations",
        id="licenses-lists",
        tables=[changes, unused],
    )


def _denials(result: LicensesResult) -> list[Block]:
    """Denials grouped by user (service accounts told apart), then every denial in a closed block."""
    by_user = [
        {**r, "kind": "service account" if r["service_account"] else "person", "source_list": ", ".join(r["sources"])}
        for r in frame_rows(result.denials_by_user)
    ]
    grouped = make_table(
        "t-licenses-denials-by-user",
        [
            Column("user", "User"),
            Column("kind", "Who", "text", "service account: a ServiceUser of the .NET logs, INTERNAL\\… or sa_…"),
            Column("count", "Denials", "int"),
            Column("first", "First", "ts"),
            Column("last", "Last", "ts"),
            Column("source_list", "Client addresses"),
        ],
        by_user,
        ts="first",
        te="last",
        css=lambda r: "info" if r["service_account"] else "warning",
        caption="License denials per user. A service account's denials are internal calls (e.g. the monitoring "
        "apps' REST connections through the proxy, from ::1): it needs no license. People's denials mean "
        "someone was refused access.",
        empty="No license denials.",
    )
    rows = make_table(
        "t-licenses-denials",
        [
            Column("time", "Time", "ts"),
            Column("user", "User"),
            Column("access_type", "Access type"),
            Column("reason", "Reason"),
            Column("source", "Source"),
        ],
        frame_rows(result.denials),
        ts="time",
        caption="Every denial, newest last (the JSON output has them all).",
        empty="No license denials.",
    )
    blocks = [Block(title="License denials", id="licenses-denials", tables=[grouped])]
    if result.denials.height:
        blocks.append(Block(title="Every denial", id="licenses-denials-rows", tables=[rows], collapsed=True))
    return blocks
