"""``qslogs inspect``: every file of a bundle, its kind, node, records, bad lines and time span."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import RenderableType

from qslogs.commands.options import bundle_paths, load, quiet_option, strict_option
from qslogs.commands.terminal import FitTable, render, styled, table, when
from qslogs.export import dumps, inventory_summary, to_jsonable


@click.command()
@bundle_paths
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (keys files, kinds, totals).")
@strict_option
@quiet_option
def inspect(paths: tuple[Path, ...], as_json: bool, strict: bool, quiet: bool) -> None:
    """List every file of a bundle: kind, node, records, bad lines and time span.

    Unknown files are listed too, with the reason, and unreadable files are named with what was
    wrong. Use it first on a bundle you have not seen.

    \b
    Example:
      qslogs inspect SenseCollector_1234.zip
      qslogs inspect C:/ProgramData/Qlik/Sense/Log --json > inventory.json
    """
    summary = inventory_summary(load(paths, strict, quiet))
    if as_json:
        click.echo(dumps(summary))
        return
    click.echo(render_inventory(summary))


def render_inventory(summary: dict[str, Any]) -> str:
    """The terminal view of ``qslogs inspect``: files, totals per kind, and the unreadable files."""
    files = table(("path", {"cut": "left"}), ("kind", {"cut": True}), "node", ("records", {"justify": "right"}),
                  ("bad", {"justify": "right"}), "first → last (UTC)")
    for r in (to_jsonable(f) for f in summary["files"]):
        span = f"{when(r['first'])} → {when(r['last'])}" if r["first"] else (r["note"] or r["status"])
        files.add_row(r["path"], r["kind"], r["host"] or "", f"{r['records']:,}",
                      styled(str(r["bad_lines"]), "warning" if r["bad_lines"] else ""), span)
    kinds = table("kind", ("files", {"justify": "right"}), ("records", {"justify": "right"}))
    for kind, tot in summary["kinds"].items():
        kinds.add_row(kind, f"{tot['files']:,}", f"{tot['records']:,}")
    t = to_jsonable(summary["totals"])
    nodes = ", ".join(t["hosts"]) or "none"
    totals = (f"{t['files']} files, {t['records']:,} records, {t['bad_lines']} bad lines, {t['file_issues']} "
              f"unreadable files; nodes: {nodes}; {t['first'] or '?'} → {t['last'] or '?'}")
    parts: list[RenderableType | FitTable | str] = [files, "", kinds, "", totals]
    for issue in summary["file_issues"]:
        parts.append(styled(f"  unreadable: {issue['path']}: {issue['reason']}", "warning"))
    return render(parts)
