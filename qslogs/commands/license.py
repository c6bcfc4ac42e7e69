"""``qslogs license``: allocation vs capacity, usage timeline, growth fit and exhaustion forecast."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from qslogs.analyses import run_analyses
from qslogs.analyses.base import AnalysisOptions
from qslogs.analyses.licenses.analysis import no_logs
from qslogs.analyses.licenses.result import LicensesResult
from qslogs.commands.options import (
    bundle_paths,
    capacity_options,
    json_option,
    load,
    quiet_option,
    qvd_options,
    strict_option,
    time_window_options,
)
from qslogs.export import dumps, result_json
from qslogs.pipeline import load_qvd_map, with_qvds


@click.command("license")
@bundle_paths
@qvd_options
@capacity_options
@time_window_options
@json_option
@strict_option
@quiet_option
def license_command(
    paths: tuple[Path, ...],
    qvd_paths: tuple[Path, ...],
    qvd_map: Path | None,
    professional: int | None,
    analyzer: int | None,
    tokens: int | None,
    since: datetime | None,
    until: datetime | None,
    as_json: bool,
    strict: bool,
    quiet: bool,
) -> None:
    """License use: allocated vs bought, growth per month, and when the licenses run out.

    Reads license events from Repository/License and the License commands of
    Repository/AuditSecurity (both record the same events: each is counted once), who used the site
    from Proxy/AuditActivity and Engine/Session, and license tables from any .qvd in the bundle or
    given with --qvd. A QVD is taken as a license table when its fields hold a user, an access type
    and a date/time; --qvd-map names the fields instead. The licenses bought come from the bundle's
    CalInfo dump when it has them; --professional/--analyzer/--tokens override it.

    \b
    Per access type (Professional, Analyzer, User/Login passes) and per day and month: allocated
    users (a running total of allocations and removals), active users (distinct users with a use)
    and denials. The growth of allocated and active users is fitted by least squares on monthly
    points (daily points when there are fewer than 4 months), giving users per month with a 95 %
    interval (Student t) and R²; when outliers decide the least-squares line, the median of
    pairwise slopes (Theil-Sen, with Sen's interval) is reported instead. A line whose interval holds
    0 and whose slope is tiny is reported as flat. --since chooses the fit window (default: all
    history); --until is "now" for the forecast and the lists. Fewer than 90 days of history gives
    a warning.

    \b
    --qvd-map FILE (TOML or JSON):
      [[tables]]
      match = "*license*"            # glob on the file or table name
      user_directory = "UserDirectory"
      user_id = "UserId"             # or: user = "UserName" holding DIR\\user
      access_type = "AccessType"     # or: access_type_value = "Analyzer"
      time = "AllocatedDate"
      kind = "allocation"            # events (with operation = "...") | usage | allocation | denial
      [commands]                     # re-classify AuditSecurity commands
      "Add user access" = "allocation"

    \b
    --json prints one object with the keys capacity (with its source), timeline, fits, forecast,
    changes_7d, unused, denials, denials_by_user, warnings and qvd_mapping.

    \b
    Example:
      qslogs license SenseCollector_1234.zip
      qslogs license SenseCollector_1234.zip --analyzer 40 --professional 15 --since 2026-01-01
      qslogs license C:/ProgramData/Qlik/Sense/Log --qvd LicenseMonitor/ --json > license.json
    """
    qvds = tuple(p for p in paths if p.suffix.lower() == ".qvd" and p.is_file())
    logs = tuple(p for p in paths if p not in qvds)
    mapping = load_qvd_map(qvd_map) if qvd_map else None
    options = AnalysisOptions(
        since=since,
        until=until,
        professional=professional,
        analyzer=analyzer,
        tokens=tokens,
        qvd_map=mapping,
    )
    frames = load(logs, strict, quiet) if logs else no_logs()  # QVD files alone: no logs to read
    frames = with_qvds(frames, (*qvds, *qvd_paths), mapping)
    result = run_analyses(frames, options, only=["licenses"])["licenses"]
    assert isinstance(result, LicensesResult)
    data = result_json(result)
    click.echo(dumps(data) if as_json else render_license(data))


def _n(value: Any) -> str:
    if value is None:
        return "?"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _latest(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The last month of each access type in the timeline."""
    out: dict[str, dict[str, Any]] = {}
    for row in data["timeline"]:
        if row["granularity"] == "month":
            out[row["access_type"]] = row
    return out


def render_license(data: dict[str, Any]) -> str:
    """The terminal view of ``qslogs license``."""
    cap = data["capacity"]
    lines = [f"Capacity ({cap['source']}):"]
    for d in cap["details"]:
        if d["capacity"] is None and d["in_use"] is None:
            continue
        lines.append(
            f"  {d['access_type']:<13} bought {_n(d['capacity']):>6}   allocated (CalInfo) "
            f"{_n(d['in_use']):>6}   source: {d['source']}"
        )
    latest = _latest(data)
    if latest:
        lines += ["", "Last month of data:"]
        for access_type, row in sorted(latest.items()):
            lines.append(
                f"  {access_type:<13} {row['period']}  allocated {_n(row['allocated']):>5}  "
                f"active {row['active']:>5}  denied {row['denied']:>5}"
            )
    if data["fits"]:
        lines += ["", "Growth (users per month, 95 % interval):"]
        for f in data["fits"]:
            ci = f"{_n(f['ci_low'])} – {_n(f['ci_high'])}"
            flat = "  flat" if f["flat"] else ""
            r2 = "" if f["r2"] is None else f"  R² {f['r2']:.2f}"
            lines.append(
                f"  {f['access_type']:<13} {f['series']:<9} {f['slope_per_month']:+8.2f}  [{ci}]"
                f"{r2}  {f['n_points']} {f['granularity']}ly points, {f['method']}{flat}"
            )
    if data["forecast"]:
        lines += ["", "Forecast:"]
        lines += [f"  {row['statement']}" for row in data["forecast"]]
    lines += ["", f"Allocation changes in the last 7 days: {len(data['changes_7d'])}"]
    for c in data["changes_7d"][:20]:
        lines.append(
            f"  {c['time'][:16].replace('T', ' ')}  {c['operation']:<7} {c['access_type'] or '?':<13} "
            f"{c['user']}" + (f"  (by {c['by']})" if c["by"] else "")
        )
    lines += ["", f"Allocated but idle for 30+ days: {len(data['unused'])}"]
    for u in data["unused"][:30]:
        last = (u["last_used"] or "")[:10] or "never seen"
        lines.append(f"  {u['access_type']:<13} {u['user']:<32} last used {last:<10}  → {u['suggestion']}")
    denials = data["denials"]
    lines += ["", f"Denials: {len(denials)}"]
    by_user: dict[str, list[dict[str, Any]]] = {}
    for d in denials:
        by_user.setdefault(d["user"] or "?", []).append(d)
    for user, rows in sorted(by_user.items(), key=lambda kv: -len(kv[1]))[:15]:
        lines.append(
            f"  {user:<32} {len(rows):>5} times, last {rows[-1]['time'][:16].replace('T', ' ')} "
            f"({rows[-1]['access_type']})"
        )
    used = [m for m in data["qvd_mapping"]]
    if used:
        lines += ["", "QVD files:"]
        for m in used:
            what = (
                (
                    f"{m['kind']}: user={m['user']}, access type={m['access_type']}, time={m['time']}"
                    + (f", operation={m['operation']}" if m["operation"] else "")
                )
                if m["kind"]
                else ""
            )
            reason = f" ({m['reason']})" if m["reason"] else ""
            lines.append(f"  {m['file']}: {m['status']} [{m['mapping'] or '-'}] {what}{reason}")
    if data["warnings"]:
        lines += ["", "Warnings:"] + [f"  ! {w}" for w in data["warnings"]]
    return "\n".join(lines)
