"""Inventory → :class:`~qslogs.frames.Frames`: plan units, read them (here or in workers), accumulate.

This is the one place that drives reading file contents. Each file is read once, deduplicated by content
(Log Collector collision copies), classified, and parsed by its family's parser (:mod:`qslogs.units`);
the records of one kind from many files and nodes go to one :class:`~qslogs.store.KindStore` in member
order. Log Collector JSON dumps are read as bundle metadata. Analyses get Frames and never open files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from qslogs.bundle import READ_ERRORS, Bundle, Limits, Member, iter_json_dumps, open_bundle
from qslogs.clock import local_to_utc
from qslogs.dumps import read_dump
from qslogs.findings import FileIssue
from qslogs.frames import FILE_STATS_SCHEMA, OFFSETS_SCHEMA, SCRIPT_SUMMARY, Frames
from qslogs.inventory import SCRIPT, FileEntry
from qslogs.parsers.service_logs import FILE_KEY, ParsedFile
from qslogs.parsers.tabular_batch import TabularBatch
from qslogs.schemas import BAD_LINE_SCHEMA
from qslogs.store import FileRange, KindStore
from qslogs.units import BatchedLog, BatchedTabular, FileResult, plan_units, read_unit, script_lines

#: Progress callback: (files done, files total, file being read).
Progress = Callable[[int, int, str], None]


def load_frames(
    paths: list[str | Path],
    *,
    strict: bool = False,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> Frames:
    """Open a bundle and parse every file in it (see :func:`parse_bundle`)."""
    limits = limits or Limits()
    with open_bundle(paths, limits) as bundle:
        return parse_bundle(bundle, strict=strict, limits=limits, progress=progress)


def parse_bundle(
    bundle: Bundle, *, strict: bool = False, limits: Limits | None = None, progress: Progress | None = None
) -> Frames:
    """Parse every member of an opened bundle; damaged files become file issues, never exceptions.

    Under ``strict`` the first bad line raises :class:`~qslogs.errors.ParseError` instead. Members are
    read in units (:func:`plan_units`: a large file alone, runs of small files together, so many small
    script logs are parsed in one vectorised pass). Large bundles are parsed by worker processes
    (:mod:`qslogs.workers`), one unit per task; the results are taken in member order, so the frames are
    the same as a serial run's.
    """
    limits = limits or Limits()
    acc = _Accumulator(issues=list(bundle.issues), store=KindStore(limits.spill_bytes))
    dumps = {m.display for _, m in iter_json_dumps(bundle)}
    members = [m for m in bundle.members if m.display not in dumps]
    units = plan_units(members, single=strict)
    total = len(bundle.members)
    # Imported here, not at the top: ``python -m qslogs.workers`` imports the package (and so this module)
    # before it runs the worker module as __main__, which must not be in sys.modules by then.
    from qslogs.workers import parallel_results, worker_count

    workers = 0 if strict else worker_count(members)
    if workers > 1:
        answers = parallel_results(bundle.sources, members, units, limits, workers, acc.store.directory(), progress)
        for unit, answer in zip(units, answers, strict=True):  # None: its worker died, parse the unit here
            unit_members = [members[i] for i in unit]
            if answer is None:
                answer = read_unit(unit_members, strict=False, limits=limits, skip=acc.seen)
            for member, result in zip(unit_members, answer, strict=True):
                acc.take(result, member)
            acc.end_unit()
    else:
        done = len(dumps)
        for unit in units:
            unit_members = [members[i] for i in unit]
            if progress:
                progress(done, total, unit_members[0].display)
            for member, result in zip(unit_members, read_unit(unit_members, strict=strict, limits=limits,
                                                              skip=acc.seen), strict=True):
                acc.take(result, member)
            acc.end_unit()
            done += len(unit)
    if progress:
        progress(total, total, "")
    meta = _read_dumps(bundle, acc)
    return acc.finish(meta, bundle.sources)



@dataclass
class _Accumulator:
    issues: list[FileIssue]
    store: KindStore
    scripts: dict[int, tuple[Any, FileRange | None, list[tuple[int, str | None]]]] = field(default_factory=dict)
    """Script batches of the current unit by identity, where a worker wrote their lines, and the (index,
    node) of each of their files taken."""
    summaries: list[pl.DataFrame] = field(default_factory=list)
    """Script-log summaries of the files taken, a frame per batch, with their node."""
    bad: list[pl.DataFrame] = field(default_factory=list)
    stats: list[dict[str, Any]] = field(default_factory=list)
    offsets: list[pl.DataFrame] = field(default_factory=list)
    seen: dict[bytes, str] = field(default_factory=dict)
    pending: list[tuple[int, Any]] = field(default_factory=list)
    """Tabular records of the current unit, stored at its end in member order: a single file as
    ``(position, (kind, ParsedFile, part, node))``, a batch (at its first file) as ``(-1, batch id)``."""
    batches: dict[int, tuple[TabularBatch, str, FileRange | None, list[tuple[int, int, str | None]]]] = field(
        default_factory=dict)
    """Tabular batches of the current unit by identity: kind, where a worker wrote the records, and the
    (index, position, node) of each of their files taken."""
    position: int = 0

    def take(self, result: FileResult, member: Member) -> None:
        """Count one file's result (in member order: the first of identical files is the one parsed)."""
        entry = result.entry if result.entry.member is member else replace(result.entry, member=member)
        self.position += 1
        if result.read_error:
            self.issues.append(FileIssue(member.display, result.read_error))
            self._stat(entry, "error", note=result.read_error)
            return
        if result.cut_issue:
            self.issues.append(result.cut_issue)
        digest = result.digest or b""
        if entry.is_log and digest in self.seen:
            self._stat(entry, "duplicate", note=f"same content as {self.seen[digest]}")
            return
        self.seen.setdefault(digest, entry.path)
        if not entry.is_log:
            self._stat(entry, "empty" if entry.reason == "empty file" else "unknown", note=entry.reason)
            return
        if result.parse_error:
            self.issues.append(FileIssue(entry.path, result.parse_error))
            self._stat(entry, "error", note=result.parse_error)
        elif isinstance(result.parsed, ParsedFile):
            self._add_tabular(entry, result.parsed, result.part)
        elif isinstance(result.parsed, BatchedLog):
            self._add_script(entry, result.parsed, result.part)
        elif isinstance(result.parsed, BatchedTabular):
            self._add_batched(entry, result.parsed, result.part)

    def _add_tabular(self, entry: FileEntry, parsed: ParsedFile, part: FileRange | None) -> None:
        self.pending.append((self.position, (entry.kind, parsed, part, entry.host)))
        records = part.height if part is not None else parsed.frame.height
        host = entry.host
        if host is None and parsed.frame.height:
            host = parsed.frame["host"][0]
        self._stat(entry, "parsed", records=records, bad=parsed.bad_lines.height, lines=parsed.lines,
                   first=parsed.first, last=parsed.last, encoding=parsed.encoding,
                   note=_note(parsed.encoding, parsed.trailer, parsed.continuation), host=host)

    def _add_batched(self, entry: FileEntry, parsed: BatchedTabular, part: FileRange | None) -> None:
        batch, i = parsed.batch, parsed.index
        if id(batch) not in self.batches:
            self.batches[id(batch)] = (batch, entry.kind, part, [])
            self.pending.append((-1, id(batch)))
        self.batches[id(batch)][3].append((i, self.position, entry.host))
        self._stat(entry, "parsed", records=batch.rows[i], bad=batch.bad_counts[i], lines=batch.lines[i],
                   first=batch.first[i], last=batch.last[i], encoding="utf-8",
                   note=_note("utf-8", batch.trailer[i], batch.continuation[i]), host=batch.hosts[i])

    def _add_script(self, entry: FileEntry, parsed: BatchedLog, part: FileRange | None) -> None:
        batch, i = parsed.batch, parsed.index
        self.scripts.setdefault(id(batch), (batch, part, []))[2].append((i, entry.host))
        records, bad = batch.line_counts[i], batch.bad_counts[i]
        own = batch.first_utc[i] is not None  # the modern form's own offsets give UTC exactly
        self._stat(entry, "parsed", records=records, bad=bad, lines=records + bad,
                   first=batch.first_utc[i] if own else None, last=batch.last_utc[i] if own else None,
                   first_local=batch.first_times[i], last_local=batch.last_times[i])

    def end_unit(self) -> None:
        """Store the unit's tabular records in member order (batches cut down to their files taken),
        then its script logs.

        Each log keeps its own node (rim-node script folders are archived under the node's name); the
        logs of the active Log/Script folder get the collector's node when the bundle is sealed.
        """
        self._end_tabular()
        for batch, part, taken in self.scripts.values():
            count = len(batch.line_counts)
            host_of: list[str | None] = [None] * count
            keep = np.zeros(count, dtype=bool)
            for i, host in taken:
                host_of[i], keep[i] = host, True
            hosts = pl.Series("host", host_of, dtype=pl.String)
            summaries = batch.summary_frame.with_columns(hosts)
            self.summaries.append(summaries if keep.all() else summaries.filter(pl.Series(keep)))
            if part is not None:  # a worker wrote the lines, with their nodes
                for piece in _kept_ranges(part, batch.line_counts, keep):
                    self.store.append_range(SCRIPT, piece)
            else:
                self.store.append(SCRIPT, script_lines(batch, host_of, keep))
            if batch.bad_lines.height:
                bad_rows = np.repeat(np.arange(count), batch.bad_counts)
                self.bad.append(batch.bad_lines.filter(pl.Series(keep).gather(bad_rows)).with_columns(
                    pl.lit(SCRIPT).alias("kind")).select(list(BAD_LINE_SCHEMA)))
        self.scripts.clear()

    def _end_tabular(self) -> None:
        """Store the tabular records taken in the unit; bad lines in member order, then line order."""
        bad: list[pl.DataFrame] = []
        for position, item in self.pending:
            if position < 0:
                batch, kind, part, taken = self.batches[item]
                self._store_batch(batch, kind, part, taken, bad)
                continue
            kind, parsed, part, host = item
            if part is not None:
                self.store.append_range(kind, part)
            else:
                self.store.append(kind, parsed.frame)
            if parsed.bad_lines.height:
                bad.append(parsed.bad_lines.with_columns(pl.lit(position, dtype=pl.Int64).alias("__pos")))
            if parsed.offsets.height and host:
                self.offsets.append(parsed.offsets.select(pl.lit(host).alias("host"), "time", "offset_minutes"))
        if bad:
            self.bad.append(pl.concat(bad).sort("__pos", maintain_order=True).drop("__pos"))
        self.pending.clear()
        self.batches.clear()
        self.position = 0

    def _store_batch(self, batch: TabularBatch, kind: str, part: FileRange | None,
                     taken: list[tuple[int, int, str | None]], bad: list[pl.DataFrame]) -> None:
        """A batch's records, bad lines and offsets, of its files taken only."""
        n = len(batch.rows)
        keep = np.zeros(n, dtype=bool)
        position = np.zeros(n, dtype=np.int64)
        hosts: list[str | None] = [None] * n
        for i, pos, host in taken:
            keep[i], position[i], hosts[i] = True, pos, host
        if part is not None:
            for piece in _kept_ranges(part, batch.rows, keep):
                self.store.append_range(kind, piece)
        else:
            rows = np.repeat(keep, batch.rows)
            self.store.append(kind, batch.frame if keep.all() else batch.frame.filter(pl.Series(rows)))
        if batch.bad_lines.height:
            index = batch.bad_lines[FILE_KEY]
            chosen = batch.bad_lines.with_columns(pl.Series("__pos", position).gather(index))
            bad.append(chosen.filter(pl.Series(keep).gather(index)).drop(FILE_KEY))
        if batch.offsets.height and any(hosts):
            index = batch.offsets[FILE_KEY]
            named = batch.offsets.with_columns(pl.Series("host", hosts, dtype=pl.String).gather(index))
            self.offsets.append(named.filter(pl.col("host").is_not_null()).select("host", "time", "offset_minutes"))

    def _stat(self, entry: FileEntry, status: str, *, records: int = 0, bad: int = 0, lines: int = 0,
              first: datetime | None = None, last: datetime | None = None, encoding: str | None = None,
              note: str = "", host: str | None = None, first_local: Any = None, last_local: Any = None) -> None:
        self.stats.append(dict(
            path=entry.path, kind=entry.kind, family=entry.family.value if entry.family else None,
            service=entry.service, host=host or entry.host, archived=entry.archived, size=entry.member.size,
            status=status, records=records, bad_lines=bad, lines=lines, first=first, last=last,
            encoding=encoding, note=note or entry.reason or None, first_local=first_local, last_local=last_local,
        ))

    def finish(self, meta: dict[str, Any], sources: list[str]) -> Frames:
        self.end_unit()
        offsets = (pl.concat(self.offsets) if self.offsets else pl.DataFrame(schema=OFFSETS_SCHEMA)).sort(
            "host", "time")
        files = _files_frame(self.stats, offsets)
        default_host = _default_host(files)
        if default_host:
            files = files.with_columns(
                pl.when(pl.col("status") == "parsed").then(pl.col("host").fill_null(default_host))
                .otherwise(pl.col("host")).alias("host"))
        if any(frame.height for frame in self.summaries):
            self.store.append(SCRIPT_SUMMARY, pl.concat(self.summaries))
        self.store.seal(default_host)
        bad = pl.concat(self.bad) if self.bad else pl.DataFrame(schema=BAD_LINE_SCHEMA)
        return Frames(frames=self.store, files=files, bad_lines=bad, file_issues=self.issues, offsets=offsets,
                      meta=meta, sources=sources)


def _note(encoding: str, trailer: int, continuation: int) -> str:
    """The inventory note of a parsed tabular file."""
    note = []
    if encoding != "utf-8":
        note.append(f"read as {encoding}")
    if trailer:
        note.append("signature trailer")
    if continuation:
        note.append(f"{continuation} continuation lines joined")
    return "; ".join(note)


def _kept_ranges(part: FileRange, rows: list[int], keep: np.ndarray) -> list[FileRange]:
    """The row ranges of a batch's file (``part``) that hold its kept files, consecutive ones merged."""
    ranges: list[FileRange] = []
    offset = part.offset
    for height, kept in zip(rows, keep.tolist(), strict=True):
        if kept and ranges and ranges[-1].offset + ranges[-1].height == offset:
            last = ranges[-1]
            ranges[-1] = FileRange(last.path, last.offset, last.height + height, last.file_rows)
        elif kept:
            ranges.append(FileRange(part.path, offset, height, part.file_rows))
        offset += height
    return ranges


def _files_frame(stats: list[dict[str, Any]], offsets: pl.DataFrame) -> pl.DataFrame:
    """Per-file stats; script logs' naive local first/last times are placed in UTC by their node's offset."""
    schema = {**FILE_STATS_SCHEMA, "first_local": pl.Datetime("ms"), "last_local": pl.Datetime("ms")}
    files = pl.DataFrame(stats, schema=schema) if stats else pl.DataFrame(schema=schema)
    host = pl.col("host").fill_null(_default_host(files) or "")
    files = files.with_columns(host.alias("__h"))
    for col in ("first", "last"):
        # basis=True: with no offset known anywhere, a classic script log's local times stay null (not UTC).
        files = local_to_utc(files, f"{col}_local", "__h", offsets, f"__{col}", basis=True)
        files = files.with_columns(pl.coalesce(col, f"__{col}").alias(col))
    unknown = pl.col("first").is_null() & pl.col("first_local").is_not_null()
    note = pl.concat_str(pl.col("note").fill_null(""), pl.lit("times are local, UTC offset unknown"),
                         separator="; ").str.strip_prefix("; ")
    files = files.with_columns(pl.when(unknown).then(note).otherwise(pl.col("note")).alias("note"))
    return files.select(list(FILE_STATS_SCHEMA))


def _default_host(files: pl.DataFrame) -> str | None:
    """The node of the active ``Log`` folder: the most common host of its non-archived .NET files."""
    hosts: list[str] = files.filter(~pl.col("archived") & pl.col("host").is_not_null())["host"].to_list()
    if not hosts:
        return None
    return Counter(hosts).most_common(1)[0][0]


def _read_dumps(bundle: Bundle, acc: _Accumulator) -> dict[str, Any]:
    """Read the Log Collector JSON dumps as bundle metadata; each is listed in the inventory as such."""
    meta: dict[str, Any] = {}
    for name, member in iter_json_dumps(bundle):
        status, note = "metadata", f"Log Collector dump {name}, read as bundle metadata"
        if member.size > 64 * 1024**2:
            status, note = "error", "JSON dump larger than 64 MiB: not read"
        else:
            try:
                meta[name], note = read_dump(name, member.read())
            except READ_ERRORS as exc:  # RecursionError is a RuntimeError; BadZipFile and zlib.error are not
                status, note = "error", f"unreadable JSON dump: {exc}"
        if status == "error":
            acc.issues.append(FileIssue(member.display, note))
        acc.stats.append(dict(path=member.display, kind="metadata", family=None, service=None, host=None,
                              archived=False, size=member.size, status=status, records=0, bad_lines=0, lines=0,
                              first=None, last=None, encoding=None, note=note, first_local=None,
                              last_local=None))
    return meta
