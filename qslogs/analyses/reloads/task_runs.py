"""Task executions as one lazy frame: one row per run, from TaskExecution or rebuilt from scheduler lines.

Why both sources (formats.md §5): ``TaskExecution_Scheduler`` writes one row per finished execution, but a
bundle may lack the file (rolled away, not collected) or a row (the run is still going, the scheduler
stopped). ``System_Scheduler`` ("Execution State Change to …", "Max retries reached") and
``AuditActivity_Scheduler`` ("Changing task state from A to B", "Task finished with state X") then tell
the same story, keyed by the ExecutionId. Runs are de-duplicated by ExecutionId with TaskExecution first.
Initiation-failure lines that carry a TaskId but no ExecutionId ("Failed to start session", "Could not
reserve an executor for task") become runs of their own when no other run of that task covers them.

Everything here is lazy; the runner collects it with every other query.
"""

from __future__ import annotations

import polars as pl

from qslogs.analyses.reloads.aggregates import FAILED
from qslogs.frames import Frames
from qslogs.schemas import kind_schema

#: The QRS task-execution status enum (formats.md §5.1), number → name.
QRS_STATUS: dict[int, str] = {
    0: "NeverStarted",
    1: "Triggered",
    2: "Started",
    3: "Queued",
    4: "AbortInitiated",
    5: "Aborting",
    6: "Aborted",
    7: "FinishedSuccess",
    8: "FinishedFail",
    9: "Skipped",
    10: "Retry",
    11: "Error",
    12: "Reset",
}
#: Outcome bucket of each status; anything unknown is ``other``.
OUTCOME: dict[str, str] = {
    "FinishedSuccess": "success",
    "FinishedFail": "failed",
    "Error": "failed",
    "AbortInitiated": "aborted",
    "Aborting": "aborted",
    "Aborted": "aborted",
    "Triggered": "running",
    "Started": "running",
    "Queued": "running",
    "Retry": "running",
    "NeverStarted": "other",
    "Skipped": "other",
    "Reset": "other",
}
#: States after which a run does not change any more.
TERMINAL = ("FinishedSuccess", "FinishedFail", "Error", "Aborted", "Skipped", "NeverStarted", "Reset")
#: Scheduler messages that mean a run failed before or while starting (formats.md §5.3).
FAILURE_TEXT = (
    r"(?i)max\s+retries\s+reached|failed\s+to\s+start\s+session|could\s+not\s+reserve\s+an\s+executor"
)
#: Failure lines that can exist without an ExecutionId (the session never started).
INITIATION_TEXT = r"(?i)failed\s+to\s+start\s+session|could\s+not\s+reserve\s+an\s+executor"
#: Runs, one row each: the columns every later step relies on.
RUN_SCHEMA: dict[str, pl.DataType] = {
    "run_key": pl.String(),
    "execution_id": pl.String(),
    "task_id": pl.String(),
    "task": pl.String(),
    "app_id": pl.String(),
    "app": pl.String(),
    "node": pl.String(),
    "host": pl.String(),
    "status": pl.String(),
    "outcome": pl.String(),
    "start": pl.Datetime("ms", "UTC"),
    "stop": pl.Datetime("ms", "UTC"),
    "duration_s": pl.Float64(),
    "failure_reason": pl.String(),
    "source": pl.String(),
}
#: A TaskId-only failure line within this many seconds of a known run of that task belongs to it.
ORPHAN_SLACK_S = 300

_GUID = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_NAME_BY_LOWER = {name.lower(): name for name in QRS_STATUS.values()}


def kind_lazy(frames: Frames, kind: str) -> pl.LazyFrame:
    """A kind's records, or an empty frame with the kind's full schema when the bundle has none."""
    if kind not in frames.frames:
        return pl.LazyFrame(schema=kind_schema(kind))
    columns = set(frames.columns(kind))
    missing = {c: t for c, t in kind_schema(kind).items() if c not in columns}
    lazy = frames.lazy(kind)
    return lazy.with_columns(pl.lit(None, t).alias(c) for c, t in missing.items()) if missing else lazy


def normalise_status(text: pl.Expr) -> pl.Expr:
    """QRS status names (any case) or numbers → the canonical name; unknown text is kept as written."""
    raw = text.cast(pl.String).str.strip_chars()
    by_number = raw.replace_strict({str(k): v for k, v in QRS_STATUS.items()}, default=None)
    by_name = raw.str.to_lowercase().replace_strict(_NAME_BY_LOWER, default=None)
    return pl.when(raw.is_null() | (raw == "")).then(None).otherwise(pl.coalesce(by_number, by_name, raw))


def outcome_of(status: pl.Expr) -> pl.Expr:
    """success / failed / aborted / running / other, from a normalised status."""
    return status.replace_strict(OUTCOME, default="other", return_dtype=pl.String)


def node_key_expr(text: pl.Expr) -> pl.Expr:
    """Vectorised :func:`qslogs.inventory.node_key`: lower case, first DNS label, IPs kept whole."""
    t = text.cast(pl.String).str.strip_chars().str.strip_chars("[]").str.to_lowercase()
    ip = t.str.contains(r"^\d{1,3}(?:\.\d{1,3}){3}$") | t.str.contains(":")
    loop = t.is_in(["", "localhost", "127.0.0.1", "::1"])
    return pl.when(t.is_null() | loop).then(None).when(ip).then(t).otherwise(t.str.split(".").list.first())


def _guid(expr: pl.Expr) -> pl.Expr:
    """The value when it is a GUID (audit columns write ``0`` or ``Not available`` otherwise), else null."""
    return pl.when(expr.str.contains(_GUID)).then(expr).otherwise(None)


def _from_task_execution(frames: Frames) -> pl.LazyFrame:
    te = kind_lazy(frames, "Scheduler/TaskExecution")
    status = normalise_status(pl.col("Status"))
    duration = (
        pl.when(pl.col("Duration").is_not_null())
        .then(pl.col("Duration") / 1000.0)
        .otherwise((pl.col("StopTime") - pl.col("StartTime")).dt.total_milliseconds() / 1000.0)
    )
    return (
        te.filter(pl.col("ExecutionId").is_not_null() | pl.col("StartTime").is_not_null())
        .sort("Timestamp", "source_file", "line_no", nulls_last=True)
        .select(
            pl.col("ExecutionId").alias("execution_id"),
            pl.col("TaskId").alias("task_id"),
            pl.col("TaskName").alias("task"),
            pl.col("AppId").alias("app_id"),
            pl.col("AppName").alias("app"),
            pl.coalesce(node_key_expr(pl.col("ExecutingNodeName")), pl.col("host")).alias("node"),
            "host",
            status.alias("status"),
            pl.col("StartTime").alias("start"),
            pl.col("StopTime").alias("stop"),
            duration.cast(pl.Float64).alias("duration_s"),
            pl.col("FailureReason").alias("failure_reason"),
            pl.lit("TaskExecution").alias("source"),
        )
        # The same execution can be logged twice (a copy in the archive): keep its last row.
        .unique(subset=["execution_id", "start"], keep="last", maintain_order=True)
    )


def scheduler_events(frames: Frames) -> pl.LazyFrame:
    """Lifecycle events of executions from System_Scheduler and AuditActivity_Scheduler, one row each."""
    system = kind_lazy(frames, "Scheduler/System")
    sys_state = pl.col("Message").str.extract(r"(?i)Execution State Change to\s+(\w+)", 1)
    sys_events = system.filter(pl.col("ExecutionId").str.contains(_GUID)).select(
        pl.col("ExecutionId").alias("execution_id"),
        pl.col("TaskId").alias("task_id"),
        pl.col("TaskName").alias("task"),
        pl.col("AppId").alias("app_id"),
        pl.col("AppName").alias("app"),
        pl.col("Timestamp").alias("time"),
        normalise_status(sys_state).alias("state"),
        pl.when(pl.col("Message").str.contains(FAILURE_TEXT) | pl.col("Level").is_in(["ERROR", "FATAL"]))
        .then(pl.col("Message"))
        .otherwise(None)
        .alias("failure_text"),
        pl.when(pl.col("Logger").str.contains(r"\.Slave\."))
        .then(pl.col("host"))
        .otherwise(None)
        .alias("node_hint"),
        "host",
        pl.lit("System").alias("source"),
    )
    audit = kind_lazy(frames, "Scheduler/AuditActivity")
    obj_id = pl.col("ObjectId").str.split("|")
    obj_name = pl.col("ObjectName").str.split("|")
    audit_state = pl.coalesce(
        pl.col("Message").str.extract(r"(?i)Task finished with state\s+(\w+)", 1),
        pl.col("Message").str.extract(r"(?i)Changing task state (?:from \w+ )?to\s+(\w+)", 1),
    )
    result_error = pl.col("Result").is_not_null() & ~pl.col("Result").is_in(["0", "Not available", ""])
    audit_events = audit.filter(pl.col("ProxySessionId").str.contains(_GUID)).select(
        pl.col("ProxySessionId").alias("execution_id"),
        _guid(obj_id.list.get(0, null_on_oob=True)).alias("task_id"),
        obj_name.list.get(0, null_on_oob=True).alias("task"),
        _guid(obj_id.list.get(1, null_on_oob=True)).alias("app_id"),
        obj_name.list.get(1, null_on_oob=True).alias("app"),
        pl.col("Timestamp").alias("time"),
        normalise_status(audit_state).alias("state"),
        pl.when(pl.col("Message").str.contains(FAILURE_TEXT) | result_error)
        .then(pl.col("Message"))
        .otherwise(None)
        .alias("failure_text"),
        node_key_expr(pl.col("Message").str.extract(r"(?i)slave-node\s+(\S+)", 1)).alias("node_hint"),
        "host",
        pl.lit("AuditActivity").alias("source"),
    )
    return pl.concat([sys_events, audit_events], how="vertical_relaxed")


def _from_events(events: pl.LazyFrame) -> pl.LazyFrame:
    """One run per ExecutionId from its events: first event = start, first terminal state = stop."""
    terminal = pl.col("state").is_in(TERMINAL)
    ordered = events.sort("time", nulls_last=True)
    last_terminal = pl.col("state").filter(terminal).last()
    last_state = pl.col("state").drop_nulls().last()
    failed_text = pl.col("failure_text").drop_nulls().first()
    status = (
        pl.when(last_terminal.is_not_null())
        .then(last_terminal)
        .when(failed_text.is_not_null())
        .then(pl.lit("FinishedFail"))
        .otherwise(last_state)
    )
    return (
        ordered.group_by("execution_id")
        .agg(
            pl.col("task_id").drop_nulls().first(),
            pl.col("task").drop_nulls().first(),
            pl.col("app_id").drop_nulls().first(),
            pl.col("app").drop_nulls().first(),
            pl.coalesce(pl.col("node_hint").drop_nulls().first(), pl.col("host").drop_nulls().first()).alias(
                "node"
            ),
            pl.col("host").drop_nulls().first(),
            status.alias("status"),
            pl.col("time").min().alias("start"),
            pl.coalesce(
                pl.col("time").filter(terminal).min(),
                pl.col("time").filter(pl.col("failure_text").is_not_null()).max(),
            ).alias("stop"),
            failed_text.alias("failure_reason"),
            pl.col("source").unique().sort().str.join("+").alias("source"),
        )
        .with_columns(
            ((pl.col("stop") - pl.col("start")).dt.total_milliseconds() / 1000.0).alias("duration_s")
        )
    )


def _session_starts(frames: Frames, rebuilt: pl.LazyFrame) -> pl.LazyFrame:
    """Move a rebuilt run's start back to its task's "Starting session" line (no ExecutionId yet, formats.md
    §5.3), which is when TaskExecution's StartTime is taken; at most :data:`ORPHAN_SLACK_S` earlier."""
    system = kind_lazy(frames, "Scheduler/System")
    starts = (
        system.filter(
            pl.col("TaskId").str.contains(_GUID)
            & pl.col("Message").str.contains(r"(?i)^\s*starting session\s*$")
        )
        .select(pl.col("TaskId").alias("task_id"), pl.col("Timestamp").alias("__session"))
        .unique()
        .sort("__session")
    )
    keyed = rebuilt.with_columns(pl.col("start").alias("__first")).sort("__first")
    joined = keyed.join_asof(
        starts,
        left_on="__first",
        right_on="__session",
        by="task_id",
        strategy="backward",
        tolerance=f"{ORPHAN_SLACK_S}s",
        check_sortedness=False,
    )
    return (
        joined.with_columns(pl.coalesce("__session", "start").alias("start"))
        .with_columns(
            ((pl.col("stop") - pl.col("start")).dt.total_milliseconds() / 1000.0).alias("duration_s")
        )
        .drop("__first", "__session")
    )


def _orphan_failures(frames: Frames, known: pl.LazyFrame) -> pl.LazyFrame:
    """Runs from TaskId-only initiation-failure lines that no known run of that task covers."""
    system = kind_lazy(frames, "Scheduler/System")
    lines = system.filter(
        pl.col("TaskId").str.contains(_GUID)
        & ~pl.col("ExecutionId").fill_null("").str.contains(_GUID)
        & pl.col("Message").str.contains(INITIATION_TEXT)
    ).select(
        "TaskId", "TaskName", "AppId", "AppName", "Timestamp", "Message", "host", "source_file", "line_no"
    )
    slack = pl.duration(seconds=ORPHAN_SLACK_S)
    covered = (
        lines.join(known.select("task_id", "start", "stop"), left_on="TaskId", right_on="task_id")
        .filter(
            (pl.col("Timestamp") >= pl.col("start") - slack)
            & (pl.col("Timestamp") <= pl.coalesce("stop", "start") + slack)
        )
        .select("source_file", "line_no")
        .unique()
    )
    orphans = lines.join(covered, on=["source_file", "line_no"], how="anti").sort("TaskId", "Timestamp")
    # Lines of one task less than the slack apart are one attempt.
    attempt = (
        ((pl.col("Timestamp").diff().over("TaskId").dt.total_seconds() > ORPHAN_SLACK_S).fill_null(True))
        .cum_sum()
        .over("TaskId")
    )
    return (
        orphans.with_columns(attempt.alias("attempt"))
        .group_by("TaskId", "attempt")
        .agg(
            pl.col("TaskName").drop_nulls().first().alias("task"),
            pl.col("AppId").drop_nulls().first().alias("app_id"),
            pl.col("AppName").drop_nulls().first().alias("app"),
            pl.col("host").first(),
            pl.col("Timestamp").min().alias("start"),
            pl.col("Timestamp").max().alias("stop"),
            pl.col("Message").first().alias("failure_reason"),
        )
        .select(
            pl.lit(None, pl.String).alias("execution_id"),
            pl.col("TaskId").alias("task_id"),
            "task",
            "app_id",
            "app",
            pl.col("host").alias("node"),
            "host",
            pl.lit("FinishedFail").alias("status"),
            "start",
            "stop",
            ((pl.col("stop") - pl.col("start")).dt.total_milliseconds() / 1000.0).alias("duration_s"),
            "failure_reason",
            pl.lit("System").alias("source"),
        )
    )


def task_runs(frames: Frames) -> pl.LazyFrame:
    """Every task execution in the bundle, one row each (schema :data:`RUN_SCHEMA`), sorted by start.

    TaskExecution rows win; executions only seen in the scheduler's system or audit log are rebuilt from
    their lifecycle lines; a TaskExecution row without a failure reason borrows one from those lines.
    """
    te = _from_task_execution(frames)
    rebuilt = _session_starts(frames, _from_events(scheduler_events(frames)))
    te = (
        te.join(
            rebuilt.select("execution_id", pl.col("failure_reason").alias("__reason")),
            on="execution_id",
            how="left",
        )
        .with_columns(
            pl.when(outcome_of(pl.col("status")).is_in(FAILED))
            .then(pl.coalesce("failure_reason", "__reason"))
            .otherwise(pl.col("failure_reason"))
            .alias("failure_reason")
        )
        .drop("__reason")
    )
    only_rebuilt = rebuilt.join(te.select("execution_id"), on="execution_id", how="anti")
    columns = [c for c in RUN_SCHEMA if c not in ("run_key", "outcome")]
    known = pl.concat([te.select(columns), only_rebuilt.select(columns)], how="vertical_relaxed")
    runs = pl.concat([known, _orphan_failures(frames, known).select(columns)], how="vertical_relaxed")
    run_key = pl.coalesce(
        "execution_id",
        pl.concat_str(
            pl.col("task_id").fill_null("?"), pl.lit("@"), pl.col("start").dt.to_string("%Y%m%dT%H%M%S%.3f")
        ),
    )
    return (
        runs.with_columns(run_key.alias("run_key"), outcome_of(pl.col("status")).alias("outcome"))
        .select(list(RUN_SCHEMA))
        .cast(RUN_SCHEMA)  # type: ignore[arg-type]
        .sort("start", "task", "run_key", nulls_last=True)
    )
