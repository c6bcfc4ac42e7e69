"""The Reloads section's list of script logs: one row per log, its start in UTC (or local time that says so)."""

from __future__ import annotations

from typing import Any

from qslogs.analyses.reloads.aggregates import FAILED
from qslogs.report.filters import fmt_int
from qslogs.report.model import Block, Column
from qslogs.report.sections import make_table

#: Script logs listed at most (newest first).
SCRIPT_LOG_ROWS = 300
#: Outcomes shown as failures (red rows) across the Reloads section (the analysis' own list).


def _start_shown(row: dict[str, Any]) -> dict[str, Any]:
    """The row with ``start_shown``: its UTC start, or its local start saying the offset is unknown."""
    if row["start_utc"] or not row["start"]:
        return {**row, "start_shown": row["start_utc"]}
    local = str(row["start"]).replace("T", " ")[:19]
    return {**row, "start_shown": f"{local} ({row['time_basis'] or 'local time, offset unknown'})"}


def script_logs_block(logs: list[dict[str, Any]]) -> Block:
    """Every script log of the bundle, newest first (collapsed: the failed ones are in the failed-runs table).

    ``logs`` are the rows of the reloads analysis' ``script_logs`` as JSON values (times as ISO text)."""
    logs = [_start_shown(row) for row in logs]
    table = make_table(
        "t-reloads-scripts",
        [
            Column("start_shown", "Start", "ts", help="UTC; a classic script log whose node offset is unknown "
                   "shows its local time and says so"),
            Column("source_file", "Script log", "code"),
            Column("host", "Node"),
            Column("user", "Executed by"),
            Column("outcome", "Outcome"),
            Column("error_class", "Class"),
            Column("root_cause", "Root cause"),
            Column("duration_s", "Duration", "duration"),
            Column("rows_fetched_total", "Rows", "int"),
            Column("manual", "Manual", "bool"),
        ],
        sorted(logs, key=lambda r: str(r["start_utc"] or r["start"] or ""), reverse=True),
        ts="start_utc",
        sort="start_utc descending",
        limit=SCRIPT_LOG_ROWS,
        caption="Newest first.",
        css=lambda r: "critical" if r["outcome"] in FAILED else "",
        empty="No script logs in this bundle.",
    )
    return Block(
        title=f"Script logs ({fmt_int(len(logs))})", id="reloads-scripts", tables=[table], collapsed=True
    )
