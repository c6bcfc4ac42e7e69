"""Error context "on demand": the log lines around each failure, for the report and ``--json``.

A script failure shows the script-log lines around its root-cause line (the statement, the data
connection, the ``Error:`` lines); a failure without a script-log error shows the scheduler lines around
the run's start, since an initiation failure leaves no other trace (formats.md §5.6). Times are text:
UTC (``Z``) for scheduler lines, the node's local time as written for script lines; every line also
carries both clocks (``utc``, ``local``, ``offset_minutes``), so the report shows a quoted line in UTC
with the node-local time beside it without computing anything.
"""

from __future__ import annotations

import polars as pl

from qslogs.analyses.reloads.aggregates import FAILED
from qslogs.analyses.reloads.script_link import script_lines, script_summaries
from qslogs.analyses.reloads.task_runs import kind_lazy
from qslogs.frames import Frames

#: Seconds of scheduler lines kept before a failed run's start, and after its stop, as its context.
CONTEXT_BEFORE_S = 120
CONTEXT_AFTER_S = 60
#: At most this many context lines per run.
CONTEXT_MAX_LINES = 60
#: Script-log lines kept before and after the root-cause line as its context.
CONTEXT_BEFORE = 8
CONTEXT_AFTER = 4
#: Fields of one context line: where it is, its time as written, and that time on both clocks.
ENTRY = ("source_file", "line_no", "time", "script_line", "level", "text", "utc", "local", "offset_minutes")
#: How the clocks of a context line are written: UTC with milliseconds, the node's wall clock to the second.
UTC_FORMAT = "%Y-%m-%dT%H:%M:%S%.3fZ"
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"


def scheduler_context(frames: Frames, runs: pl.LazyFrame) -> pl.LazyFrame:
    """Scheduler lines around each failed or aborted run: same ExecutionId (any time), or same TaskId, or a
    node-wide WARN/ERROR line, between ``start − 120 s`` and ``stop + 60 s``. For initiation failures these
    lines are the only evidence of what went wrong (formats.md §5.6)."""
    failed = runs.filter(pl.col("outcome").is_in(FAILED)).select(
        "run_key",
        "execution_id",
        "task_id",
        "node",
        (pl.col("start") - pl.duration(seconds=CONTEXT_BEFORE_S)).alias("lo"),
        (pl.coalesce("stop", "start") + pl.duration(seconds=CONTEXT_AFTER_S)).alias("hi"),
    )
    system = kind_lazy(frames, "Scheduler/System").select(
        pl.col("Timestamp").alias("time"),
        pl.col("Level").alias("level"),
        pl.col("Logger").alias("logger"),
        pl.col("Message").alias("message"),
        pl.col("Exception").alias("exception"),
        pl.col("TaskId").alias("line_task"),
        pl.col("ExecutionId").alias("line_exec"),
        "host",
        "source_file",
        "line_no",
    )
    service = kind_lazy(frames, "Scheduler/Service").select(
        pl.col("Timestamp").alias("time"),
        pl.col("Severity").alias("level"),
        pl.lit("Service_Scheduler").alias("logger"),
        pl.col("Message").alias("message"),
        pl.lit(None, pl.String).alias("exception"),
        pl.lit(None, pl.String).alias("line_task"),
        pl.lit(None, pl.String).alias("line_exec"),
        "host",
        "source_file",
        "line_no",
    )
    lines = pl.concat([system, service], how="vertical_relaxed")
    in_window = (pl.col("time") >= pl.col("lo")) & (pl.col("time") <= pl.col("hi"))
    by_exec = lines.join(failed.drop("task_id", "node"), left_on="line_exec", right_on="execution_id")
    by_task = lines.join(failed.drop("execution_id", "node"), left_on="line_task", right_on="task_id").filter(
        in_window
    )
    node_wide = (
        lines.filter(
            pl.col("line_task").is_null()
            & pl.col("line_exec").is_null()
            & pl.col("level").str.to_uppercase().is_in(["WARN", "WARNING", "ERROR", "FATAL"])
        )
        .join(failed.drop("execution_id", "task_id"), left_on="host", right_on="node")
        .filter(in_window)
    )
    keep = ["run_key", "time", "level", "logger", "message", "exception", "host", "source_file", "line_no"]
    return (
        pl.concat(
            [by_exec.select(keep), by_task.select(keep), node_wide.select(keep)], how="vertical_relaxed"
        )
        .unique(subset=["run_key", "source_file", "line_no"])
        .sort("run_key", "time", "source_file", "line_no")
        .filter(pl.int_range(pl.len()).over("run_key") < CONTEXT_MAX_LINES)
    )


def script_context(frames: Frames) -> pl.LazyFrame:
    """The lines around the root cause of every failed or cut-off log: the "full error context on demand"."""
    lines = script_lines(frames)
    last = lines.group_by("source_file").agg(pl.col("line_no").max().alias("__last"))
    failing = (
        script_summaries(frames)
        .filter(pl.col("outcome") != "success")
        .join(last, on="source_file", how="left")
        .select("source_file", pl.coalesce("root_cause_line_no", "__last").alias("anchor"))
    )
    return (
        lines.join(failing, on="source_file")
        .filter(
            pl.col("line_no").is_between(pl.col("anchor") - CONTEXT_BEFORE, pl.col("anchor") + CONTEXT_AFTER)
        )
        .select("source_file", "line_no", "time", "script_line", "text")
        .sort("source_file", "line_no")
    )


def context_lists(
    runs: pl.DataFrame, script_ctx: pl.DataFrame, sched_ctx: pl.DataFrame, file_offsets: pl.DataFrame
) -> pl.DataFrame:
    """run_key → error_context: the script lines around the root cause for script failures, else the
    scheduler lines around the run's start, each on both clocks (:func:`_script_entries`,
    :func:`_scheduler_entries`). ``runs`` carry ``local_offset_minutes``; ``file_offsets`` is
    ``source_file, offset_minutes`` of every script log."""
    script = (
        runs.filter(
            pl.col("error_class").is_not_null()
            & pl.col("script_log").is_not_null()
            & (pl.col("root_cause_file") == pl.col("script_log"))
        )
        .select("run_key", pl.col("script_log").alias("source_file"))
        .join(script_ctx, on="source_file")
    )
    script = _script_entries(script, file_offsets)
    sched = (
        sched_ctx.join(script.select("run_key").unique(), on="run_key", how="anti")
        .join(
            runs.filter(pl.col("error_class").is_not_null()).select("run_key", "local_offset_minutes"),
            on="run_key",
        )
    )
    both = pl.concat([script, _scheduler_entries(sched)], how="vertical_relaxed")
    return both.group_by("run_key", maintain_order=True).agg(pl.struct(*ENTRY).alias("error_context"))


def context_lists_manual(manual: pl.DataFrame, script_ctx: pl.DataFrame, file_offsets: pl.DataFrame) -> pl.DataFrame:
    """script_log → error_context for failed manual reloads (same shape as the runs' context)."""
    failed = manual.filter((pl.col("outcome") != "success") & pl.col("script_log").is_not_null())
    lines = (
        failed.select(pl.col("script_log").alias("source_file"))
        .unique()
        .join(script_ctx, on="source_file")
        .with_columns(pl.col("source_file").alias("run_key"))
    )
    return (
        _script_entries(lines, file_offsets)
        .group_by(pl.col("run_key").alias("script_log"), maintain_order=True)
        .agg(pl.struct(*ENTRY).alias("error_context"))
    )


def _script_entries(lines: pl.DataFrame, file_offsets: pl.DataFrame) -> pl.DataFrame:
    """Script-log context lines as entries: ``time`` is the node's wall clock as written (to the second),
    ``utc`` that time less its log's offset (null when the offset is unknown)."""
    offset = pl.col("offset_minutes")
    stamp = pl.col("time").dt.truncate("1s")
    return lines.join(file_offsets, on="source_file", how="left").select(
        "run_key",
        "source_file",
        "line_no",
        pl.col("time").dt.strftime(LOCAL_FORMAT).alias("time"),
        pl.col("script_line").cast(pl.Int64),
        pl.lit(None, pl.String).alias("level"),
        "text",
        (stamp - pl.duration(minutes=offset)).dt.strftime(UTC_FORMAT).alias("utc"),
        pl.col("time").dt.strftime(LOCAL_FORMAT).alias("local"),
        pl.when(pl.col("time").is_not_null()).then(offset).cast(pl.Int32).alias("offset_minutes"),
    )


def _scheduler_entries(lines: pl.DataFrame) -> pl.DataFrame:
    """Scheduler context lines as entries: ``time`` and ``utc`` in UTC (``Z``), ``local`` the run's node
    clock (its ``local_offset_minutes``; null when unknown)."""
    offset = pl.col("local_offset_minutes")
    return lines.select(
        "run_key",
        "source_file",
        "line_no",
        pl.col("time").dt.strftime(UTC_FORMAT).alias("time"),
        pl.lit(None, pl.Int64).alias("script_line"),
        "level",
        pl.concat_str(
            pl.col("logger").str.split(".").list.last(),
            pl.lit(": "),
            pl.col("message"),
            ignore_nulls=True,
        ).alias("text"),
        pl.col("time").dt.strftime(UTC_FORMAT).alias("utc"),
        (pl.col("time") + pl.duration(minutes=offset)).dt.strftime(LOCAL_FORMAT).alias("local"),
        pl.when(pl.col("time").is_not_null()).then(offset).cast(pl.Int32).alias("offset_minutes"),
    )
