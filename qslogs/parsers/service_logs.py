"""Tab-separated service logs (.NET Trace/Audit/Service, node.js, DataProfiling, engine daily) → frames.

Columns are mapped by header **name**; every known column of the kind is present in the result (nulls
where a header variant lacks it) and unknown extra columns are kept. A line that does not fit its
file's header becomes a bad line with file, line number and reason; nothing is dropped silently.
The work is vectorised in polars: no Python loop runs per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from qslogs.errors import ParseError
from qslogs.inventory import FileEntry, node_key
from qslogs.parsers.text import decode_text, is_signature_trailer, lines_frame
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
from qslogs.timeutil import UTC_DATETIME, qlik_ts, utc_offset_minutes

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
    """Parse one tab-separated log file of any family except script logs."""
    decoded = decode_text(data)
    lines = decoded.lines
    assert entry.family is not None, "parse_tabular needs a classified log file"
    if entry.family is Family.ACCESS:
        header: list[str] = []
        body = lines
        first_no = 1
    else:
        header = _unique([n.strip() for n in (lines[0] if lines else "").lstrip("\ufeff").rstrip("\r").split("\t")])
        body = lines[1:]
        first_no = 2
    trailer = 1 if body and is_signature_trailer(body[-1]) else 0
    if trailer:
        body = body[:-1]
    raw = lines_frame(body, first_no)
    long_mask = raw["line"].str.len_chars() > max_line_chars
    bad_parts = [_bad(raw.filter(long_mask), entry, f"line longer than {max_line_chars:,} characters")]
    raw = raw.filter(~long_mask)
    empty_mask = raw["line"].str.len_bytes() == 0
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

    offsets = _offsets(records, TIME_COLUMN[entry.family]) if entry.family is not Family.ACCESS else _NO_OFFSETS
    records, bad_time = _type_columns(records, entry)
    bad_parts.append(_bad(bad_time, entry, "timestamp not recognised"))
    bad_lines = pl.concat(bad_parts).sort("line_no")
    if strict and bad_lines.height:
        row = bad_lines.row(0, named=True)
        raise ParseError(entry.path, row["line_no"], row["text"], row["reason"])

    frame = _finish(records, entry, header)
    time_col = TIME_COLUMN[entry.family]
    first = last = None
    if frame.height and time_col in frame.columns:
        first, last = frame[time_col].min(), frame[time_col].max()
    return ParsedFile(
        frame=frame,
        bad_lines=bad_lines,
        lines=len(body) + trailer,
        trailer=trailer,
        continuation=continuation,
        encoding=decoded.encoding,
        first=first if isinstance(first, datetime) else None,
        last=last if isinstance(last, datetime) else None,
        offsets=offsets,
    )


_NO_OFFSETS = pl.DataFrame(schema={"time": UTC_DATETIME, "offset_minutes": pl.Int32()})


def _offsets(records: pl.DataFrame, time_col: str) -> pl.DataFrame:
    """Where the local offset written in the timestamps changes (DST), plus the first and last record."""
    if time_col not in records.columns or records.height == 0:
        return _NO_OFFSETS
    frame = records.select(time=qlik_ts(pl.col(time_col)), offset_minutes=utc_offset_minutes(pl.col(time_col)))
    frame = frame.drop_nulls()
    if frame.height == 0:
        return _NO_OFFSETS
    change = frame["offset_minutes"] != frame["offset_minutes"].shift(1)
    keep = change.fill_null(True) | (pl.int_range(0, frame.height, eager=True) == frame.height - 1)
    return frame.filter(keep)


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
    good = raw.filter(~short & ~long)
    fields = good["line"].str.splitn("\t", n).struct.rename_fields(header).struct.unnest()
    records = fields.with_columns(good["line_no"], good["line"].alias(_RAW))
    return records, raw.filter(short), raw.filter(long)


def _split_access(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    groups = raw["line"].str.extract_groups(_ACCESS_RE)
    parsed = groups.struct.rename_fields(list(ACCESS_COLUMNS)).struct.unnest().with_columns(
        raw["line_no"], raw["line"].alias(_RAW)
    )
    ok = parsed["ClientIp"].is_not_null()
    return parsed.filter(ok), raw.filter(~ok)


def _type_columns(records: pl.DataFrame, entry: FileEntry) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse times to UTC and integers; a record whose own time cannot be read is a bad line."""
    assert entry.family is not None
    time_col = TIME_COLUMN[entry.family]
    exprs: list[pl.Expr] = []
    for name in records.columns:
        if name in TIME_COLUMNS or name == time_col:
            if entry.family is Family.ACCESS and name == "Timestamp":
                expr = pl.col(name).str.to_datetime("%d/%b/%Y:%H:%M:%S %z", strict=False, time_unit="ms")
                exprs.append(expr.dt.convert_time_zone("UTC").cast(UTC_DATETIME).alias(name))
            else:
                exprs.append(qlik_ts(pl.col(name)).alias(name))
        elif name in INT_COLUMNS:
            exprs.append(pl.col(name).str.strip_chars().cast(pl.Int64, strict=False).alias(name))
        elif name in ENCODED_TEXT_COLUMNS:
            exprs.append(
                pl.col(name).str.replace_all("↵↓", "\n", literal=True).str.replace_all("[↵↓]", "\n").alias(name)
            )
    typed = records.with_columns(exprs) if exprs else records
    if time_col not in typed.columns:
        return typed, typed.clear().select("line_no", line=pl.col(_RAW))
    bad_mask = typed[time_col].is_null()
    bad = typed.filter(bad_mask).select("line_no", line=pl.col(_RAW))
    return typed.filter(~bad_mask), bad


def _finish(records: pl.DataFrame, entry: FileEntry, header: list[str]) -> pl.DataFrame:
    """Conform to the kind's schema: known columns present and typed, empty text as null, origin columns."""
    columns = list(ACCESS_COLUMNS) if entry.family is Family.ACCESS else header
    schema = kind_schema(entry.kind, columns)
    host = entry.host
    if host is None and "Hostname" in records.columns:
        names = records.get_column("Hostname").drop_nulls().unique(maintain_order=True).to_list()
        host = next((k for k in (node_key(v) for v in names) if k and not _is_ip(k)), None)
    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        if name == "source_file":
            exprs.append(pl.lit(entry.path, dtype=pl.String).alias(name))
        elif name == "host":
            exprs.append(pl.lit(host, dtype=pl.String).alias(name))
        elif name == "line_no":
            exprs.append(pl.col("line_no"))
        elif name not in records.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif dtype == pl.String():
            exprs.append(pl.when(pl.col(name) != "").then(pl.col(name)).alias(name))
        else:
            exprs.append(pl.col(name).cast(dtype).alias(name))
    return records.select(exprs)


def _is_ip(value: str) -> bool:
    return value.replace(".", "").isdigit() or ":" in value
