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
  .NET timestamp form ``20191023T100902.094+0200`` (its offset is reported, the time kept naive).
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
_TIMESTAMP_LIKE = r"^[\x{FEFF} \t]*(?:[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]|[0-9]{8}T[0-9]{6})"
_NOT_PRINTABLE = r"[\x00-\x08\x0B-\x1F\x7F\x{FFFD}]"

#: Schema of ``ScriptLog.lines``: one row per parsed (or continuation) physical line.
LINES_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "line_no": pl.Int64(),
    "time": NAIVE_DATETIME,
    "script_line": pl.Int32(),
    "text": pl.String(),
    "continuation": pl.Boolean(),
}


@dataclass(frozen=True)
class SplitLines:
    """The physical lines of one file, parsed or set aside, and what decoding noticed."""

    lines: pl.DataFrame
    bad_lines: pl.DataFrame
    physical_lines: int
    invalid_utf8_lines: int
    has_bom: bool
    utc_offset_minutes: int | None


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


def _physical(text: str) -> pl.Series:
    if "\r" in text:
        text = text.replace("\r", "")
    if not text:
        return pl.Series("raw", [], dtype=pl.String)
    if text.endswith("\n"):
        text = text[:-1]
    return pl.LazyFrame({"raw": [text]}).select(pl.col("raw").str.split("\n").explode()).collect().to_series()


def _offset_minutes(offset: str | None) -> int | None:
    if offset is None:
        return None
    if offset == "Z":
        return 0
    digits = offset[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return -minutes if offset.startswith("-") else minutes


def split_lines(data: bytes, source_file: str, *, strict: bool = False) -> SplitLines:
    """Decode and split one script log; under ``strict`` raise :class:`ParseError` at the first bad line."""
    text, invalid, has_bom = _decode(data)
    raw = _physical(text)
    fast = raw.str.contains(_FAST_PATTERN)
    parts = pl.when(~fast).then(raw).str.extract_groups(LINE_PATTERN)
    frame = (
        raw.to_frame()
        .with_row_index("line_no", offset=1)
        .with_columns(
            pl.col("line_no").cast(pl.Int64),
            fast=fast,
            ts=pl.when(fast).then(pl.col("raw").str.slice(0, 19)).otherwise(parts.struct.field("ts")),
            net=parts.struct.field("net"),
            off=parts.struct.field("off"),
            no=pl.when(fast).then(pl.col("raw").str.slice(20, 4)).otherwise(parts.struct.field("no")),
            text=pl.when(fast).then(pl.col("raw").str.slice(25)).otherwise(parts.struct.field("text")),
        )
        .with_columns(
            time=pl.coalesce(
                pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="ms"),
                pl.col("net").str.replace(",", ".", literal=True)
                .str.to_datetime("%Y%m%dT%H%M%S%.f", strict=False, time_unit="ms"),
            ).cast(NAIVE_DATETIME),
            script_line=pl.col("no").str.strip_chars(" ").cast(pl.Int32, strict=False),
            blank=pl.col("raw").str.strip_chars().str.len_chars() == 0,
            ts_like=pl.col("raw").str.contains(_TIMESTAMP_LIKE),
            printable=~pl.col("raw").str.contains(_NOT_PRINTABLE),
        )
        .with_columns(matched=pl.col("time").is_not_null())
        .with_columns(
            grp=pl.col("matched").cast(pl.Int64).cum_sum(),
            candidate=~pl.col("matched") & ~pl.col("blank") & ~pl.col("ts_like") & pl.col("printable"),
        )
        # Bad lines seen since the parsed line that opened the group (groups are contiguous runs).
        .with_columns(breakers=(~pl.col("matched") & ~pl.col("candidate")).cast(pl.Int64).cum_sum())
        .with_columns(
            continuation=pl.col("candidate")
            & (pl.col("grp") > 0)
            & (pl.col("breakers") == pl.when(pl.col("matched")).then(pl.col("breakers")).forward_fill())
        )
    )
    kept = pl.col("matched") | pl.col("continuation")
    lines = frame.filter(kept).select(
        pl.lit(source_file, dtype=pl.String).alias("source_file"),
        "line_no",
        pl.col("time").first().over("grp").alias("time"),
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
        .when(pl.col("grp") == 0).then(pl.lit("text without a line prefix before the first timestamped line"))
        .otherwise(pl.lit("text without a line prefix after a bad line"))
    )
    bad = frame.filter(~kept).select(
        pl.lit(source_file, dtype=pl.String).alias("source_file"),
        "line_no",
        pl.lit(KIND, dtype=pl.String).alias("kind"),
        reason.alias("reason"),
        pl.col("raw").str.slice(0, MAX_BAD_TEXT).alias("text"),
    ).select(pl.col(name).cast(dtype) for name, dtype in BAD_LINE_SCHEMA.items())
    if strict:
        _raise_first(bad, invalid, frame, source_file)
    offsets = frame.get_column("off").drop_nulls()
    return SplitLines(
        lines=lines.select(pl.col(name).cast(dtype) for name, dtype in LINES_SCHEMA.items()),
        bad_lines=bad,
        physical_lines=frame.height,
        invalid_utf8_lines=len(invalid),
        has_bom=has_bom,
        utc_offset_minutes=_offset_minutes(offsets[0]) if len(offsets) else None,
    )


def _raise_first(bad: pl.DataFrame, invalid: list[int], frame: pl.DataFrame, source_file: str) -> None:
    """Strict mode: the first bad or undecodable line becomes a :class:`ParseError`."""
    first_bad = bad.row(0, named=True) if bad.height else None
    if invalid and (first_bad is None or invalid[0] < first_bad["line_no"]):
        text = frame.get_column("raw")[invalid[0] - 1]
        raise ParseError(source_file, invalid[0], text, "invalid UTF-8 (script logs are UTF-8)")
    if first_bad is not None:
        raise ParseError(source_file, first_bad["line_no"], first_bad["text"], first_bad["reason"])
