"""Many small tab-separated logs of one kind and header layout parsed as one frame, in one pass.

A polars call costs tens of microseconds whatever its size, and :func:`~qslogs.parsers.service_logs.
parse_tabular` makes a few dozen per file: on a real bundle (tens of thousands of files of a few
kilobytes) that fixed cost, not the bytes, was the time. Here the files of a batch are joined into one
buffer (one BOM and an incomplete last line end normalised per file, so each keeps exactly its own
lines), split by polars once, and every step of the single-file parser runs once over all of them with
a file key: the header line of each file is dropped, the ``Signature:`` trailer is looked for on each
file's last line, continuation lines join only within their file, DST offsets and first/last times are
per file. Line numbers are each file's own physical numbers. Python does a few microseconds of work
per file (its header line, one BOM, its line count).

The result is what the files parsed alone give, file by file (``tests/test_tabular_batch.py`` keeps a
property: any batch equals its files parsed alone). Files that need the slow path (not UTF-8, a NUL
byte, UTF-16) are not batched: :func:`batchable` says so and the caller parses them alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from qslogs.inventory import FileEntry, node_key
from qslogs.parsers.service_logs import (
    _NO_BAD_LINES,
    FILE_KEY,
    MAX_BAD_TEXT,
    RECORD_START,
    _finish_plan,
    _is_ip,
    _offset_text,
    _split_access,
    _split_fields,
    _type_columns,
    _unique,
)
from qslogs.schemas import ACCESS_COLUMNS, BAD_LINE_SCHEMA, TIME_COLUMN, Family
from qslogs.timeutil import UTC_DATETIME, utc_offset_minutes

_BOM = b"\xef\xbb\xbf"
_SIGNATURE = r"^Signature:\t[0-9A-Fa-f]{40}\s*$"


@dataclass(frozen=True)
class TabularBatch:
    """The records of several files of one kind and layout, file after file, with per-file counts.

    Per-file lists are indexed like the batch's files. ``frame`` holds every file's records in file
    order (``rows[i]`` of them for file ``i``); ``bad_lines`` every bad line, sorted by file then line,
    with the file's index in :data:`~qslogs.parsers.service_logs.FILE_KEY`; ``offsets`` likewise.
    """

    frame: pl.DataFrame
    rows: list[int]
    bad_lines: pl.DataFrame
    bad_counts: list[int]
    lines: list[int]
    trailer: list[int]
    continuation: list[int]
    first: list[datetime | None]
    last: list[datetime | None]
    hosts: list[str | None]
    offsets: pl.DataFrame


def batchable(data: bytes) -> bool:
    """Whether a file can go in a batch: UTF-8 without NUL bytes (else :func:`parse_tabular` alone)."""
    return bool(data) and b"\x00" not in data and not data.startswith((b"\xff\xfe", b"\xfe\xff"))


def layout_key(data: bytes, family: Family) -> tuple[str, ...] | None:
    """The header names a file's records are split by (files with equal keys share a batch); None when
    the header line is not UTF-8 (the file is parsed alone)."""
    if family is Family.ACCESS:
        return ()
    body = data[3:] if data.startswith(_BOM) else data
    end = body.find(b"\n")
    try:
        first = (body if end < 0 else body[:end]).decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    return tuple(_unique([n.strip() for n in first.lstrip("\ufeff").split("\t")]))


def parse_batch(files: list[tuple[bytes, FileEntry]], *, max_line_chars: int = 1_000_000) -> TabularBatch | None:
    """Parse files of one kind and :func:`layout_key` together; None when polars cannot split the joined
    bytes (a file that is not valid UTF-8): the caller then parses them alone."""
    entry = files[0][1]
    assert entry.family is not None and all(e.kind == entry.kind for _, e in files)
    joined, counts = _join(files)
    try:
        lines = pl.read_csv(joined, has_header=False, separator="\x00", quote_char=None, new_columns=["line"],
                            infer_schema=False, encoding="utf8").to_series().fill_null("").str.strip_chars_end("\r")
    except pl.exceptions.PolarsError:
        return None
    if lines.len() != int(counts.sum()):  # never seen; the alone path is always right
        return None
    n = len(files)
    file_of = np.repeat(np.arange(n, dtype=np.int32), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    line_no = np.arange(lines.len(), dtype=np.int64) - np.repeat(starts, counts) + 1
    raw = pl.DataFrame({FILE_KEY: file_of, "line_no": line_no, "line": lines})
    access = entry.family is Family.ACCESS
    if not access:
        raw = raw.filter(pl.col("line_no") > 1)  # each file's header line
    body = np.maximum(counts - (0 if access else 1), 0)
    is_last = pl.col(FILE_KEY) != pl.col(FILE_KEY).shift(-1).fill_null(-1)
    trailer_mask = raw.select(is_last & pl.col("line").str.contains(_SIGNATURE)).to_series()
    trailer = np.zeros(n, dtype=np.int64)
    if trailer_mask.any():
        np.add.at(trailer, raw.filter(trailer_mask)[FILE_KEY].to_numpy(), 1)
        raw = raw.filter(~trailer_mask)
    parts, raw = _cut_long_and_empty(raw, max_line_chars)
    continuation = np.zeros(n, dtype=np.int64)
    if entry.family in RECORD_START:
        raw, orphans, continuation = _join_continuations(raw, RECORD_START[entry.family], n)
        parts.append(_with_reason(orphans, "continuation line before the first record"))
    header = list(ACCESS_COLUMNS) if access else list(layout_key(files[0][0], entry.family) or ())
    if access:
        records, bad = _split_access(raw)
        parts.append(_with_reason(bad, "not an Apache combined-log line"))
    else:
        records, bad_short, bad_long = _split_fields(raw, header)
        parts.append(_with_reason(bad_short, f"fewer than the {len(header)} tab-separated fields of the header"))
        parts.append(_with_reason(bad_long, f"more than the {len(header)} tab-separated fields of the header"))
    time_col = TIME_COLUMN[entry.family]
    offset_text = None if access else _offset_text(records, time_col)
    records, bad_time, kept = _type_columns(records, entry)  # by family and column names: one for all
    parts.append(_with_reason(bad_time, "timestamp not recognised"))
    bad_lines, bad_counts = _bad_lines(parts, files, n)
    hosts = _hosts(records, files)
    frame, rows = _finish(records, files, hosts, header, n)
    first, last = _first_last(frame, rows, time_col)
    return TabularBatch(
        frame=frame, rows=rows, bad_lines=bad_lines, bad_counts=bad_counts,
        lines=[int(x) for x in body], trailer=[int(x) for x in trailer],
        continuation=[int(x) for x in continuation], first=first, last=last, hosts=hosts,
        offsets=_offsets(records, time_col, offset_text, kept),
    )


def _join(files: list[tuple[bytes, FileEntry]]) -> tuple[bytes, np.ndarray]:
    """The files' bytes end to end, each with one BOM dropped and ending in exactly its own last line
    end; and each file's number of physical lines (as :func:`~qslogs.parsers.text.decode_text` counts)."""
    chunks: list[bytes] = []
    counts = np.zeros(len(files), dtype=np.int64)
    for i, (data, _) in enumerate(files):
        if data.startswith(_BOM):
            data = data[3:]
        last_nl = data.rfind(b"\n")
        tail = data[last_nl + 1:]
        if tail and not tail.strip(b"\r"):
            data = data[: last_nl + 1]  # a last "line" of nothing but CRs is not a line
        elif tail:
            data += b"\n"
        counts[i] = data.count(b"\n")
        chunks.append(data)
    return b"".join(chunks), counts


def _cut_long_and_empty(raw: pl.DataFrame, max_line_chars: int) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    parts: list[pl.DataFrame] = []
    length = raw["line"].str.len_bytes()
    if (length > max_line_chars).any():
        long_mask = raw["line"].str.len_chars() > max_line_chars
        parts.append(_with_reason(raw.filter(long_mask), f"line longer than {max_line_chars:,} characters"))
        raw = raw.filter(~long_mask)
        length = raw["line"].str.len_bytes()
    empty_mask = length == 0
    if empty_mask.any():
        parts.append(_with_reason(raw.filter(empty_mask), "empty line"))
        raw = raw.filter(~empty_mask)
    return parts, raw


def _join_continuations(raw: pl.DataFrame, start_pattern: str, n: int
                        ) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    """Lines that do not start a record join the record above them in the same file; those before a
    file's first record are orphans. Returns the joined rows, the orphans and continuations per file."""
    is_start = raw["line"].str.contains(start_pattern)
    if bool(is_start.all()):
        return raw, raw.clear(), np.zeros(n, dtype=np.int64)
    new_file = raw[FILE_KEY].ne_missing(raw[FILE_KEY].shift(1))
    group = (is_start | new_file).cast(pl.Int64).cum_sum()
    marked = raw.with_columns(__group=group, __start=is_start)
    orphan = pl.col("__start").first().over("__group").not_()
    orphans = marked.filter(orphan).drop("__group", "__start")
    joined = (
        marked.filter(~orphan)
        .group_by("__group", maintain_order=True)
        .agg(pl.col(FILE_KEY).first(), pl.col("line_no").first(), pl.col("line").str.join("\n"))
        .drop("__group")
    )
    cont = np.zeros(n, dtype=np.int64)
    not_start = marked.filter(~pl.col("__start") & ~orphan)[FILE_KEY].to_numpy()
    np.add.at(cont, not_start, 1)
    return joined, orphans, cont


def _with_reason(rows: pl.DataFrame, reason: str) -> pl.DataFrame:
    return rows.select(FILE_KEY, "line_no", pl.col("line").str.slice(0, MAX_BAD_TEXT).alias("text"),
                       pl.lit(reason, dtype=pl.String).alias("reason"))


def _bad_lines(parts: list[pl.DataFrame], files: list[tuple[bytes, FileEntry]], n: int
               ) -> tuple[pl.DataFrame, list[int]]:
    parts = [p for p in parts if p.height]
    if not parts:
        return _NO_BAD_LINES.with_columns(pl.lit(None, dtype=pl.Int32).alias(FILE_KEY)), [0] * n
    bad = pl.concat(parts).sort(FILE_KEY, "line_no", maintain_order=True)
    index = bad[FILE_KEY]
    paths = pl.Series([e.path for _, e in files], dtype=pl.String)
    frame = bad.select(
        paths.gather(index).alias("source_file"), "line_no",
        pl.lit(files[0][1].kind, dtype=pl.String).alias("kind"), "reason", "text", FILE_KEY,
    )
    counts = np.bincount(index.to_numpy(), minlength=n)
    return frame.select(*BAD_LINE_SCHEMA, FILE_KEY), [int(c) for c in counts]


def _hosts(records: pl.DataFrame, files: list[tuple[bytes, FileEntry]]) -> list[str | None]:
    """Each file's node: from its path, else the first ``Hostname`` of its records that names a node."""
    hosts = [e.host for _, e in files]
    if all(h is not None for h in hosts) or "Hostname" not in records.columns:
        return hosts
    need = [i for i, h in enumerate(hosts) if h is None]
    seen = (records.lazy().filter(pl.col(FILE_KEY).is_in(need)).select(FILE_KEY, "Hostname").drop_nulls()
            .unique(maintain_order=True).collect())
    names: dict[int, list[str]] = {}
    for i, value in zip(seen[FILE_KEY].to_list(), seen["Hostname"].to_list(), strict=True):
        names.setdefault(i, []).append(value)
    for i in need:
        hosts[i] = next((k for k in (node_key(v) for v in names.get(i, [])) if k and not _is_ip(k)), None)
    return hosts


def _finish(records: pl.DataFrame, files: list[tuple[bytes, FileEntry]], hosts: list[str | None],
            header: list[str], n: int) -> tuple[pl.DataFrame, list[int]]:
    """Conform to the kind's schema as the single-file parser does; origin columns per file."""
    entry = files[0][1]
    index = records[FILE_KEY]
    origin = {
        "source_file": pl.Series([e.path for _, e in files], dtype=pl.String).gather(index).alias("source_file"),
        "host": pl.Series(hosts, dtype=pl.String).gather(index).alias("host"),
    }
    present = tuple(c for c in records.columns if c != FILE_KEY)
    plan = _finish_plan(entry.kind, tuple(header), present)
    frame = records.select([origin[name] if expr is None else expr for name, expr in plan])
    rows = np.bincount(index.to_numpy(), minlength=n) if records.height else np.zeros(n, dtype=np.int64)
    return frame, [int(r) for r in rows]


def _first_last(frame: pl.DataFrame, rows: list[int], time_col: str
                ) -> tuple[list[datetime | None], list[datetime | None]]:
    n = len(rows)
    first: list[datetime | None] = [None] * n
    last: list[datetime | None] = [None] * n
    if not frame.height or time_col not in frame.columns:
        return first, last
    index = np.repeat(np.arange(n, dtype=np.int32), rows)
    agg = (pl.DataFrame({"f": index, "t": frame[time_col]}).group_by("f")
           .agg(pl.col("t").min().alias("lo"), pl.col("t").max().alias("hi")))
    for i, lo, hi in agg.iter_rows():
        first[i] = lo if isinstance(lo, datetime) else None
        last[i] = hi if isinstance(hi, datetime) else None
    return first, last


def _offsets(typed: pl.DataFrame, time_col: str, offset_text: pl.Series | None, kept: pl.Series | None
             ) -> pl.DataFrame:
    """Per file, where the written local offset changes, plus each file's first and last record (as the
    single-file parser's ``_offsets``), with the file's index."""
    empty = pl.DataFrame(schema={"time": UTC_DATETIME, "offset_minutes": pl.Int32(), FILE_KEY: pl.Int32()})
    if offset_text is None or time_col not in typed.columns:
        return empty
    text = offset_text if kept is None else offset_text.filter(kept)
    rows = pl.DataFrame({"time": typed.get_column(time_col), "off": text, FILE_KEY: typed[FILE_KEY]})
    rows = rows.filter(pl.col("off").is_not_null())
    same_file_prev = pl.col(FILE_KEY) == pl.col(FILE_KEY).shift(1)
    same_file_next = pl.col(FILE_KEY) == pl.col(FILE_KEY).shift(-1)
    edge = (pl.col("off").ne_missing(pl.col("off").shift(1)) | ~same_file_prev.fill_null(False)
            | pl.col("off").ne_missing(pl.col("off").shift(-1)) | ~same_file_next.fill_null(False))
    last = pl.int_range(0, pl.len()).over(FILE_KEY) == pl.len().over(FILE_KEY) - 1
    changed = (pl.col("offset_minutes") != pl.col("offset_minutes").shift(1).over(FILE_KEY)).fill_null(True)
    return (
        rows.filter(edge)
        .with_columns(offset_minutes=utc_offset_minutes(pl.col("off")).cast(pl.Int32))
        .drop_nulls()
        .filter(changed | last)
        .select("time", "offset_minutes", FILE_KEY)
    )
