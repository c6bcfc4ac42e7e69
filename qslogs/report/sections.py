"""Shared section builders: tables from JSON rows, the health summary, and a generic analysis section.

A builder turns one analysis result (findings + JSON-ready tables) into a
:class:`~qslogs.report.model.Section`. Builders only *arrange* what the analyses computed: pick columns,
order rows, place charts. An analysis without a dedicated layout still gets a section (its tables shown
as they are), so a new analysis is visible in the report the moment it is registered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from typing import Any

from qslogs.analyses.result import Result
from qslogs.findings import Finding
from qslogs.jsonable import result_tables
from qslogs.report.evidence import evidence_for
from qslogs.report.filters import fmt_int, severity_rank, ts_ms
from qslogs.report.model import Block, Column, Fact, FindingRow, Row, Section, Table

#: Rows shown per table at most (the rest is counted in the caption; the JSON output has them all).
ROW_LIMIT = 1000
#: Columns a generic table shows at most.
GENERIC_COLUMNS = 14
#: Section id of each analysis with a dedicated place in the report.
SECTION_OF = {"reloads": "reloads", "licenses": "licenses", "activity": "activity", "input": "bundle"}

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """An HTML id from any text."""
    return _SLUG.sub("-", text.lower()).strip("-") or "x"


def make_table(
    table_id: str,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    *,
    ts: str | Callable[[Mapping[str, Any]], Any] | None = None,
    te: str | None = None,
    key: Callable[[Mapping[str, Any]], str] | None = None,
    css: Callable[[Mapping[str, Any]], str] | None = None,
    caption: str = "",
    empty: str = "Nothing to show.",
    limit: int = ROW_LIMIT,
    agg: str = "",
    row_id: Callable[[Mapping[str, Any]], str] | None = None,
    sort: str = "",
    reflow: bool = False,
) -> Table:
    """A :class:`Table` from JSON rows; ``ts``/``te`` name (or compute) the row's time for the date filter."""
    all_rows = list(rows)
    out = []
    for row in all_rows[:limit]:
        values = {c.key: row.get(c.key) for c in columns}
        t = ts(row) if callable(ts) else row.get(ts) if ts else None
        out.append(
            Row(
                values=values,
                ts=ts_ms(t),
                te=ts_ms(row.get(te)) if te else None,
                key=key(row) if key else None,
                css=css(row) if css else "",
                id=row_id(row) if row_id else "",
            )
        )
    total = len(all_rows) if len(all_rows) > limit else None
    if total:
        caption = f"{caption} Showing the first {fmt_int(limit)} of {fmt_int(total)} rows.".strip()
    return Table(
        id=table_id,
        columns=list(columns),
        rows=out,
        caption=caption,
        empty=empty,
        total=total,
        agg=agg,
        sort=sort,
        reflow=reflow,
    )


def finding_group(f: Finding) -> str:
    """``bundle`` for a finding about the input itself (the input analysis, or one marked so), else ``site``."""
    return "bundle" if f.about == "bundle" or f.analysis == "input" else "site"


def summary(
    results: Mapping[str, Result], present: Mapping[str, str], ids: Container[str] = frozenset()
) -> tuple[list[FindingRow], dict[str, int]]:
    """Every finding of every analysis: the site's, then the bundle's; most severe first in each group
    (ties keep analysis and finding order).

    ``present`` maps the id of each section in the report to its title; ``ids`` holds every element id
    of the page. Each finding links to the first element that proves it (a run's row, a chart, a table:
    :func:`~qslogs.report.evidence.evidence_for`) that is in the page, else to its section.
    """
    ordered: list[tuple[int, int, int, Finding]] = []
    for result in results.values():
        for finding in result.findings:
            group = int(finding_group(finding) == "bundle")
            ordered.append((group, severity_rank(finding.severity), len(ordered), finding))
    ordered.sort(key=lambda item: item[:3])
    rows = []
    counts = {"critical": 0, "warning": 0, "info": 0, "ok": 0}
    for _, _, _, f in ordered:
        severity = str(f.severity)
        counts[severity] = counts.get(severity, 0) + 1
        section = SECTION_OF.get(f.analysis, f.analysis)
        proof = next(((i, what) for i, what in evidence_for(f) if i in ids), None)
        rows.append(
            FindingRow(
                severity=severity,
                analysis=f.analysis,
                title=f.title,
                detail=f.detail,
                anchor=proof[0] if proof else section if section in present else "",
                area=present.get(section, f.analysis),
                group=finding_group(f),
                evidence=proof[1] if proof else "",
            )
        )
    return rows, counts


def details(
    summary: str, body: str = "", lines: Iterable[Mapping[str, Any]] = (), anchor: str = ""
) -> dict[str, Any]:
    """A ``details`` cell value: a summary line, opened to a text body and/or context lines.

    Each line is ``{"where": "file:line", "note": "...", "text": "...", "mark": bool}`` plus, for a
    quoted log line, ``"when"`` (its time in words, UTC first) and ``"utc"`` (ISO, for ``<time>``).
    A line next to a marked one is ``near``: the printout shows marked lines and their neighbours only.
    ``anchor`` is the HTML id of the ``<details>`` (an evidence link may point at it).
    """
    shown = [
        {
            "where": str(ln.get("where") or ""),
            "note": str(ln.get("note") or ""),
            "text": str(ln.get("text") or ""),
            "mark": bool(ln.get("mark")),
            "when": str(ln.get("when") or ""),
            "utc": str(ln.get("utc") or ""),
        }
        for ln in lines
    ]
    marked = [i for i, ln in enumerate(shown) if ln["mark"]]
    for i, ln in enumerate(shown):
        ln["near"] = not ln["mark"] and any(abs(i - m) == 1 for m in marked)
    excerpt = sum(1 for ln in shown if ln["mark"] or ln["near"])
    return {
        "summary": summary,
        "body": body or "",
        "lines": shown,
        "id": anchor,
        "left_out": len(shown) - excerpt if excerpt else 0,
    }


def guess_format(key: str, values: Sequence[Any]) -> str:
    """A display format for a generic column from its name and values."""
    sample = [v for v in values if v is not None][:20]
    if not sample:
        return "text"
    if all(isinstance(v, bool) for v in sample):
        return "bool"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in sample):
        if key.endswith("_s") or "duration" in key:
            return "duration"
        if "rate" in key or "share" in key or key.endswith("_pct"):
            return "pct"
        return "int" if all(float(v).is_integer() for v in sample) else "num"
    if all(isinstance(v, str) and _ISO.match(v) for v in sample):
        return "day" if all(len(v) == 10 for v in sample) else "ts"
    if any(isinstance(v, dict | list) for v in sample):
        return "code"
    return "text"


def generic_table(table_id: str, rows: list[Any], caption: str = "") -> Table:
    """Any list of JSON objects as a table (columns in first-seen key order, nested values as JSON)."""
    dicts = [r if isinstance(r, dict) else {"value": r} for r in rows]
    keys: list[str] = []
    for row in dicts[:200]:
        for k in row:
            if k not in keys:
                keys.append(k)
    keys = keys[:GENERIC_COLUMNS]
    columns = [Column(k, k.replace("_", " "), guess_format(k, [r.get(k) for r in dicts])) for k in keys]
    columns = [Column(c.key, c.label, "text") if c.fmt == "code" else c for c in columns]
    shown = [{k: _scalar(r.get(k)) for k in keys} for r in dicts]
    ts_key = next((c.key for c in columns if c.fmt in {"ts", "day"}), None)
    return make_table(table_id, columns, shown, ts=ts_key, caption=caption)


def _scalar(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)[:400]
    return value


def generic_section(result: Result, title: str | None = None) -> Section:
    """A section for an analysis without a dedicated layout: scalar facts, then every table."""
    name = result.name
    facts: list[Fact] = []
    blocks: list[Block] = []
    for key, value in result_tables(result).items():
        if isinstance(value, list):
            blocks.append(
                Block(
                    title=key.replace("_", " ").capitalize(),
                    id=f"{slug(name)}-{slug(key)}",
                    tables=[generic_table(f"t-{slug(name)}-{slug(key)}", value)],
                )
            )
        elif isinstance(value, dict):
            scalars = {k: v for k, v in value.items() if not isinstance(v, dict | list)}
            if scalars:
                blocks.append(
                    Block(
                        title=key.replace("_", " ").capitalize(),
                        facts=[
                            Fact(k.replace("_", " "), fmt_int(v) if not isinstance(v, str) else v)
                            for k, v in scalars.items()
                        ],
                    )
                )
        else:
            facts.append(Fact(key.replace("_", " "), fmt_int(value) if not isinstance(value, str) else value))
    if facts:
        blocks.insert(0, Block(title="", facts=facts))
    return Section(
        id=slug(name),
        title=title or name.replace("_", " ").capitalize(),
        intro=f"Tables of the {name} analysis, as computed.",
        blocks=blocks,
    )
