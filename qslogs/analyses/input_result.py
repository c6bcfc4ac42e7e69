"""The typed result of the input analysis: what the bundle holds, what could not be read, its time span.

Each field's schema is the one source of truth of its table; the report's Bundle section and the fleet's
``bad_input`` rows read these fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

import polars as pl

from qslogs.analyses.result import Result, frame_field, value_field
from qslogs.schemas import BAD_LINE_SCHEMA
from qslogs.timeutil import UTC_DATETIME

VERSIONS_SCHEMA: dict[str, pl.DataType] = {
    "component": pl.String(),
    "host": pl.String(),
    "column": pl.String(),
    "version": pl.String(),
    "records": pl.UInt32(),
    "first": UTC_DATETIME,
    "last": UTC_DATETIME,
}
BAD_FILES_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "kind": pl.String(),
    "count": pl.UInt32(),
    "first_lines": pl.List(pl.Struct({k: BAD_LINE_SCHEMA[k] for k in ("line_no", "reason", "text")})),
}


@dataclass(frozen=True, kw_only=True)
class InputResult(Result):
    """The inventory of the bundle, its bad input, time span and product versions: what every conclusion of the
    other analyses rests on."""

    NAME: ClassVar[str] = "input"

    inventory: pl.DataFrame = frame_field(
        {
            "kind": pl.String(),
            "host": pl.String(),
            "files": pl.UInt32(),
            "records": pl.Int64(),
            "bad_lines": pl.Int64(),
            "bytes": pl.Int64(),
            "first": UTC_DATETIME,
            "last": UTC_DATETIME,
            "archived_files": pl.UInt32(),
        },
        "parsed files per log kind × node: files, records, bad lines, bytes, first and last record time (UTC), "
        "and how many files came from ArchivedLogs; duplicates and unknown files left out; by kind, node",
    )
    status: pl.DataFrame = frame_field(
        {"status": pl.String(), "files": pl.UInt32(), "bytes": pl.Int64()},
        "files and bytes per inventory status (parsed, duplicate, empty, unknown, …), by status",
    )
    bad_files: pl.DataFrame = frame_field(
        BAD_FILES_SCHEMA,
        "per file with lines that did not fit its format: its kind, how many, and the first 5 (line number, "
        "reason, text cut to 500 characters); most bad lines first",
    )
    file_issues: pl.DataFrame = frame_field(
        {"path": pl.String(), "reason": pl.String()},
        "files that could not be read (or only partly), with the reason, in the order they were met",
    )
    unknown_files: pl.DataFrame = frame_field(
        {"path": pl.String(), "status": pl.String(), "note": pl.String(), "size": pl.Int64()},
        "files not analysed: empty, identical copies (duplicate) and files that are not Qlik logs (unknown), "
        "with why; by path",
    )
    span_first: datetime | None = value_field("the first dated log record of the bundle (UTC); null without any")
    span_last: datetime | None = value_field("the last dated log record of the bundle (UTC); null without any")
    span_hours: float | None = value_field("hours from the first to the last record, to 0.1; null without any")
    span_days: float | None = value_field("days from the first to the last record, to 0.1; null without any")
    versions: pl.DataFrame = frame_field(
        VERSIONS_SCHEMA,
        "each version a component (service) wrote per node, from its ProductVersion-style column: records and "
        "first/last time with it (two rows for one component and node mean an upgrade); by component, node, first",
    )
    about: pl.DataFrame = frame_field(
        {"source": pl.String(), "key": pl.String(), "value": pl.String()},
        "product facts of the QrsAbout and AboutSystemInfo dumps (build version, release, database, …)",
    )
    hosts: tuple[str, ...] = value_field("the nodes of the parsed files, sorted")
    files_total: int = value_field("files in the bundle, of any status")
    files_parsed: int = value_field("files parsed as a known log kind")
    records: int = value_field("records of the parsed files")
    size_bytes: int = value_field("size of every file of the bundle, in bytes")
    bad_lines: int = value_field("lines that did not fit their file's format (set aside, not analysed)")
    unreadable_files: int = value_field("files that could not be read (the rows of file_issues)")
