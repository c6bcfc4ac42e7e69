"""The records a parsed script log is summed up in: outcome, error lines, fetched tables, one summary row.

Kept apart from the parsing (:mod:`qslogs.parsers.script_logs`) so the parser module stays small; the
names are re-exported there. Every field carries help text (a test checks it), so the report and the JSON
output can say what each column means. The summary holds facts only: error classes are the analyses' job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
import polars as pl

from qslogs.timeutil import NAIVE_DATETIME, UTC_DATETIME


def _help(text: str) -> Any:
    """A dataclass field documented with help text (a test checks every field has some)."""
    return field(metadata={"help": text})


class Outcome(StrEnum):
    """How a reload ended, as far as its script log tells."""

    SUCCESS = "success"
    FAILED = "failed"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class ErrorLine:
    """One ``Error:`` line (joined with its continuation lines) and where it is in the file."""

    line_no: int = _help("1-based physical line in the file")
    text: str = _help("the line's text after the prefix, e.g. Error: Field 'X' not found")


@dataclass(frozen=True)
class TableFetch:
    """One ``N lines fetched`` message and the table/statement it belongs to."""

    table: str | None = _help("the label of the LOAD (Users:), or the Concatenate/Join target")
    statement: str | None = _help("first line of the LOAD/SELECT/SQL statement before it")
    script_line: int | None = _help("script line number of that statement line")
    line_no: int = _help("physical line of the lines-fetched message")
    fields_found: int | None = _help("N of the N fields found message before it")
    lines_fetched: int | None = _help("rows loaded (N of N lines fetched)")


@dataclass(frozen=True)
class ScriptLogSummary:
    """One script log in one row: identity, timing, user, outcome, root cause, connections, tables."""

    source_file: str = _help("the file as named in the bundle")
    app_id: str | None = _help("AppId from the file name (the GUID before the first dot)")
    name_time: datetime | None = _help("time in the file name; informational, not trusted")
    start: datetime | None = _help("naive local time of Execution started. (else first line), as written")
    end: datetime | None = _help("naive local time of Execution finished. (else the last line), as written")
    duration_s: float | None = _help("end minus start, in seconds (on the UTC line when the log has offsets)")
    utc_offset_minutes: int | None = _help("UTC offset written on the first line (modern form); null if classic")
    start_utc: datetime | None = _help("exact UTC start from the log's own offset; null for the classic form")
    end_utc: datetime | None = _help("exact UTC end from the log's own offset; null for the classic form")
    server_version: str | None = _help("Qlik Sense Server Version from the header")
    executed_by: str | None = _help("Reload Executed By, raw")
    user_directory: str | None = _help("user directory of the user who ran the reload")
    user_id: str | None = _help("user id of the user who ran the reload")
    is_scheduled: bool | None = _help("run by INTERNAL\\sa_scheduler (a task)")
    header: dict[str, str] = _help("every header key and value (unknown keys kept)")
    outcome: Outcome = _help("success, failed or incomplete (no Execution finished.)")
    errors: tuple[ErrorLine, ...] = _help("every Error: line, in order")
    root_cause: str | None = _help("the first Error: line (failed or incomplete logs)")
    root_cause_line_no: int | None = _help("its physical line")
    root_cause_script_line: int | None = _help("script line no. of the last statement line before it")
    running_statement: str | None = _help("the statement running then, its lines joined by LF")
    connection: str | None = _help(
        "connection in effect: the lib:// connection named by the error line or the running statement, "
        "else the last CONNECT before the root cause, else the last"
    )
    connection_masked: bool = _help("that CONNECT was masked (*** CONNECT TO ***)")
    connections: tuple[str, ...] = _help("every connection (CONNECT TO and lib://name/ paths), first use first")
    tables: tuple[TableFetch, ...] = _help("every lines-fetched message with its table")
    rows_fetched_total: int = _help("sum of lines fetched")
    physical_lines: int = _help("lines in the file (= parsed + continuation + bad lines)")
    bad_line_count: int = _help("lines set aside as bad lines")
    continuation_lines: int = _help("unprefixed lines kept as continuations")
    invalid_utf8_lines: int = _help("lines holding bytes that are not UTF-8 (replaced)")
    has_bom: bool = _help("the file starts with a UTF-8 BOM")

    def as_row(self) -> dict[str, Any]:
        """The summary as one row of :data:`SUMMARY_SCHEMA` (header as a JSON object string)."""
        row = {name: getattr(self, name) for name in SUMMARY_SCHEMA}
        row["outcome"] = self.outcome.value
        row["header"] = json.dumps(self.header, ensure_ascii=False)
        row["errors"] = [{"line_no": e.line_no, "text": e.text} for e in self.errors]
        row["connections"] = list(self.connections)
        row["tables"] = [vars(t).copy() for t in self.tables]
        return row


_TABLE_FIELDS: dict[str, pl.DataType] = {
    "table": pl.String(), "statement": pl.String(), "script_line": pl.Int32(), "line_no": pl.Int64(),
    "fields_found": pl.Int64(), "lines_fetched": pl.Int64(),
}
_TABLE_STRUCT = pl.Struct(_TABLE_FIELDS)
_ERROR_FIELDS: dict[str, pl.DataType] = {"line_no": pl.Int64(), "text": pl.String()}
#: Schema of :func:`summaries_frame`, one column per :class:`ScriptLogSummary` field.
SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(), "app_id": pl.String(), "name_time": NAIVE_DATETIME, "start": NAIVE_DATETIME,
    "end": NAIVE_DATETIME, "duration_s": pl.Float64(), "utc_offset_minutes": pl.Int32(),
    "start_utc": UTC_DATETIME, "end_utc": UTC_DATETIME,
    "server_version": pl.String(), "executed_by": pl.String(), "user_directory": pl.String(),
    "user_id": pl.String(), "is_scheduled": pl.Boolean(), "header": pl.String(), "outcome": pl.String(),
    "errors": pl.List(pl.Struct(_ERROR_FIELDS)),
    "root_cause": pl.String(), "root_cause_line_no": pl.Int64(), "root_cause_script_line": pl.Int32(),
    "running_statement": pl.String(), "connection": pl.String(), "connection_masked": pl.Boolean(),
    "connections": pl.List(pl.String()), "tables": pl.List(_TABLE_STRUCT), "rows_fetched_total": pl.Int64(),
    "physical_lines": pl.Int64(),
    "bad_line_count": pl.Int64(), "continuation_lines": pl.Int64(), "invalid_utf8_lines": pl.Int64(),
    "has_bom": pl.Boolean(),
}


def summaries_frame(summaries: Iterable[ScriptLogSummary]) -> pl.DataFrame:
    """Stack the summaries of many script logs into one frame of :data:`SUMMARY_SCHEMA` (the rows of
    :meth:`ScriptLogSummary.as_row`), built column by column: polars types a flat list per column far
    faster than it infers rows of dicts, and the nested columns (errors, connections, tables) are one flat
    column each cut into lists by offsets (a bundle has tens of thousands of script logs)."""
    items = list(summaries)
    columns: dict[str, pl.Series] = {
        name: pl.Series(name, [getattr(s, name) for s in items], dtype=dtype)
        for name, dtype in SUMMARY_SCHEMA.items() if name not in _NESTED
    }
    columns["outcome"] = pl.Series("outcome", [s.outcome.value for s in items], dtype=pl.String())
    columns["header"] = pl.Series("header", [json.dumps(s.header, ensure_ascii=False) for s in items],
                                  dtype=pl.String())
    errors = [e for s in items for e in s.errors]
    columns["errors"] = _lists("errors", [len(s.errors) for s in items], pl.DataFrame(
        {"line_no": [e.line_no for e in errors], "text": [e.text for e in errors]}, schema=_ERROR_FIELDS))
    columns["connections"] = _lists("connections", [len(s.connections) for s in items], pl.DataFrame(
        {"connections": [c for s in items for c in s.connections]}, schema={"connections": pl.String()}))
    tables = [t for s in items for t in s.tables]
    columns["tables"] = _lists("tables", [len(s.tables) for s in items], pl.DataFrame(
        {name: [getattr(t, name) for t in tables] for name in _TABLE_FIELDS}, schema=_TABLE_FIELDS))
    return pl.DataFrame([columns[name] for name in SUMMARY_SCHEMA])


def _lists(name: str, counts: list[int], flat: pl.DataFrame) -> pl.Series:
    """``flat``'s rows cut into one list per summary (``counts[i]`` rows for the i-th, in order): a list of
    structs, or of the values of ``flat``'s only column; an empty list where a count is 0."""
    n = len(counts)
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    value = pl.struct(flat.columns) if flat.width > 1 else pl.col(flat.columns[0])
    grouped = flat.with_columns(__row=owner).group_by("__row", maintain_order=True).agg(value.alias(name))
    every = pl.DataFrame({"__row": np.arange(n, dtype=np.int64)}).join(grouped, on="__row", how="left",
                                                                       maintain_order="left")
    dtype = SUMMARY_SCHEMA[name]
    return every.select(pl.col(name).cast(dtype).fill_null(pl.lit([], dtype=dtype))).to_series()


#: Columns of :data:`SUMMARY_SCHEMA` that are not the summary's field as it is.
_NESTED = frozenset({"outcome", "header", "errors", "connections", "tables"})
