"""The Reloads section: monitoring apps, failed runs with their error context, failure rates per task,
the hour × weekday heatmap of failures, durations over time, manual reloads and script logs.

Reads the typed fields of the ``reloads`` analysis (:class:`~qslogs.analyses.reloads.ReloadsResult`): its
tables, and the aggregates it computed for the page (per-run events for the date filter, heatmap events,
duration series, the counts of the failed runs); it only arranges and formats them.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from qslogs.analyses.reloads import ReloadsResult
from qslogs.analyses.reloads.aggregates import FAILED
from qslogs.analyses.reloads.findings import manual_reload_key
from qslogs.jsonable import frame_rows
from qslogs.report.charts import Series, heatmap, line_chart
from qslogs.report.evidence import context_anchor, manual_anchor, monitor_anchor, run_anchor
from qslogs.report.filters import fmt_duration, fmt_int, fmt_ts, ts_ms
from qslogs.report.log_lines import line_clock
from qslogs.report.model import Block, Callout, Chart, Column, Section
from qslogs.report.section_nodes import nodes_block
from qslogs.report.section_scripts import script_logs_block
from qslogs.report.sections import details, make_table

#: Tasks drawn in the durations chart at most (the ones with the most runs); one colour each.
DURATION_SERIES = 6
KIND_WORDS = {"script": "script", "initiation": "initiation (scheduler)"}
#: Badge of a verdict when no finding tells its severity (the finding's severity wins: one rule table).
VERDICT_SEVERITY = {"ok": "ok", "failing": "warning", "stale": "critical", "missing": "warning", "unknown": "info"}


def context_value(
    summary: str,
    context: list[dict[str, Any]],
    root_file: str | None,
    root_line: int | None,
    extra: str = "",
    anchor: str = "",
) -> dict[str, Any]:
    """A ``details`` cell: the root-cause line, opened to the log lines around it (file:line each)."""
    lines = []
    for c in context:
        note = " ".join(
            x for x in (c["level"] or "", f"script line {c['script_line']}" if c["script_line"] is not None else "")
            if x
        )
        mark = (
            c["line_no"] == root_line and (root_file is None or c["source_file"] == root_file)
        ) or (str(c["level"] or "").upper() in ("ERROR", "FATAL"))
        lines.append(
            {
                "where": f"{c['source_file']}:{c['line_no']}",
                "note": note,
                "text": c["text"],
                "mark": mark,
                "when": line_clock(c),
                "utc": c["utc"] or "",
            }
        )
    return details(summary or "(no root-cause line)", extra, lines, anchor)


def reloads_section(result: ReloadsResult, data: dict[str, Any]) -> Section:
    """The section; adds the per-task aggregate and the heatmap events to ``data`` for the date filter."""
    counts = result.overview.row(0, named=True)
    severity = {f.keys[0]: str(f.severity) for f in result.findings if f.table == "monitoring_apps" and f.keys}
    blocks = [_monitors(frame_rows(result.monitoring_apps), severity)]
    failed_rows = []
    for r in frame_rows(result.runs.filter(pl.col("outcome").is_in(FAILED))):
        kind = r["failure_kind"] or ("aborted" if r["outcome"] == "aborted" else "unknown")
        extra = "\n".join(x for x in (r["error_hint"], r["note"], _statement(r)) if x)
        row_anchor = run_anchor(r["execution_id"])
        failed_rows.append(
            {
                **r,
                "where": KIND_WORDS.get(kind, kind),
                "anchor": row_anchor,
                "cause": context_value(
                    r["root_cause"] or r["failure_reason"] or "",
                    r["error_context"],
                    r["root_cause_file"],
                    r["root_cause_line"],
                    extra,
                    context_anchor(row_anchor),
                ),
            }
        )
    failed_table = make_table(
        "t-reloads-failed",
        [
            Column("start", "Time", "ts"),
            Column("task", "Task"),
            Column("app", "App"),
            Column("node", "Node"),
            Column("error_class", "Class", "severity", "error class (qslogs.error_classes)"),
            Column("cause", "Root cause (click for the log lines around it)", "details"),
            Column("connection", "Connection", "code"),
            Column(
                "where",
                "Failed in",
                "text",
                "script: the script log ends in an error; initiation: the failure came before the "
                "script ran (no script log); the root cause quotes the scheduler",
            ),
            Column("duration_s", "Duration", "duration"),
        ],
        sorted(failed_rows, key=lambda r: r["start"] or "", reverse=True),
        ts="start",
        css=lambda r: "critical",
        key=lambda r: str(r["execution_id"] or ""),
        row_id=lambda r: str(r["anchor"] or ""),
        sort="start descending",
        reflow=True,
        caption="Newest first. The root cause is the script log's first error line, or the scheduler's.",
        empty="No task run failed in this bundle.",
    )
    blocks.append(
        Block(
            title=f"Failed runs ({fmt_int(counts['failed_runs'])} of {fmt_int(counts['runs'])})",
            id="reloads-failed",
            tables=[failed_table],
        )
    )
    blocks.append(_tasks(result, data))
    blocks.append(_heatmap(result, data))
    blocks.append(_durations(result.duration_series, counts["longest_duration_s"]))
    blocks.append(_manual(frame_rows(result.manual_reloads)))
    blocks.append(script_logs_block(frame_rows(result.script_logs)))
    blocks.append(nodes_block(frame_rows(result.version_changes), frame_rows(result.restarts)))
    cover = result.meta.script_logs_cover
    intro = "Which reloads failed, where (in the script or at initiation) and why. " + (
        f"Script logs in the bundle cover {fmt_ts(cover[0], 'day')} to {fmt_ts(cover[1], 'day')}."
        if cover
        else "The bundle holds no script logs, so root causes come from the scheduler only."
    )
    return Section(id="reloads", title="Reloads", intro=intro, blocks=blocks)


def _statement(r: dict[str, Any]) -> str:
    stmt, line = r["running_statement"], r["root_cause_script_line"]
    return f"Statement running (script line {line}):\n{stmt}" if stmt else ""


def _monitors(monitors: list[dict[str, Any]], severity: dict[str, str]) -> Block:
    callouts = []
    rows = []
    for m in monitors:
        verdict = m["verdict"] or "unknown"
        root = m["root_cause"]
        cause = " — ".join(str(x) for x in (root["class"], root["text"], root["connection"]) if x) if root else ""
        badge = severity.get(m["name"])
        rows.append(
            {
                **m,
                "verdict_sev": badge or VERDICT_SEVERITY.get(verdict, "info"),
                "verdict": verdict,
                "cause": details(cause, str(root["hint"] or "")) if cause else None,
                "task_list": ", ".join(m["tasks"] or []),
            }
        )
        if verdict == "stale":
            callouts.append(
                Callout(
                    "critical", f"{m['name']} is stale: last successful reload {fmt_ts(m['last_success'])}", cause
                )
            )
        elif verdict == "failing":
            callouts.append(
                Callout(
                    badge or "warning",
                    f"{m['name']} is failing since {fmt_ts(m['failing_since'])}: its data goes stale at "
                    f"{fmt_ts(m['stale_at'])}",
                    cause,
                )
            )
    table = make_table(
        "t-reloads-monitors",
        [
            Column("name", "App"),
            Column("verdict_sev", "Verdict", "severity"),
            Column("verdict", "State"),
            Column("last_success", "Last success", "ts"),
            Column("age_hours", "Age (h)", "num"),
            Column("stale_at", "Stale at", "ts", "last success + the stale window (--stale-hours)"),
            Column("last_attempt", "Last attempt", "ts"),
            Column("last_status", "Last status"),
            Column("failures_since_success", "Failures since", "int"),
            Column("cause", "Root cause", "details"),
            Column("task_list", "Tasks"),
        ],
        rows,
        row_id=lambda r: monitor_anchor(r["name"]),
        reflow=True,
        empty="No monitoring app in these logs.",
    )
    return Block(
        title="Monitoring apps",
        id="reloads-monitors",
        callouts=callouts,
        tables=[table],
        intro="The License Monitor and Operations Monitor must reload at least daily, or their dashboards "
        "(and license usage history) go stale.",
    )


def _tasks(result: ReloadsResult, data: dict[str, Any]) -> Block:
    per_task: dict[str, list[list[Any]]] = {}
    for task, start, runs, successes, failures, aborted in result.task_events.iter_rows():
        per_task.setdefault(task, []).append([ts_ms(start) or 0, runs, successes, failures, aborted])
    data["aggs"]["tasks"] = {
        "cols": ["runs", "successes", "failures", "aborted"],
        "ratios": [["failure_rate", "failures", "runs"]],
        "rows": per_task,
    }
    table = make_table(
        "t-reloads-tasks",
        [
            Column("task", "Task"),
            Column("app", "App"),
            Column("runs", "Runs", "int"),
            Column("successes", "Succeeded", "int"),
            Column("failures", "Failed", "int"),
            Column("aborted", "Aborted", "int"),
            Column("failure_rate", "Failure rate", "pct"),
            Column("last_outcome", "Last status"),
            Column("last_run", "Last run", "ts"),
            Column("last_success", "Last success", "ts"),
            Column("mean_duration_s", "Mean duration", "duration"),
            Column("max_duration_s", "Max duration", "duration"),
            Column("last_error_class", "Last error class"),
        ],
        frame_rows(result.tasks),
        key=lambda r: str(r["task"] or r["task_id"] or ""),
        agg="tasks",
        css=lambda r: "critical" if r["failures"] else "",
        caption="Counts and rates follow the date filter; the 'last …' columns cover the whole bundle.",
        empty="No task runs in this bundle.",
    )
    return Block(title="Failure rate per task", id="reloads-tasks", tables=[table])


def _heatmap(result: ReloadsResult, data: dict[str, Any]) -> Block:
    counts = [[0.0] * 24 for _ in range(7)]
    for weekday, _, hour, _, failures in result.failure_heatmap.iter_rows():
        if 0 <= weekday < 7 and 0 <= hour < 24:
            counts[weekday][hour] = float(failures)
    data["heat"]["reloads"] = [
        [ts_ms(start) or 0, weekday, hour, n] for start, weekday, hour, n in result.heatmap_events.iter_rows()
    ]
    basis = result.meta.heatmap_time_basis
    svg = heatmap(
        counts,
        title="Failed task runs per hour and weekday (node-local time)" if basis != "UTC"
        else "Failed task runs per hour and weekday (UTC)",
        unit="failed runs",
        source="reloads",
        basis=basis,
    )
    return Block(
        title="When failures happen",
        id="reloads-heatmap",
        charts=[
            Chart(
                svg,
                f"Failed task runs by weekday and hour, in the {basis}. A column lighting up points at a "
                "clash (a backup window, a source system's maintenance); a row at a weekly job.",
            )
        ],
    )


def _durations(series_frame: pl.DataFrame, longest: float) -> Block:
    tasks = series_frame.filter(~pl.col("failed"))
    scale, unit = (60.0, "minutes") if longest >= 600 else (1.0, "seconds")
    series = [
        Series(name, [(t, d / scale) for t, d in zip(starts, durations, strict=True)], f"c{i}", "line dots")
        for i, (name, _, _, starts, durations) in enumerate(tasks.head(DURATION_SERIES).iter_rows())
    ]
    for name, _, _, starts, durations in series_frame.filter(pl.col("failed")).iter_rows():
        series.append(Series(name, [(t, d / scale) for t, d in zip(starts, durations, strict=True)], "err", "dots"))
    svg = line_chart(series, title=f"Reload duration per run ({unit})", y_label=unit)
    shown = min(tasks.height, DURATION_SERIES)
    more = tasks.height - shown
    caption = (
        f"The {shown} tasks with the most runs"
        + (f" ({more} more in the table above)" if more else "")
        + f"; the longest run took {fmt_duration(longest)}. A step up is a data-volume or source change."
    )
    return Block(title="Durations over time", id="reloads-durations", charts=[Chart(svg, caption)])


def _manual(manual: list[dict[str, Any]]) -> Block:
    rows = []
    for m in manual:
        anchor = manual_anchor(manual_reload_key(m["script_log"], m["time"], m["app_id"]))
        cause = context_value(
            m["root_cause"] or "",
            m["error_context"],
            m["script_log"],
            m["root_cause_line"],
            str(m["error_hint"] or ""),
            context_anchor(anchor),
        )
        rows.append({**m, "anchor": anchor, "cause": cause})
    table = make_table(
        "t-reloads-manual",
        [
            Column("time", "Time", "ts"),
            Column("app", "App"),
            Column("user", "User"),
            Column("node", "Node"),
            Column("outcome", "Outcome"),
            Column("error_class", "Class", "severity"),
            Column("cause", "Root cause", "details"),
            Column("connection", "Connection", "code"),
            Column("duration_s", "Duration", "duration"),
        ],
        sorted(rows, key=lambda r: r["time"] or "", reverse=True),
        ts="time",
        row_id=lambda r: str(r["anchor"]),
        sort="time descending",
        reflow=True,
        css=lambda r: "critical" if r["outcome"] in FAILED else "",
        empty="No manual reloads (from the hub or the data load editor) in this bundle.",
    )
    return Block(
        title="Manual reloads",
        id="reloads-manual",
        tables=[table],
        intro="Reloads started by a user from the hub or the data load editor, not by a task.",
    )
