"""The Bundle section: what was read (inventory, span, versions) and what was not (bad input)."""

from __future__ import annotations

import re
from typing import Any

from qslogs.analyses.input_result import InputResult
from qslogs.jsonable import frame_rows
from qslogs.report.evidence import bad_file_anchor
from qslogs.report.filters import fmt_bytes, fmt_int, fmt_ts, plural
from qslogs.report.model import Block, Callout, Column, Fact, Section
from qslogs.report.sections import details, make_table


def bundle_section(result: InputResult, coverage: list[Callout]) -> Section:
    """Inventory, versions, bad lines and unreadable files; ``coverage`` warnings from any analysis on top."""
    r = result
    facts = [
        Fact(
            "Time span",
            f"{fmt_ts(r.span_first)} → {fmt_ts(r.span_last)}" if r.span_first else "unknown",
            plural(r.span_days, "day") if r.span_days is not None else "",
            id="bundle-span",
        ),
        Fact("Nodes", fmt_int(len(r.hosts)), ", ".join(r.hosts)),
        Fact("Files", fmt_int(r.files_parsed), f"parsed, of {fmt_int(r.files_total)} in the bundle"),
        Fact("Records", fmt_int(r.records)),
        Fact("Size", fmt_bytes(r.size_bytes)),
        Fact("Bad lines", fmt_int(r.bad_lines), css="warning" if r.bad_lines else "ok"),
        Fact("Unreadable files", fmt_int(r.unreadable_files), css="warning" if r.unreadable_files else "ok"),
    ]
    blocks = [Block(title="", callouts=coverage, facts=facts)]
    about = [_about_fact(a) for a in sorted(frame_rows(r.about), key=_about_order)]
    versions = make_table(
        "t-bundle-versions",
        [
            Column("component", "Component"),
            Column("host", "Node"),
            Column("version", "Version", "code"),
            Column("column", "From column"),
            Column("records", "Records", "int"),
            Column("first", "First seen", "ts"),
            Column("last", "Last seen", "ts"),
        ],
        frame_rows(r.versions),
        ts="first",
        te="last",
        caption="Each service writes its own version; two rows for one component and node mean an upgrade.",
        empty="No version column in these logs.",
    )
    blocks.append(Block(title="Versions", id="bundle-versions", facts=about, tables=[versions]))
    inventory = make_table(
        "t-bundle-inventory",
        [
            Column("kind", "Log kind"),
            Column("host", "Node"),
            Column("files", "Files", "int"),
            Column("archived_files", "Archived", "int"),
            Column("records", "Records", "int"),
            Column("bad_lines", "Bad lines", "int"),
            Column("bytes", "Size", "bytes"),
            Column("first", "First", "ts"),
            Column("last", "Last", "ts"),
        ],
        frame_rows(r.inventory),
        ts="first",
        te="last",
        css=lambda r: "warning" if r["bad_lines"] else "",
    )
    blocks.append(
        Block(
            title="Inventory",
            id="bundle-inventory",
            tables=[inventory],
            intro="Files and records per log kind and node (duplicates and unknown files excluded).",
        )
    )
    blocks.append(_bad_input(r))
    skipped = make_table(
        "t-bundle-skipped",
        [
            Column("path", "File", "code"),
            Column("status", "Status"),
            Column("note", "Why"),
            Column("size", "Size", "bytes"),
        ],
        frame_rows(r.unknown_files),
        empty="None.",
    )
    blocks.append(
        Block(
            title=f"Files not analysed ({plural(r.unknown_files.height, 'file')})",
            id="bundle-skipped",
            tables=[skipped],
            collapsed=True,
            intro="Empty files, identical copies (the Log Collector's collision copies) and files "
            "that are not Qlik logs.",
        )
    )
    return Section(
        id="bundle", title="Bundle", intro="What the bundle holds, and what could not be read.", blocks=blocks
    )


#: Friendly labels of the product fields of AboutSystemInfo / the repository's about endpoint, in order.
ABOUT_LABELS = {
    "productName": "Product",
    "releaseLabel": "Release",
    "version": "Version",
    "buildVersion": "Repository build",
    "buildDate": "Build date",
    "databaseProvider": "Repository database",
    "nodeType": "Node type",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _about_order(a: dict[str, Any]) -> tuple[int, str]:
    keys = list(ABOUT_LABELS)
    return (keys.index(a["key"]) if a["key"] in keys else len(keys), str(a["key"]))


def _about_fact(a: dict[str, Any]) -> Fact:
    """A version tile: a person's label (``Release``), the value, and where it came from in small print."""
    label = ABOUT_LABELS.get(a["key"]) or _CAMEL.sub(" ", str(a["key"])).capitalize()
    return Fact(label, str(a["value"]), f"{a['source']} {a['key']}")


def _bad_input(result: InputResult) -> Block:
    bad = make_table(
        "t-bundle-bad",
        [
            Column("source_file", "File", "code"),
            Column("kind", "Kind"),
            Column("count", "Bad lines", "int"),
            Column("first_lines", "First bad lines (file:line, reason, text)", "details"),
        ],
        [
            {
                **b,
                "first_lines": details(
                    f"first {plural(len(b['first_lines']), 'line')}",
                    "",
                    [
                        {
                            "where": f"{b['source_file']}:{ln['line_no']}",
                            "note": ln["reason"],
                            "text": ln["text"],
                        }
                        for ln in b["first_lines"]
                    ],
                ),
            }
            for b in frame_rows(result.bad_files)
        ],
        row_id=lambda b: bad_file_anchor(b["source_file"]),
        empty="Every line fitted its file's format.",
    )
    issues = make_table(
        "t-bundle-issues",
        [Column("path", "File", "code"), Column("reason", "Reason")],
        frame_rows(result.file_issues),
        empty="Every file could be read.",
    )
    return Block(
        title="Bad input",
        id="bundle-bad",
        tables=[bad, issues],
        intro="Lines that did not fit their file's format were set aside (not analysed); unreadable "
        "files are named with the reason.",
    )
