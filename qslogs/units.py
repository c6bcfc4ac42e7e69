"""Read and parse a bundle's members in units: a large file alone, runs of small files together.

A unit is what one task does (in the calling process or in a worker, :mod:`qslogs.workers`): read its
members (each once, lines capped), classify them, digest them for deduplication, and parse them. The
script logs of a unit are parsed as one vectorised batch; so are the tabular logs of one kind and header
layout. :class:`FileResult` is what a unit gives back per member, picklable so a worker can send it.
The loader (:mod:`qslogs.loader`) takes the results in member order and builds :class:`~qslogs.frames.Frames`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Container
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from qslogs.bundle import READ_ERRORS, Limits, Member
from qslogs.errors import ParseError, QslogsError
from qslogs.findings import FileIssue
from qslogs.inventory import HEAD_BYTES, FileEntry, classify
from qslogs.parsers.service_logs import ParsedFile, parse_tabular
from qslogs.parsers.tabular_batch import TabularBatch, batchable, layout_key, parse_batch
from qslogs.schemas import Family
from qslogs.store import FileRange

#: Files up to this size are read in units with their neighbours (see :func:`plan_units`).
SMALL_FILE_BYTES = 1024**2
#: A unit of small files holds at most this many files ...
UNIT_MAX_FILES = 2000
#: ... and this many bytes.
UNIT_MAX_BYTES = 32 * 1024**2


def plan_units(members: list[Member], *, single: bool = False) -> list[list[int]]:
    """Consecutive member indices read and parsed together: a file over :data:`SMALL_FILE_BYTES` alone,
    runs of smaller ones up to :data:`UNIT_MAX_FILES` files and :data:`UNIT_MAX_BYTES`. ``single``: one
    file per unit (strict mode, where the first bad line in member order must be the one raised)."""
    units: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i, member in enumerate(members):
        small = member.size <= SMALL_FILE_BYTES and not single
        if current and (not small or len(current) >= UNIT_MAX_FILES or size + member.size > UNIT_MAX_BYTES):
            units.append(current)
            current, size = [], 0
        if not small:
            units.append([i])
            continue
        current.append(i)
        size += member.size
    if current:
        units.append(current)
    return units


@dataclass(frozen=True)
class BatchedLog:
    """A script log parsed as the ``index``-th file of a :class:`~qslogs.parsers.script_logs.ScriptBatch`
    shared by the other script logs of its unit (pickled once for all of them), its summaries as a frame
    (:meth:`~qslogs.parsers.script_logs.ScriptBatch.framed`)."""

    batch: Any
    index: int


@dataclass(frozen=True)
class BatchedTabular:
    """A tabular log parsed as the ``index``-th file of a :class:`~qslogs.parsers.tabular_batch.TabularBatch`
    (the files of its unit with its kind and header layout, pickled once for all of them)."""

    batch: TabularBatch
    index: int


@dataclass(frozen=True)
class FileResult:
    """What reading and parsing one member gave, before deduplication; picklable (no open files), so
    a worker process can send it back. ``entry.member`` is None when it comes from a worker."""

    entry: FileEntry
    digest: bytes | None = None
    read_error: str | None = None
    cut_issue: FileIssue | None = None
    parsed: ParsedFile | BatchedLog | BatchedTabular | None = None
    """A :class:`ParsedFile`, a :class:`BatchedLog` or :class:`BatchedTabular`, or None (not a log, a
    duplicate, or not parsed)."""
    parse_error: str | None = None
    part: FileRange | None = None
    """Where a worker process wrote the records of ``parsed`` (then ``parsed.frame`` keeps one row)."""


def read_unit(members: list[Member], *, strict: bool, limits: Limits, skip: Container[bytes] = ()) -> list[FileResult]:
    """Read, classify and parse members; script logs among them are parsed together in one batch, and
    so is each run of tabular logs of one kind and header layout (:func:`_runs`).

    A file whose content digest is in ``skip`` is not parsed (it will be counted as a duplicate).
    """
    results: list[FileResult] = []
    scripts: list[tuple[int, bytes]] = []
    tabular: list[tuple[int, bytes]] = []
    for member in members:
        result, data = _read_one(member, limits=limits, skip=skip)
        if data is not None:
            (scripts if result.entry.family is Family.SCRIPT else tabular).append((len(results), data))
        results.append(result)
    for run in _runs(tabular, results, single=strict):
        for (index, _), answer in zip(run, _parse_run(run, results, strict=strict, limits=limits), strict=True):
            results[index] = answer
    if scripts:
        for (at, _), (parsed, error) in zip(scripts, _parse_scripts(scripts, results, strict), strict=True):
            results[at] = replace(results[at], parsed=parsed, parse_error=error)
    return results


def _runs(tabular: list[tuple[int, bytes]], results: list[FileResult], *, single: bool
          ) -> list[list[tuple[int, bytes]]]:
    """Tabular files grouped into runs: consecutive files (in member order, among those of their kind)
    of one kind and header layout. A run's records are stored where its first file's would be, so the
    order of every kind's records is the member order, as when each file is parsed alone. Files that
    must be parsed alone (strict mode, not UTF-8) are runs of one."""
    runs: list[list[tuple[int, bytes]]] = []
    open_run: dict[str, tuple[tuple[str, ...] | None, list[tuple[int, bytes]]]] = {}
    for at, data in tabular:
        entry = results[at].entry
        assert entry.family is not None
        key = None if single or not batchable(data) else layout_key(data, entry.family)
        current = open_run.get(entry.kind)
        if current is not None and key is not None and current[0] == key:
            current[1].append((at, data))
            continue
        run = [(at, data)]
        runs.append(run)
        open_run[entry.kind] = (key, run)
    return runs


def _parse_run(run: list[tuple[int, bytes]], results: list[FileResult], *, strict: bool, limits: Limits
               ) -> list[FileResult]:
    """The results of a run: one batch, or each file alone (a run of one, or a batch polars refused)."""
    if len(run) > 1:
        files = [(data, results[at].entry) for at, data in run]
        try:
            batch = parse_batch(files, max_line_chars=limits.max_line_chars)
        except pl.exceptions.PolarsError:
            batch = None  # parsed alone below, which names the damaged file
        if batch is not None:
            return [replace(results[at], parsed=BatchedTabular(batch, i)) for i, (at, _) in enumerate(run)]
    return [_parse_alone(results[at], data, strict=strict, limits=limits) for at, data in run]


def _parse_alone(result: FileResult, data: bytes, *, strict: bool, limits: Limits) -> FileResult:
    try:
        parsed = parse_tabular(data, result.entry, strict=strict, max_line_chars=limits.max_line_chars)
    except QslogsError as exc:
        if strict or not isinstance(exc, ParseError):
            raise
        return result
    except pl.exceptions.PolarsError as exc:  # a damaged file must not stop the bundle
        return replace(result, parse_error=_polars_error(exc))
    return replace(result, parsed=parsed)


def _read_one(member: Member, *, limits: Limits, skip: Container[bytes]) -> tuple[FileResult, bytes | None]:
    """One member read, classified and digested; its bytes returned when it is a log to parse."""
    try:
        capped = member.read_capped(limits)
    except READ_ERRORS as exc:
        return FileResult(classify_safe(member, b""), read_error=f"cannot read: {exc}"), None
    data = capped.data
    entry = classify_safe(member, data[:HEAD_BYTES])
    cut_issue = None
    if capped.cut_lines and entry.family is Family.SCRIPT:  # tabular parsers report them as bad lines
        shown = ", ".join(map(str, capped.cut_lines[:10])) + (", …" if len(capped.cut_lines) > 10 else "")
        reason = f"lines longer than {limits.max_line_chars:,} characters cut while reading: line {shown}"
        cut_issue = FileIssue(entry.path, reason)
    digest = hashlib.sha1(data).digest()
    result = FileResult(entry, digest, cut_issue=cut_issue)
    if not entry.is_log or digest in skip:
        return result, None
    return result, data


def _parse_scripts(scripts: list[tuple[int, bytes]], results: list[FileResult],
                   strict: bool) -> list[tuple[BatchedLog | None, str | None]]:
    """Parse script logs as one batch; if polars fails on the batch, file by file to name the culprit."""
    from qslogs.parsers.script_logs import parse_script_logs

    files = [(data, results[at].entry.path) for at, data in scripts]
    try:
        batch = parse_script_logs(files, strict=strict).framed()
        return [(BatchedLog(batch, i), None) for i in range(len(files))]
    except pl.exceptions.PolarsError as exc:
        if len(files) == 1:
            return [(None, _polars_error(exc))]
    answers: list[tuple[BatchedLog | None, str | None]] = []
    for file in files:
        try:
            answers.append((BatchedLog(parse_script_logs([file], strict=strict).framed(), 0), None))
        except pl.exceptions.PolarsError as exc:
            answers.append((None, _polars_error(exc)))
    return answers


def script_lines(batch: Any, host_of: list[str | None], keep: np.ndarray[Any, Any] | None = None) -> pl.DataFrame:
    """A script batch's lines with each file's node (``host_of``), of the files in ``keep`` only."""
    rows = np.repeat(np.arange(len(batch.line_counts)), batch.line_counts)
    lines: pl.DataFrame = batch.lines.with_columns(pl.Series("host", host_of, dtype=pl.String).gather(rows))
    return lines if keep is None or keep.all() else lines.filter(pl.Series(keep).gather(rows))


def _polars_error(exc: Exception) -> str:
    return f"cannot parse: {type(exc).__name__}: {exc}".splitlines()[0]


def classify_safe(member: Member, head: bytes) -> FileEntry:
    """Classify from already-read bytes (never re-reads the member)."""
    return classify(member, head)

