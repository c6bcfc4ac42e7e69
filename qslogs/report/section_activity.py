"""The Activity section: errors and warnings per service × node over time, top messages, sessions."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import polars as pl

from qslogs.analyses.activity_result import ActivityResult
from qslogs.jsonable import frame_rows
from qslogs.report.charts import DAY, HOUR, Series, bar_chart, line_chart, sparkline
from qslogs.report.evidence import service_anchor
from qslogs.report.filters import fmt_int, plural, ts_ms
from qslogs.report.model import Block, Chart, Column, Fact, Section, Table
from qslogs.report.sections import details, make_table

#: Up to this many hours of logs, activity is shown per hour; beyond, per day.
HOURLY_UP_TO_H = 96


def hourly(span_hours: float | None) -> bool:
    """Whether the bundle is short enough to show activity per hour."""
    return span_hours is not None and span_hours <= HOURLY_UP_TO_H


def activity_section(result: ActivityResult, span_hours: float | None) -> tuple[Section, dict[str, Any]]:
    """The section and the aggregate the date filter recomputes (errors/warnings/records per row key)."""
    per_hour = hourly(span_hours)
    bucket = HOUR if per_hour else DAY
    unit = "hour" if per_hour else "day"
    totals = frame_rows(result.hourly_totals if per_hour else result.daily_totals)
    time_key = "hour" if per_hour else "day"
    chart = bar_chart(
        [r[time_key] for r in totals],
        [
            ("errors", "err", [r["errors"] for r in totals]),
            ("warnings", "warn", [r["warnings"] for r in totals]),
        ],
        title=f"Errors and warnings per {unit}, all services",
        bucket_ms=bucket,
        y_label="records",
    )
    buckets = _buckets(result.hourly if per_hour else result.daily, time_key)
    all_times = sorted({ts_ms(r[time_key]) or 0 for r in totals})
    rows = []
    for r in frame_rows(result.by_service_host):
        key = f"{r['service']}|{r['host']}"
        series = [buckets[key].get(x, [0, 0, 0])[0] for x in all_times]
        spark = (
            sparkline(series, title=f"{r['service']} on {r['host']}: errors per {unit}")
            if r["errors"]
            else ""
        )
        rows.append({**r, "spark": spark})
    agg = {
        "cols": ["errors", "warnings", "records"],
        "rows": {k: [[x, *v] for x, v in sorted(cells.items())] for k, cells in sorted(buckets.items())},
    }
    services = make_table(
        "t-activity-services",
        [
            Column("service", "Service"),
            Column("host", "Node"),
            Column("errors", "Errors", "int", "ERROR and FATAL records"),
            Column("warnings", "Warnings", "int"),
            Column("records", "Records", "int", "records with a level (all levels)"),
            Column("first_error", "First error", "ts"),
            Column("last_error", "Last error", "ts"),
            Column("spark", f"Errors per {unit}", "svg"),
        ],
        rows,
        key=lambda r: f"{r['service']}|{r['host']}",
        row_id=lambda r: service_anchor(r["service"], r["host"]),
        agg="activity",
        caption="Counts follow the date filter; the first/last error columns cover the whole bundle.",
    )
    messages = _messages_table(frame_rows(result.messages))
    blocks = [
        Block(
            title="Errors and warnings over time",
            id="activity-time",
            charts=[
                Chart(
                    chart,
                    f"Records at level ERROR/FATAL and WARN per {unit} (UTC), summed over every service "
                    "and node.",
                )
            ],
        ),
        Block(title="By service and node", id="activity-services", tables=[services]),
        Block(title="Most frequent errors and warnings", id="activity-messages", tables=[messages]),
    ]
    sessions = _sessions_block(frame_rows(result.sessions), frame_rows(result.session_totals))
    if sessions:
        blocks.append(sessions)
    intro = (
        "Where and when services logged errors and warnings, and how many people used the site. "
        "Errors alone are not a diagnosis: Qlik services log many harmless ones; look for clusters."
    )
    return Section(id="activity", title="Activity", intro=intro, blocks=blocks), agg


def _buckets(counts: pl.DataFrame, time_key: str) -> dict[str, dict[int, list[int]]]:
    """The analysis' errors, warnings and records per service × node and time bucket, keyed for the sparklines
    and the date filter's recount (``service|node`` → bucket start in ms → the three counts)."""
    buckets: dict[str, dict[int, list[int]]] = defaultdict(dict)
    for r in frame_rows(counts):
        buckets[f"{r['service']}|{r['host']}"][ts_ms(r[time_key]) or 0] = [r["errors"], r["warnings"], r["records"]]
    return buckets


def _messages_table(messages: list[dict[str, Any]]) -> Table:
    """The most frequent error and warning messages (numbers and ids masked so repeats group)."""
    return make_table(
        "t-activity-messages",
        [
            Column("level", "Level", "severity"),
            Column("service", "Service"),
            Column("count", "Count", "int"),
            Column("hosts", "Nodes"),
            Column("first", "First", "ts"),
            Column("last", "Last", "ts"),
            Column("detail", "Message (numbers and ids masked; click for an example)", "details"),
        ],
        [{**m, "detail": details(m["message"], m["example"])} for m in messages],
        ts="first",
        te="last",
        css=lambda m: "critical" if m["level"] in ("ERROR", "FATAL") else "warning",
        caption="Messages that repeat with different numbers or ids are counted together.",
        empty="No error or warning messages.",
    )


def _sessions_block(sessions: list[dict[str, Any]], totals: list[dict[str, Any]]) -> Block | None:
    if not sessions:
        return None
    series = []
    palette = {"proxy": ("c0", "c1"), "engine": ("c2", "c3")}
    for source in sorted({s["source"] for s in sessions}):
        mine = [s for s in sessions if s["source"] == source]
        c_sessions, c_users = palette.get(source, ("c4", "c5"))
        series.append(
            Series(f"{source} sessions", [(s["day"], s["sessions"]) for s in mine], c_sessions, "line dots")
        )
        series.append(Series(f"{source} users", [(s["day"], s["users"]) for s in mine], c_users, "line dots"))
    chart = line_chart(
        series, title="User sessions and distinct users per day", y_label="per day", min_step=DAY
    )
    facts = [
        Fact(
            f"{t['source'].capitalize()} sessions",
            fmt_int(t["sessions"]),
            plural(t["users"], "distinct user"),
        )
        for t in totals
    ]
    table = make_table(
        "t-activity-sessions",
        [
            Column("day", "Day", "day"),
            Column("source", "Source"),
            Column("sessions", "Sessions", "int"),
            Column("users", "Distinct users", "int"),
            Column(
                "internal_sessions",
                "INTERNAL sessions",
                "int",
                "sessions of Qlik's built-in service accounts",
            ),
        ],
        sessions,
        ts="day",
    )
    return Block(
        title="Sessions and users",
        id="activity-sessions",
        intro="Proxy: 'Start session' audit records; engine: one record per ended engine session. "
        "Qlik's built-in INTERNAL accounts are counted apart.",
        facts=facts,
        charts=[Chart(chart, "Per UTC day; users are distinct per day.")],
        tables=[table],
    )
