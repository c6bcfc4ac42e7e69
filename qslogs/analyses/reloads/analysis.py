"""Reload diagnosis: every task run with its outcome and root cause, manual reloads, monitoring-app freshness.

The analysis named ``reloads`` (registered in :func:`qslogs.analyses.registry`):

- :mod:`~qslogs.analyses.reloads.task_runs` builds the runs (TaskExecution, else scheduler lifecycle lines);
- :mod:`~qslogs.analyses.reloads.script_link` links each run to its script log and finds manual reloads;
- :mod:`~qslogs.analyses.reloads.run_outcome` says where and why a run failed (script / initiation / not collected);
- :mod:`~qslogs.analyses.reloads.health` judges the monitoring apps and sums up each task.

It returns a :class:`~qslogs.analyses.reloads.result.ReloadsResult`: typed frames (``runs``,
``monitoring_apps``, ``tasks``, ``manual_reloads``, ``script_logs``, ``failure_heatmap``, ``durations``,
``version_changes`` and ``restarts`` per node from :mod:`~qslogs.analyses.reloads.nodes`), its ``meta``, and
the aggregates the report draws (:mod:`~qslogs.analyses.reloads.aggregates`). ``qslogs reloads --json`` is
:func:`qslogs.export.result_json` of it; every frame is built with expressions, none row by row.
"""

from __future__ import annotations

import polars as pl

from qslogs.analyses.base import Analysis, AnalysisOptions, time_filter
from qslogs.analyses.reloads import aggregates, health, nodes
from qslogs.analyses.reloads.aggregates import FAILED
from qslogs.analyses.reloads.findings import findings_for
from qslogs.analyses.reloads.result import ReloadsMeta, ReloadsResult
from qslogs.analyses.reloads.run_context import (
    context_lists,
    context_lists_manual,
    scheduler_context,
    script_context,
)
from qslogs.analyses.reloads.run_outcome import attribute_failures
from qslogs.analyses.reloads.script_failures import script_failure_findings
from qslogs.analyses.reloads.script_link import (
    LINK_TOLERANCE_S,
    engine_reloads,
    link_runs,
    logs_in_utc,
    manual_reloads,
    script_coverage,
    script_summaries,
)
from qslogs.analyses.reloads.task_runs import task_runs
from qslogs.findings import Severity
from qslogs.frames import Frames

NAME = ReloadsResult.NAME


def queries(frames: Frames, options: AnalysisOptions) -> dict[str, pl.LazyFrame]:
    """The lazy parts: runs (time-filtered on start), their scheduler context, script logs, engine reloads."""
    runs = time_filter(task_runs(frames), "start", options)
    return {
        "runs": runs,
        "scheduler_context": scheduler_context(frames, runs),
        "scripts": script_summaries(frames),
        "script_context": script_context(frames),
        "engine_reloads": time_filter(engine_reloads(frames), "time", options),
        "versions": nodes.versions_query(frames),
        "startups": time_filter(nodes.startups_query(frames), "time", options),
    }


def build(results: dict[str, pl.DataFrame], frames: Frames, options: AnalysisOptions) -> ReloadsResult:
    """Link, attribute, judge and sum up: the typed result with its findings."""
    logs = logs_in_utc(results["scripts"], frames.offsets)
    file_offsets = logs.select("source_file", pl.col("start_utc_offset").alias("offset_minutes")).unique(
        subset="source_file", keep="last", maintain_order=True
    )
    links = link_runs(results["runs"], logs, frames.offsets, LINK_TOLERANCE_S)
    coverage = script_coverage(logs)
    runs = attribute_failures(results["runs"], links, logs, results["scheduler_context"], coverage)
    runs = health.local_start(runs, frames.offsets)
    runs = runs.join(
        context_lists(runs, results["script_context"], results["scheduler_context"], file_offsets),
        on="run_key",
        how="left",
    )

    in_window = time_filter(logs.lazy(), "start_utc", options).collect()
    claimed = links.join(runs.select("run_key", "execution_id"), on="run_key").select(
        "source_file", "execution_id"
    )
    in_window = in_window.join(claimed, on="source_file", how="left")
    user_logs = in_window.filter(pl.col("execution_id").is_null() & (pl.col("is_scheduled") == False))  # noqa: E712
    app_names = runs.filter(pl.col("app").is_not_null()).group_by("app_id").agg(pl.col("app").last())
    manual = manual_reloads(results["engine_reloads"], user_logs, app_names, LINK_TOLERANCE_S)
    manual = manual.join(
        context_lists_manual(manual, results["script_context"], file_offsets), on="script_log", how="left"
    )

    now = options.until or frames.time_span[1]
    has_scheduler = _has_scheduler(frames)
    monitors = health.monitoring_apps(runs, manual, now, options.stale_hours, has_scheduler)
    tasks = health.task_summary(runs)
    meta = ReloadsMeta(
        now=now,
        since=options.since,
        until=options.until,
        stale_hours=options.stale_hours,
        link_tolerance_s=LINK_TOLERANCE_S,
        script_logs_cover=coverage,
        heatmap_time_basis=health.time_basis(runs),
        runs_total=runs.height,
        failed_only=options.failed_only,
    )
    shown_runs = _conform("runs", runs.filter(pl.col("outcome").is_in(FAILED)) if options.failed_only else runs)
    shown_manual = _conform("manual_reloads", manual.filter(pl.col("outcome") != "success")
                            if options.failed_only else manual)
    changes = nodes.version_changes(results["versions"])
    restarts = nodes.restarts_by_node(results["startups"])
    durations = runs.filter(pl.col("duration_s").is_not_null()).sort("task", "start")

    findings = findings_for(NAME, runs, manual, monitors, tasks, has_scheduler=has_scheduler)
    findings += nodes.findings(NAME, changes, restarts)
    # Failed script logs that neither a task run nor a manual reload explains get findings of their own.
    explained = pl.concat([claimed["source_file"], manual["script_log"].cast(pl.String)])
    findings += script_failure_findings(NAME, in_window, explained)
    findings.sort(key=lambda f: list(Severity).index(f.severity))
    conform = ReloadsResult.conform
    return ReloadsResult(
        runs=shown_runs,
        monitoring_apps=health.monitors_frame(monitors, ReloadsResult.empty_frame("monitoring_apps").schema),
        tasks=conform("tasks", tasks),
        manual_reloads=shown_manual,
        script_logs=conform("script_logs", _script_rows(in_window, manual)),
        failure_heatmap=conform("failure_heatmap", health.failure_heatmap(runs)),
        durations=conform("durations", durations),
        meta=meta,
        version_changes=conform("version_changes", changes),
        restarts=conform("restarts", restarts),
        task_events=conform("task_events", aggregates.task_events(shown_runs)),
        heatmap_events=conform("heatmap_events", aggregates.heatmap_events(shown_runs)),
        duration_series=conform("duration_series", aggregates.duration_series(durations)),
        overview=conform("overview", aggregates.overview(shown_runs, shown_manual, durations)),
        findings=tuple(findings),
    )


def _conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Runs or manual reloads as their field declares them; a row without context lines has ``[]``."""
    out = ReloadsResult.conform(name, frame)
    empty = pl.lit([], dtype=out.schema["error_context"])
    return out.with_columns(pl.col("error_context").fill_null(empty))


def _script_rows(in_window: pl.DataFrame, manual: pl.DataFrame) -> pl.DataFrame:
    """The script logs of the window with the user who ran each and whether it was a manual reload."""
    user = (
        pl.when(pl.col("user_id").is_not_null())
        .then(pl.concat_str(pl.col("user_directory").fill_null(""), pl.lit("\\"), pl.col("user_id")))
        .otherwise(None)
    )
    return in_window.with_columns(
        user.alias("user"),
        pl.col("source_file").is_in(manual["script_log"].drop_nulls().implode()).alias("manual"),
    ).sort("start_utc", "source_file")


def _has_scheduler(frames: Frames) -> bool:
    return any(
        frames.has(k) for k in ("Scheduler/TaskExecution", "Scheduler/System", "Scheduler/AuditActivity")
    )


ANALYSIS = Analysis(NAME, queries, build)
