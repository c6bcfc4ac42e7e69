"""Qlik timestamp forms → UTC-aware polars datetimes (formats.md §4).

One place for every timestamp pattern, so parsers and analyses agree on them.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

#: The dtype of every wall-clock instant qslogs produces.
UTC_DATETIME = pl.Datetime("ms", "UTC")
#: Script-log times and QVD serials carry no zone: they stay naive.
NAIVE_DATETIME = pl.Datetime("ms")

_COMPACT = "%Y%m%dT%H%M%S%.f%z"  # 20191023T100902.094+0200 and +02:00 (chrono accepts both)
_ISO = "%Y-%m-%dT%H:%M:%S%.f%z"  # 2019-10-23T10:08:51.234+02:00 (DataProfiling Date)


def qlik_ts(expr: pl.Expr) -> pl.Expr:
    """Parse the .NET/node.js forms (compact with ``±hhmm``/``±hh:mm``, or ISO) to UTC; else null."""
    text = expr.str.strip_chars()
    return (
        pl.coalesce(
            text.str.to_datetime(_COMPACT, strict=False, time_unit="ms"),
            text.str.to_datetime(_ISO, strict=False, time_unit="ms"),
        )
        .dt.convert_time_zone("UTC")
        .cast(UTC_DATETIME)
    )


def qlik_ts_series(column: pl.Series) -> pl.Series:
    """:func:`qlik_ts` on a whole column, parsing the ISO form only when some value needs it (most files
    hold the compact form only, and the second parse would cost as much as the first)."""
    text = column.str.strip_chars()
    times = text.str.to_datetime(_COMPACT, strict=False, time_unit="ms")
    if (times.is_null() & (text.str.len_bytes() > 0)).any():  # an empty string is no time in either form
        times = times.fill_null(text.str.to_datetime(_ISO, strict=False, time_unit="ms"))
    return times.dt.convert_time_zone("UTC").cast(UTC_DATETIME).rename(column.name)


def utc_offset_minutes(expr: pl.Expr) -> pl.Expr:
    """The local offset (minutes east of UTC) written at the end of a compact or ISO timestamp."""
    m = expr.str.extract_groups(r"([+-])(\d{2}):?(\d{2})\s*$")
    sign = pl.when(m.struct.field("1") == "-").then(-1).otherwise(1)
    return sign * (m.struct.field("2").cast(pl.Int32) * 60 + m.struct.field("3").cast(pl.Int32))


def parse_qlik_ts(text: str) -> datetime | None:
    """Scalar twin of :func:`qlik_ts` for single values (file names, JSON dumps)."""
    value = pl.select(qlik_ts(pl.lit(text, dtype=pl.String))).item()
    return value if isinstance(value, datetime) else None
