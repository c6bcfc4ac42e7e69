"""Monitoring-app freshness and per-task statistics over attributed runs.

The first check of the "License Allocation" runbook is whether the License Monitor reloaded within the
last 24 hours; the Operations Monitor is the same question for the operations dashboards. A monitoring
app is matched by task or app name (case-insensitive), its reloads are task runs plus manual reloads,
and "now" is ``--until`` or the end of the bundle. Per-task numbers feed the report's tables and charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from qslogs.analyses.reloads.aggregates import FAILED
from qslogs.findings import cause_persistence
from qslogs.timeutil import UTC_DATETIME

#: The monitoring apps whose freshness is judged, matched by task or app name.
MONITORING_APPS: tuple[str, ...] = ("License Monitor", "Operations Monitor")
#: The hint when an app is stale without any failed attempt (nothing tried to reload it).
NO_ATTEMPT_HINT = (
    "No reload was attempted since the last success: check in the QMC (Tasks) that the reload "
    "task is enabled, that its trigger is active and that the scheduler service is running."
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _attempts(runs: pl.DataFrame, manual: pl.DataFrame) -> pl.DataFrame:
    """Task runs and manual reloads as one list of reload attempts."""
    cause = [
        "error_class",
        "root_cause",
        "connection",
        "error_hint",
        "failure_kind",
        "script_log",
        "root_cause_line",
    ]
    task_rows = runs.select(
        "task",
        "app",
        pl.col("start").alias("time"),
        pl.coalesce("stop", "start").alias("done"),
        "status",
        "outcome",
        "execution_id",
        *cause,
    )
    manual_rows = manual.select(
        pl.lit(None, pl.String).alias("task"),
        "app",
        "time",
        (
            pl.col("time")
            + pl.duration(milliseconds=(pl.col("duration_s").fill_null(0) * 1000).cast(pl.Int64))
        ).alias("done"),
        pl.concat_str(pl.lit("manual reload: "), pl.col("outcome")).alias("status"),
        "outcome",
        pl.lit(None, pl.String).alias("execution_id"),
        "error_class",
        "root_cause",
        "connection",
        "error_hint",
        pl.lit(None, pl.String).alias("failure_kind"),
        "script_log",
        "root_cause_line",
    )
    return pl.concat([task_rows, manual_rows], how="vertical_relaxed").sort("time", nulls_last=True)


#: Every verdict a monitoring app can get, in the words of ``reloads --json`` ``monitoring_apps[].verdict``.
VERDICTS = ("ok", "failing", "stale", "missing", "unknown")


def _mine(attempts: pl.DataFrame, name: str) -> pl.DataFrame:
    """The attempts whose task or app name contains ``name`` (case-insensitive)."""
    needle = name.lower()
    return attempts.filter(
        pl.col("task").str.to_lowercase().str.contains(needle, literal=True).fill_null(False)
        | pl.col("app").str.to_lowercase().str.contains(needle, literal=True).fill_null(False)
    )


def _root_cause(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "class": row["error_class"],
        "text": row["root_cause"],
        "connection": row["connection"],
        "hint": row["error_hint"],
        "failure_kind": row["failure_kind"],
        "script_log": row["script_log"],
        "line": row["root_cause_line"],
        "execution_id": row["execution_id"],
        "time": row["time"],
        "persistence": cause_persistence(row["error_class"], row["root_cause"]),
    }


def _no_attempt(last_success: datetime | None) -> dict[str, Any]:
    since_text = last_success.strftime("%Y-%m-%d %H:%M UTC") if isinstance(last_success, datetime) else "?"
    return {
        "class": None,
        "text": f"no reload attempt since {since_text}",
        "connection": None,
        "hint": NO_ATTEMPT_HINT,
        "failure_kind": None,
        "script_log": None,
        "line": None,
        "execution_id": None,
        "time": None,
        "persistence": None,
    }


def verdict_of(
    attempts: int, last_outcome: str | None, age_h: float | None, stale_hours: float, has_scheduler: bool
) -> str:
    """One word for a monitoring app (see :data:`VERDICTS`).

    ``ok``: the last attempt did not fail and the last success is at most ``stale_hours`` old; ``failing``:
    the last attempt(s) failed but the last success is still that recent; ``stale``: no success that recent;
    ``missing``: scheduler logs but no run of the app (its task was renamed or deleted); ``unknown``: no
    scheduler logs to tell.
    """
    if attempts == 0:
        return "missing" if has_scheduler else "unknown"
    if age_h is None or age_h > stale_hours:
        return "stale"
    return "failing" if last_outcome in FAILED else "ok"


def monitoring_apps(
    runs: pl.DataFrame,
    manual: pl.DataFrame,
    now: datetime | None,
    stale_hours: float,
    has_scheduler: bool = True,
) -> list[dict[str, Any]]:
    """One verdict per monitoring app: last success and attempt, the verdict, when it goes stale, the cause.

    ``stale`` (kept for older readers) is true for the verdict ``stale`` and null when the bundle shows no
    reload of the app. ``stale_at`` is the last success plus ``stale_hours``; ``failing_since`` the first
    failed attempt after the last success; ``failures_since_success`` how many failed since.
    """
    attempts = _attempts(runs, manual)
    out: list[dict[str, Any]] = []
    for name in MONITORING_APPS:
        mine = _mine(attempts, name)
        # A reload counts once it has finished by "now" (a run straddling --until is still running then).
        ok = mine.filter(
            (pl.col("outcome") == "success") & ((pl.col("done") <= now) if now else pl.lit(True))
        )
        last_success = ok["done"].max() if ok.height else None
        last = mine.row(-1, named=True) if mine.height else None
        age_h = (
            (now - last_success).total_seconds() / 3600
            if isinstance(last_success, datetime) and now
            else None
        )
        verdict = verdict_of(
            mine.height, last["outcome"] if last else None, age_h, stale_hours, has_scheduler
        )
        since = mine.filter(pl.col("time") > last_success) if isinstance(last_success, datetime) else mine
        failures = since.filter(pl.col("outcome").is_in(FAILED))
        root = None
        if failures.height and verdict in ("stale", "failing"):
            root = _root_cause(failures.row(-1, named=True))
        elif verdict == "stale":
            root = _no_attempt(last_success if isinstance(last_success, datetime) else None)
        out.append(
            {
                "name": name,
                "tasks": sorted({t for t in mine["task"].to_list() if t}),
                "last_success": last_success,
                "last_attempt": last["time"] if last else None,
                "last_status": last["status"] if last else None,
                "stale": None if verdict in ("missing", "unknown") else verdict == "stale",
                "verdict": verdict,
                "stale_at": (
                    last_success + timedelta(hours=stale_hours) if isinstance(last_success, datetime) else None
                ),
                "failing_since": failures["time"].min() if failures.height else None,
                "age_hours": round(age_h, 2) if age_h is not None else None,
                "attempts": mine.height,
                "failures_since_success": failures.height,
                "now": now,
                "stale_hours": stale_hours,
                "root_cause": root,
            }
        )
    return out


def monitors_frame(monitors: list[dict[str, Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The verdicts of :func:`monitoring_apps` (one per monitoring app, a handful of rows) as a frame."""
    return pl.DataFrame(monitors, schema=schema)


def task_summary(runs: pl.DataFrame) -> pl.DataFrame:
    """Per task: runs, failures, failure rate, last outcome and run, last success, mean/max duration."""
    failed = pl.col("outcome") == "failed"
    by_time = runs.sort("start", nulls_last=True)
    return (
        by_time.group_by(pl.coalesce("task", "task_id").alias("task"), maintain_order=True)
        .agg(
            pl.col("task_id").drop_nulls().first(),
            pl.col("app").drop_nulls().first(),
            pl.col("app_id").drop_nulls().first(),
            pl.len().alias("runs"),
            (pl.col("outcome") == "success").sum().alias("successes"),
            failed.sum().alias("failures"),
            (pl.col("outcome") == "aborted").sum().alias("aborted"),
            pl.col("status").last().alias("last_outcome"),
            pl.col("start").last().alias("last_run"),
            pl.coalesce("stop", "start").filter(pl.col("outcome") == "success").max().alias("last_success"),
            pl.col("duration_s").mean().round(3).alias("mean_duration_s"),
            pl.col("duration_s").max().round(3).alias("max_duration_s"),
            pl.col("error_class").filter(failed).last().alias("last_error_class"),
            pl.col("root_cause").filter(failed).last().alias("last_root_cause"),
            pl.col("connection").filter(failed).last().alias("last_connection"),
        )
        .with_columns((pl.col("failures") / pl.col("runs")).round(4).alias("failure_rate"))
        .sort(pl.col("failures"), pl.col("task"), descending=[True, False], nulls_last=True)
    )


def local_start(runs: pl.DataFrame, offsets: pl.DataFrame) -> pl.DataFrame:
    """Add ``local_start`` (naive) and ``local_offset_minutes``: the run's start in its node's local time."""
    if runs.height == 0:
        return runs.with_columns(
            pl.lit(None, pl.Datetime("ms")).alias("local_start"),
            pl.lit(None, pl.Int32).alias("local_offset_minutes"),
        )
    fallback = int(offsets["offset_minutes"].mode().sort()[0]) if offsets.height else 0
    right = offsets.select(
        pl.col("host").alias("node"), pl.col("time").alias("start"), "offset_minutes"
    ).sort("start")
    keyed = runs.with_row_index("__r").with_columns(pl.col("start").cast(UTC_DATETIME))
    has = keyed.filter(pl.col("start").is_not_null()).sort("start")
    joined = has.join_asof(right, on="start", by="node", strategy="backward", check_sortedness=False)
    joined = joined.join_asof(
        right.rename({"offset_minutes": "__fwd"}),
        on="start",
        by="node",
        strategy="forward",
        check_sortedness=False,
    )
    offset = pl.coalesce("offset_minutes", "__fwd", pl.lit(fallback)).cast(pl.Int32)
    joined = (
        joined.with_columns(offset.alias("local_offset_minutes"))
        .with_columns(
            (pl.col("start") + pl.duration(minutes=pl.col("local_offset_minutes")))
            .dt.replace_time_zone(None)
            .alias("local_start")
        )
        .drop("offset_minutes", "__fwd")
    )
    missing = keyed.filter(pl.col("start").is_null()).with_columns(
        pl.lit(None, pl.Int32).alias("local_offset_minutes"),
        pl.lit(None, pl.Datetime("ms")).alias("local_start"),
    )
    return pl.concat([joined, missing], how="vertical_relaxed").sort("__r").drop("__r")


def failure_heatmap(local_runs: pl.DataFrame) -> pl.DataFrame:
    """Runs and failures per weekday × hour of the node's local time (cells with at least one run)."""
    return (
        local_runs.filter(pl.col("local_start").is_not_null())
        .group_by(
            (pl.col("local_start").dt.weekday() - 1).alias("weekday"),
            pl.col("local_start").dt.hour().alias("hour"),
        )
        .agg(pl.len().alias("runs"), (pl.col("outcome") == "failed").sum().alias("failures"))
        .with_columns(
            pl.col("weekday")
            .replace_strict(dict(enumerate(WEEKDAYS)), return_dtype=pl.String)
            .alias("weekday_name")
        )
        .select("weekday", "weekday_name", "hour", "runs", "failures")
        .sort("weekday", "hour")
    )


def time_basis(local_runs: pl.DataFrame) -> str:
    """Plain words for the clock the heatmap uses, e.g. ``local time of the executing node (UTC+01:00)``."""
    offsets = sorted(set(local_runs["local_offset_minutes"].drop_nulls().to_list()))
    if not offsets:
        return "local time of the executing node (offset unknown)"
    shown = "/".join(_fmt_offset(o) for o in offsets)
    return f"local time of the executing node ({shown}, from its .NET log timestamps)"


def _fmt_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hh, mm = divmod(abs(minutes), 60)
    return f"UTC{sign}{hh:02d}:{mm:02d}"


def age_words(hours: float) -> str:
    """``12 minutes``, ``5 hours``, ``2 days`` — how long ago, in the words an admin would use."""
    if hours < 1:
        n = max(1, round(hours * 60))
        return f"{n} minute{'s' if n != 1 else ''}"
    if hours < 48:
        n = round(hours)
        return f"{n} hour{'s' if n != 1 else ''}"
    return f"{int(hours // 24)} days"


def hours_between(a: datetime, b: datetime) -> float:
    """Hours from ``a`` to ``b``."""
    return (b - a) / timedelta(hours=1)
