"""Reload script logs (``Log/Script/<AppId>.<yyyy_MM_dd_HH_mm_ss>.<hex>.log``): lines, outcome, root cause.

:func:`parse_script_log` turns one file into a :class:`ScriptLog`: every physical line (parsed, or set
aside as a bad line), and a :class:`ScriptLogSummary` that says who ran the reload, how it ended, which
connections and tables it used and, for a failure, the first ``Error:`` line with the statement and data
connection in effect. Parsers report facts: the class of an error (HTTP 401, missing field, …) is decided
by the analyses from :mod:`qslogs.error_classes`, not here. :func:`parse_script_logs` does the
same for many files in one vectorised pass (a bundle holds thousands of small logs, and each polars call
has a fixed cost), with the same result per file. :func:`summaries_frame` stacks summaries into one
frame with a fixed schema.

Outcome (formats.md §6.3): ``failed`` when an ``Execution Failed`` line is present (even if the file was cut
off after it), otherwise ``success`` when ``Execution finished.`` is present, otherwise ``incomplete``
(truncated or still running, never success). Line-level rules are in
:mod:`qslogs.parsers.script_log_lines`, statement heuristics in :mod:`qslogs.parsers.script_log_statements`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from qslogs.parsers.script_log_lines import LINES_SCHEMA, split_batch
from qslogs.parsers.script_log_model import (
    SUMMARY_SCHEMA,
    ErrorLine,
    Outcome,
    ScriptLogSummary,
    TableFetch,
    summaries_frame,
)
from qslogs.parsers.script_log_statements import (
    Connect,
    connects,
    lib_connections,
    parse_executed_by,
    parse_header,
    running_statement,
    tables_frame,
)

__all__ = [
    "LINES_SCHEMA", "SUMMARY_SCHEMA", "ErrorLine", "Outcome", "ScriptBatch", "ScriptLog", "ScriptLogSummary",
    "TableFetch", "parse_script_log", "parse_script_logs", "summaries_frame",
]

_NAME = re.compile(
    r"^(?P<app>[^.]+)\.(?P<stamp>\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2})\.[0-9A-Fa-f]+\.log(?:\.\d+)?$"
)
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_ERROR = r"(?i)^\s*error:"


@dataclass(frozen=True)
class ScriptLog:
    """One parsed script log: its lines, the lines set aside, and the summary."""

    lines: pl.DataFrame
    bad_lines: pl.DataFrame
    summary: ScriptLogSummary


def app_id_and_name_time(source_file: str) -> tuple[str | None, datetime | None]:
    """AppId and file-name time of ``<AppId>.<yyyy_MM_dd_HH_mm_ss>.<hex>.log[.N]``; nulls for other names.

    The AppId is the part before the first dot; when that part carries extra text around a GUID (a
    collector's collision suffix, a renamed copy) the GUID alone is taken, so it joins with task AppIds.
    """
    match = _NAME.match(source_file.replace("\\", "/").rsplit("/", 1)[-1])  # the name (no PurePath: per file)
    if match is None:
        return None, None
    guid = _GUID.search(match.group("app"))
    try:
        year, month, day, hour, minute, second = map(int, match.group("stamp").split("_"))
        stamp: datetime | None = datetime(year, month, day, hour, minute, second)  # 5x faster than strptime
    except ValueError:  # an impossible date in the name: the name time is informational only
        stamp = None
    return (guid.group(0) if guid else match.group("app")), stamp


@dataclass(frozen=True)
class ScriptBatch:
    """Several script logs parsed together: every file's lines and bad lines in file order, one summary each.

    Parsing many small logs one by one costs a few milliseconds of fixed overhead each, more than their
    lines; a batch pays it once. :meth:`log` gives one file's :class:`ScriptLog` (slices, no copies).
    """

    lines: pl.DataFrame
    """Every file's rows of :data:`LINES_SCHEMA`, file after file."""
    bad_lines: pl.DataFrame
    """Every file's bad lines (:data:`~qslogs.schemas.BAD_LINE_SCHEMA`), file after file."""
    summaries: list[ScriptLogSummary]
    line_counts: list[int]
    """Rows of ``lines`` per file, in order."""
    bad_counts: list[int]
    """Rows of ``bad_lines`` per file, in order."""
    first_times: list[datetime | None]
    """Earliest line time per file (naive local)."""
    last_times: list[datetime | None]
    """Latest line time per file (naive local)."""
    first_utc: list[datetime | None] = field(default_factory=list)
    """Earliest line time per file in UTC, from the lines' own offsets (null for the classic form)."""
    last_utc: list[datetime | None] = field(default_factory=list)
    """Latest line time per file in UTC, from the lines' own offsets (null for the classic form)."""
    summary_frame: pl.DataFrame | None = None
    """The summaries as one frame (:func:`summaries_frame`) once :meth:`framed`; ``summaries`` is then empty."""

    def framed(self) -> ScriptBatch:
        """The batch with its summaries as one frame instead of objects: built where the batch is parsed
        (a worker process, in parallel) and sent as columns, not as thousands of pickled objects."""
        return replace(self, summaries=[], summary_frame=summaries_frame(self.summaries))

    def log(self, index: int) -> ScriptLog:
        """The ``index``-th file of the batch as one :class:`ScriptLog` (of a batch not :meth:`framed`)."""
        line_start = sum(self.line_counts[:index])
        bad_start = sum(self.bad_counts[:index])
        return ScriptLog(
            lines=self.lines.slice(line_start, self.line_counts[index]),
            bad_lines=self.bad_lines.slice(bad_start, self.bad_counts[index]),
            summary=self.summaries[index],
        )


def parse_script_log(data: bytes, source_file: str, *, strict: bool = False) -> ScriptLog:
    """Parse one script log. Lenient by default: bad lines are kept aside; ``strict`` raises ParseError."""
    return parse_script_logs([(data, source_file)], strict=strict).log(0)


def parse_script_logs(files: Sequence[tuple[bytes, str]], *, strict: bool = False) -> ScriptBatch:
    """Parse several script logs (bytes and name of each) in one vectorised pass; see :func:`parse_script_log`."""
    split = split_batch(files, strict=strict)
    lines = split.lines
    names = [name for _, name in files]
    per_file = _per_file(lines)
    headers = _headers(lines)
    errors = _errors(lines, {i for i, row in per_file.items() if row["failed"]})
    connects_by_file = connects(lines)
    tables_by_file: dict[int, list[TableFetch]] = {}
    for file, *fetch in tables_frame(lines).rows():
        tables_by_file.setdefault(file, []).append(TableFetch(*fetch))
    roots: dict[int, ErrorLine] = {}
    for i, row in per_file.items():
        found = errors.get(i, ())
        if found and _outcome(row) is not Outcome.SUCCESS:
            roots[i] = found[0]
    statements = _running_statements(lines, roots)
    bad_counts = dict(split.bad_lines.group_by("file").agg(pl.len()).iter_rows())
    rows = [per_file.get(i, _EMPTY_FILE) for i in range(len(files))]
    summaries = [
        _summary(
            names[i], rows[i], headers.get(i, []), errors.get(i, ()), roots.get(i),
            statements.get(i, (None, None)), connects_by_file.get(i, []), tuple(tables_by_file.get(i, ())),
            physical_lines=split.physical_lines[i], bad_line_count=bad_counts.get(i, 0),
            utc_offset_minutes=split.utc_offset_minutes[i], invalid_utf8_lines=split.invalid_utf8_lines[i],
            has_bom=split.has_bom[i],
        )
        for i in range(len(files))
    ]
    return ScriptBatch(
        lines=lines.drop("file"),
        bad_lines=split.bad_lines.drop("file"),
        summaries=summaries,
        line_counts=[row["n_lines"] for row in rows],
        bad_counts=[bad_counts.get(i, 0) for i in range(len(files))],
        first_times=[row["min_time"] for row in rows],
        last_times=[row["max_time"] for row in rows],
        first_utc=[_aware(row["min_utc"]) for row in rows],
        last_utc=[_aware(row["max_utc"]) for row in rows],
    )


_EMPTY_FILE: dict[str, Any] = {
    "first_time": None, "last_time": None, "started": None, "finished": None, "failed": False,
    "continuation_lines": 0, "n_lines": 0, "min_time": None, "max_time": None, "min_utc": None, "max_utc": None,
    "first_utc": None, "last_utc": None, "started_utc": None, "finished_utc": None,
}


def _aware(value: datetime | None) -> datetime | None:
    """A naive UTC datetime from polars as an aware one (``None`` stays ``None``)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _per_file(lines: pl.DataFrame) -> dict[int, dict[str, Any]]:
    """Per file: first/last line time, Execution started/finished times, whether it failed, line counts."""
    message = pl.col("script_line").is_null() & ~pl.col("continuation")
    said = pl.when(message).then(
        pl.col("text").str.strip_chars().str.strip_chars_end(".").str.to_lowercase()
    )
    # The modern form writes each line's own offset: local time minus offset is the exact UTC instant.
    utc = pl.col("time") - pl.duration(minutes=pl.col("utc_offset_minutes"))
    rows = lines.with_columns(said=said, utc=utc).group_by("file").agg(
        first_time=pl.col("time").first(),
        last_time=pl.col("time").last(),
        started=pl.col("time").filter(pl.col("said") == "execution started").first(),
        finished=pl.col("time").filter(pl.col("said") == "execution finished").last(),
        first_utc=pl.col("utc").first(),
        last_utc=pl.col("utc").last(),
        started_utc=pl.col("utc").filter(pl.col("said") == "execution started").first(),
        finished_utc=pl.col("utc").filter(pl.col("said") == "execution finished").last(),
        min_utc=pl.col("utc").min(),
        max_utc=pl.col("utc").max(),
        failed=(pl.col("said") == "execution failed").any(),
        continuation_lines=pl.col("continuation").sum().cast(pl.Int64),
        n_lines=pl.len().cast(pl.Int64),
        min_time=pl.col("time").min(),
        max_time=pl.col("time").max(),
    )
    return {row["file"]: row for row in rows.iter_rows(named=True)}


def _outcome(row: dict[str, Any]) -> Outcome:
    """Failed if an Execution Failed line is there, else success if Execution finished. is, else incomplete."""
    return Outcome.FAILED if row["failed"] else Outcome.SUCCESS if row["finished"] is not None else Outcome.INCOMPLETE


def _headers(lines: pl.DataFrame) -> dict[int, list[str]]:
    """Per file, the texts of the header block: unnumbered lines before the first numbered one (≤ 300)."""
    first_numbered = pl.col("line_no").filter(pl.col("script_line").is_not_null()).min().over("file")
    head = (
        lines.with_columns(first_numbered=first_numbered)
        .filter(~pl.col("continuation"))
        .filter(pl.int_range(pl.len()).over("file") < 300)
        .filter(pl.col("first_numbered").is_null() | (pl.col("line_no") < pl.col("first_numbered")))
        .group_by("file").agg("text")
    )
    return dict(head.iter_rows())


def _errors(lines: pl.DataFrame, failed: set[int]) -> dict[int, tuple[ErrorLine, ...]]:
    """Per file, the unnumbered ``Error:`` messages (continuation lines joined); for a failed log without
    any, numbered ``Error:`` lines that are not TRACE echoes."""
    head = ~pl.col("continuation")
    hit = head & pl.col("script_line").is_null() & pl.col("text").str.contains(_ERROR)
    messages = (
        lines.select("file", "line_no", "text", "continuation",
                     grp=head.cast(pl.Int64).cum_sum(), hit=pl.when(head).then(hit).forward_fill())
        .filter(pl.col("hit"))
        .group_by("grp", maintain_order=True)
        .agg(pl.col("file").first(), pl.col("line_no").first(), pl.col("text").str.join("\n"))
    )
    found: dict[int, list[ErrorLine]] = {}
    for file, line_no, text in messages.select("file", "line_no", "text").iter_rows():
        found.setdefault(file, []).append(ErrorLine(int(line_no), text.strip()))
    silent = failed - found.keys()
    if silent:
        main = lines.filter(pl.col("file").is_in(sorted(silent)) & head).with_columns(
            prev=pl.col("text").shift(1).over("file"), prev_no=pl.col("script_line").shift(1).over("file")
        )
        numbered = main.filter(
            pl.col("script_line").is_not_null() & pl.col("text").str.contains(_ERROR)
            & ~((pl.col("prev_no") == pl.col("script_line")) & pl.col("prev").str.contains(r"(?i)^\s*TRACE\b"))
            .fill_null(False)
        )
        for file, line_no, text in numbered.select("file", "line_no", "text").iter_rows():
            found.setdefault(file, []).append(ErrorLine(int(line_no), text.strip()))
    return {file: tuple(rows) for file, rows in found.items()}


def _running_statements(lines: pl.DataFrame, roots: dict[int, ErrorLine]) -> dict[int, tuple[int | None, str | None]]:
    """Per file with a root cause, the script line and text of the statement running before it."""
    if not roots:
        return {}
    parts = lines.filter(pl.col("file").is_in(sorted(roots))).partition_by("file", as_dict=True)
    return {file: running_statement(parts[(file,)], root.line_no) for file, root in roots.items()}


def _duration(start: datetime | None, end: datetime | None, start_utc: datetime | None,
              end_utc: datetime | None) -> float | None:
    """Seconds from start to end: on the UTC line when both ends carry offsets (a DST change mid-reload)."""
    if start_utc is not None and end_utc is not None:
        return (end_utc - start_utc) / timedelta(seconds=1)
    return (end - start).total_seconds() if start is not None and end is not None else None


def _summary(
    source_file: str, row: dict[str, Any], header_texts: list[str], errors: tuple[ErrorLine, ...],
    root: ErrorLine | None, statement: tuple[int | None, str | None], all_connects: list[Connect],
    tables: tuple[TableFetch, ...], **counts: Any,
) -> ScriptLogSummary:
    """One file's summary from what the batch found for it."""
    app_id, name_time = app_id_and_name_time(source_file)
    start = row["started"] if row["started"] is not None else row["first_time"]
    end = row["finished"] if row["finished"] is not None else row["last_time"]
    start_utc = _aware(row["started_utc"] if row["started"] is not None else row["first_utc"])
    end_utc = _aware(row["finished_utc"] if row["finished"] is not None else row["last_utc"])
    outcome = _outcome(row)
    header = parse_header(header_texts)
    executed_by = header.get("Reload Executed By")
    directory, user = parse_executed_by(executed_by)
    version = header.get("Qlik Sense Server Version") or next(
        (v for k, v in header.items() if k.endswith("Version") and not k.startswith("MDAC")), None
    )
    script_line, running = statement
    # A lib:// path in the error line, else in the running statement, names its folder connection;
    # otherwise the connection in effect is the last CONNECT TO before the error.
    in_statement = (lib_connections(root.text) or lib_connections(running or "")) if root is not None else []
    in_effect = [c for c in all_connects if not c.lib and (root is None or c.line_no < root.line_no)]
    current = in_effect[-1] if in_effect else None
    connection = in_statement[0] if in_statement else current.name if current else None
    return ScriptLogSummary(
        source_file=source_file,
        app_id=app_id,
        name_time=name_time,
        start=start,
        end=end,
        start_utc=start_utc,
        end_utc=end_utc,
        duration_s=_duration(start, end, start_utc, end_utc),
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
        running_statement=running,
        connection=connection,
        connection_masked=bool(current and current.masked and not in_statement),
        connections=tuple(dict.fromkeys(c.name for c in all_connects if c.name)),
        tables=tables,
        rows_fetched_total=sum(t.lines_fetched or 0 for t in tables),
        continuation_lines=row["continuation_lines"],
        **counts,
    )
