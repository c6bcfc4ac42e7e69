"""Reload diagnosis: every task run with its outcome and root cause, manual reloads, monitoring-app freshness.

The analysis named ``reloads`` (registered in :func:`qslogs.analyses.registry`):

- :mod:`~qslogs.analyses.reloads.task_runs` builds the runs (TaskExecution, else scheduler lifecycle lines);
- :mod:`~qslogs.analyses.reloads.script_link` links each run to its script log and finds manual reloads;
- :mod:`~qslogs.analyses.reloads.run_outcome` says where and why a run failed (script / initiation / not collected);
- :mod:`~qslogs.analyses.reloads.health` judges the monitoring apps and sums up each task.

Its tables are the ``qslogs reloads --json`` object and the report's data: ``runs``, ``monitoring_apps``,
``tasks``, ``manual_reloads``, ``script_logs``, ``failure_heatmap``, ``durations``, ``version_changes``,
``restarts`` (per node, :mod:`~qslogs.analyses.reloads.nodes`) and ``meta``.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from qslogs.analyses.base import Analysis, AnalysisOptions, AnalysisResult, run, time_filter
from qslogs.analyses.reloads import health, nodes
from qslogs.analyses.reloads.findings import findings_for
from qslogs.analyses.reloads.run_context import (
    add_clock,
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
from qslogs.jsonable import to_jsonable

NAME = "reloads"
#: Keys of every object in ``runs`` (the first fourteen are the documented contract of ``--json``).
RUN_KEYS = (
    "execution_id",
    "task",
    "app",
    "app_id",
    "node",
    "status",
    "start",
    "stop",
    "duration_s",
    "failure_kind",
    "error_class",
    "root_cause",
    "connection",
    "script_log",
    "task_id",
    "outcome",
    "error_hint",
    "root_cause_file",
    "root_cause_line",
    "root_cause_script_line",
    "running_statement",
    "script_outcome",
    "link",
    "link_delta_s",
    "failure_reason",
    "note",
    "source",
    "error_context",
    "local_start",
)
SCRIPT_LOG_KEYS = (
    "source_file",
    "app_id",
    "host",
    "start",
    "start_utc",
    "duration_s",
    "executed_by",
    "user",
    "is_scheduled",
    "outcome",
    "error_class",
    "root_cause",
    "root_cause_line_no",
    "root_cause_script_line",
    "connection",
    "connections",
    "rows_fetched_total",
    "server_version",
    "execution_id",
    "manual",
    "time_basis",
    "end_utc",
)


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


def build(results: dict[str, pl.DataFrame], frames: Frames, options: AnalysisOptions) -> AnalysisResult:
    """Link, attribute, judge and sum up; findings and JSON-ready tables."""
    logs = logs_in_utc(results["scripts"], frames.offsets)
    runs = results["runs"]
    links = link_runs(runs, logs, frames.offsets, LINK_TOLERANCE_S)
    coverage = script_coverage(logs)
    runs = attribute_failures(runs, links, logs, results["scheduler_context"], coverage)
    runs = runs.join(
        context_lists(runs, results["script_context"], results["scheduler_context"]), on="run_key", how="left"
    )

    in_window = time_filter(logs.lazy(), "start_utc", options).collect()
    claimed = links.join(runs.select("run_key", "execution_id"), on="run_key").select(
        "source_file", "execution_id"
    )
    in_window = in_window.join(claimed, on="source_file", how="left")
    user_logs = in_window.filter(pl.col("execution_id").is_null() & (pl.col("is_scheduled") == False))  # noqa: E712
    app_names = runs.filter(pl.col("app").is_not_null()).group_by("app_id").agg(pl.col("app").last())
    manual = manual_reloads(results["engine_reloads"], user_logs, app_names, LINK_TOLERANCE_S)
    manual = manual.join(context_lists_manual(manual, results["script_context"]), on="script_log", how="left")

    now = options.until or frames.time_span[1]
    monitors = health.monitoring_apps(runs, manual, now, options.stale_hours, _has_scheduler(frames))
    tasks = health.task_summary(runs)
    local = health.local_start(runs, frames.offsets)
    meta = {
        "now": now,
        "since": options.since,
        "until": options.until,
        "stale_hours": options.stale_hours,
        "link_tolerance_s": LINK_TOLERANCE_S,
        "script_logs_cover": list(coverage) if coverage else None,
        "heatmap_time_basis": health.time_basis(local),
        "runs_total": runs.height,
        "failed_only": options.failed_only,
    }
    shown_runs = local.filter(pl.col("outcome").is_in(["failed", "aborted"])) if options.failed_only else local
    shown_manual = manual.filter(pl.col("outcome") != "success") if options.failed_only else manual
    user = (
        pl.when(pl.col("user_id").is_not_null())
        .then(pl.concat_str(pl.col("user_directory").fill_null(""), pl.lit("\\"), pl.col("user_id")))
        .otherwise(None)
    )
    script_rows = in_window.with_columns(
        user.alias("user"),
        pl.col("source_file").is_in(manual["script_log"].drop_nulls().implode()).alias("manual"),
    ).sort("start_utc", "source_file")
    tables: dict[str, Any] = {
        "runs": _rows(shown_runs, RUN_KEYS),
        "monitoring_apps": to_jsonable(monitors),
        "tasks": _rows(tasks, tuple(tasks.columns)),
        "manual_reloads": _rows(shown_manual, tuple(shown_manual.columns)),
        "script_logs": _rows(script_rows, SCRIPT_LOG_KEYS),
        "failure_heatmap": _rows(
            health.failure_heatmap(local), ("weekday", "weekday_name", "hour", "runs", "failures")
        ),
        "durations": _rows(
            local.filter(pl.col("duration_s").is_not_null()).sort("task", "start"),
            ("task", "start", "local_start", "duration_s", "status", "outcome", "node"),
        ),
        "meta": to_jsonable(meta),
    }
    changes = nodes.version_changes(results["versions"])
    restarts = nodes.restarts_by_node(results["startups"])
    tables["version_changes"] = to_jsonable(changes)
    tables["restarts"] = restarts
    offsets = dict(zip(logs["source_file"].to_list(), logs["start_utc_offset"].to_list(), strict=True))
    add_clock(tables["runs"], offsets)
    add_clock(tables["manual_reloads"], offsets)
    findings = findings_for(NAME, runs, manual, monitors, tasks, has_scheduler=_has_scheduler(frames))
    findings += nodes.findings(NAME, changes, restarts)
    # Failed script logs that neither a task run nor a manual reload explains get findings of their own.
    explained = pl.concat([claimed["source_file"], manual["script_log"].cast(pl.String)])
    findings += script_failure_findings(NAME, in_window, explained)
    findings.sort(key=lambda f: list(Severity).index(f.severity))
    return AnalysisResult(NAME, findings, tables)


def _has_scheduler(frames: Frames) -> bool:
    return any(
        frames.has(k) for k in ("Scheduler/TaskExecution", "Scheduler/System", "Scheduler/AuditActivity")
    )


def _rows(frame: pl.DataFrame, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """JSON-ready row objects with exactly ``keys`` (missing columns are null; empty contexts are [])."""
    present = [k for k in keys if k in frame.columns]
    rows = frame.select(present).to_dicts()
    out = []
    for row in rows:
        item = {k: row.get(k) for k in keys}
        if "error_context" in item and item["error_context"] is None:
            item["error_context"] = []
        out.append(item)
    return to_jsonable(out)  # type: ignore[no-any-return]


ANALYSIS = Analysis(NAME, queries, build)


def reload_diagnosis(frames: Frames, options: AnalysisOptions | None = None) -> AnalysisResult:
    """Run only the reloads analysis (what ``qslogs reloads`` shows)."""
    result = run([ANALYSIS], frames, options or AnalysisOptions())[NAME]
    assert isinstance(result, AnalysisResult)
    return result


def reloads_json(result: AnalysisResult) -> dict[str, Any]:
    """The ``qslogs reloads --json`` object: the analysis tables plus its findings."""
    findings = [
        {"severity": f.severity.value, "title": f.title, "detail": f.detail, "data": to_jsonable(f.data)}
        for f in result.findings
    ]
    return {**result.tables, "findings": findings}
