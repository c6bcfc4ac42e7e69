"""Script-log bytes → one row per physical line, split into parsed lines and bad lines (formats.md §4, §6.1).

The split is vectorised (one regex over a polars Series of lines), so a script log of tens of MB with
hundreds of thousands of statement lines costs a handful of native passes, not a Python loop.

Rules, decided from the real files in ``../shared/fixtures/real/script-logs``:

- **Physical lines** are separated by LF. Every CR is removed first (CRLF, ``\\r\\r\\n`` and stray CRs), a
  leading UTF-8 BOM is dropped, and a final LF does not start another line. Invalid UTF-8 is decoded with
  U+FFFD and the lines holding it are counted (and raise under ``strict``).
- A line is ``<YYYY-MM-DD hh:mm:ss> <4-digit number | 4 spaces> <text>``. Tolerated, because real or
  plausible files have it: leading blanks before the timestamp (the real ``.log.2`` file indents part of its
  lines), a missing text after the number (``0032``), a 5–6 digit number (scripts over 9999 lines), and the
  timestamp form of releases since late 2019, ``20200227T121011.881+0100`` (milliseconds and the line's own
  UTC offset: ``time`` keeps the local wall-clock time as written, ``utc_offset_minutes`` the offset, so
  ``time - offset`` is the exact UTC instant; classic lines have no offset and a null there).
- A statement continued over several lines is logged with a timestamp on **every** line (real:
  ``0048 set c = … *`` then ``0048 2)``). A line *without* a prefix that follows a parsed line and holds
  only printable text is therefore taken as the continuation of a multi-line message (a driver error with
  a raw line feed); it stays in ``lines`` with ``continuation = true`` and the time and number of the line
  it continues. Everything else is a bad line: blank lines (one real log has one), broken prefixes,
  impossible dates, control characters, text before the first parsed line or after a bad line.
"""

from __future__ import annotations

import codecs
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from qslogs.errors import ParseError
from qslogs.schemas import BAD_LINE_SCHEMA
from qslogs.timeutil import NAIVE_DATETIME

#: Kind written in the ``kind`` column of bad lines (same name as the inventory's script kind).
KIND = "Script"

#: Bad-line text is cut to this many characters (one "line" of binary garbage can be megabytes).
MAX_BAD_TEXT = 4096

#: One script-log line (Rust regex syntax, used by polars).
LINE_PATTERN = (
    r"^[\x{FEFF} \t]*(?:(?P<ts>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"|(?P<net>[0-9]{8}T[0-9]{6}(?:[.,][0-9]{1,9})?)(?P<off>[+-][0-9]{2}:?[0-9]{2}|Z)?)"
    r"[ \t](?P<no>[0-9]{4,6}| {4})(?: (?P<text>.*))?$"
)
#: The common case, cheap to test; other lines go through :data:`LINE_PATTERN`.
_FAST_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} (?:[0-9]{4}| {4})(?: |$)"
)
#: The modern form's common case (``20200227T121011.881+0100 0549 …``): fixed offsets, no regex groups.
_FAST_MODERN = r"^[0-9]{8}T[0-9]{6}\.[0-9]{3}[+-][0-9]{4} (?:[0-9]{4}| {4})(?: |$)"
_TIMESTAMP_LIKE = r"^[\x{FEFF} \t]*(?:[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]|[0-9]{8}T[0-9]{6})"
_NOT_PRINTABLE = r"[\x00-\x08\x0B-\x1F\x7F\x{FFFD}]"

#: Schema of ``ScriptLog.lines``: one row per parsed (or continuation) physical line.
LINES_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "line_no": pl.Int64(),
    "time": NAIVE_DATETIME,
    "utc_offset_minutes": pl.Int32(),
    "script_line": pl.Int32(),
    "text": pl.String(),
    "continuation": pl.Boolean(),
}


@dataclass(frozen=True)
class SplitBatch:
    """The physical lines of several files, parsed or set aside, and what decoding noticed per file.

    ``lines`` and ``bad_lines`` hold every file's rows in file order, with a ``file`` column (the file's
    index in the batch) ahead of the :data:`LINES_SCHEMA` / :data:`~qslogs.schemas.BAD_LINE_SCHEMA` columns.
    The per-file lists are indexed the same way.
    """

    lines: pl.DataFrame
    bad_lines: pl.DataFrame
    physical_lines: list[int]
    invalid_utf8_lines: list[int]
    has_bom: list[bool]
    utc_offset_minutes: list[int | None]


def _decode(data: bytes) -> tuple[str, list[int], bool]:
    """Text without BOM, the 1-based line numbers holding invalid UTF-8, and whether a BOM was there."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # re-saved by an editor
        return data.decode("utf-16", errors="replace"), [], True
    has_bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if has_bom else data
    try:
        return body.decode("utf-8"), [], has_bom
    except UnicodeDecodeError:
        pass
    escaped = body.decode("utf-8", errors="surrogateescape")
    newlines = [m.start() for m in re.finditer("\n", escaped)]
    bad = sorted({bisect_right(newlines, m.start()) + 1 for m in re.finditer("[\udc80-\udcff]+", escaped)})
    return body.decode("utf-8", errors="replace"), bad, has_bom


def _physical(texts: list[str], names: Sequence[str]) -> pl.DataFrame:
    """One row per physical line of every file: ``file``, ``source_file``, ``line_no``, ``raw``.

    CRs are dropped, a final LF does not open another line, and an empty file has no lines.
    """
    raw = pl.col("raw")
    return (
        pl.LazyFrame({
            "file": pl.Series(range(len(texts)), dtype=pl.UInt32),
            "source_file": pl.Series(list(names), dtype=pl.String),
            "raw": pl.Series(texts, dtype=pl.String),
        })
        .with_columns(raw.str.replace_all("\r", "", literal=True))
        .filter(raw != "")
        .with_columns(raw.str.strip_suffix("\n").str.split("\n"))
        .with_columns(line_no=pl.int_ranges(1, raw.list.len() + 1, dtype=pl.Int64))
        .explode("raw", "line_no")
        .collect()
    )


def _offset_expr(offset: pl.Expr) -> pl.Expr:
    """Minutes east of UTC of a ``±hhmm`` / ``±hh:mm`` / ``Z`` suffix; null where the line has none."""
    parts = offset.str.extract_groups(r"^([+-])([0-9]{2}):?([0-9]{2})$")
    sign = pl.when(parts.struct.field("1") == "-").then(-1).otherwise(1)
    minutes = parts.struct.field("2").cast(pl.Int32) * 60 + parts.struct.field("3").cast(pl.Int32)
    return pl.when(offset == "Z").then(pl.lit(0, pl.Int32)).otherwise(sign * minutes).cast(pl.Int32)


def _offset_minutes(offset: str | None) -> int | None:
    if offset is None:
        return None
    if offset == "Z":
        return 0
    digits = offset[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return -minutes if offset.startswith("-") else minutes


def split_batch(files: Sequence[tuple[bytes, str]], *, strict: bool = False) -> SplitBatch:
    """Decode and split several script logs in one vectorised pass (``files``: bytes and name of each).

    Under ``strict`` raise :class:`ParseError` at the first bad line of the first file that has one.
    """
    decoded = [_decode(data) for data, _ in files]
    names = [name for _, name in files]
    raw = _physical([text for text, _, _ in decoded], names)
    fast = raw.get_column("raw").str.contains(_FAST_PATTERN)
    modern = ~fast & raw.get_column("raw").str.contains(_FAST_MODERN)
    parts = pl.when(~fast & ~modern).then(raw.get_column("raw")).str.extract_groups(LINE_PATTERN)
    cut = pl.col("raw").str.slice
    in_file = pl.col("matched").cast(pl.Int64).cum_sum().over("file")
    frame = (
        raw.with_columns(
            fast=fast,
            ts=pl.when(fast).then(pl.col("raw").str.slice(0, 19)).otherwise(parts.struct.field("ts")),
            net=pl.when(modern).then(cut(0, 19)).otherwise(parts.struct.field("net")),
            off=pl.when(modern).then(cut(19, 5)).otherwise(parts.struct.field("off")),
            no=pl.when(fast).then(cut(20, 4)).when(modern).then(cut(25, 4)).otherwise(parts.struct.field("no")),
            text=pl.when(fast).then(cut(25)).when(modern).then(cut(30)).otherwise(parts.struct.field("text")),
        )
        .with_columns(
            time=pl.coalesce(
                pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="ms"),
                pl.col("net").str.replace(",", ".", literal=True)
                .str.to_datetime("%Y%m%dT%H%M%S%.f", strict=False, time_unit="ms"),
            ).cast(NAIVE_DATETIME),
            utc_offset_minutes=_offset_expr(pl.col("off")),
            script_line=pl.col("no").str.strip_chars(" ").cast(pl.Int32, strict=False),
            blank=pl.col("raw").str.strip_chars().str.len_chars() == 0,
            ts_like=pl.col("raw").str.contains(_TIMESTAMP_LIKE),
            printable=~pl.col("raw").str.contains(_NOT_PRINTABLE),
        )
        .with_columns(matched=pl.col("time").is_not_null())
        .with_columns(
            # Groups (a parsed line and its continuations) are numbered over the batch; whether a parsed
            # line came before, within the same file, is counted per file.
            grp=pl.col("matched").cast(pl.Int64).cum_sum(),
            after_first=in_file > 0,
            candidate=~pl.col("matched") & ~pl.col("blank") & ~pl.col("ts_like") & pl.col("printable"),
        )
        # Bad lines seen since the parsed line that opened the group (groups are contiguous runs).
        .with_columns(breakers=(~pl.col("matched") & ~pl.col("candidate")).cast(pl.Int64).cum_sum())
        .with_columns(
            continuation=pl.col("candidate")
            & pl.col("after_first")
            & (pl.col("breakers") == pl.when(pl.col("matched")).then(pl.col("breakers")).forward_fill())
        )
    )
    kept = pl.col("matched") | pl.col("continuation")
    lines = frame.filter(kept).select(
        "file",
        "source_file",
        "line_no",
        pl.col("time").first().over("grp").alias("time"),
        pl.col("utc_offset_minutes").first().over("grp").alias("utc_offset_minutes"),
        pl.col("script_line").first().over("grp").alias("script_line"),
        pl.when(pl.col("continuation")).then(pl.col("raw")).otherwise(pl.col("text").fill_null("")).alias("text"),
        "continuation",
    )
    reason = (
        pl.when(pl.col("blank")).then(pl.lit("blank line: no timestamp, no script line number"))
        .when(pl.col("ts").is_not_null() | pl.col("net").is_not_null())
        .then(pl.lit("impossible date or time in the line prefix"))
        .when(pl.col("ts_like"))
        .then(pl.lit("broken prefix: a timestamp not followed by a 4-digit line number or four spaces"))
        .when(~pl.col("printable")).then(pl.lit("control characters or undecodable bytes, no line prefix"))
        .when(~pl.col("after_first"))
        .then(pl.lit("text without a line prefix before the first timestamped line"))
        .otherwise(pl.lit("text without a line prefix after a bad line"))
    )
    bad = frame.filter(~kept).select(
        "file",
        pl.col("source_file"),
        "line_no",
        pl.lit(KIND, dtype=pl.String).alias("kind"),
        reason.alias("reason"),
        pl.col("raw").str.slice(0, MAX_BAD_TEXT).alias("text"),
    ).select("file", *(pl.col(name).cast(dtype) for name, dtype in BAD_LINE_SCHEMA.items()))
    invalid = [lines_ for _, lines_, _ in decoded]
    if strict:
        _raise_first(bad, invalid, frame)
    counts = dict(frame.group_by("file").agg(pl.len()).iter_rows())
    offsets = dict(
        frame.filter(pl.col("off").is_not_null()).group_by("file").agg(pl.col("off").first()).iter_rows()
    )
    return SplitBatch(
        lines=lines.select("file", *(pl.col(name).cast(dtype) for name, dtype in LINES_SCHEMA.items())),
        bad_lines=bad,
        physical_lines=[counts.get(i, 0) for i in range(len(files))],
        invalid_utf8_lines=[len(lines_) for lines_ in invalid],
        has_bom=[has_bom for _, _, has_bom in decoded],
        utc_offset_minutes=[_offset_minutes(offsets.get(i)) for i in range(len(files))],
    )


def _raise_first(bad: pl.DataFrame, invalid: list[list[int]], frame: pl.DataFrame) -> None:
    """Strict mode: the first bad or undecodable line (first file first) becomes a :class:`ParseError`."""
    for file, invalid_lines in enumerate(invalid):
        file_bad = bad.filter(pl.col("file") == file)
        first_bad = file_bad.row(0, named=True) if file_bad.height else None
        if invalid_lines and (first_bad is None or invalid_lines[0] < first_bad["line_no"]):
            row = frame.filter((pl.col("file") == file) & (pl.col("line_no") == invalid_lines[0])).row(0, named=True)
            raise ParseError(row["source_file"], invalid_lines[0], row["raw"], "invalid UTF-8 (script logs are UTF-8)")
        if first_bad is not None:
            raise ParseError(first_bad["source_file"], first_bad["line_no"], first_bad["text"], first_bad["reason"])
