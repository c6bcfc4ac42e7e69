"""The typed result of the reloads analysis: what ``qslogs reloads --json`` prints and the report reads.

:class:`ReloadsResult` holds one schema-checked frame per table (field order = the key order of
``qslogs reloads --json``), the run's :class:`ReloadsMeta`, and the aggregates only the report draws
(``json=False``): per-run events for the date filter, failed runs on the heatmap, duration series, the
counts of the failed-runs block and tile. Times are UTC-aware unless a column says it is the node's local time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

import polars as pl

from qslogs.analyses.result import Result, frame_field, value_field

__all__ = ["CONTEXT_LINE", "ReloadsMeta", "ReloadsResult", "ROOT_CAUSE"]

UTC = pl.Datetime("ms", "UTC")
LOCAL = pl.Datetime("ms")
S = pl.String()

#: One log line around a root cause (``error_context`` of runs and manual reloads), on both clocks.
CONTEXT_LINE = pl.Struct(
    {
        "source_file": S,
        "line_no": pl.Int64(),
        "time": S,
        "script_line": pl.Int64(),
        "level": S,
        "text": S,
        "utc": S,
        "local": S,
        "offset_minutes": pl.Int32(),
    }
)
#: Why a failing or stale monitoring app failed (``monitoring_apps.root_cause``).
ROOT_CAUSE = pl.Struct(
    {
        "class": S,
        "text": S,
        "connection": S,
        "hint": S,
        "failure_kind": S,
        "script_log": S,
        "line": pl.Int64(),
        "execution_id": S,
        "time": UTC,
        "persistence": S,
    }
)

RUNS = {
    "execution_id": S, "task": S, "app": S, "app_id": S, "node": S, "status": S, "start": UTC, "stop": UTC,
    "duration_s": pl.Float64(), "failure_kind": S, "error_class": S, "root_cause": S, "connection": S,
    "script_log": S, "task_id": S, "outcome": S, "error_hint": S, "root_cause_file": S,
    "root_cause_line": pl.Int64(), "root_cause_script_line": pl.Int32(), "running_statement": S,
    "script_outcome": S, "link": S, "link_delta_s": pl.Float64(), "failure_reason": S, "note": S, "source": S,
    "error_context": pl.List(CONTEXT_LINE), "local_start": LOCAL,
}
MONITORS = {
    "name": S, "tasks": pl.List(S), "last_success": UTC, "last_attempt": UTC, "last_status": S,
    "stale": pl.Boolean(), "verdict": S, "stale_at": UTC, "failing_since": UTC, "age_hours": pl.Float64(),
    "attempts": pl.UInt32(), "failures_since_success": pl.UInt32(), "now": UTC, "stale_hours": pl.Float64(),
    "root_cause": ROOT_CAUSE,
}
TASKS = {
    "task": S, "task_id": S, "app": S, "app_id": S, "runs": pl.UInt32(), "successes": pl.UInt32(),
    "failures": pl.UInt32(), "aborted": pl.UInt32(), "last_outcome": S, "last_run": UTC, "last_success": UTC,
    "mean_duration_s": pl.Float64(), "max_duration_s": pl.Float64(), "last_error_class": S,
    "last_root_cause": S, "last_connection": S, "failure_rate": pl.Float64(),
}
MANUAL = {
    "time": UTC, "app_id": S, "app": S, "user": S, "node": S, "outcome": S, "error_class": S, "error_hint": S,
    "root_cause": S, "root_cause_line": pl.Int64(), "root_cause_script_line": pl.Int32(),
    "running_statement": S, "connection": S, "script_log": S, "duration_s": pl.Float64(), "source": S,
    "audit_file": S, "audit_line": pl.Int64(), "error_context": pl.List(CONTEXT_LINE),
}
SCRIPT_LOGS = {
    "source_file": S, "app_id": S, "host": S, "start": LOCAL, "start_utc": UTC, "duration_s": pl.Float64(),
    "executed_by": S, "user": S, "is_scheduled": pl.Boolean(), "outcome": S, "error_class": S, "root_cause": S,
    "root_cause_line_no": pl.Int64(), "root_cause_script_line": pl.Int32(), "connection": S,
    "connections": pl.List(S), "rows_fetched_total": pl.Int64(), "server_version": S, "execution_id": S,
    "manual": pl.Boolean(), "time_basis": S, "end_utc": UTC,
}
HEATMAP = {"weekday": pl.Int8(), "weekday_name": S, "hour": pl.Int8(), "runs": pl.UInt32(), "failures": pl.UInt32()}
DURATIONS = {
    "task": S, "start": UTC, "local_start": LOCAL, "duration_s": pl.Float64(), "status": S, "outcome": S, "node": S,
}
VERSION_CHANGES = {"host": S, "service": S, "from": S, "to": S, "last_old": UTC, "first_new": UTC}
RESTARTS = {
    "host": S, "startups": pl.UInt32(), "services": pl.List(pl.Struct({"service": S, "startups": pl.UInt32()})),
    "first": UTC, "last": UTC, "times": pl.List(UTC),
}
TASK_EVENTS = {
    "task": S, "start": UTC, "runs": pl.UInt32(), "successes": pl.UInt32(), "failures": pl.UInt32(),
    "aborted": pl.UInt32(),
}
HEATMAP_EVENTS = {"start": UTC, "weekday": pl.Int8(), "hour": pl.Int8(), "failures": pl.UInt32()}
DURATION_SERIES = {
    "series": S, "failed": pl.Boolean(), "runs": pl.UInt32(), "starts": pl.List(UTC),
    "durations": pl.List(pl.Float64()),
}
OVERVIEW = {
    "runs": pl.UInt32(), "failed_runs": pl.UInt32(), "failed_manual": pl.UInt32(), "failed": pl.UInt32(),
    "tasks": pl.UInt32(), "top_cause": S, "top_count": pl.UInt32(), "longest_duration_s": pl.Float64(),
}


@dataclass(frozen=True, kw_only=True)
class ReloadsMeta:
    """How the analysis ran: the clock of its verdicts, its window and options, and what it could see."""

    now: datetime | None = field(metadata={"help": "the 'now' of freshness verdicts: --until, else the end of the "
                                                   "bundle (UTC)"})
    since: datetime | None = field(metadata={"help": "--since: runs starting before it are left out (UTC)"})
    until: datetime | None = field(metadata={"help": "--until: runs starting after it are left out (UTC)"})
    stale_hours: float = field(metadata={"help": "--stale-hours: a monitoring app older than this is stale"})
    link_tolerance_s: int = field(metadata={"help": "seconds a script log may start outside its run's span and "
                                                    "still be linked to it"})
    script_logs_cover: tuple[datetime, datetime] | None = field(
        metadata={"help": "the UTC days the bundle holds script logs for, [first, last + 1 day); null without "
                          "script logs"}
    )
    heatmap_time_basis: str = field(metadata={"help": "the clock of the failure heatmap, in words"})
    runs_total: int = field(metadata={"help": "task runs in the window before --failed-only"})
    failed_only: bool = field(metadata={"help": "--failed-only: runs and manual reloads list only failures"})


@dataclass(frozen=True, kw_only=True)
class ReloadsResult(Result):
    """Every task run with its outcome and root cause, monitoring-app verdicts, per-task summaries, manual
    reloads, script logs, when failures happen, durations, node versions and restarts."""

    NAME: ClassVar[str] = "reloads"

    runs: pl.DataFrame = frame_field(
        RUNS,
        "one row per task run (TaskExecution, else rebuilt from scheduler lines) in the window, sorted by start; "
        "failed and aborted runs say where (failure_kind: script / initiation) and why (error_class, root_cause "
        "and its file and line, the data connection, error_hint) with the log lines around the cause "
        "(error_context, each line in UTC and node-local time); local_start is the node's wall clock",
    )
    monitoring_apps: pl.DataFrame = frame_field(
        MONITORS,
        "one row per monitoring app (License Monitor, Operations Monitor): last success and attempt, verdict "
        "(ok, failing, stale, missing, unknown), when its data goes stale (stale_at) and the root cause of its "
        "failures since the last success",
    )
    tasks: pl.DataFrame = frame_field(
        TASKS,
        "one row per reload task: runs, successes, failures, aborted, failure rate, last outcome, run and "
        "success, mean and max duration, the last failure's class, cause and connection; most failures first",
    )
    manual_reloads: pl.DataFrame = frame_field(
        MANUAL,
        "one row per reload a user started from the hub or the data load editor (Engine audit rows and script "
        "logs no task run claims, merged), with its outcome and root cause",
    )
    script_logs: pl.DataFrame = frame_field(
        SCRIPT_LOGS,
        "one row per script log starting in the window: its start in the node's local time and in UTC (null "
        "when no offset is known, time_basis says how it was placed), outcome, root cause, the run that claimed "
        "it (execution_id) or whether a user ran it (manual)",
    )
    failure_heatmap: pl.DataFrame = frame_field(
        HEATMAP,
        "runs and failed runs per weekday (0 = Monday) and hour of the executing node's local time; only cells "
        "with a run",
    )
    durations: pl.DataFrame = frame_field(
        DURATIONS, "every run with a duration, by task and start: the durations-over-time chart"
    )
    meta: ReloadsMeta = value_field("how the analysis ran: now, window, options, script-log coverage")
    version_changes: pl.DataFrame = frame_field(
        VERSION_CHANGES,
        "one row per node and log whose product version changed inside the bundle: from, to, the old "
        "version's last row and the new one's first (an upgrade happened between them)",
    )
    restarts: pl.DataFrame = frame_field(
        RESTARTS,
        "per node: service start-up lines (engine: each Server Started), per service, first, last and every time",
    )
    task_events: pl.DataFrame = frame_field(
        TASK_EVENTS,
        "one row per run (task or task id as the key), sorted: what the report's date filter sums to recompute "
        "the per-task counts",
        json=False,
    )
    heatmap_events: pl.DataFrame = frame_field(
        HEATMAP_EVENTS,
        "one row per failed run with a local start: its weekday and hour of the node's clock, for the heatmap "
        "under the date filter",
        json=False,
    )
    duration_series: pl.DataFrame = frame_field(
        DURATION_SERIES,
        "the durations chart's series: one row per task (most runs first, then by name; a null task is '?') "
        "and, when any run with a duration failed, a last row of the failed runs",
        json=False,
    )
    overview: pl.DataFrame = frame_field(
        OVERVIEW,
        "one row: runs listed, failed or aborted runs, failed manual reloads, their sum, the tasks or apps "
        "they belong to, the most frequent cause (error class on connection) and how often, the longest "
        "run with a duration",
        json=False,
    )
