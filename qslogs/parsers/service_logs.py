"""Tab-separated service logs (.NET Trace/Audit/Service, node.js, DataProfiling, engine daily) → frames.

Columns are mapped by header **name**; every known column of the kind is present in the result (nulls
where a header variant lacks it) and unknown extra columns are kept. A line that does not fit its
file's header becomes a bad line with file, line number and reason; nothing is dropped silently.
The work is vectorised in polars: no Python loop runs per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import polars as pl

from qslogs.errors import ParseError
from qslogs.inventory import FileEntry, node_key
from qslogs.parsers.text import decode_text, fast_lines, is_signature_trailer
from qslogs.schemas import (
    ACCESS_COLUMNS,
    BAD_LINE_SCHEMA,
    ENCODED_TEXT_COLUMNS,
    INT_COLUMNS,
    TIME_COLUMN,
    TIME_COLUMNS,
    Family,
    kind_schema,
)
from qslogs.timeutil import UTC_DATETIME, qlik_ts_series, utc_offset_minutes

#: Patterns that start a record in families whose messages may hold raw newlines (formats.md §4).
RECORD_START: dict[Family, str] = {
    Family.NODE: r"^\d+\t\d{8}T\d{6}",
    Family.DATAPROFILING: r"^[^\t]*\t[A-Za-z]+\t\d{4}-\d{2}-\d{2}T",
}
_ACCESS_RE = (
    r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "(\S+)? ?(\S+)? ?([^"]*)?" (\d{3}|-) (\d+|-)'
    r'(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?\s*$'
)
MAX_BAD_TEXT = 4096
_RAW = "__raw_line"
#: The file index column of a batch of files (:mod:`qslogs.parsers.tabular_batch`); carried through the
#: steps below when present.
FILE_KEY = "__file"


@dataclass(frozen=True)
class ParsedFile:
    """The records of one file, its bad lines, and counts that must add up to its physical lines."""

    frame: pl.DataFrame
    bad_lines: pl.DataFrame
    lines: int
    """Physical lines after the header (the access-log family has no header)."""
    trailer: int
    """Signature trailer lines dropped (0 or 1)."""
    continuation: int
    """node.js lines joined into the record above them."""
    encoding: str
    first: datetime | None
    last: datetime | None
    offsets: pl.DataFrame
    """Local UTC offsets this file's timestamps carry (``time`` UTC, ``offset_minutes``), one row per change."""


def parse_tabular(data: bytes, entry: FileEntry, *, strict: bool = False, max_line_chars: int = 1_000_000
                  ) -> ParsedFile:
    """Parse one tab-separated log file of any family except script logs.

    Steps that only matter for unusual files (overlong or empty lines, lines with the wrong number of
    fields, ISO timestamps, ``↵`` marks) are skipped after one cheap whole-column test, so a clean file
    costs a native line split, a tab count, a ``splitn`` and the time parse.
    """
    assert entry.family is not None, "parse_tabular needs a classified log file"
    lines, encoding = _physical_lines(data)
    if entry.family is Family.ACCESS:
        header: list[str] = []
        body = lines
        first_no = 1
    else:
        header = _unique([n.strip() for n in (lines[0] if len(lines) else "").lstrip("\ufeff").split("\t")])
        body = lines.slice(1)
        first_no = 2
    trailer = 1 if len(body) and is_signature_trailer(body[-1]) else 0
    if trailer:
        body = body.head(-1)
    raw = pl.DataFrame({"line": body}).with_row_index("line_no", offset=first_no).with_columns(
        pl.col("line_no").cast(pl.Int64))
    bad_parts: list[pl.DataFrame] = []
    length = raw["line"].str.len_bytes()
    if (length > max_line_chars).any():  # no more bytes than the limit: no more characters either
        long_mask = raw["line"].str.len_chars() > max_line_chars
        reason = f"line longer than {max_line_chars:,} characters"
        bad_parts.append(_bad(raw.filter(long_mask), entry, reason))
        raw = raw.filter(~long_mask)
        length = raw["line"].str.len_bytes()
    empty_mask = length == 0
    if empty_mask.any():
        bad_parts.append(_bad(raw.filter(empty_mask), entry, "empty line"))
        raw = raw.filter(~empty_mask)

    continuation = 0
    if entry.family in RECORD_START:
        raw, orphans, continuation = _join_continuations(raw, RECORD_START[entry.family])
        bad_parts.append(_bad(orphans, entry, "continuation line before the first record"))

    if entry.family is Family.ACCESS:
        records, bad = _split_access(raw)
        bad_parts.append(_bad(bad, entry, "not an Apache combined-log line"))
    else:
        records, bad_short, bad_long = _split_fields(raw, header)
        n = len(header)
        bad_parts.append(_bad(bad_short, entry, f"fewer than the {n} tab-separated fields of the header"))
        bad_parts.append(_bad(bad_long, entry, f"more than the {n} tab-separated fields of the header"))

    time_col = TIME_COLUMN[entry.family]
    offset_text = _offset_text(records, time_col) if entry.family is not Family.ACCESS else None
    records, bad_time, kept = _type_columns(records, entry)
    bad_parts.append(_bad(bad_time, entry, "timestamp not recognised"))
    offsets = _offsets(records, time_col, offset_text, kept)
    bad_parts = [b for b in bad_parts if b.height]
    bad_lines = pl.concat(bad_parts).sort("line_no") if bad_parts else _NO_BAD_LINES
    if strict and bad_lines.height:
        row = bad_lines.row(0, named=True)
        raise ParseError(entry.path, row["line_no"], row["text"], row["reason"])

    frame = _finish(records, entry, header)
    first = last = None
    if frame.height and time_col in frame.columns:
        first, last = frame[time_col].min(), frame[time_col].max()
    return ParsedFile(
        frame=frame,
        bad_lines=bad_lines,
        lines=len(body) + trailer,
        trailer=trailer,
        continuation=continuation,
        encoding=encoding,
        first=first if isinstance(first, datetime) else None,
        last=last if isinstance(last, datetime) else None,
        offsets=offsets,
    )


_NO_OFFSETS = pl.DataFrame(schema={"time": UTC_DATETIME, "offset_minutes": pl.Int32()})
_NO_BAD_LINES = pl.DataFrame(schema=BAD_LINE_SCHEMA)


#: Files at least this large are split into lines by polars (its fixed cost outweighs the gain below).
FAST_LINES_MIN_BYTES = 256 * 1024


def _physical_lines(data: bytes) -> tuple[pl.Series, str]:
    """The file's physical lines (trailing CRs stripped) and its encoding; polars splits large UTF-8 files."""
    lines = fast_lines(data) if len(data) >= FAST_LINES_MIN_BYTES else None
    if lines is not None:
        return lines, "utf-8"
    decoded = decode_text(data)
    return pl.Series("line", decoded.lines, dtype=pl.String).str.strip_chars_end("\r"), decoded.encoding


def _offset_text(records: pl.DataFrame, time_col: str) -> pl.Series | None:
    """The last characters of each record's own timestamp, where a ``±hh[:]mm`` offset is written."""
    if time_col not in records.columns or records.height == 0:
        return None
    # Six characters hold the longest offset (``+02:00``); a leading digit (``4+0200``) is dropped so that
    # the milliseconds before a compact offset do not make every row's ending different.
    tail = records.get_column(time_col).str.strip_chars_end().str.slice(-6)
    signed = tail.str.starts_with("+") | tail.str.starts_with("-")
    return tail.zip_with(signed, tail.str.slice(1))


def _offsets(typed: pl.DataFrame, time_col: str, offset_text: pl.Series | None, kept: pl.Series | None
             ) -> pl.DataFrame:
    """Where the local offset written in the timestamps changes (DST), plus the first and last record.

    The offset is read only at the first and last row of each run of equal timestamp endings (a few rows
    per file), and the times are the typed column, not parsed again.
    """
    if offset_text is None or time_col not in typed.columns:
        return _NO_OFFSETS
    text = offset_text if kept is None else offset_text.filter(kept)
    times = typed.get_column(time_col)
    if text.null_count():
        times, text = times.filter(text.is_not_null()), text.drop_nulls()
    edge = text.ne_missing(text.shift(1)) | text.ne_missing(text.shift(-1))
    rows = pl.DataFrame({"time": times, "off": text}).filter(edge)
    last = pl.int_range(0, pl.len()) == pl.len() - 1
    return (
        rows.with_columns(offset_minutes=utc_offset_minutes(pl.col("off")).cast(pl.Int32))
        .drop_nulls()
        .filter((pl.col("offset_minutes") != pl.col("offset_minutes").shift(1)).fill_null(True) | last)
        .select("time", "offset_minutes")
    )


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _bad(rows: pl.DataFrame, entry: FileEntry, reason: str) -> pl.DataFrame:
    if rows.height == 0:
        return _NO_BAD_LINES
    return pl.DataFrame(
        {
            "source_file": pl.Series([entry.path] * rows.height, dtype=pl.String),
            "line_no": rows["line_no"] if rows.height else pl.Series([], dtype=pl.Int64),
            "kind": pl.Series([entry.kind] * rows.height, dtype=pl.String),
            "reason": pl.Series([reason] * rows.height, dtype=pl.String),
            "text": rows["line"].str.slice(0, MAX_BAD_TEXT) if rows.height else pl.Series([], dtype=pl.String),
        },
        schema=BAD_LINE_SCHEMA,
    )


def _join_continuations(raw: pl.DataFrame, start_pattern: str) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Append lines that do not start a record to the record above them (raw LF inside a message)."""
    is_start = raw["line"].str.contains(start_pattern)
    n_cont = int((~is_start).sum())
    if n_cont == 0:
        return raw, raw.clear(), 0
    grouped = raw.with_columns(group=is_start.cast(pl.Int64).cum_sum())
    orphans = grouped.filter(pl.col("group") == 0).drop("group")
    joined = (
        grouped.filter(pl.col("group") > 0)
        .group_by("group", maintain_order=True)
        .agg(pl.col("line_no").first(), pl.col("line").str.join("\n"))
        .drop("group")
    )
    return joined, orphans, n_cont - orphans.height


def _split_fields(raw: pl.DataFrame, header: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split lines on tabs by header name; Message as last column takes any extra tabs (node.js)."""
    n = len(header)
    tabs = raw["line"].str.count_matches("\t", literal=True)
    short = tabs < n - 1
    long = tabs > n - 1
    if header and header[-1] == "Message":
        long = long & False
    misfit = short | long
    good = raw.filter(~misfit) if misfit.any() else raw
    fields = good["line"].str.splitn("\t", n).struct.rename_fields(header).struct.unnest()
    records = fields.with_columns(*_keys(good), good["line_no"], good["line"].alias(_RAW))
    if good is raw:
        return records, raw.clear(), raw.clear()
    return records, raw.filter(short), raw.filter(long)


def _key_names(frame: pl.DataFrame) -> list[str]:
    """``[FILE_KEY]`` when ``frame`` is a batch of files, else ``[]``."""
    return [FILE_KEY] if FILE_KEY in frame.columns else []


def _keys(frame: pl.DataFrame) -> list[pl.Series]:
    """The batch's file index column when ``frame`` has one (empty for a single file)."""
    return [frame.get_column(FILE_KEY)] if FILE_KEY in frame.columns else []


def _split_access(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    groups = raw["line"].str.extract_groups(_ACCESS_RE)
    parsed = groups.struct.rename_fields(list(ACCESS_COLUMNS)).struct.unnest().with_columns(
        *_keys(raw), raw["line_no"], raw["line"].alias(_RAW)
    )
    ok = parsed["ClientIp"].is_not_null()
    return parsed.filter(ok), raw.filter(~ok)


def _type_columns(records: pl.DataFrame, entry: FileEntry
                  ) -> tuple[pl.DataFrame, pl.DataFrame, pl.Series | None]:
    """Parse times to UTC and integers; a record whose own time cannot be read is a bad line.

    Returns the typed records, the bad ones, and the mask of records kept (None: all of them).
    """
    assert entry.family is not None
    time_col = TIME_COLUMN[entry.family]
    columns: list[pl.Series] = []
    for name in records.columns:
        column = records.get_column(name)
        if name in TIME_COLUMNS or name == time_col:
            if entry.family is Family.ACCESS and name == "Timestamp":
                access = column.str.to_datetime("%d/%b/%Y:%H:%M:%S %z", strict=False, time_unit="ms")
                columns.append(access.dt.convert_time_zone("UTC").cast(UTC_DATETIME))
            else:
                columns.append(qlik_ts_series(column))
        elif name in INT_COLUMNS:
            columns.append(column.str.strip_chars().cast(pl.Int64, strict=False))
        elif name in ENCODED_TEXT_COLUMNS and column.str.contains("[↵↓]").any():
            columns.append(column.str.replace_all("↵↓", "\n", literal=True).str.replace_all("[↵↓]", "\n"))
    typed = records.with_columns(columns) if columns else records
    if time_col not in typed.columns:
        return typed, typed.clear().select(*_key_names(typed), "line_no", line=pl.col(_RAW)), None
    bad_mask = typed.get_column(time_col).is_null()
    if not bad_mask.any():
        return typed, typed.clear().select(*_key_names(typed), "line_no", line=pl.col(_RAW)), None
    bad = typed.filter(bad_mask).select(*_key_names(typed), "line_no", line=pl.col(_RAW))
    return typed.filter(~bad_mask), bad, ~bad_mask


def _finish(records: pl.DataFrame, entry: FileEntry, header: list[str]) -> pl.DataFrame:
    """Conform to the kind's schema: known columns present and typed, empty text as null, origin columns."""
    columns = list(ACCESS_COLUMNS) if entry.family is Family.ACCESS else header
    host = entry.host
    if host is None and "Hostname" in records.columns:
        names = records.get_column("Hostname").drop_nulls().unique(maintain_order=True).to_list()
        host = next((k for k in (node_key(v) for v in names) if k and not _is_ip(k)), None)
    origin = {"source_file": pl.lit(entry.path, dtype=pl.String).alias("source_file"),
              "host": pl.lit(host, dtype=pl.String).alias("host")}
    plan = _finish_plan(entry.kind, tuple(columns), tuple(records.columns))
    return records.select([origin[name] if expr is None else expr for name, expr in plan])


@lru_cache(maxsize=1024)
def _finish_plan(kind: str, columns: tuple[str, ...], present: tuple[str, ...]
                 ) -> tuple[tuple[str, pl.Expr | None], ...]:
    """The select of :func:`_finish` for one header layout (None where the file's own origin goes);
    built once per layout, since a bundle holds thousands of files of a few dozen layouts."""
    plan: list[tuple[str, pl.Expr | None]] = []
    for name, dtype in kind_schema(kind, list(columns)).items():
        if name in ("source_file", "host"):
            plan.append((name, None))
        elif name == "line_no":
            plan.append((name, pl.col("line_no")))
        elif name not in present:
            plan.append((name, pl.lit(None, dtype=dtype).alias(name)))
        elif dtype == pl.String():
            plan.append((name, pl.when(pl.col(name) != "").then(pl.col(name)).alias(name)))
        else:
            plan.append((name, pl.col(name).cast(dtype).alias(name)))
    return tuple(plan)


def _is_ip(value: str) -> bool:
    return value.replace(".", "").isdigit() or ":" in value
