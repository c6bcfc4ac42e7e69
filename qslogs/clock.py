"""Place naive local times (script logs) on the UTC time line, using each node's own offsets.

Script logs write local time without an offset (formats.md §6.1); the same node's .NET logs carry
``±hhmm`` on every timestamp, so the offset in effect at that time on that node is known. Near a DST
change the choice can be off by the change itself (one hour); callers allow that slack when joining.
"""

from __future__ import annotations

import polars as pl

from qslogs.timeutil import UTC_DATETIME

_KEY = "__asof_key"


#: Values of the ``<out_col>_basis`` column of :func:`local_to_utc` (``basis=True``).
BASIS_NODE = "node"
BASIS_BUNDLE = "bundle"
BASIS_UNKNOWN = "unknown"


def local_to_utc(frame: pl.DataFrame, time_col: str, host_col: str, offsets: pl.DataFrame,
                 out_col: str, *, basis: bool = False) -> pl.DataFrame:
    """Add ``out_col``: ``time_col`` (naive local) converted to UTC with the node's nearest known offset.

    Hosts without any known offset fall back to the most common offset of the bundle, and to UTC when
    the bundle has none; ``<out_col>_offset`` says which offset (minutes east of UTC) was used. With
    ``basis``, ``<out_col>_basis`` says where it came from (``node``, ``bundle`` or ``unknown``) and a
    time whose offset is unknown stays null instead of being passed off as UTC.
    """
    off_col = f"{out_col}_offset"
    extra = [pl.lit(None, pl.String).alias(f"{out_col}_basis")] if basis else []
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, UTC_DATETIME).alias(out_col), pl.lit(None, pl.Int32).alias(off_col),
                                  *extra)
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
    if basis:
        source = (pl.when(pl.col("offset_minutes").is_not_null()).then(pl.lit(BASIS_NODE))
                  .otherwise(pl.lit(BASIS_BUNDLE if offsets.height else BASIS_UNKNOWN)))
        known = pl.col("offset_minutes").is_not_null() | pl.lit(offsets.height > 0)
        return joined.with_columns(
            pl.when(known).then(pl.col(_KEY) - pl.duration(minutes=offset)).alias(out_col),
            pl.when(known).then(offset).alias(off_col),
            source.alias(f"{out_col}_basis"),
        ).drop("__row", _KEY, "__host", "offset_minutes")
    return joined.with_columns(
        (pl.col(_KEY) - pl.duration(minutes=offset)).alias(out_col),
        offset.alias(off_col),
    ).drop("__row", _KEY, "__host", "offset_minutes")
