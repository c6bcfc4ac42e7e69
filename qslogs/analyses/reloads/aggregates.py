"""What the report draws of the reloads analysis beyond its tables, computed here so the report only arranges.

- :func:`task_events`: one row per run, the events the page's date filter sums into per-task counts;
- :func:`heatmap_events`: failed runs on the node's weekday × hour grid, for the heatmap under the filter;
- :func:`duration_series`: the durations chart's series (per task, most runs first, and the failed runs);
- :func:`overview`: the counts of the failed-runs block and of the status strip's failed-reloads tile.
"""

from __future__ import annotations

import polars as pl

#: Outcomes counted as failures across the Reloads section (red rows, the failed-runs table).
FAILED = ("failed", "aborted")
#: The series name of the failed runs in the durations chart, and of a task without a name.
FAILED_SERIES = "failed run"
NO_TASK = "?"


def _text(column: str) -> pl.Expr:
    """The column, with empty text as null (a key falls through ``""`` as it would through null)."""
    return pl.when(pl.col(column) != "").then(pl.col(column)).otherwise(None)


def task_events(runs: pl.DataFrame) -> pl.DataFrame:
    """``task, start, runs, successes, failures, aborted`` per run (``task`` is the task, else its id, else
    ``""``: the key of the per-task table row), sorted by task, start (null first) and counts."""
    outcome = pl.col("outcome")
    return runs.select(
        pl.coalesce(_text("task"), _text("task_id"), pl.lit("")).alias("task"),
        "start",
        pl.lit(1, pl.UInt32).alias("runs"),
        (outcome == "success").fill_null(False).cast(pl.UInt32).alias("successes"),
        (outcome == "failed").fill_null(False).cast(pl.UInt32).alias("failures"),
        (outcome == "aborted").fill_null(False).cast(pl.UInt32).alias("aborted"),
    ).sort("task", "start", "successes", "failures", "aborted", nulls_last=False)


def heatmap_events(runs: pl.DataFrame) -> pl.DataFrame:
    """``start, weekday, hour, failures`` of every failed run with a local start (weekday 0 = Monday, the
    node's clock), sorted; every run counts, also those without a duration."""
    local = pl.col("local_start")
    return (
        runs.filter((pl.col("outcome") == "failed") & local.is_not_null())
        .select(
            "start",
            (local.dt.weekday() - 1).cast(pl.Int8).alias("weekday"),
            local.dt.hour().cast(pl.Int8).alias("hour"),
            pl.lit(1, pl.UInt32).alias("failures"),
        )
        .sort("start", "weekday", "hour", nulls_last=False)
    )


def duration_series(durations: pl.DataFrame) -> pl.DataFrame:
    """One row per task (``?`` for none) with its runs' starts and durations, most runs first then by name;
    then, if any run failed, a row of the failed runs (``failed`` true). Points keep the table's order."""
    points = durations.select(
        pl.coalesce(_text("task"), pl.lit(NO_TASK)).alias("series"),
        "start",
        pl.col("duration_s").fill_null(0.0).alias("duration_s"),
        pl.col("outcome").is_in(list(FAILED)).fill_null(False).alias("__failed"),
    )
    tasks = (
        points.group_by("series", maintain_order=True)
        .agg(pl.len().alias("runs"), pl.col("start").alias("starts"), pl.col("duration_s").alias("durations"))
        .sort(["runs", "series"], descending=[True, False])
        .select("series", pl.lit(False).alias("failed"), "runs", "starts", "durations")
    )
    failed = points.filter(pl.col("__failed")).select(
        pl.lit(FAILED_SERIES).alias("series"),
        pl.lit(True).alias("failed"),
        pl.len().alias("runs"),
        pl.col("start").implode().alias("starts"),
        pl.col("duration_s").implode().alias("durations"),
    )
    failed = failed.filter(pl.col("runs") > 0)
    return pl.concat([tasks, failed], how="vertical_relaxed")


def overview(runs: pl.DataFrame, manual: pl.DataFrame, durations: pl.DataFrame) -> pl.DataFrame:
    """One row: runs listed, failed or aborted runs, failed manual reloads, their sum, the distinct tasks (or
    apps) they belong to, the most frequent cause (``error_class on connection``, first seen wins a tie)
    and its count, and the longest duration of a run (0 without any)."""
    failed_runs = runs.filter(pl.col("outcome").is_in(list(FAILED))).select(
        pl.coalesce(_text("task"), "app").alias("what"), "error_class", "connection"
    )
    failed_manual = manual.filter(pl.col("outcome") == "failed").select(
        pl.col("app").alias("what"), "error_class", "connection"
    )
    failed = pl.concat([failed_runs, failed_manual], how="vertical_relaxed")
    on = pl.when(_text("connection").is_not_null()).then(pl.lit(" on ") + pl.col("connection")).otherwise(pl.lit(""))
    causes = (
        failed.select((pl.coalesce(_text("error_class"), pl.lit("unknown")) + on).alias("cause"))
        .group_by("cause", maintain_order=True)
        .len()
        .sort("len", descending=True, maintain_order=True)
    )
    top = causes.row(0) if causes.height else (None, 0)
    longest = durations["duration_s"].fill_null(0.0).max() if durations.height else None
    return pl.DataFrame(
        {
            "runs": [runs.height],
            "failed_runs": [failed_runs.height],
            "failed_manual": [failed_manual.height],
            "failed": [failed.height],
            "tasks": [failed["what"].n_unique() if failed.height else 0],
            "top_cause": [top[0]],
            "top_count": [top[1]],
            "longest_duration_s": [float(longest) if isinstance(longest, int | float) else 0.0],
        }
    )
