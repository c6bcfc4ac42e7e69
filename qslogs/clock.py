"""Place naive local times (script logs) on the UTC time line, using each node's own offsets.

Script logs write local time without an offset (formats.md §6.1); the same node's .NET logs carry
``±hhmm`` on every timestamp, so the offset in effect at that time on that node is known. Near a DST
change the choice can be off by the change itself (one hour); callers allow that slack when joining.
"""

from __future__ import annotations

import polars as pl

from qslogs.timeutil import UTC_DATETIME

_KEY = "__asof_key"


def local_to_utc(frame: pl.DataFrame, time_col: str, host_col: str, offsets: pl.DataFrame,
                 out_col: str) -> pl.DataFrame:
    """Add ``out_col``: ``time_col`` (naive local) converted to UTC with the node's nearest known offset.

    Hosts without any known offset fall back to the most common offset of the bundle, and to UTC when
    the bundle has none; ``<out_col>_offset`` says which offset (minutes east of UTC) was used.
    """
    off_col = f"{out_col}_offset"
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, UTC_DATETIME).alias(out_col), pl.lit(None, pl.Int32).alias(off_col))
    fallback = 0
    if offsets.height:
        fallback = int(offsets["offset_minutes"].mode().sort()[0])
    keyed = frame.with_row_index("__row").with_columns(
        pl.col(time_col).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC").cast(UTC_DATETIME).alias(_KEY),
        pl.col(host_col).cast(pl.String).alias("__host"),
    )
    if offsets.height:
        right = offsets.select(pl.col("host").alias("__host"), pl.col("time").alias(_KEY), "offset_minutes").sort(_KEY)
        sorted_left = keyed.sort(_KEY)
        joined = sorted_left.join_asof(
            right, on=_KEY, by="__host", strategy="nearest", check_sortedness=False
        ).sort("__row")
    else:
        joined = keyed.with_columns(pl.lit(None, pl.Int32).alias("offset_minutes"))
    offset = pl.col("offset_minutes").fill_null(fallback).cast(pl.Int32)
    return joined.with_columns(
        (pl.col(_KEY) - pl.duration(minutes=offset)).alias(out_col),
        offset.alias(off_col),
    ).drop("__row", _KEY, "__host", "offset_minutes")
