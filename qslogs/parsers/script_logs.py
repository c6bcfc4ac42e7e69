"""Reload script logs (``Log/Script/<AppId>.<yyyy_MM_dd_HH_mm_ss>.<hex>.log``): lines, outcome, root cause.

:func:`parse_script_log` turns one file into a :class:`ScriptLog`: every physical line (parsed, or set
aside as a bad line), and a :class:`ScriptLogSummary` that says who ran the reload, how it ended, which
connections and tables it used and, for a failure, the first ``Error:`` line with the statement and data
connection in effect and its class from :mod:`qslogs.error_classes`. :func:`summaries_frame` stacks many
summaries into one frame with a fixed schema.

Outcome (formats.md §6.3): ``failed`` when an ``Execution Failed`` line is present (even if the file was cut
off after it), otherwise ``success`` when ``Execution finished.`` is present, otherwise ``incomplete``
(truncated or still running, never success). Line-level rules are in
:mod:`qslogs.parsers.script_log_lines`, statement heuristics in :mod:`qslogs.parsers.script_log_statements`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import PurePath
from typing import Any

import polars as pl

from qslogs.error_classes import classify_error
from qslogs.parsers.script_log_lines import LINES_SCHEMA, SplitLines, split_lines
from qslogs.parsers.script_log_statements import (
    connects,
    parse_executed_by,
    parse_header,
    running_statement,
    tables_frame,
)
from qslogs.timeutil import NAIVE_DATETIME

__all__ = [
    "LINES_SCHEMA", "SUMMARY_SCHEMA", "ErrorLine", "Outcome", "ScriptLog", "ScriptLogSummary", "TableFetch",
    "parse_script_log", "summaries_frame",
]

_NAME = re.compile(
    r"^(?P<app>[^.]+)\.(?P<stamp>\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2})\.[0-9A-Fa-f]+\.log(?:\.\d+)?$"
)
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_ERROR = r"(?i)^\s*error:"


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
    start: datetime | None = _help("naive local time of Execution started. (else first line)")
    end: datetime | None = _help("time of Execution finished. (else the last line)")
    duration_s: float | None = _help("end minus start, in seconds")
    utc_offset_minutes: int | None = _help("offset of .NET-style line times, if any")
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
    connection: str | None = _help("connection in effect: last CONNECT before the root cause, else the last")
    connection_masked: bool = _help("that CONNECT was masked (*** CONNECT TO ***)")
    connections: tuple[str, ...] = _help("every connection name, in order of first use")
    tables: tuple[TableFetch, ...] = _help("every lines-fetched message with its table")
    rows_fetched_total: int = _help("sum of lines fetched")
    error_class: str | None = _help("class of the root cause (qslogs.error_classes)")
    error_hint: str | None = _help("plain-language hint for that class and connection")
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


@dataclass(frozen=True)
class ScriptLog:
    """One parsed script log: its lines, the lines set aside, and the summary."""

    lines: pl.DataFrame
    bad_lines: pl.DataFrame
    summary: ScriptLogSummary


_TABLE_STRUCT = pl.Struct({
    "table": pl.String(), "statement": pl.String(), "script_line": pl.Int32(), "line_no": pl.Int64(),
    "fields_found": pl.Int64(), "lines_fetched": pl.Int64(),
})
#: Schema of :func:`summaries_frame`, one column per :class:`ScriptLogSummary` field.
SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(), "app_id": pl.String(), "name_time": NAIVE_DATETIME, "start": NAIVE_DATETIME,
    "end": NAIVE_DATETIME, "duration_s": pl.Float64(), "utc_offset_minutes": pl.Int32(),
    "server_version": pl.String(), "executed_by": pl.String(), "user_directory": pl.String(),
    "user_id": pl.String(), "is_scheduled": pl.Boolean(), "header": pl.String(), "outcome": pl.String(),
    "errors": pl.List(pl.Struct({"line_no": pl.Int64(), "text": pl.String()})),
    "root_cause": pl.String(), "root_cause_line_no": pl.Int64(), "root_cause_script_line": pl.Int32(),
    "running_statement": pl.String(), "connection": pl.String(), "connection_masked": pl.Boolean(),
    "connections": pl.List(pl.String()), "tables": pl.List(_TABLE_STRUCT), "rows_fetched_total": pl.Int64(),
    "error_class": pl.String(), "error_hint": pl.String(), "physical_lines": pl.Int64(),
    "bad_line_count": pl.Int64(), "continuation_lines": pl.Int64(), "invalid_utf8_lines": pl.Int64(),
    "has_bom": pl.Boolean(),
}


def summaries_frame(logs: Iterable[ScriptLog]) -> pl.DataFrame:
    """Stack the summaries of many script logs into one frame of :data:`SUMMARY_SCHEMA`."""
    return pl.DataFrame([log.summary.as_row() for log in logs], schema=SUMMARY_SCHEMA)


def app_id_and_name_time(source_file: str) -> tuple[str | None, datetime | None]:
    """AppId and file-name time of ``<AppId>.<yyyy_MM_dd_HH_mm_ss>.<hex>.log[.N]``; nulls for other names.

    The AppId is the part before the first dot; when that part carries extra text around a GUID (a
    collector's collision suffix, a renamed copy) the GUID alone is taken, so it joins with task AppIds.
    """
    match = _NAME.match(PurePath(source_file.replace("\\", "/")).name)
    if match is None:
        return None, None
    guid = _GUID.search(match.group("app"))
    stamp = datetime.strptime(match.group("stamp"), "%Y_%m_%d_%H_%M_%S")
    return (guid.group(0) if guid else match.group("app")), stamp


def parse_script_log(data: bytes, source_file: str, *, strict: bool = False) -> ScriptLog:
    """Parse one script log. Lenient by default: bad lines are kept aside; ``strict`` raises ParseError."""
    split = split_lines(data, source_file, strict=strict)
    return ScriptLog(lines=split.lines, bad_lines=split.bad_lines, summary=_summarise(split, source_file))


def _message_rows(lines: pl.DataFrame, pattern: str) -> pl.DataFrame:
    """Engine messages (no script line number) whose text matches, with their continuation lines joined."""
    grouped = lines.with_columns(grp=(~pl.col("continuation")).cast(pl.Int64).cum_sum())
    hits = grouped.filter(
        ~pl.col("continuation") & pl.col("script_line").is_null() & pl.col("text").str.contains(pattern)
    ).get_column("grp")
    return (
        grouped.filter(pl.col("grp").is_in(hits.implode()))
        .group_by("grp", maintain_order=True)
        .agg(pl.col("line_no").first(), pl.col("time").first(), pl.col("text").str.join("\n"))
    )


def _errors(lines: pl.DataFrame, failed: bool) -> tuple[ErrorLine, ...]:
    """Unnumbered ``Error:`` lines; for a failed log without any, numbered ones that are not TRACE echoes."""
    rows = _message_rows(lines, _ERROR)
    found = [ErrorLine(int(n), t.strip()) for n, t in rows.select("line_no", "text").iter_rows()]
    if found or not failed:
        return tuple(found)
    main = lines.filter(~pl.col("continuation")).with_columns(
        prev=pl.col("text").shift(1), prev_no=pl.col("script_line").shift(1)
    )
    numbered = main.filter(
        pl.col("script_line").is_not_null() & pl.col("text").str.contains(_ERROR)
        & ~((pl.col("prev_no") == pl.col("script_line")) & pl.col("prev").str.contains(r"(?i)^\s*TRACE\b"))
        .fill_null(False)
    )
    return tuple(ErrorLine(int(n), t.strip()) for n, t in numbered.select("line_no", "text").iter_rows())


def _summarise(split: SplitLines, source_file: str) -> ScriptLogSummary:
    """Everything the summary says, from the parsed lines and the file name."""
    lines = split.lines
    app_id, name_time = app_id_and_name_time(source_file)
    message = lines.filter(pl.col("script_line").is_null() & ~pl.col("continuation")).select(
        "line_no", "time", text=pl.col("text").str.strip_chars().str.strip_chars_end(".").str.to_lowercase()
    )
    started = message.filter(pl.col("text") == "execution started").get_column("time")
    finished = message.filter(pl.col("text") == "execution finished").get_column("time")
    failed = message.filter(pl.col("text") == "execution failed").height > 0
    times = lines.get_column("time")
    start = started[0] if len(started) else (times[0] if len(times) else None)
    end = finished[-1] if len(finished) else (times[-1] if len(times) else None)
    outcome = Outcome.FAILED if failed else Outcome.SUCCESS if len(finished) else Outcome.INCOMPLETE

    first_numbered = lines.filter(pl.col("script_line").is_not_null()).get_column("line_no")
    head = lines.filter(~pl.col("continuation")).head(300)
    if len(first_numbered):
        head = head.filter(pl.col("line_no") < first_numbered[0])
    header = parse_header(head.get_column("text").to_list())
    executed_by = header.get("Reload Executed By")
    directory, user = parse_executed_by(executed_by)
    version = header.get("Qlik Sense Server Version") or next(
        (v for k, v in header.items() if k.endswith("Version") and not k.startswith("MDAC")), None
    )

    errors = _errors(lines, failed)
    root = errors[0] if errors and outcome is not Outcome.SUCCESS else None
    script_line, statement = running_statement(lines, root.line_no) if root else (None, None)
    all_connects = connects(lines)
    in_effect = [c for c in all_connects if root is None or c.line_no < root.line_no]
    current = in_effect[-1] if in_effect else None
    connection = current.name if current else None
    error_class: str | None = None
    error_hint: str | None = None
    if root is not None:
        classified = classify_error(root.text, connection)
        error_class, error_hint = classified.name, classified.hint
    elif outcome is Outcome.FAILED:
        classified = classify_error("", connection)
        error_class, error_hint = classified.name, "The reload failed without an Error: line in its log."
    tables = tuple(TableFetch(*row) for row in tables_frame(lines).rows())
    return ScriptLogSummary(
        source_file=source_file,
        app_id=app_id,
        name_time=name_time,
        start=start,
        end=end,
        duration_s=(end - start).total_seconds() if start is not None and end is not None else None,
        utc_offset_minutes=split.utc_offset_minutes,
        server_version=version,
        executed_by=executed_by,
        user_directory=directory,
        user_id=user,
        is_scheduled=(directory or "").upper() == "INTERNAL" and (user or "").lower() == "sa_scheduler"
        if executed_by is not None else None,
        header=header,
        outcome=outcome,
        errors=errors,
        root_cause=root.text if root else None,
        root_cause_line_no=root.line_no if root else None,
        root_cause_script_line=script_line,
        running_statement=statement,
        connection=connection,
        connection_masked=bool(current and current.masked),
        connections=tuple(dict.fromkeys(c.name for c in all_connects if c.name)),
        tables=tables,
        rows_fetched_total=sum(t.lines_fetched or 0 for t in tables),
        error_class=error_class,
        error_hint=error_hint,
        physical_lines=split.physical_lines,
        bad_line_count=split.bad_lines.height,
        continuation_lines=int(lines.get_column("continuation").sum()),
        invalid_utf8_lines=split.invalid_utf8_lines,
        has_bom=split.has_bom,
    )
