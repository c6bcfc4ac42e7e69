"""License tables in the loaded QVDs → canonical license events (formats.md §8.6).

Which QVDs the License Monitor writes, and with which fields, is not documented, so nothing here
depends on file or field names being exact. A QVD is a license table when its fields hold

- a **user**: a ``DIR\\user`` field, or a user-directory field plus a user-id field (GUIDs do not count);
- an **access type**: text values such as ``Professional``, ``AnalyzerAccess``, ``Login pass``;
- a **date/time** (typed as such by the QVD reader).

An ``Operation``-like field (``UsageGranted``, ``Add``, …) makes it an event table; otherwise a date field
named like ``Allocated…``/``Assigned…`` makes it an allocation table (plus ``…Removed…`` and ``LastUsed…``
fields when present); otherwise each row is a use. A ``--qvd-map`` file (:mod:`~.qvd_map`) names the
fields instead, and can re-classify repository commands. Every QVD looked at gets a row in the
``qvd_mapping`` table saying what was used and why. The QVDs arrive read (:attr:`Frames.qvds`, by
:mod:`qslogs.qvd_loader`), with only the fields :func:`license_columns` asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from qslogs.analyses.licenses.events import EVENT_SCHEMA
from qslogs.analyses.licenses.qvd_map import QvdMap, TableMap, match_table, named_fields
from qslogs.analyses.licenses.qvd_recognise import SAMPLE_ROWS, recognise, to_events, user_named
from qslogs.errors import QvdError
from qslogs.frames import Frames, QvdColumns, QvdInput, QvdLayout

__all__ = ["MAPPING_SCHEMA", "drop_covered", "license_columns", "qvd_license_events"]

MAPPING_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),
    "table": pl.String(),
    "rows": pl.Int64(),
    "status": pl.String(),
    "mapping": pl.String(),
    "kind": pl.String(),
    "user": pl.String(),
    "access_type": pl.String(),
    "time": pl.String(),
    "operation": pl.String(),
    "end_time": pl.String(),
    "last_used": pl.String(),
    "events": pl.Int64(),
    "reason": pl.String(),
}
"""One row per QVD: ``status`` used / not a license table / skipped / error; ``mapping`` is ``fields``
(recognised) or ``map <file>``; the field columns name the QVD fields that were used."""


def _row(
    display: str,
    table: str,
    rows: int,
    status: str,
    how: str,
    m: TableMap | None = None,
    events: int = 0,
    reason: str = "",
) -> dict[str, Any]:
    user = (m.user or (f"{m.user_directory}\\{m.user_id}" if m.user_directory else None)) if m else None
    return {
        "file": display,
        "table": table,
        "rows": rows,
        "status": status,
        "mapping": how,
        "kind": m.kind if m else None,
        "user": user,
        "access_type": (m.access_type or (f"= {m.access_type_value}" if m.access_type_value else None))
        if m
        else None,
        "time": m.time if m else None,
        "operation": m.operation if m else None,
        "end_time": m.end_time if m else None,
        "last_used": m.last_used if m else None,
        "events": events,
        "reason": reason or None,
    }


def license_columns(qvd_map: QvdMap | None) -> QvdColumns:
    """The fields of a QVD the license analysis uses, for the loader to read only those.

    A QVD a ``--qvd-map`` entry matches: the fields the entry names (none when it says ``skip``).
    Any other QVD is recognised by its fields (:func:`recognise`), which looks only at the first
    :data:`SAMPLE_ROWS` rows of its text and date/time fields: those rows are read first (fields that read
    as plain numbers are never read), and then the fields the recognised mapping uses, plus the ones
    recognition looks at by name (so :func:`recognise` on what is read finds the same mapping again).
    A QVD that is not a license table, or a small one (read whole anyway), keeps its text and date/time
    fields (they give the reason, or recognition's answer).
    """

    def choose(layout: QvdLayout) -> tuple[str, ...]:
        chosen = match_table(qvd_map, _file_name(layout.name), layout.table_name)
        if chosen is not None:
            named = set(() if chosen.skip else named_fields(chosen))
            return tuple(f for f in layout.fields if f in named)
        candidates = tuple(f for f in layout.fields if not layout.is_number(f))
        if layout.whole:  # a small file, read whole anyway: recognising it twice would only cost time
            return candidates
        guess, _ = recognise(layout.head(candidates, SAMPLE_ROWS))
        if guess is None:
            return candidates
        used = set(named_fields(guess))
        return tuple(f for f in candidates if f in used or user_named(f))

    return choose


def _file_name(shown: str) -> str:
    """The file name of a QVD as shown (``bundle.zip!LicenseMonitor/x.qvd`` → ``x.qvd``)."""
    return Path(shown.split("!")[-1]).name


def qvd_license_events(qvds: Sequence[QvdInput], qvd_map: QvdMap | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """License events of the loaded QVDs (:attr:`Frames.qvds`); return (events, one mapping row per QVD).

    A damaged QVD, whether named with ``--qvd``, found in a ``--qvd`` folder or in the bundle, is listed
    with status ``error`` and its reason (the license warnings name it) and skipped: it never stops the
    analysis of everything else.
    """
    events: list[pl.DataFrame] = []
    rows: list[dict[str, Any]] = []
    how_mapped = f"map {qvd_map.path}" if qvd_map else "map"
    for qvd in qvds:
        display, table = qvd.name, qvd.table
        if table is None:
            rows.append(_row(display, "", 0, "error", "", reason=qvd.error or ""))
            continue
        tname, height = table.header.table_name, table.header.no_of_records
        chosen = match_table(qvd_map, _file_name(display), tname)
        if chosen is not None and chosen.skip:
            rows.append(_row(display, tname, height, "skipped", how_mapped))
            continue
        if chosen is not None:
            mapping, how = chosen, how_mapped
        else:
            guess, why = recognise(table.frame)
            if guess is None:
                rows.append(_row(display, tname, height, "not a license table", "fields", reason=why))
                continue
            mapping, how = guess, "fields"
        try:
            ev = to_events(table.frame, mapping, display, tuple(f.name for f in table.header.fields))
        except QvdError as exc:
            rows.append(_row(display, tname, height, "error", how, mapping, reason=exc.reason))
            continue
        events.append(ev)
        rows.append(_row(display, tname, height, "used", how, mapping, ev.height))
    frame = pl.concat(events) if events else pl.DataFrame(schema=EVENT_SCHEMA)
    return frame, pl.DataFrame(rows, schema=MAPPING_SCHEMA) if rows else pl.DataFrame(schema=MAPPING_SCHEMA)


def drop_covered(qvd_events: pl.DataFrame, frames: Frames, kinds: tuple[str, ...]) -> pl.DataFrame:
    """QVD events outside the time spans of the bundle's license log files (the logs win where they exist)."""
    if qvd_events.is_empty() or not frames.files.height:
        return qvd_events
    spans = (
        frames.files.filter(
            pl.col("kind").is_in(kinds)
            & (pl.col("status") == "parsed")
            & pl.col("first").is_not_null()
            & pl.col("last").is_not_null()
        )
        .select("first", "last")
        .sort("first")
        .rows()
    )
    merged: list[list[Any]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    if not merged:
        return qvd_events
    intervals = pl.DataFrame(
        {"_start": [m[0] for m in merged], "_end": [m[1] for m in merged]},
        schema={"_start": EVENT_SCHEMA["time"], "_end": EVENT_SCHEMA["time"]},
    )
    tagged = qvd_events.sort("time").join_asof(
        intervals, left_on="time", right_on="_start", strategy="backward"
    )
    return tagged.filter(pl.col("_end").is_null() | (pl.col("time") > pl.col("_end"))).drop("_start", "_end")
