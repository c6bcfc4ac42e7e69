"""``qslogs inspect``: every file of a bundle, its kind, node, records, bad lines and time span."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import RenderableType

from qslogs.commands.options import bundle_paths, load, quiet_option, strict_option
from qslogs.commands.terminal import FitTable, render, styled, table, when
from qslogs.export import dumps, inventory_summary, to_jsonable

#: Above this many files the terminal view groups them per kind and node (``--all`` lists every file).
FILE_ROWS = 500


@click.command()
@bundle_paths
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (keys files, kinds, totals).")
@click.option("--all", "every_file", is_flag=True,
              help=f"List every file even when there are more than {FILE_ROWS:,} (by default such a bundle is "
                   "shown per kind and node, with the files that have bad lines).")
@strict_option
@quiet_option
def inspect(paths: tuple[Path, ...], as_json: bool, every_file: bool, strict: bool, quiet: bool) -> None:
    """List every file of a bundle: kind, node, records, bad lines and time span.

    Unknown files are listed too, with the reason, and unreadable files are named with what was
    wrong. Use it first on a bundle you have not seen. A bundle of more than 500 files (a site's
    ArchivedLogs hold tens of thousands) is shown per kind and node, with every file that has bad
    lines; --all lists every file, --json gives every file to a program.

    \b
    Example:
      qslogs inspect SenseCollector_1234.zip
      qslogs inspect C:/ProgramData/Qlik/Sense/Log --json > inventory.json
    """
    summary = inventory_summary(load(paths, strict, quiet))
    if as_json:
        click.echo(dumps(summary))
        return
    click.echo(render_inventory(summary, every_file=every_file))


def render_inventory(summary: dict[str, Any], *, every_file: bool = False) -> str:
    """The terminal view of ``qslogs inspect``: files (or, for a large bundle, groups per kind and node and
    the files with bad lines), totals per kind, and the unreadable files."""
    rows = [to_jsonable(f) for f in summary["files"]]
    grouped = len(rows) > FILE_ROWS and not every_file
    parts: list[RenderableType | FitTable | str] = []
    if grouped:
        parts += [_groups(rows), ""]
        rows = [r for r in rows if r["bad_lines"]]
        parts.append(f"{len(summary['files']):,} files, shown per kind and node; "
                     + (f"the {len(rows):,} with bad lines below; " if rows else "none has bad lines; ")
                     + "--all lists every file, --json gives every file to a program.")
    if rows:
        parts += [_files(rows), ""]
    kinds = table("kind", ("files", {"justify": "right"}), ("records", {"justify": "right"}))
    for kind, tot in summary["kinds"].items():
        kinds.add_row(kind, f"{tot['files']:,}", f"{tot['records']:,}")
    t = to_jsonable(summary["totals"])
    nodes = ", ".join(t["hosts"]) or "none"
    totals = (f"{t['files']} files, {t['records']:,} records, {t['bad_lines']} bad lines, {t['file_issues']} "
              f"unreadable files; nodes: {nodes}; {t['first'] or '?'} → {t['last'] or '?'}")
    parts += [kinds, "", totals]
    for issue in summary["file_issues"]:
        parts.append(styled(f"  unreadable: {issue['path']}: {issue['reason']}", "warning"))
    return render(parts)


def _files(rows: list[dict[str, Any]]) -> FitTable:
    files = table(("path", {"cut": "left"}), ("kind", {"cut": True}), "node", ("records", {"justify": "right"}),
                  ("bad", {"justify": "right"}), "first → last (UTC)")
    for r in rows:
        span = f"{when(r['first'])} → {when(r['last'])}" if r["first"] else (r["note"] or r["status"])
        files.add_row(r["path"], r["kind"], r["host"] or "", f"{r['records']:,}",
                      styled(str(r["bad_lines"]), "warning" if r["bad_lines"] else ""), span)
    return files


def _groups(rows: list[dict[str, Any]]) -> FitTable:
    """One row per kind and node: files, records, bad lines and the span they cover."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        g = groups.setdefault((r["kind"] or "", r["host"] or ""), [0, 0, 0, None, None])
        g[0] += 1
        g[1] += r["records"]
        g[2] += r["bad_lines"]
        if r["first"]:
            g[3] = r["first"] if g[3] is None else min(g[3], r["first"])
            g[4] = r["last"] if g[4] is None else max(g[4], r["last"])
    out = table(("kind", {"cut": True}), "node", ("files", {"justify": "right"}), ("records", {"justify": "right"}),
                ("bad", {"justify": "right"}), "first → last (UTC)")
    for (kind, node), (files, records, bad, first, last) in sorted(groups.items()):
        span = f"{when(first)} → {when(last)}" if first else ""
        out.add_row(kind, node, f"{files:,}", f"{records:,}", styled(str(bad), "warning" if bad else ""), span)
    return out
