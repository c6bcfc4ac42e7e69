"""Collect .NET log rows per stream and write them as active and rolled files, like log4net does.

A *stream* is one log type of one service on one node (``SENSE01`` / Scheduler / TaskExecution).
Scenarios add rows (UTC ms, text without ``Sequence#``, optional tag); bulk filler adds lazy, time-ordered
iterators.  :meth:`Sink.write` merges both per stream in time order and

- numbers rows with ``Sequence#``, restarting at 1 after each service restart of the node;
- rolls the file at each restart, after ``roll_period_ms`` or at about ``roll_bytes``; a rolled file goes
  to ``<fqdn>/<Service>/<Level>/<HOST>_<Type>_<Service>_<UTC close>Z.log``;
- writes the last file of the central node as ``Log/<Service>/<Level>/<HOST>_<Type>_<Service>.txt``
  (a rim node's active files are not in the bundle: the collector only copies the local ``Log`` folder);
- uses BOM + CRLF, the header of the file's time (engine upgrade), and a ``Signature:`` trailer on
  every other rolled file of the signed types;
- records where each tagged row landed (path, 1-based line with the header as line 1) for TRUTH.json.
"""

from __future__ import annotations

import heapq
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from qslogs_synth.clock import DAY, fmt_rolled
from qslogs_synth.headers import SIGNED, dropped_columns, header_for, level_of, without_columns
from qslogs_synth.ids import Ids
from qslogs_synth.site import Node

#: (utc_ms, insertion order, text without Sequence#, tag or None)
Row = tuple[int, int, str, str | None]
BOM = "\ufeff"


@dataclass(frozen=True, order=True)
class StreamKey:
    """One log type of one service on one node."""

    node: int
    service: str
    logtype: str


@dataclass(frozen=True)
class Location:
    """Where a tagged row was written, relative to the bundle root."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class Sink:
    """Rows of every .NET stream, written out by :meth:`write`."""

    def __init__(
        self, nodes: list[Node], restarts: dict[int, list[int]], upgrade_at: dict[int, int], ids: Ids
    ) -> None:
        self.nodes = nodes
        self.restarts = restarts
        self.upgrade_at = upgrade_at
        self.ids = ids
        self.rows: dict[StreamKey, list[Row]] = defaultdict(list)
        self.bulk: dict[StreamKey, list[Iterator[Row]]] = defaultdict(list)
        self._order = 0
        self.queued_bytes = 0
        self.locations: dict[str, Location] = {}
        self.files: list[str] = []
        self.signed: list[str] = []

    def add(self, node: Node, service: str, logtype: str, t: int, text: str, tag: str | None = None) -> None:
        """Queue one row (``text`` is every column after ``Sequence#``)."""
        self.rows[StreamKey(node.index, service, logtype)].append((t, self._order, text, tag))
        self._order += 1
        self.queued_bytes += len(text) + 10

    def add_bulk(self, node: Node, service: str, logtype: str, rows: Iterator[Row]) -> None:
        """Queue a lazy, time-ordered row iterator (bulk filler)."""
        self.bulk[StreamKey(node.index, service, logtype)].append(rows)

    def write(self, root: Path, *, roll_bytes: int = 8_000_000, roll_period_ms: int = 7 * DAY) -> None:
        """Write every stream below ``root`` (the bundle folder)."""
        for key in sorted(set(self.rows) | set(self.bulk)):
            story = sorted(self.rows.get(key, []))
            sources: list[Iterable[Row]] = [story, *self.bulk.get(key, [])]
            merged = heapq.merge(*sources, key=itemgetter(0)) if len(sources) > 1 else iter(story)
            self._write_stream(root, key, merged, roll_bytes, roll_period_ms)

    def _write_stream(
        self, root: Path, key: StreamKey, rows: Iterator[Row], roll_bytes: int, period: int
    ) -> None:
        node = self.nodes[key.node]
        restarts = self.restarts.get(key.node, [])
        level = level_of(key.logtype)
        stem = f"{node.netbios}_{key.logtype}_{key.service}"
        seq = 1000 + zlib.crc32(f"{key}".encode()) % 40_000
        r_idx = 0
        opened: int | None = None
        buf: list[str] = []
        tags: list[tuple[int, str]] = []
        size = 0
        n_rolled = 0

        def flush(close_ms: int | None) -> None:
            nonlocal buf, tags, size, n_rolled
            if buf and opened is not None:
                if close_ms is None:
                    rel = f"Log/{key.service}/{level}/{stem}.txt" if node.central else None
                else:
                    rel = f"{node.fqdn}/{key.service}/{level}/{stem}_{fmt_rolled(close_ms)}Z.log"
                if rel is not None:
                    upgraded = opened >= self.upgrade_at[key.node]
                    header = header_for(key.logtype, key.service, engine_upgraded=upgraded)
                    drop = dropped_columns(key.logtype, key.service, engine_upgraded=upgraded)
                    if drop:  # an older release: optional columns absent from header and rows
                        width = header.count("\t") + 1
                        header = without_columns(header, drop, width)
                        buf = [without_columns(row, drop, width) for row in buf]
                    trailer = ""
                    if close_ms is not None and (key.logtype, key.service) in SIGNED:
                        n_rolled += 1
                        if n_rolled % 2:
                            trailer = f"Signature:\t{self.ids.hex40()}\r\n"
                    path = root / rel
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with path.open("wb") as fh:
                        fh.write((BOM + header + "\r\n").encode())
                        for start in range(0, len(buf), 20_000):
                            fh.write(("\r\n".join(buf[start : start + 20_000]) + "\r\n").encode())
                        if trailer:
                            fh.write(trailer.encode())
                            self.signed.append(rel)
                    self.files.append(rel)
                    for line, tag in tags:
                        self.locations[tag] = Location(rel, line)
            buf, tags, size = [], [], 0

        for t, _, text, tag in rows:
            if r_idx < len(restarts) and t >= restarts[r_idx]:
                while r_idx < len(restarts) and t >= restarts[r_idx]:
                    r_idx += 1
                flush(restarts[r_idx - 1] - 2_000)
                seq, opened = 0, restarts[r_idx - 1]
            elif opened is not None and (t - opened >= period or size >= roll_bytes):
                flush(t)
                opened = t
            if opened is None:
                opened = t
            seq += 1
            buf.append(f"{seq}\t{text}")
            size += len(text) + 8
            if tag is not None:
                tags.append((len(buf) + 1, tag))
        # A restart after the last row still rolled that file into the archive.
        flush(restarts[r_idx] - 2_000 if r_idx < len(restarts) else None)
