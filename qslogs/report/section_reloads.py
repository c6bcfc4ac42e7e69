"""The Reloads section: monitoring apps, failed runs with their error context, failure rates per task,
the hour × weekday heatmap of failures, durations over time, manual reloads and script logs.

Reads the tables of the ``reloads`` analysis (``runs``, ``monitoring_apps``, ``tasks``, ``manual_reloads``,
``script_logs``, ``failure_heatmap``, ``durations``, ``meta``); any of them may be missing or empty.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from qslogs.analyses.base import AnyResult
from qslogs.report.charts import Series, heatmap, line_chart
from qslogs.report.evidence import context_anchor, manual_anchor, monitor_anchor, run_anchor
from qslogs.report.filters import fmt_duration, fmt_int, fmt_ts, ts_ms
from qslogs.report.log_lines import line_clock
from qslogs.report.model import Block, Callout, Chart, Column, Section
from qslogs.report.section_nodes import nodes_block
from qslogs.report.section_scripts import FAILED, script_logs_block
from qslogs.report.sections import details, make_table

#: Tasks drawn in the durations chart at most (the ones with the most runs); one colour each.
DURATION_SERIES = 6
KIND_WORDS = {"script": "script", "initiation": "initiation (scheduler)"}
#: Badge of a verdict when no finding tells its severity (the finding's severity wins: one rule table).
VERDICT_SEVERITY = {"ok": "ok", "failing": "warning", "stale": "critical", "missing": "warning", "unknown": "info"}


def context_value(
    summary: str,
    context: list[dict[str, Any]] | None,
    root_file: str | None,
    root_line: int | None,
    extra: str = "",
    anchor: str = "",
) -> dict[str, Any]:
    """A ``details`` cell: the root-cause line, opened to the log lines around it (file:line each)."""
    lines = []
    for c in context or []:
        note = " ".join(
            x
            for x in (
                c.get("level") or "",
                f"script line {c['script_line']}" if c.get("script_line") is not None else "",
            )
            if x
        )
        mark = (
            c.get("line_no") == root_line and (root_file is None or c.get("source_file") == root_file)
        ) or (str(c.get("level") or "").upper() in ("ERROR", "FATAL"))
        lines.append(
            {
                "where": f"{c.get('source_file')}:{c.get('line_no')}",
                "note": note,
                "text": c.get("text"),
                "mark": mark,
                "when": line_clock(c),
                "utc": c.get("utc") or "",
            }
        )
    return details(summary or "(no root-cause line)", extra, lines, anchor)


def reloads_section(result: AnyResult, data: dict[str, Any]) -> Section:
    """The section; adds the per-task aggregate and the heatmap events to ``data`` for the date filter."""
    t = result.tables
    runs: list[dict[str, Any]] = t.get("runs") or []
    meta: dict[str, Any] = t.get("meta") or {}
    severity = {
        (f.data.get("name"), f.data.get("verdict")): str(f.severity) for f in result.findings if "verdict" in f.data
    }
    blocks = [_monitors(t.get("monitoring_apps") or [], severity)]
    failed = [r for r in runs if r.get("outcome") in FAILED]
    failed_rows = []
    for r in failed:
        kind = r.get("failure_kind") or ("aborted" if r.get("outcome") == "aborted" else "unknown")
        where = KIND_WORDS.get(kind, kind)
        extra = "\n".join(x for x in (r.get("error_hint"), r.get("note"), _statement(r)) if x)
        row_anchor = run_anchor(r.get("execution_id"))
        failed_rows.append(
            {
                **r,
                "where": where,
                "anchor": row_anchor,
                "cause": context_value(
                    r.get("root_cause") or r.get("failure_reason") or "",
                    r.get("error_context"),
                    r.get("root_cause_file"),
                    r.get("root_cause_line"),
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
        sorted(failed_rows, key=lambda r: r.get("start") or "", reverse=True),
        ts="start",
        css=lambda r: "critical",
        key=lambda r: str(r.get("execution_id") or ""),
        row_id=lambda r: str(r.get("anchor") or ""),
        sort="start descending",
        reflow=True,
        caption="Newest first. The root cause is the script log's first error line, or the scheduler's.",
        empty="No task run failed in this bundle.",
    )
    blocks.append(
        Block(
            title=f"Failed runs ({fmt_int(len(failed))} of {fmt_int(len(runs))})",
            id="reloads-failed",
            tables=[failed_table],
        )
    )
    blocks.append(_tasks(t.get("tasks") or [], runs, data))
    blocks.append(_heatmap(t.get("failure_heatmap") or [], runs, meta, data))
    blocks.append(_durations(t.get("durations") or []))
    blocks.append(_manual(t.get("manual_reloads") or []))
    blocks.append(script_logs_block(t.get("script_logs") or []))
    blocks.append(nodes_block(t.get("version_changes") or [], t.get("restarts") or []))
    cover = meta.get("script_logs_cover")
    intro = "Which reloads failed, where (in the script or at initiation) and why. " + (
        f"Script logs in the bundle cover {fmt_ts(cover[0], 'day')} to {fmt_ts(cover[1], 'day')}."
        if cover
        else "The bundle holds no script logs, so root causes come from the scheduler only."
    )
    return Section(id="reloads", title="Reloads", intro=intro, blocks=blocks)


def _statement(r: dict[str, Any]) -> str:
    stmt = r.get("running_statement")
    line = r.get("root_cause_script_line")
    return f"Statement running (script line {line}):\n{stmt}" if stmt else ""


def _monitors(monitors: list[dict[str, Any]], severity: dict[tuple[Any, Any], str]) -> Block:
    callouts = []
    rows = []
    for m in monitors:
        verdict = m.get("verdict") or "unknown"
        root = m.get("root_cause") or {}
        cause = " — ".join(str(x) for x in (root.get("class"), root.get("text"), root.get("connection")) if x)
        rows.append(
            {
                **m,
                "verdict_sev": severity.get((m.get("name"), verdict)) or VERDICT_SEVERITY.get(verdict, "info"),
                "verdict": verdict,
                "cause": details(cause, str(root.get("hint") or "")) if cause else None,
                "task_list": ", ".join(m.get("tasks") or []),
            }
        )
        if verdict == "stale":
            callouts.append(
                Callout(
                    "critical",
                    f"{m.get('name')} is stale: last successful reload {fmt_ts(m.get('last_success'))}",
                    cause,
                )
            )
        elif verdict == "failing":
            callouts.append(
                Callout(
                    severity.get((m.get("name"), verdict)) or "warning",
                    f"{m.get('name')} is failing since {fmt_ts(m.get('failing_since'))}: its data goes stale at "
                    f"{fmt_ts(m.get('stale_at'))}",
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
        row_id=lambda r: monitor_anchor(r.get("name")),
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


def _tasks(tasks: list[dict[str, Any]], runs: list[dict[str, Any]], data: dict[str, Any]) -> Block:
    per_task: dict[str, list[list[Any]]] = defaultdict(list)
    for r in runs:
        key = r.get("task") or r.get("task_id") or ""
        outcome = r.get("outcome")
        per_task[key].append(
            [
                ts_ms(r.get("start")) or 0,
                1,
                int(outcome == "success"),
                int(outcome == "failed"),
                int(outcome == "aborted"),
            ]
        )
    data["aggs"]["tasks"] = {
        "cols": ["runs", "successes", "failures", "aborted"],
        "ratios": [["failure_rate", "failures", "runs"]],
        "rows": {k: sorted(v) for k, v in sorted(per_task.items())},
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
        tasks,
        key=lambda r: str(r.get("task") or r.get("task_id") or ""),
        agg="tasks",
        css=lambda r: "critical" if (r.get("failures") or 0) > 0 else "",
        caption="Counts and rates follow the date filter; the 'last …' columns cover the whole bundle.",
        empty="No task runs in this bundle.",
    )
    return Block(title="Failure rate per task", id="reloads-tasks", tables=[table])


def _local(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _heatmap(
    cells: list[dict[str, Any]], runs: list[dict[str, Any]], meta: dict[str, Any], data: dict[str, Any]
) -> Block:
    counts = [[0.0] * 24 for _ in range(7)]
    for c in cells:
        if 0 <= c["weekday"] < 7 and 0 <= c["hour"] < 24:
            counts[c["weekday"]][c["hour"]] = float(c.get("failures") or 0)
    events = []
    for run in runs:  # every run, also those without a duration (rebuilt from scheduler lines)
        local = _local(run.get("local_start"))
        if local is not None and run.get("outcome") == "failed":
            events.append([ts_ms(run.get("start")) or 0, local.weekday(), local.hour, 1])
    data["heat"]["reloads"] = sorted(events)
    basis = str(meta.get("heatmap_time_basis") or "local time of the executing node")
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


def _durations(durations: list[dict[str, Any]]) -> Block:
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in durations:
        by_task[str(d.get("task") or "?")].append(d)
    top = sorted(by_task, key=lambda k: (-len(by_task[k]), k))[:DURATION_SERIES]
    longest = max([float(d.get("duration_s") or 0) for d in durations] or [0.0])
    scale, unit = (60.0, "minutes") if longest >= 600 else (1.0, "seconds")
    series = [
        Series(
            task,
            [(d["start"], (d.get("duration_s") or 0) / scale) for d in by_task[task]],
            f"c{i}",
            "line dots",
        )
        for i, task in enumerate(top)
    ]
    failed = [
        (d["start"], (d.get("duration_s") or 0) / scale) for d in durations if d.get("outcome") in FAILED
    ]
    if failed:
        series.append(Series("failed run", failed, "err", "dots"))
    svg = line_chart(series, title=f"Reload duration per run ({unit})", y_label=unit)
    more = len(by_task) - len(top)
    caption = (
        f"The {len(top)} tasks with the most runs"
        + (f" ({more} more in the table above)" if more else "")
        + f"; the longest run took {fmt_duration(longest)}. A step up is a data-volume or source change."
    )
    return Block(title="Durations over time", id="reloads-durations", charts=[Chart(svg, caption)])


def _manual(manual: list[dict[str, Any]]) -> Block:
    rows = [
        {
            **m,
            "cause": context_value(
                m.get("root_cause") or "",
                m.get("error_context"),
                m.get("script_log"),
                m.get("root_cause_line"),
                str(m.get("error_hint") or ""),
                context_anchor(manual_anchor(m)),
            ),
        }
        for m in manual
    ]
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
        sorted(rows, key=lambda r: r.get("time") or "", reverse=True),
        ts="time",
        row_id=manual_anchor,
        sort="time descending",
        reflow=True,
        css=lambda r: "critical" if r.get("outcome") in FAILED else "",
        empty="No manual reloads (from the hub or the data load editor) in this bundle.",
    )
    return Block(
        title="Manual reloads",
        id="reloads-manual",
        tables=[table],
        intro="Reloads started by a user from the hub or the data load editor, not by a task.",
    )
