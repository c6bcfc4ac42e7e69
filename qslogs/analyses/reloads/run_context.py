"""Error context "on demand": the log lines around each failure, for the report and ``--json``.

A script failure shows the script-log lines around its root-cause line (the statement, the data
connection, the ``Error:`` lines); a failure without a script-log error shows the scheduler lines around
the run's start, since an initiation failure leaves no other trace (formats.md §5.6). Times are text:
UTC (``Z``) for scheduler lines, the node's local time as written for script lines; :func:`add_clock`
then gives every line both clocks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl

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
#: Fields of one context line.
ENTRY = ("source_file", "line_no", "time", "script_line", "level", "text")


def scheduler_context(frames: Frames, runs: pl.LazyFrame) -> pl.LazyFrame:
    """Scheduler lines around each failed or aborted run: same ExecutionId (any time), or same TaskId, or a
    node-wide WARN/ERROR line, between ``start − 120 s`` and ``stop + 60 s``. For initiation failures these
    lines are the only evidence of what went wrong (formats.md §5.6)."""
    failed = runs.filter(pl.col("outcome").is_in(["failed", "aborted"])).select(
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


def context_lists(runs: pl.DataFrame, script_ctx: pl.DataFrame, sched_ctx: pl.DataFrame) -> pl.DataFrame:
    """run_key → error_context: the script lines around the root cause for script failures, else the
    scheduler lines around the run's start. Times are text: UTC (``Z``) for scheduler lines, the node's
    local time as written for script lines."""
    entry = ("source_file", "line_no", "time", "script_line", "level", "text")
    script = (
        runs.filter(
            pl.col("error_class").is_not_null()
            & pl.col("script_log").is_not_null()
            & (pl.col("root_cause_file") == pl.col("script_log"))
        )
        .select("run_key", pl.col("script_log").alias("source_file"))
        .join(script_ctx, on="source_file")
        .select(
            "run_key",
            "source_file",
            "line_no",
            pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S").alias("time"),
            pl.col("script_line").cast(pl.Int64),
            pl.lit(None, pl.String).alias("level"),
            "text",
        )
    )
    sched = (
        sched_ctx.join(script.select("run_key").unique(), on="run_key", how="anti")
        .join(runs.filter(pl.col("error_class").is_not_null()).select("run_key"), on="run_key")
        .select(
            "run_key",
            "source_file",
            "line_no",
            pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
            pl.lit(None, pl.Int64).alias("script_line"),
            "level",
            pl.concat_str(
                pl.col("logger").str.split(".").list.last(),
                pl.lit(": "),
                pl.col("message"),
                ignore_nulls=True,
            ).alias("text"),
        )
    )
    both = pl.concat([script, sched], how="vertical_relaxed")
    return both.group_by("run_key", maintain_order=True).agg(pl.struct(*entry).alias("error_context"))


def context_lists_manual(manual: pl.DataFrame, script_ctx: pl.DataFrame) -> pl.DataFrame:
    """script_log → error_context for failed manual reloads (same shape as the runs' context)."""
    failed = manual.filter((pl.col("outcome") != "success") & pl.col("script_log").is_not_null())
    return (
        failed.select(pl.col("script_log").alias("source_file"))
        .unique()
        .join(script_ctx, on="source_file")
        .group_by(pl.col("source_file").alias("script_log"), maintain_order=True)
        .agg(
            pl.struct(
                "source_file",
                "line_no",
                pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S"),
                pl.col("script_line").cast(pl.Int64),
                pl.lit(None, pl.String).alias("level"),
                "text",
            ).alias("error_context")
        )
    )


def add_clock(rows: list[dict[str, Any]], file_offsets: dict[str, int]) -> None:
    """Give every context line of ``rows`` (JSON rows of runs or manual reloads) both clocks.

    Adds ``utc`` (ISO, ``Z``), ``local`` (the node's wall clock, ``YYYY-MM-DD HH:MM:SS``) and
    ``offset_minutes`` (east of UTC) to each entry of ``error_context``, so the report can show a quoted
    line in UTC with the node-local time beside it without computing anything. Script lines carry local
    time: their log's offset (``file_offsets``, from :func:`~qslogs.analyses.reloads.script_link.logs_in_utc`)
    turns them into UTC. Scheduler lines carry UTC: the run's offset (``local_start`` − ``start``) gives
    the local time. Where no offset is known the missing clock is None.
    """
    for row in rows:
        run_offset = _offset_minutes(row.get("start"), row.get("local_start"))
        for entry in row.get("error_context") or []:
            text = str(entry.get("time") or "")
            stamp = _parse(text)
            if stamp is None:
                entry.update(utc=None, local=None, offset_minutes=None)
                continue
            utc: datetime | None
            local: datetime | None
            if text.endswith("Z"):
                offset = run_offset
                utc = stamp
                local = stamp + timedelta(minutes=offset) if offset is not None else None
            else:
                offset = file_offsets.get(str(entry.get("source_file")))
                local = stamp
                utc = stamp - timedelta(minutes=offset) if offset is not None else None
            entry.update(
                utc=utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z" if utc else None,
                local=local.strftime("%Y-%m-%d %H:%M:%S") if local else None,
                offset_minutes=offset,
            )


def _parse(text: str) -> datetime | None:
    """A naive datetime from ``2026-10-29 13:48:59`` or ``2026-10-29T04:31:17.073Z`` (the clock dropped)."""
    try:
        return datetime.fromisoformat(text.removesuffix("Z").replace(" ", "T")) if text else None
    except ValueError:
        return None


def _offset_minutes(start: Any, local_start: Any) -> int | None:
    """Minutes east of UTC of a run's node: its local start minus its UTC start."""
    utc, local = _parse(str(start or "")), _parse(str(local_start or ""))
    if utc is None or local is None:
        return None
    return round((local - utc).total_seconds() / 60)
