"""``qslogs activity``: errors and warnings per service × node over time, top messages, sessions and users."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from qslogs.analyses import AnalysisOptions, run_analyses
from qslogs.analyses.activity_result import ActivityResult
from qslogs.commands.options import (
    bundle_paths,
    json_option,
    load,
    quiet_option,
    strict_option,
    time_window_options,
)
from qslogs.commands.terminal import cut, render, styled, table, when
from qslogs.export import dumps, result_json
from qslogs.words import plural


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
    result = run_analyses(load(paths, strict, quiet), options, only=["activity"])["activity"]
    assert isinstance(result, ActivityResult)
    data = result_json(result)
    click.echo(dumps(data) if as_json else render_activity(data))


def render_activity(data: dict[str, Any]) -> str:
    """The terminal view of the ``--json`` object: errors/warnings per service × node, top messages, sessions
    per source."""
    if not data["by_service_host"] and not data["session_totals"]:
        return "No log records with a level and no sessions in this bundle."
    levels = table(("service", {"cut": True}), "node", ("errors", {"justify": "right"}),
                   ("warnings", {"justify": "right"}), ("records", {"justify": "right"}), "last error (UTC)")
    for r in data["by_service_host"]:
        levels.add_row(r["service"], r["host"] or "", styled(f"{r['errors']:,}", "critical" if r["errors"] else ""),
                       styled(f"{r['warnings']:,}", "warning" if r["warnings"] else ""), f"{r['records']:,}",
                       when(r["last_error"]))
    parts: list[Any] = [levels]
    if data["messages"]:
        top = table(("count", {"justify": "right"}), "level", ("service", {"cut": True, "min": 12}),
                    ("message", {"cut": True, "keep": 1, "min": 30}))
        for m in data["messages"][:15]:
            top.add_row(f"{m['count']:,}", styled(m["level"], "critical" if m["level"] == "ERROR" else "warning"),
                        m["service"], cut(m["message"]))
        parts += ["", "Most frequent errors and warnings:", top]
    if data["session_totals"]:
        parts.append("")
        for t in data["session_totals"]:
            days = sum(1 for s in data["sessions"] if s["source"] == t["source"])
            parts.append(f"{t['source']} sessions: {t['sessions']:,} by {t['users']:,} distinct users "
                         f"over {plural(days, 'day')}")
    return render(parts)
