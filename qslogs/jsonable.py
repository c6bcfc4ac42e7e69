"""Values JSON can hold, from what analyses produce (datetimes, durations, decimals, NaN).

Analyses keep their tables JSON-ready with :func:`to_jsonable`; :mod:`qslogs.export` encodes them. It lives
apart from ``export`` so that analyses depend on a value rule, not on the output layer.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any


def iso_duration(value: timedelta) -> str:
    """A duration as ISO 8601, to the millisecond: ``PT1H30M0S``, ``P2DT0H0M0.500S``, ``-PT0H15M0S``.

    QVD ``INTERVAL`` cells (and ``TIME`` values beyond a day) are durations; in JSON they are written this
    way, so they cannot be mistaken for plain numbers. Keys ending in ``_s`` are seconds, as numbers.
    """
    ms = round(value / timedelta(milliseconds=1))
    sign, ms = ("-" if ms < 0 else ""), abs(ms)
    days, rest = divmod(ms, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    frac = f".{millis:03d}" if millis else ""
    return f"{sign}P{f'{days}D' if days else ''}T{hours}H{minutes}M{seconds}{frac}S"


def to_jsonable(value: Any) -> Any:
    """Values JSON can hold: datetimes to ISO 8601 strings (UTC ``Z`` where aware), dates and times of day to
    ISO 8601, durations to ISO 8601 durations (:func:`iso_duration`), NaN and infinities to null,
    recursively through lists, dicts and dataclass instances (their fields in order, as an object)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):  # a small typed value of a result (capacity)
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):  # NaN, inf: not JSON
        return None
    return value


def frame_rows(frame: Any) -> list[dict[str, Any]]:
    """A polars DataFrame as JSON-ready row objects (columns in order)."""
    rows: list[dict[str, Any]] = to_jsonable(frame.to_dicts())
    return rows


def result_tables(result: Any, *, json_only: bool = False) -> dict[str, Any]:
    """The fields of a typed analysis result (:class:`qslogs.analyses.result.Result`) as JSON-ready values, in
    declaration order, findings left out: frames become row objects. ``json_only`` leaves out the fields
    marked ``json=False`` (data only the report draws)."""
    import polars as pl  # the value rule itself needs no polars; only results hold frames

    out: dict[str, Any] = {}
    for f in fields(result):
        if f.name == "findings" or (json_only and not f.metadata.get("json", True)):
            continue
        value = getattr(result, f.name)
        out[f.name] = frame_rows(value) if isinstance(value, pl.DataFrame) else to_jsonable(value)
    return out
