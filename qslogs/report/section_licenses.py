"""The Licenses section: allocated vs capacity, the timeline with its fitted trend, interval band,
capacity line and forecast to the exhaustion date, the numbers in words, the last 7 days' changes,
unused allocations and denials.

Reads the tables of the ``licenses`` analysis (``capacity``, ``timeline``, ``fits``, ``forecast``,
``changes_7d``, ``unused``, ``denials``, ``warnings``, ``chart``); the sentences come from its findings.
"""

from __future__ import annotations

from typing import Any

from qslogs.analyses.base import AnyResult
from qslogs.report.charts import Band, HLine, Marker, Series, line_chart
from qslogs.report.evidence import chart_anchor
from qslogs.report.filters import fmt_int, fmt_num, fmt_signed
from qslogs.report.model import Block, Callout, Chart, Column, Fact, Section
from qslogs.report.sections import make_table

#: Access types drawn with a forecast chart, in this order.
CHART_TYPES = ("Professional", "Analyzer")
ALL_USERS = "All users"


def licenses_section(result: AnyResult, data: dict[str, Any]) -> Section:
    """The section (the date filter narrows its tables and zooms its charts; no aggregate needed)."""
    t = result.tables
    forecast = {row["access_type"]: row for row in t.get("forecast") or []}
    capacity = t.get("capacity") or {}
    words = []
    for f in result.findings:
        access_type = f.data.get("access_type") if isinstance(f.data, dict) else None
        if access_type in forecast:
            words.append(Callout(str(f.severity), f.title, f.detail))
    blocks = [
        Block(
            title="",
            callouts=words + [Callout("info", str(w)) for w in t.get("warnings") or []],
            facts=_facts(capacity, forecast),
        )
    ]
    blocks.append(_capacity_table(capacity, forecast))
    chart = t.get("chart") or {}
    charts = [
        c
        for c in (_forecast_chart(a, t.get("timeline") or [], chart, forecast.get(a)) for a in CHART_TYPES)
        if c is not None
    ]
    active = _active_chart(t.get("timeline") or [], chart)
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
    blocks.append(_fits(t.get("fits") or []))
    blocks.append(_lists(t))
    blocks += _denials(t)
    source = capacity.get("source")
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


def _facts(capacity: dict[str, Any], forecast: dict[str, dict[str, Any]]) -> list[Fact]:
    facts = []
    for d in capacity.get("details") or []:
        if d.get("capacity") is None and d.get("in_use") is None:
            continue
        fc = forecast.get(d["access_type"], {})
        status = fc.get("status")
        css = (
            "critical"
            if status in ("over-capacity", "at-capacity")
            else "warning"
            if status == "exhausts"
            else "ok"
            if status == "never"
            else ""
        )
        note = f"of {fmt_int(d['capacity'])} bought" if d.get("capacity") is not None else "capacity unknown"
        if fc.get("exhaustion_date"):
            note += f"; runs out ~{str(fc['exhaustion_date'])[:7]}"
        shown = fc.get("in_use", d.get("in_use"))
        if fc.get("in_use_source"):
            note += f"; from {fc['in_use_source']}"
        other = fc.get("in_use_other")
        if other:
            note += f" ({other['source']} say {fmt_int(other['value'])})"
        facts.append(Fact(f"{d['access_type']} allocated", fmt_int(shown), note, css))
    return facts


def _capacity_table(capacity: dict[str, Any], forecast: dict[str, dict[str, Any]]) -> Block:
    rows = []
    for d in capacity.get("details") or []:
        fc = forecast.get(d["access_type"], {})
        rows.append(
            {
                **d,
                "remaining": fc.get("remaining"),
                "status": fc.get("status"),
                "exhaustion_date": fc.get("exhaustion_date"),
                "months": fc.get("months_to_exhaustion"),
                "interval": f"{fc['date_low']} – {fc['date_high'] or 'never'}"
                if fc.get("date_low")
                else None,
                "source": d.get("source") if d.get("source") != "unknown" else None,
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


def _forecast_chart(
    access_type: str, timeline: list[dict[str, Any]], chart: dict[str, Any], fc: dict[str, Any] | None
) -> Chart | None:
    daily = [
        (r["start"], r["allocated"])
        for r in timeline
        if r["access_type"] == access_type and r["granularity"] == "day" and r["allocated"] is not None
    ]
    fit = [
        p
        for p in chart.get("fit_lines") or []
        if p["access_type"] == access_type and p["series"] == "allocated"
    ]
    proj = [p for p in chart.get("projection") or [] if p["access_type"] == access_type]
    if not daily and not fit:
        return None
    series = [Series("allocated (day)", daily, "c0", "line")]
    if fit:
        series.append(Series("monthly points", [(p["date"], p["value"]) for p in fit], "c0", "dots"))
        series.append(Series("fitted trend", [(p["date"], p["fitted"]) for p in fit], "trend", "line"))
    bands = []
    if fit or proj:
        band = [(p["date"], p["band_low"], p["band_high"]) for p in fit] + [
            (p["date"], p["low"], p["high"]) for p in proj
        ]
        bands.append(Band("95 % interval", band))
    if proj:
        series.append(Series("forecast", [(p["date"], p["projected"]) for p in proj], "fc", "line"))
    hlines, markers = [], []
    capacity = fc.get("capacity") if fc else None
    if capacity is not None:
        hlines.append(HLine(f"capacity {fmt_int(capacity)}", float(capacity)))
    if fc and fc.get("exhaustion_date"):
        markers.append(Marker(f"runs out ~{str(fc['exhaustion_date'])[:7]}", fc["exhaustion_date"]))
    svg = line_chart(
        series,
        title=f"{access_type} licenses allocated, trend and forecast",
        y_label="licenses",
        bands=bands,
        hlines=hlines,
        markers=markers,
    )
    caption = fc.get("statement", "") if fc else ""
    return Chart(
        svg,
        caption or f"{access_type}: allocated licenses per day.",
        f"{access_type} licenses",
        chart_anchor("licenses", access_type),
    )


def _active_chart(timeline: list[dict[str, Any]], chart: dict[str, Any]) -> Chart | None:
    monthly = [
        (r["start"], r["active"])
        for r in timeline
        if r["access_type"] == ALL_USERS and r["granularity"] == "month" and r["active"] is not None
    ]
    if not monthly:
        return None
    fit = [
        p for p in chart.get("fit_lines") or [] if p["access_type"] == ALL_USERS and p["series"] == "active"
    ]
    series = [Series("active users (month)", monthly, "c2", "line dots")]
    bands = []
    if fit:
        series.append(Series("fitted trend", [(p["date"], p["fitted"]) for p in fit], "trend", "line"))
        bands.append(Band("95 % interval", [(p["date"], p["band_low"], p["band_high"]) for p in fit]))
    svg = line_chart(series, title="Distinct active users per month", y_label="users", bands=bands)
    return Chart(svg, "Users who opened anything in the month, whatever their access type.",
                 "Active users, all access types")


def _fits(fits: list[dict[str, Any]]) -> Block:
    rows = [
        {
            **f,
            "slope": f"{fmt_signed(f.get('slope_per_month'), 2)} /month",
            "ci": (
                f"{fmt_num(f.get('ci_low'), 2)} – {fmt_num(f.get('ci_high'), 2)}"
                if f.get("ci_low") is not None
                else "too few points"
            ),
        }
        for f in fits
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


def _lists(t: dict[str, Any]) -> Block:
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
        t.get("changes_7d") or [],
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
        t.get("unused") or [],
        ts="allocated_since",
        te="last_used",
        css=lambda r: "warning" if r.get("no_use_90d") else "",
        caption="Allocated users who have not used Qlik Sense for 30 days or more.",
        empty="Every allocated user used Qlik Sense in the last 30 days.",
    )
    return Block(
        title="Changes and unused allocations",
        id="licenses-lists",
        tables=[changes, unused],
    )


def _denials(t: dict[str, Any]) -> list[Block]:
    """Denials grouped by user (service accounts told apart), then every denial in a closed block."""
    by_user = [
        {**r, "kind": "service account" if r.get("service_account") else "person",
         "source_list": ", ".join(r.get("sources") or [])}
        for r in t.get("denials_by_user") or []
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
        css=lambda r: "info" if r.get("service_account") else "warning",
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
        t.get("denials") or [],
        ts="time",
        caption="Every denial, newest last (the JSON output has them all).",
        empty="No license denials.",
    )
    blocks = [Block(title="License denials", id="licenses-denials", tables=[grouped])]
    if t.get("denials"):
        blocks.append(Block(title="Every denial", id="licenses-denials-rows", tables=[rows], collapsed=True))
    return blocks
