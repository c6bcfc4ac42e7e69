"""``qslogs activity``: errors and warnings per service × node over time, top messages, sessions and users."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from qslogs.analyses.activity import activity_analysis, activity_json
from qslogs.analyses.base import AnalysisOptions
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
@strict_option
@quiet_option
def activity(
    paths: tuple[Path, ...],
    as_json: bool,
    since: datetime | None,
    until: datetime | None,
    strict: bool,
    quiet: bool,
) -> None:
    """Count log levels per service and node, list the most frequent errors, and count sessions and users.

    Every log kind with a level column (Level or Severity) is counted per hour, service and node;
    errors and warnings that repeat with different numbers or ids are grouped into one message. User
    sessions and distinct users per day come from the proxy's "Start session" audit records and the
    engine's session log; Qlik's built-in INTERNAL accounts are counted apart.

    \b
    Example:
      qslogs activity SenseCollector_1234.zip
      qslogs activity C:/ProgramData/Qlik/Sense/Log --since 2026-10-01 --json > activity.json
    """
    options = AnalysisOptions(since=since, until=until)
    data = activity_json(activity_analysis(load(paths, strict, quiet), options))
    click.echo(dumps(data) if as_json else render_activity(data))


def _cut(value: Any, width: int) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_activity(data: dict[str, Any]) -> str:
    """The terminal view: errors/warnings per service × node, top messages, sessions per source."""
    lines = [f"{'service':<28} {'node':<14} {'errors':>8} {'warnings':>9} {'records':>10}  last error (UTC)"]
    for r in data["by_service_host"]:
        last = (r["last_error"] or "")[:16].replace("T", " ")
        lines.append(
            f"{_cut(r['service'], 28):<28} {_cut(r['host'], 14):<14} {r['errors']:>8,} {r['warnings']:>9,} "
            f"{r['records']:>10,}  {last}"
        )
    if data["messages"]:
        lines += ["", "Most frequent errors and warnings:"]
        for m in data["messages"][:15]:
            lines.append(
                f"  {m['count']:>6,}  {m['level']:<5} {_cut(m['service'], 18):<18} {_cut(m['message'], 90)}"
            )
    if data["session_totals"]:
        lines += [""]
        for t in data["session_totals"]:
            days = sum(1 for s in data["sessions"] if s["source"] == t["source"])
            lines.append(
                f"{t['source']} sessions: {t['sessions']:,} by {t['users']:,} distinct users "
                f"over {days} day(s)"
            )
    if not data["by_service_host"] and not data["session_totals"]:
        lines = ["No log records with a level and no sessions in this bundle."]
    return "\n".join(lines)
