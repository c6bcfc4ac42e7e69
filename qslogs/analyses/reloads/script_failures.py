"""Failures found from script logs alone: every failed script log ends up in a finding.

A customer asked for "the script log" sends a folder of script logs and nothing else, and a bundle's
scheduler logs may not reach back as far as its ``Script`` folder. Task findings cover the logs the
linking gave to a task run, manual-reload findings the logs a user ran; this module covers every other
failed log, so none sits in the script-log table only. Logs are grouped by app and root cause (class and
first ``Error:`` line), with the count, the first and last time and the evidence (file and line).

Severity: ``warning`` while the app's last log still failed; ``critical`` when that failure is on a
License Monitor connection (``monitor_apps_REST_license…``, formats.md §6.4), whose data the license
analysis depends on; ``info`` once a later log of the same app succeeded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from qslogs.analyses.reloads.findings import cause_phrase, short_time
from qslogs.analyses.reloads.script_link import TIME_BASIS_UNKNOWN
from qslogs.findings import Finding, Severity
from qslogs.jsonable import to_jsonable

#: Connections of the License Monitor app (a prefix of the monitoring apps' REST connections).
LICENSE_MONITOR_CONNECTIONS = "monitor_apps_rest_license"


def unexplained_failures(logs: pl.DataFrame, explained: pl.Series) -> pl.DataFrame:
    """Failed script logs whose ``source_file`` is not in ``explained`` (logs a run or a manual reload owns)."""
    return logs.filter(
        (pl.col("outcome") == "failed") & ~pl.col("source_file").is_in(explained.drop_nulls().implode())
    )


def _when(row: dict[str, Any], utc_col: str, local_col: str) -> str:
    """A time for a person: UTC when known, else the local time with the words that it is local."""
    if row.get(utc_col) is not None:
        return short_time(row[utc_col])
    local = row.get(local_col)
    if isinstance(local, datetime):
        return f"{local:%Y-%m-%d %H:%M:%S} ({TIME_BASIS_UNKNOWN})"
    return "?"


def _groups(failed: pl.DataFrame, logs: pl.DataFrame) -> pl.DataFrame:
    """One row per app × root cause: count, first/last time, the last log's evidence, recovery."""
    app = pl.col("app_id")  # logs renamed by the customer have none: they form one group per root cause
    order = pl.coalesce(pl.col("start_utc").cast(pl.String), pl.col("start").cast(pl.String))
    succeeded = (
        logs.filter(pl.col("outcome") == "success")
        .group_by(app.alias("app"))
        .agg(pl.col("start_utc").max().alias("last_ok_utc"), pl.col("start").max().alias("last_ok_local"))
    )
    return (
        failed.with_columns(app.alias("app"), pl.col("root_cause").fill_null("").alias("cause"), order.alias("__o"))
        .sort("__o", "source_file")
        .group_by("app", "error_class", "cause", maintain_order=True)
        .agg(
            pl.len().alias("count"),
            pl.col("start_utc").first().alias("first_utc"),
            pl.col("start").first().alias("first_local"),
            pl.col("start_utc").last().alias("last_utc"),
            pl.col("start").last().alias("last_local"),
            (pl.col("time_basis") == TIME_BASIS_UNKNOWN).any().alias("offset_unknown"),
            pl.col("source_file").last().alias("script_log"),
            pl.col("root_cause_line_no").last().alias("line"),
            pl.col("connection").last().alias("connection"),
            pl.col("error_hint").last().alias("hint"),
            pl.col("host").last().alias("node"),
            pl.col("is_scheduled").last().alias("scheduled"),
            pl.col("source_file").alias("script_logs"),
        )
        .join(succeeded, on="app", how="left")
        .with_columns(
            pl.when(pl.col("last_utc").is_not_null() & pl.col("last_ok_utc").is_not_null())
            .then(pl.col("last_ok_utc") > pl.col("last_utc"))
            .otherwise((pl.col("last_ok_local") > pl.col("last_local")).fill_null(False))
            .alias("recovered")
        )
    )


def _app_words(app_id: str | None) -> str:
    return f"App {app_id}" if app_id else "Script logs without an AppId in their file names"


def _severity(row: dict[str, Any]) -> Severity:
    if row["recovered"]:
        return Severity.INFO
    if (row["connection"] or "").lower().startswith(LICENSE_MONITOR_CONNECTIONS):
        return Severity.CRITICAL
    return Severity.WARNING


def script_failure_findings(analysis: str, logs: pl.DataFrame, explained: pl.Series) -> list[Finding]:
    """Findings for the failed script logs not already explained by a task run or a manual reload.

    ``logs`` are the script logs placed in UTC (``start_utc`` may be null, then ``time_basis`` says the
    offset is unknown) with ``error_class``/``error_hint``; ``explained`` lists the ``source_file`` of logs
    another finding already names.
    """
    failed = unexplained_failures(logs, explained)
    if failed.height == 0:
        return []
    out = []
    for row in _groups(failed, logs).iter_rows(named=True):
        cause = cause_phrase(row["error_class"], row["cause"] or None, row["connection"])
        who = {True: "scheduled", False: "manual"}.get(row["scheduled"], "")
        times = (
            f"at {_when(row, 'first_utc', 'first_local')}"
            if row["count"] == 1
            else f"first {_when(row, 'first_utc', 'first_local')}, last {_when(row, 'last_utc', 'last_local')}"
        )
        where = f" ({row['script_log']}, line {row['line']})" if row["line"] else f" ({row['script_log']})"
        detail = (
            f"{row['count']} {who} reload(s) failed in the script, {times}, on {row['node'] or 'an unknown node'}. "
            f"Root cause: {row['cause'] or 'no Error: line in the log'}{where}. {row['hint'] or ''}"
        ).replace("  ", " ")
        if row["recovered"]:
            detail += " A later reload of the same app succeeded."
        data = {
            k: row[k]
            for k in ("app", "error_class", "count", "first_utc", "last_utc", "first_local", "last_local",
                      "offset_unknown", "connection", "script_log", "line", "node", "scheduled", "recovered",
                      "script_logs")
        }
        data["root_cause"] = row["cause"] or None
        out.append(Finding(
            analysis,
            _severity(row),
            f"{_app_words(row['app'])}: {row['count']} failed reload(s) in the script logs: {cause}",
            detail.strip(),
            to_jsonable(data),
            table="script_logs",
            keys=tuple(row["script_logs"]),
        ))
    return out
