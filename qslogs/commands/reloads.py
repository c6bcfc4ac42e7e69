"""``qslogs reloads``: failed task runs with their root cause, monitoring-app freshness, per-task summary."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from qslogs.analyses.base import AnalysisOptions
from qslogs.analyses.reloads import reload_diagnosis, reloads_json
from qslogs.commands.options import (
    bundle_paths,
    json_option,
    load,
    quiet_option,
    strict_option,
    time_window_options,
)
from qslogs.export import dumps


@click.command()
@bundle_paths
@json_option
@time_window_options
@click.option(
    "--failed-only", is_flag=True, help="List only failed and aborted runs (and failed manual reloads)."
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
    License Monitor and Operations Monitor are stale when their last successful reload is older than
    --stale-hours before --until (default: the end of the bundle).

    \b
    Example:
      qslogs reloads SenseCollector_1234.zip
      qslogs reloads SenseCollector_1234.zip --failed-only --until 2026-10-03
      qslogs reloads C:/ProgramData/Qlik/Sense/Log --json > reloads.json
    """
    options = AnalysisOptions(
        since=since, until=until, stale_hours=stale_hours, failed_only=failed_only
    )
    result = reload_diagnosis(load(paths, strict, quiet), options)
    data = reloads_json(result)
    click.echo(dumps(data) if as_json else render_reloads(data))


def _cut(value: Any, width: int) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def render_reloads(data: dict[str, Any]) -> str:
    """The terminal view of ``qslogs reloads``: failed runs, manual failures, monitoring apps, tasks."""
    lines: list[str] = []
    runs = data["runs"]
    failed = [r for r in runs if r["outcome"] in ("failed", "aborted")]
    total = data["meta"]["runs_total"]
    lines.append(f"Failed runs: {len(failed)} of {total} task runs (times UTC)")
    if failed:
        lines.append(
            f"  {'time':<16}  {'task':<28} {'node':<12} {'where':<10} {'class':<10} {'connection':<30} "
            "root cause"
        )
        for r in failed:
            where = r["failure_kind"] or ("aborted" if r["outcome"] == "aborted" else "no log")
            cause = r["root_cause"] or r["note"] or ""
            line = f" (line {r['root_cause_line']})" if r["root_cause_line"] else ""
            lines.append(
                f"  {_when(r['start']):<16}  {_cut(r['task'], 28):<28} {_cut(r['node'], 12):<12} "
                f"{where:<10} {r['error_class'] or '':<10} {_cut(r['connection'], 30):<30} "
                f"{_cut(cause, 90)}{line}"
            )
    manual_failed = [m for m in data.get("manual_reloads", []) if m["outcome"] == "failed"]
    if manual_failed:
        lines += ["", f"Failed manual reloads: {len(manual_failed)}"]
        for m in manual_failed:
            lines.append(
                f"  {_when(m['time']):<16}  {_cut(m['app'] or m['app_id'], 28):<28} "
                f"{_cut(m['user'], 20):<20} {m['error_class'] or '':<10} {_cut(m['root_cause'], 90)}"
            )
    lines += [
        "",
        f"Monitoring apps (stale after {data['meta']['stale_hours']:g} h, "
        f"now = {_when(data['meta']['now'])})",
    ]
    for app in data["monitoring_apps"]:
        verdict = {"stale": "STALE", "fresh": "fresh", "unknown": "no reload seen"}[app["verdict"]]
        lines.append(
            f"  {app['name']:<20} {verdict:<15} last success {_when(app['last_success']) or 'none':<16}  "
            f"last attempt {_when(app['last_attempt']) or 'none':<16} {app['last_status'] or ''}"
        )
        root = app["root_cause"]
        if root:
            conn = f" on {root['connection']}" if root["connection"] else ""
            lines.append(f"  {'':<20} cause: {root['class'] or '-'}{conn}: {_cut(root['text'], 100)}")
            if root["hint"]:
                lines.append(f"  {'':<20} hint:  {root['hint']}")
    lines += [
        "",
        "Tasks",
        f"  {'task':<32} {'runs':>5} {'failed':>6} {'rate':>6}  {'last outcome':<16} "
        f"{'last run':<16}  {'mean s':>8} {'max s':>8}",
    ]
    for t in data["tasks"]:
        mean = "" if t["mean_duration_s"] is None else f"{t['mean_duration_s']:.1f}"
        most = "" if t["max_duration_s"] is None else f"{t['max_duration_s']:.1f}"
        lines.append(
            f"  {_cut(t['task'], 32):<32} {t['runs']:>5} {t['failures']:>6} {t['failure_rate']:>6.0%}  "
            f"{_cut(t['last_outcome'], 16):<16} {_when(t['last_run']):<16}  {mean:>8} {most:>8}"
        )
    if data["findings"]:
        lines += ["", "Findings"]
        for f in data["findings"]:
            lines.append(f"  [{f['severity']}] {f['title']}")
    return "\n".join(lines)
