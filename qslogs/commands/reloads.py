"""``qslogs reloads``: failed task runs with their root cause, monitoring-app freshness, per-task summary."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from qslogs.analyses import AnalysisOptions, run_analyses
from qslogs.analyses.reloads import ReloadsResult
from qslogs.analyses.reloads.aggregates import FAILED
from qslogs.commands.options import (
    bundle_paths,
    json_option,
    load,
    quiet_option,
    strict_option,
    time_window_options,
)
from qslogs.commands.terminal import FitTable, cut, render, styled, table, when
from qslogs.export import dumps, result_json

#: How each monitoring-app verdict reads in the terminal (the JSON keeps the word itself).
VERDICT_WORDS = {"ok": "ok", "failing": "FAILING", "stale": "STALE", "missing": "NO TASK", "unknown": "no reload seen"}


@click.command()
@bundle_paths
@json_option
@time_window_options
@click.option(
    "--failed-only", is_flag=True, help="List only failed and aborted runs and failed manual reloads; the text view "
    "also leaves out monitoring apps whose verdict is ok and tasks that never failed."
)
@click.option(
    "--stale-hours",
    type=click.FloatRange(min=0, min_open=True),
    default=24.0,
    show_default=True,
    help="A monitoring app whose last successful reload is older than this is stale.",
)
@strict_option
@quiet_option
def reloads(
    paths: tuple[Path, ...],
    as_json: bool,
    since: datetime | None,
    until: datetime | None,
    failed_only: bool,
    stale_hours: float,
    strict: bool,
    quiet: bool,
) -> None:
    """Diagnose reloads: every failed task run with its root cause, and monitoring-app freshness.

    Each task run (from the scheduler logs) is linked to its script log. A failed run with a script
    log failed in the script: its first Error: line, the statement and the data connection in effect
    are shown with an error class (auth, connector, script, file, resource, ...). A failed run without
    one failed at initiation, unless the bundle holds no script logs for that period ("script log not
    collected"). Reloads from the hub or the data load editor are listed as manual reloads. The
    License Monitor and Operations Monitor each get a verdict: ok, failing (the last attempts failed but
    the last success is within --stale-hours of --until, default the end of the bundle), stale (no
    success that recent), missing (scheduler logs but no task for the app) or unknown (no scheduler
    logs), with the time their data goes stale (stale_at).

    \b
    Example:
      qslogs reloads SenseCollector_1234.zip
      qslogs reloads SenseCollector_1234.zip --failed-only --until 2026-10-03
      qslogs reloads C:/ProgramData/Qlik/Sense/Log --json > reloads.json
    """
    options = AnalysisOptions(
        since=since, until=until, stale_hours=stale_hours, failed_only=failed_only
    )
    result = run_analyses(load(paths, strict, quiet), options, only=["reloads"])["reloads"]
    assert isinstance(result, ReloadsResult)
    data = result_json(result)
    click.echo(dumps(data) if as_json else render_reloads(data, failed_only=failed_only))


def _where(r: dict[str, Any]) -> str:
    return str(r["failure_kind"] or ("aborted" if r["outcome"] == "aborted" else "no log"))


def _notes(root: Any, line: Any, log: Any) -> list[Text]:
    """The root cause, and the script log (file name and line) it comes from, as lines under a row."""
    notes = [Text(f"↳ {cut(root)}")] if root else []
    if log:
        notes.append(Text(f"  script log{f' line {line}' if line else ''}: {_name(log)}", style="dim"))
    return notes


def _name(path: Any) -> str:
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def _failed_runs(data: dict[str, Any]) -> list[FitTable | str]:
    runs = data["runs"]
    failed = [r for r in runs if r["outcome"] in FAILED]
    total = data["meta"]["runs_total"]
    head = f"Failed runs: {len(failed)} of {total} task runs (times UTC)"
    if not failed:
        return [head]
    out = table("time", ("task", {"cut": True, "keep": 1, "min": 20}), "node", "where", "class",
                ("connection", {"cut": True}))
    for r in failed:
        out.add_row(when(r["start"]), cut(r["task"]), r["node"] or "", styled(_where(r), r["outcome"]),
                    r["error_class"] or "", cut(r["connection"]),
                    notes=_notes(r["root_cause"] or r["note"], r["root_cause_line"], r["script_log"]))
    return [head, out]


def _manual(data: dict[str, Any]) -> list[FitTable | str]:
    failed = [m for m in data.get("manual_reloads", []) if m["outcome"] == "failed"]
    if not failed:
        return []
    out = table("time", ("app", {"cut": True, "keep": 1}), ("user", {"cut": True}), "class")
    for m in failed:
        out.add_row(when(m["time"]), cut(m["app"] or m["app_id"]), cut(m["user"]), m["error_class"] or "",
                    notes=_notes(m["root_cause"], m.get("root_cause_line_no"), m.get("script_log")))
    return ["", f"Failed manual reloads: {len(failed)}", out]


def _monitoring(data: dict[str, Any], failed_only: bool) -> list[FitTable | str | Text]:
    apps = [a for a in data["monitoring_apps"] if not (failed_only and a["verdict"] == "ok")]
    head = (f"Monitoring apps (stale after {data['meta']['stale_hours']:g} h, now = {when(data['meta']['now'])} UTC)")
    if not apps:
        return ["", head, "  all ok" if data["monitoring_apps"] else "  none in this input"]
    out = table("app", "verdict", "last success", "last attempt", ("last status", {"cut": True}))
    for app in apps:
        verdict = VERDICT_WORDS.get(app["verdict"], app["verdict"])
        root, notes = app["root_cause"], []
        if app.get("stale_at") and app["verdict"] in ("failing", "stale"):
            word = "stale since" if app["verdict"] == "stale" else "goes stale at"
            notes.append(Text(f"↳ {word} {when(app['stale_at'])} UTC; {app['failures_since_success']} failed since "
                              f"{when(app['failing_since']) or 'the last success'}"))
        if root:
            conn = f" on {root['connection']}" if root["connection"] else ""
            notes.append(Text(f"↳ cause: {root['class'] or '-'}{conn}: {cut(root['text'])}"))
            if root["hint"]:
                notes.append(Text(f"  hint: {root['hint']}", style="dim"))
        out.add_row(app["name"], styled(verdict), when(app["last_success"]) or "none",
                    when(app["last_attempt"]) or "none", app["last_status"] or "", notes=notes)
    return ["", head, out]


def _tasks(data: dict[str, Any], failed_only: bool) -> list[FitTable | str]:
    tasks = [t for t in data["tasks"] if not failed_only or t["failures"]]
    if not tasks:
        return [] if failed_only else ["", "Tasks: no task runs in this input"]
    out = table(("task", {"cut": True}), ("runs", {"justify": "right"}), ("failed", {"justify": "right"}),
                ("rate", {"justify": "right"}), "last outcome", "last run (UTC)", ("mean s", {"justify": "right"}),
                ("max s", {"justify": "right"}))
    for t in tasks:
        mean = "" if t["mean_duration_s"] is None else f"{t['mean_duration_s']:.1f}"
        most = "" if t["max_duration_s"] is None else f"{t['max_duration_s']:.1f}"
        out.add_row(cut(t["task"]), str(t["runs"]), str(t["failures"]), f"{t['failure_rate']:.0%}",
                    styled(t["last_outcome"] or ""), when(t["last_run"]), mean, most)
    return ["", "Tasks with failures" if failed_only else "Tasks", out]


def _script_logs(data: dict[str, Any], failed_only: bool) -> list[FitTable | str]:
    """Script logs alone (no scheduler log): each reload the script logs tell of, with its root cause."""
    logs = [s for s in data.get("script_logs", []) if not failed_only or s["outcome"] != "success"]
    head = (f"Script logs: {len(data.get('script_logs', []))}, {len(logs)} shown (no scheduler log in this "
            "input, so no task runs: each script log is one reload, times UTC)")
    out = table("start", "node", "outcome", "class", ("script log", {"cut": True, "keep": 1, "min": 40}),
                ("line", {"justify": "right"}), ("connection", {"cut": True}),
                ("root cause", {"cut": True, "keep": 2, "min": 30}))
    for s in logs:
        out.add_row(when(s["start_utc"] or s["start"]), s["host"] or "", styled(s["outcome"] or ""),
                    s["error_class"] or "", _name(s["source_file"]), str(s["root_cause_line_no"] or ""),
                    cut(s["connection"]), cut(s["root_cause"]))
    return [head, out] if logs else [head]


def render_reloads(data: dict[str, Any], *, failed_only: bool = False) -> str:
    """The terminal view of ``qslogs reloads``: failed runs, manual failures, monitoring apps, tasks.

    ``failed_only`` leaves out monitoring apps whose verdict is ok and tasks that never failed. Input with script
    logs but no scheduler log is shown as a list of script logs with their root causes.
    """
    parts: list[Any] = []
    if not data["runs"] and data["meta"]["runs_total"] == 0 and data.get("script_logs"):
        parts += _script_logs(data, failed_only)
    else:
        parts += _failed_runs(data)
    parts += _manual(data) + _monitoring(data, failed_only) + _tasks(data, failed_only)
    if data["findings"]:
        parts += ["", "Findings"]
        parts += [styled(f"  [{f['severity']}] {f['title']}", f["severity"]) for f in data["findings"]]
    return render(parts)
