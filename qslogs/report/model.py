"""The report's template context: frozen, documented dataclasses (the contract between data and HTML).

Templates get one :class:`ReportContext` as ``r``. A section whose analysis did not run is ``None``
and its template block is skipped; every other attribute must exist, so ``StrictUndefined`` turns a
typo in a template into a failing test instead of an empty cell. A test checks that every field here
carries help text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

#: Column formats understood by the table macro (each maps to a filter in :mod:`qslogs.report.filters`).
FORMATS = frozenset(
    {
        "text",
        "code",
        "int",
        "num",
        "pct",
        "bytes",
        "ts",
        "day",
        "duration",
        "severity",
        "details",
        "svg",
        "bool",
    }
)


@dataclass(frozen=True)
class Column:
    """One column of a report table."""

    key: str = field(metadata={"help": "key of the value in each row's values"})
    label: str = field(metadata={"help": "header text"})
    fmt: str = field(default="text", metadata={"help": "display format, one of FORMATS"})
    help: str = field(default="", metadata={"help": "tooltip of the header (what the column means)"})

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown column format {self.fmt!r} for {self.key!r}")

    @property
    def numeric(self) -> bool:
        """Right-aligned and sorted as a number."""
        return self.fmt in {"int", "num", "pct", "bytes", "duration", "ts", "day"}


@dataclass(frozen=True)
class Row:
    """One table row: display values by column key, plus what the date filter needs."""

    values: dict[str, Any] = field(metadata={"help": "column key → JSON value (every column key present)"})
    ts: int | None = field(default=None, metadata={"help": "row time, ms UTC (data-ts) for the date filter"})
    te: int | None = field(default=None, metadata={"help": "end of the row's time span, ms UTC (data-te)"})
    key: str | None = field(default=None, metadata={"help": "key of the row in an aggregate (data-key)"})
    css: str = field(default="", metadata={"help": "extra CSS class (e.g. the severity of the row)"})
    id: str = field(default="", metadata={"help": "HTML id of the row, an evidence anchor ('' for none)"})


@dataclass(frozen=True)
class Table:
    """A sortable, filterable table."""

    id: str = field(metadata={"help": "HTML id, unique in the report"})
    columns: list[Column] = field(metadata={"help": "columns in display order"})
    rows: list[Row] = field(metadata={"help": "rows in their default order"})
    caption: str = field(default="", metadata={"help": "one line above the table saying what it shows"})
    empty: str = field(default="Nothing to show.", metadata={"help": "text shown when there are no rows"})
    total: int | None = field(
        default=None, metadata={"help": "rows before the display limit (None: all shown)"}
    )
    agg: str = field(default="", metadata={"help": "name of the aggregate the date filter recomputes"})
    sort: str = field(
        default="",
        metadata={"help": "'<column key> ascending|descending': the order the rows come in ('' if none)"},
    )
    reflow: bool = field(
        default=False, metadata={"help": "on a phone, rows become label/value cards instead of scrolling"}
    )


@dataclass(frozen=True)
class FindingRow:
    """One line of the health summary."""

    severity: str = field(metadata={"help": "critical, warning, info or ok"})
    analysis: str = field(metadata={"help": "the analysis that produced it"})
    title: str = field(metadata={"help": "what was found, in one line"})
    detail: str = field(metadata={"help": "explanation and what to do"})
    anchor: str = field(
        metadata={"help": "id of the element with the evidence (a row, chart or table; else its section)"}
    )
    area: str = field(default="", metadata={"help": "title of that section (or the analysis name)"})
    group: str = field(
        default="site", metadata={"help": "site, or bundle for findings about the input itself (own group)"}
    )
    evidence: str = field(default="", metadata={"help": "what the link shows ('failed run', 'chart', …)"})


@dataclass(frozen=True)
class Fact:
    """A labelled number or text in a section's key-facts strip."""

    label: str = field(metadata={"help": "what the value is"})
    value: str = field(metadata={"help": "the value, already formatted"})
    note: str = field(default="", metadata={"help": "small print under the value"})
    css: str = field(default="", metadata={"help": "severity class (critical, warning, ok) or ''"})
    id: str = field(default="", metadata={"help": "HTML id of the tile, an evidence anchor ('' for none)"})


@dataclass(frozen=True)
class Chart:
    """An inline SVG chart with its caption."""

    svg: Markup = field(metadata={"help": "the SVG from qslogs.report.charts (already safe markup)"})
    caption: str = field(default="", metadata={"help": "what the chart shows and how to read it"})
    title: str = field(default="", metadata={"help": "a short heading above the chart ('' for none)"})
    id: str = field(default="", metadata={"help": "HTML id of the figure, an evidence anchor ('' for none)"})


@dataclass(frozen=True)
class Callout:
    """A highlighted sentence (a coverage warning, a verdict)."""

    severity: str = field(metadata={"help": "critical, warning, info or ok"})
    title: str = field(metadata={"help": "the sentence in bold"})
    detail: str = field(default="", metadata={"help": "what it means"})


@dataclass(frozen=True)
class Block:
    """A titled part of a section: sentences, facts, charts and tables, shown in that order."""

    title: str = field(metadata={"help": "sub-heading ('' for none)"})
    id: str = field(default="", metadata={"help": "HTML id of the sub-heading ('' for none)"})
    intro: str = field(default="", metadata={"help": "a sentence under the heading"})
    callouts: list[Callout] = field(default_factory=list, metadata={"help": "highlighted sentences"})
    facts: list[Fact] = field(default_factory=list, metadata={"help": "key numbers"})
    charts: list[Chart] = field(default_factory=list, metadata={"help": "charts"})
    tables: list[Table] = field(default_factory=list, metadata={"help": "tables"})
    collapsed: bool = field(default=False, metadata={"help": "shown closed (a <details>) when true"})


@dataclass(frozen=True)
class Section:
    """One top-level section of the report (Reloads, Licenses, Activity, Bundle, or another analysis)."""

    id: str = field(metadata={"help": "HTML id, also the analysis name"})
    title: str = field(metadata={"help": "heading"})
    intro: str = field(default="", metadata={"help": "what the section answers"})
    blocks: list[Block] = field(default_factory=list, metadata={"help": "its parts, in order"})


@dataclass(frozen=True)
class ReportContext:
    """Everything the templates may use; nothing else is passed to them."""

    title: str = field(metadata={"help": "page title and main heading"})
    generated: str = field(metadata={"help": "generation time (UTC, ISO) — the only varying byte"})
    version: str = field(metadata={"help": "qslogs version that wrote the report"})
    sources: list[str] = field(metadata={"help": "the bundle paths given (redacted when --redact)"})
    redacted: bool = field(metadata={"help": "whether names were replaced by pseudonyms"})
    window: str = field(metadata={"help": "the --since/--until window in words ('' when none)"})
    span: list[int] | None = field(
        metadata={"help": "first and last record time (ms UTC) for the date filter"}
    )
    span_text: str = field(metadata={"help": "the bundle's time span in words"})
    counts: dict[str, int] = field(metadata={"help": "findings per severity"})
    summary: list[FindingRow] = field(
        metadata={"help": "every finding, the site's first then the bundle's, most severe first in each"}
    )
    reloads: Section | None = field(metadata={"help": "the Reloads section (None: analysis absent)"})
    licenses: Section | None = field(metadata={"help": "the Licenses section (None: analysis absent)"})
    activity: Section | None = field(metadata={"help": "the Activity section (None: analysis absent)"})
    bundle: Section | None = field(metadata={"help": "the Bundle section (None: input analysis absent)"})
    others: list[Section] = field(metadata={"help": "sections of analyses without a dedicated layout"})
    data: dict[str, Any] = field(metadata={"help": "JSON for report.js (aggregates, heatmap events, span)"})
    css: Markup = field(metadata={"help": "report.css, inlined verbatim"})
    js: Markup = field(metadata={"help": "report.js, inlined verbatim"})
    status: list[Fact] = field(
        default_factory=list,
        metadata={"help": "the status strip above the findings: monitoring apps, failed reloads, licenses"},
    )

    @property
    def sections(self) -> list[Section]:
        """The present sections in report order (for the table of contents)."""
        fixed = [self.reloads, self.licenses, self.activity]
        return [s for s in fixed if s is not None] + self.others + ([self.bundle] if self.bundle else [])
