"""``fleet.html``: one self-contained page with a row per site, rendered from the sites' summaries.

Everything shown is computed here (text, sort key, colour of each cell); the template only places it.
The page reuses the report's stylesheet and script (inlined: sortable, filterable tables; no network)
and links each site to its own report in ``reports/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from qslogs.outputs import write_text
from qslogs.report.render import asset, qslogs_version

#: How a verdict is coloured and ranked (worst first when sorting); verdicts come from the reloads analysis.
VERDICT_STYLE = {"failing": ("sev-critical", 0), "stale": ("sev-warning", 1), "missing": ("sev-warning", 2),
                 "unknown": ("sev-info", 3), "fresh": ("sev-ok", 4), "ok": ("sev-ok", 4)}
COLUMNS = (
    ("site", "Site", False, "the site's bundle; the link opens its report"),
    ("license_monitor", "License Monitor", False, "verdict of the reloads analysis"),
    ("operations_monitor", "Operations Monitor", False, "verdict of the reloads analysis"),
    ("failed_runs", "Failed runs", True, "failed or aborted task runs, of all task runs in the window"),
    ("classes", "Top error classes", False, "error classes of the failed task runs, most frequent first"),
    ("http_401", "HTTP 401 connections", False, "data connections whose reloads failed with HTTP 401"),
    ("runway", "License runway", True, "the access type that runs out first, and when"),
    ("bad_input", "Bad input", True, "lines that did not fit their file's format; unreadable files"),
    ("findings", "Findings", True, "critical and warning findings of the site's report"),
)


@dataclass(frozen=True)
class Cell:
    """One table cell: what it says, how it sorts, its colour class and link."""

    text: str
    sort: str | float | None = None
    css: str = ""
    href: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class FleetPage:
    """The template context."""

    title: str
    generated: str
    version: str
    window: str
    columns: list[dict[str, Any]]
    rows: list[list[Cell]]
    totals: str
    skipped: list[dict[str, str]]
    css: Any = field(repr=False)
    js: Any = field(repr=False)


def _monitor(summary: Mapping[str, Any], name: str) -> Cell:
    app = next((a for a in summary["monitoring_apps"] if a["name"] == name), None)
    if summary["error"]:
        return Cell("–")
    if app is None:
        return Cell("not in bundle", 9)
    verdict = app["verdict"]
    css, rank = VERDICT_STYLE.get(verdict or "", ("", 8))
    root = app.get("root_cause") or {}
    why = ": ".join(str(x) for x in (root.get("class"), root.get("connection")) if x)
    return Cell(verdict or "no verdict", rank, css, note=why or None)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _row(summary: Mapping[str, Any]) -> list[Cell]:
    error = summary["error"]
    site = Cell(summary["site"], summary["site"], href=summary["report"], note=error,
                css="sev-critical" if error else "")
    if error:
        return [site, *[Cell("–") for _ in COLUMNS[1:]]]
    classes = ", ".join(f"{k} {v}" for k, v in list(summary["error_classes"].items())[:3])
    conns = ", ".join(f"{k} ({v})" for k, v in summary["connections_401"].items())
    runway = summary["licenses"]["runway"]
    runway_cell = (Cell(f"{runway['access_type']}: {runway['months']:.1f} months ({runway['date']})",
                        runway["months"], "sev-warning" if runway["months"] < 3 else "")
                   if runway else Cell("not running out", 1e9))
    bad = summary["bad_input"]
    failed = summary["failed_runs"]
    found = summary["findings"]
    return [
        site,
        _monitor(summary, "License Monitor"),
        _monitor(summary, "Operations Monitor"),
        Cell(f"{failed} of {summary['runs']}", failed, "sev-warning" if failed else ""),
        Cell(classes),
        Cell(conns, css="sev-critical" if conns else ""),
        runway_cell,
        Cell(f"{_count(bad['bad_lines'], 'bad line')}, {_count(bad['unreadable_files'], 'unreadable file')}",
             bad["bad_lines"] + bad["unreadable_files"]),
        Cell(f"{found['critical']} critical, {found['warning']} warning", found["critical"] * 1000 + found["warning"],
             "sev-critical" if found["critical"] else ""),
    ]


def build_page(summaries: Sequence[Mapping[str, Any]], skipped: Sequence[Mapping[str, str]], *,
               title: str, window: str, generated_at: datetime | None = None) -> FleetPage:
    """Arrange the site summaries into the page (no analysis here)."""
    generated = (generated_at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    failed = sum(1 for s in summaries if s["error"])
    totals = f"{len(summaries)} sites" + (f", {failed} could not be analysed" if failed else "")
    return FleetPage(
        title=title, generated=generated, version=qslogs_version(), window=window,
        columns=[{"key": k, "label": label, "numeric": num, "help": h} for k, label, num, h in COLUMNS],
        rows=[_row(s) for s in summaries], totals=totals, skipped=[dict(s) for s in skipped],
        css=asset("report.css"), js=asset("report.js"),
    )


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("qslogs", "fleet/templates"), autoescape=True,
                       undefined=StrictUndefined, keep_trailing_newline=True)


def render_page(page: FleetPage) -> str:
    return _environment().get_template("fleet.html").render(p=page)


def write_page(page: FleetPage, path: Path) -> Path:
    """Write ``fleet.html`` atomically."""
    return write_text(path, render_page(page))
