"""License tables in QVD files → canonical license events (formats.md §8.6).

Which QVDs the License Monitor writes, and with which fields, is not documented, so nothing here
depends on file or field names being exact. A QVD is a license table when its fields hold

- a **user**: a ``DIR\\user`` field, or a user-directory field plus a user-id field (GUIDs do not count);
- an **access type**: text values such as ``Professional``, ``AnalyzerAccess``, ``Login pass``;
- a **date/time** (typed as such by :func:`qslogs.parsers.qvd.read_qvd`).

An ``Operation``-like field (``UsageGranted``, ``Add``, …) makes it an event table; otherwise a date field
named like ``Allocated…``/``Assigned…`` makes it an allocation table (plus ``…Removed…`` and ``LastUsed…``
fields when present); otherwise each row is a use. A ``--qvd-map`` file (:func:`load_qvd_map`) names the
fields instead (:mod:`license_qvd_map`), and can re-classify repository commands. Every QVD looked at
gets a row in the ``qvd_mapping`` table saying what was used and why.
"""

from __future__ import annotations

import fnmatch
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from qslogs.analyses.licenses.events import EVENT_SCHEMA
from qslogs.analyses.licenses.qvd_map import QvdMap, TableMap, load_qvd_map
from qslogs.analyses.licenses.qvd_recognise import recognise, to_events
from qslogs.bundle import open_bundle
from qslogs.errors import QvdError
from qslogs.frames import Frames

__all__ = ["MAPPING_SCHEMA", "drop_covered", "load_qvd_map", "qvd_files", "qvd_license_events"]

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


@contextmanager
def qvd_files(frames: Frames, extra: tuple[Path, ...]) -> Iterator[list[tuple[str, Path, bool]]]:
    """Every QVD to look at as (shown name, readable path, named explicitly): bundle members, then ``--qvd``.

    Members of folders are read in place. The QVD reader needs a path, so a member of a zip is handed
    over as an anonymous in-memory file (Linux ``memfd``); nothing is extracted to disk. Where memfd is
    not available, a private temporary file is used and removed when the context ends.
    """
    members = (
        [p for p in frames.files["path"].to_list() if p.lower().endswith(".qvd")]
        if frames.files.height
        else []
    )
    with ExitStack() as stack:
        found: list[tuple[str, Path, bool]] = []
        if members:
            direct = len(frames.sources) == 1 and Path(frames.sources[0]).is_dir()
            if direct:
                found += [(m, Path(frames.sources[0]) / m, False) for m in members]
            else:
                wanted = set(members)
                bundle = stack.enter_context(open_bundle(list(frames.sources)))
                for member in (m for m in bundle.members if m.display in wanted):
                    found.append((member.display, stack.enter_context(_in_memory(member.read(),
                                                                                 member.basename)), False))
        for path in extra:
            files = (
                sorted(p for p in path.rglob("*") if p.suffix.lower() == ".qvd") if path.is_dir() else [path]
            )
            found += [(str(p), p, not path.is_dir()) for p in files]
        seen: set[str] = set()
        unique = []
        for display, path, explicit in found:
            key = display if str(path).startswith(("/proc/self/fd/", "/dev/fd/")) else str(path.resolve())
            if key not in seen:
                seen.add(key)
                unique.append((display, path, explicit))
        yield unique


@contextmanager
def _in_memory(data: bytes, name: str) -> Iterator[Path]:
    """A readable path holding ``data``: a memfd on Linux, else a private temporary file (removed after)."""
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        fd = os.memfd_create(name or "qvd")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            yield Path(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="qslogs-qvd-") as tmp:
        target = Path(tmp) / (name or "member.qvd")
        target.write_bytes(data)
        yield target


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


def qvd_license_events(
    frames: Frames, extra: tuple[Path, ...], qvd_map: QvdMap | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read every QVD of the bundle and of ``--qvd``; return (events, one mapping row per QVD).

    A damaged QVD, whether named with ``--qvd``, found in a ``--qvd`` folder or in the bundle, is listed
    with status ``error`` and its reason (the license warnings name it) and skipped: it never stops the
    analysis of everything else.
    """
    from qslogs.parsers.qvd import read_qvd

    events: list[pl.DataFrame] = []
    rows: list[dict[str, Any]] = []
    with qvd_files(frames, extra) as files:
        for display, path, _explicit in files:
            name = Path(display.split("!")[-1]).name
            try:
                table = read_qvd(path)
            except QvdError as exc:
                rows.append(_row(display, "", 0, "error", "", reason=exc.reason))
                continue
            tname, height = table.header.table_name, table.frame.height
            chosen = next(
                (
                    t
                    for t in (qvd_map.tables if qvd_map else ())
                    if fnmatch.fnmatch(name.lower(), t.match.lower())
                    or fnmatch.fnmatch(tname.lower(), t.match.lower())
                ),
                None,
            )
            if chosen is not None and chosen.skip:
                rows.append(_row(display, tname, height, "skipped", f"map {qvd_map.path}" if qvd_map else ""))
                continue
            if chosen is not None:
                mapping, how = chosen, f"map {qvd_map.path}" if qvd_map else "map"
            else:
                guess, why = recognise(table.frame)
                if guess is None:
                    rows.append(_row(display, tname, height, "not a license table", "fields", reason=why))
                    continue
                mapping, how = guess, "fields"
            try:
                ev = to_events(table.frame, mapping, display)
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
