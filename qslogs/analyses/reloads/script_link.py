"""Script logs next to task runs: place them in UTC, link each run to its log, find manual reloads.

A script log knows only its AppId and naive local times (formats.md §5.5), so a run and a log are
joined by AppId and a time window: the log's ``Execution started.`` time, converted to UTC with the
offsets of the run's node, must fall within ``[StartTime − tol, StopTime + tol]``. The closest log to
``StartTime`` wins and each log serves one run. A second pass allows exactly ±1 h where a DST change is
visible in the bundle near the run (or the node's offset is unknown), because a naive time next to a
change can be converted with the offset of the wrong side.

Reloads not started by a task (hub, script editor) are the Engine audit ``Reload app`` rows of real users
and the script logs that no run claims and that a user executed; both are merged into one row per reload.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from qslogs.analyses.reloads.task_runs import kind_lazy
from qslogs.clock import BASIS_BUNDLE, BASIS_NODE, local_to_utc
from qslogs.error_classes import error_class_expr, error_hint_expr
from qslogs.frames import Frames
from qslogs.parsers.script_log_lines import LINES_SCHEMA
from qslogs.parsers.script_logs import SUMMARY_SCHEMA
from qslogs.timeutil import UTC_DATETIME

#: Default linking tolerance (seconds) around a run's start and stop.
LINK_TOLERANCE_S = 120
#: The DST fallback pass shifts a log's time by this much either way.
DST_SHIFT_S = 3600

#: Columns of the script-log table this analysis uses (a subset of the parser's summary).
SCRIPT_COLUMNS = (
    "source_file",
    "app_id",
    "start",
    "end",
    "duration_s",
    "executed_by",
    "user_directory",
    "user_id",
    "is_scheduled",
    "outcome",
    "root_cause",
    "root_cause_line_no",
    "root_cause_script_line",
    "running_statement",
    "connection",
    "connections",
    "rows_fetched_total",
    "server_version",
    "start_utc",
    "end_utc",
    "utc_offset_minutes",
)
#: ``time_basis`` of a script log: how its ``start_utc``/``end_utc`` were placed on the UTC line.
TIME_BASIS_LOG = "UTC offset written in the log"
TIME_BASIS_NODE = "node's UTC offset from its .NET logs"
TIME_BASIS_BUNDLE = "another node's UTC offset (this node's is unknown)"
#: A classic-form log (naive local times) with no offset known anywhere in the bundle: start_utc stays null.
TIME_BASIS_UNKNOWN = "local time, offset unknown"
#: Hint of a failed script log without any ``Error:`` line.
NO_ERROR_LINE_HINT = "The reload failed without an Error: line in its log."
_EMPTY_LINKS = {
    "run_key": pl.String(),
    "source_file": pl.String(),
    "link": pl.String(),
    "link_delta_s": pl.Float64(),
}


def script_summaries(frames: Frames) -> pl.LazyFrame:
    """One row per script log (the parser's summary) with the node it came from and its error class."""
    if "Script/Summary" not in frames.frames:
        empty = pl.LazyFrame(schema={**SUMMARY_SCHEMA, "host": pl.String()}).select(*SCRIPT_COLUMNS, "host")
        return classify_scripts(empty)
    lazy = frames.lazy("Script/Summary")
    if "host" not in frames.columns("Script/Summary"):
        lazy = lazy.with_columns(pl.lit(None, pl.String).alias("host"))
    return classify_scripts(lazy.select(*SCRIPT_COLUMNS, "host"))


def classify_scripts(logs: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``error_class`` and ``error_hint`` to script-log summaries from their root cause and connection.

    The parser reports facts (the first ``Error:`` line, the connection in effect); the diagnosis is made
    here, from the one table of :mod:`qslogs.error_classes`. A failed log without an ``Error:`` line is
    ``unknown`` with its own hint.
    """
    silent = (pl.col("outcome") == "failed") & pl.col("root_cause").is_null()
    return logs.with_columns(
        pl.when(silent).then(pl.lit("unknown")).otherwise(error_class_expr(pl.col("root_cause")))
        .alias("error_class"),
        pl.when(silent).then(pl.lit(NO_ERROR_LINE_HINT))
        .otherwise(error_hint_expr(pl.col("root_cause"), pl.col("connection"))).alias("error_hint"),
    )


def script_lines(frames: Frames) -> pl.LazyFrame:
    if "Script" in frames.frames:
        return kind_lazy(frames, "Script")
    return pl.LazyFrame(schema={**LINES_SCHEMA, "host": pl.String()})


def engine_reloads(frames: Frames) -> pl.LazyFrame:
    """Engine audit ``Reload app`` rows by real users (not INTERNAL\\sa_scheduler): hub and editor reloads."""
    audit = kind_lazy(frames, "Engine/AuditActivity")
    scheduler = (pl.col("UserDirectory").str.to_uppercase() == "INTERNAL") & (
        pl.col("UserId").str.to_lowercase() == "sa_scheduler"
    )
    result_text = pl.col("Description").str.extract(r"ResultText=(.*)$", 1)
    return audit.filter(
        (pl.col("Command").str.to_lowercase() == "reload app") & ~scheduler.fill_null(False)
    ).select(
        pl.col("Timestamp").alias("time"),
        pl.col("ObjectId").alias("app_id"),
        pl.col("ObjectName").alias("app"),
        pl.concat_str(pl.col("UserDirectory"), pl.lit("\\"), pl.col("UserId")).alias("user"),
        pl.col("host").alias("node"),
        pl.col("Result").alias("result"),
        pl.coalesce(result_text, pl.col("Message")).alias("result_text"),
        pl.col("source_file").alias("audit_file"),
        pl.col("line_no").alias("audit_line"),
    )


def logs_in_utc(logs: pl.DataFrame, offsets: pl.DataFrame) -> pl.DataFrame:
    """Place each log on the UTC line: ``start_utc``, ``end_utc``, ``start_utc_offset`` and ``time_basis``.

    A modern-form log writes its own offset on every line, which gives UTC exactly (whatever the folder
    or the other logs of the bundle); a classic-form log is placed with its node's offsets, else another
    node's, and when the bundle knows no offset at all its times stay null with ``time_basis`` =
    :data:`TIME_BASIS_UNKNOWN`, so nothing labels a local time as UTC.
    """
    own = [c for c in ("start_utc", "end_utc") if c in logs.columns]
    own_start = logs["start_utc"] if "start_utc" in own else pl.Series("start_utc", [None] * logs.height, UTC_DATETIME)
    own_end = logs["end_utc"] if "end_utc" in own else pl.Series("end_utc", [None] * logs.height, UTC_DATETIME)
    logs = local_to_utc(logs.drop(own), "start", "host", offsets, "start_utc", basis=True)
    logs = local_to_utc(logs, "end", "host", offsets, "end_utc", basis=True).drop("end_utc_offset", "end_utc_basis")
    has_own = own_start.is_not_null()
    basis = (
        pl.when(has_own).then(pl.lit(TIME_BASIS_LOG))
        .when(pl.col("start_utc_basis") == BASIS_NODE).then(pl.lit(TIME_BASIS_NODE))
        .when(pl.col("start_utc_basis") == BASIS_BUNDLE).then(pl.lit(TIME_BASIS_BUNDLE))
        .otherwise(pl.lit(TIME_BASIS_UNKNOWN))
    )
    offset = pl.when(has_own).then(pl.col("utc_offset_minutes")).otherwise(pl.col("start_utc_offset"))
    if "utc_offset_minutes" not in logs.columns:
        offset = pl.col("start_utc_offset")
    return logs.with_columns(
        basis.alias("time_basis"),
        pl.when(has_own).then(own_start).otherwise(pl.col("start_utc")).alias("start_utc"),
        pl.when(has_own).then(own_end).otherwise(pl.col("end_utc")).alias("end_utc"),
        offset.cast(pl.Int32).alias("start_utc_offset"),
    ).drop("start_utc_basis")


def assign_pairs(pairs: pl.DataFrame, left: str, right: str, distance: str) -> pl.DataFrame:
    """Pick pairs so that each ``left`` and each ``right`` is used once, the closest pairs first.

    Every round takes the pairs that are each other's best match (the global best always is one), then
    drops everything touching them; a handful of rounds settle even hourly tasks with skewed clocks.
    """
    chosen: list[pl.DataFrame] = []
    pairs = pairs.sort(distance, left, right)
    while pairs.height:
        best = (
            pairs.filter(
                (pl.col(distance) == pl.col(distance).min().over(left))
                & (pl.col(distance) == pl.col(distance).min().over(right))
            )
            .unique(subset=[left], keep="first", maintain_order=True)
            .unique(subset=[right], keep="first", maintain_order=True)
        )
        chosen.append(best)
        pairs = pairs.filter(
            ~pl.col(left).is_in(best[left].implode()) & ~pl.col(right).is_in(best[right].implode())
        )
    return pl.concat(chosen) if chosen else pairs


def _dst_nearby(runs: pl.DataFrame, offsets: pl.DataFrame) -> pl.DataFrame:
    """run_key of runs with a UTC-offset change on any node within a day, or with a node of unknown offset."""
    segments = offsets.sort("host", "time").with_columns(pl.col("time").shift(-1).over("host").alias("until"))
    window = pl.duration(days=1)
    changes = (
        runs.select("run_key", "start")
        .join(segments, how="cross")
        .filter(
            (pl.col("time") <= pl.col("start") + window)
            & (pl.col("until").is_null() | (pl.col("until") >= pl.col("start") - window))
        )
        .group_by("run_key")
        .agg(pl.col("offset_minutes").n_unique().alias("n"))
        .filter(pl.col("n") > 1)
        .select("run_key")
    )
    unknown = runs.filter(~pl.col("node").is_in(offsets["host"].unique().implode())).select("run_key")
    return pl.concat([changes, unknown]).unique()


def link_runs(
    runs: pl.DataFrame, logs: pl.DataFrame, offsets: pl.DataFrame, tolerance_s: float = LINK_TOLERANCE_S
) -> pl.DataFrame:
    """For each run that has one, its script log: run_key, source_file, link (window|dst), link_delta_s.

    ``link_delta_s`` is the log's start minus the run's start, in seconds, after any DST shift.
    """
    if runs.height == 0 or logs.height == 0:
        return pl.DataFrame(schema=_EMPTY_LINKS)
    # Candidate pairs share the app and an hour of local time. A log's UTC start is its local start minus
    # the offset of the run's node, which lies between that node's smallest and largest known offset (the
    # bundle's usual offset for a node without any): so a log can only fall in a run's window (± tolerance,
    # ± the DST pass) when its local start lies in the run's window shifted by those offsets. Only those
    # hours are joined; the exact windows below decide. (Joining on the app and whole days paired every run
    # with hundreds of logs of a busy app: 6 GB for 24,000 runs.)
    hour_ms = 3_600_000
    slack_ms = int((tolerance_s + DST_SHIFT_S) * 1000)
    fallback = int(offsets["offset_minutes"].mode().sort()[0]) if offsets.height else 0
    span = offsets.group_by(pl.col("host").alias("node")).agg(
        pl.col("offset_minutes").min().alias("__lo"), pl.col("offset_minutes").max().alias("__hi")
    )
    lo = pl.col("start").dt.timestamp("ms") + pl.col("__lo").fill_null(fallback).cast(pl.Int64) * 60_000 - slack_ms
    hi = (
        pl.coalesce("stop", "start").dt.timestamp("ms")
        + pl.col("__hi").fill_null(fallback).cast(pl.Int64) * 60_000
        + slack_ms
    )
    pairs = (
        runs.select("run_key", "app_id", "start", "stop", pl.col("node").cast(pl.String))
        .join(span.with_columns(pl.col("node").cast(pl.String)), on="node", how="left")
        .with_columns(__hour=pl.int_ranges(lo // hour_ms, hi // hour_ms + 1))
        .drop("__lo", "__hi")
        .explode("__hour")
        .join(
            logs.select("source_file", "app_id", pl.col("start").alias("log_start"),
                        __hour=pl.col("start").dt.timestamp("ms") // hour_ms),
            on=["app_id", "__hour"],
        )
        .drop("__hour")
    )
    pairs = local_to_utc(pairs, "log_start", "node", offsets, "log_utc")
    tol = pl.duration(milliseconds=int(tolerance_s * 1000))

    def window(shift_s: int) -> pl.DataFrame:
        shifted = pl.col("log_utc") + pl.duration(seconds=shift_s)
        return (
            pairs.with_columns(
                ((shifted - pl.col("start")).dt.total_milliseconds() / 1000.0).alias("link_delta_s")
            )
            .filter((shifted >= pl.col("start") - tol) & (shifted <= pl.coalesce("stop", "start") + tol))
            .with_columns(pl.col("link_delta_s").abs().alias("__d"))
        )

    first = assign_pairs(window(0), "run_key", "source_file", "__d").with_columns(
        pl.lit("window").alias("link")
    )
    dst_runs = _dst_nearby(runs.filter(~pl.col("run_key").is_in(first["run_key"].implode())), offsets)
    second = pl.concat([window(DST_SHIFT_S), window(-DST_SHIFT_S)]).filter(
        pl.col("run_key").is_in(dst_runs["run_key"].implode())
        & ~pl.col("source_file").is_in(first["source_file"].implode())
    )
    second = assign_pairs(second, "run_key", "source_file", "__d").with_columns(pl.lit("dst").alias("link"))
    return pl.concat([first, second]).select(list(_EMPTY_LINKS))


def script_coverage(logs: pl.DataFrame) -> tuple[datetime, datetime] | None:
    """The UTC days the bundle holds script logs for ([first day, last day + 1)), or None without logs.

    The Log Collector includes script logs only when asked, and then for a date range (formats.md §1.3):
    a run without a log inside this span failed at initiation; outside it, its log was not collected.
    """
    times = logs.select(
        pl.col("start_utc").min().alias("lo"), pl.coalesce("end_utc", "start_utc").max().alias("hi")
    )
    if logs.height == 0 or times["lo"][0] is None:
        return None
    lo, hi = times.select(
        pl.col("lo").dt.truncate("1d"), pl.col("hi").dt.truncate("1d") + pl.duration(days=1)
    ).row(0)
    assert isinstance(lo, datetime) and isinstance(hi, datetime)
    return lo, hi


def manual_reloads(
    audit: pl.DataFrame, logs: pl.DataFrame, app_names: pl.DataFrame, tolerance_s: float = LINK_TOLERANCE_S
) -> pl.DataFrame:
    """One row per reload a user started: Engine audit rows and unclaimed user script logs, merged.

    ``logs`` are script logs in UTC that no task run claimed and that a user (not the scheduler) ran;
    an audit row and a log of the same app are one reload when the audit time (written when the reload
    ends) falls within the log's span ± tolerance. ``app_names`` maps app_id → app for logs without audit.
    """
    tol = pl.duration(milliseconds=int(tolerance_s * 1000))
    audit = audit.with_row_index("__a").with_columns(pl.col("__a").cast(pl.String))
    pairs = (
        audit.select("__a", "app_id", "time")
        .join(logs.select("source_file", "app_id", "start_utc", "end_utc"), on="app_id")
        .filter(
            (pl.col("time") >= pl.col("start_utc") - tol)
            & (pl.col("time") <= pl.coalesce("end_utc", "start_utc") + tol)
        )
        .with_columns(
            (pl.col("time") - pl.coalesce("end_utc", "start_utc")).dt.total_milliseconds().abs().alias("__d")
        )
    )
    links = assign_pairs(pairs, "__a", "source_file", "__d").select("__a", "source_file")
    audit = audit.join(links, on="__a", how="left")
    merged = audit.join(logs, on="source_file", how="full", coalesce=True, suffix="_log")
    audit_ok = pl.col("result").cast(pl.String).str.strip_chars() == "0"
    outcome = pl.coalesce(
        "outcome",
        pl.when(pl.col("result").is_null())
        .then(None)
        .when(audit_ok)
        .then(pl.lit("success"))
        .otherwise(pl.lit("failed")),
    )
    audit_cause = (
        pl.when(~audit_ok.fill_null(True))
        .then(pl.col("result_text").str.replace(r"(?i)^\s*error:\s*", ""))
        .otherwise(None)
    )
    log_user = (
        pl.when(pl.col("user_id").is_not_null())
        .then(pl.concat_str(pl.col("user_directory").fill_null(""), pl.lit("\\"), pl.col("user_id")))
        .otherwise(pl.col("executed_by"))
    )
    source = (
        pl.when(pl.col("__a").is_not_null() & pl.col("source_file").is_not_null())
        .then(pl.lit("engine audit + script log"))
        .when(pl.col("__a").is_not_null())
        .then(pl.lit("engine audit"))
        .otherwise(pl.lit("script log"))
    )
    app_id = pl.coalesce("app_id", "app_id_log") if "app_id_log" in merged.columns else pl.col("app_id")
    rows = merged.with_columns(app_id.alias("app_id")).join(
        app_names.rename({"app": "__name"}), on="app_id", how="left"
    )
    cause = pl.coalesce("root_cause", audit_cause)
    return rows.select(
        pl.coalesce("start_utc", "time").alias("time"),
        "app_id",
        pl.coalesce("app", "__name").alias("app"),
        pl.coalesce("user", log_user).alias("user"),
        pl.coalesce("node", "host").alias("node"),
        outcome.alias("outcome"),
        pl.coalesce("error_class", error_class_expr(audit_cause)).alias("error_class"),
        pl.coalesce("error_hint", error_hint_expr(audit_cause, pl.col("connection"))).alias("error_hint"),
        cause.alias("root_cause"),
        pl.col("root_cause_line_no").alias("root_cause_line"),
        "root_cause_script_line",
        "running_statement",
        "connection",
        pl.col("source_file").alias("script_log"),
        "duration_s",
        source.alias("source"),
        "audit_file",
        "audit_line",
    ).sort("time", "app_id", nulls_last=True)
