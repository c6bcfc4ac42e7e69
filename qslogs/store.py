"""Records per log kind, held in memory for a small bundle and on disk for a large one.

A gigabyte of logs is more than a gigabyte of typed frames, and an analysis reads a few columns of a
few kinds. So a kind is an ordered list of parts: frames in memory, or row ranges of Arrow IPC files in
a temporary folder (written by worker processes, or by the store itself once the frames it buffers pass
``spill_bytes``). Reading a kind on disk is a lazy scan: a query that selects three columns reads three
columns. A small bundle parsed in one process never touches the disk and each kind is one frame.

The temporary folder lives as long as the store (removed when the store is garbage collected, or at
exit); ``TMPDIR`` chooses where it goes.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from qslogs.errors import ReportError


@dataclass(frozen=True)
class FileRange:
    """Rows ``[offset, offset + height)`` of an Arrow IPC file that holds ``file_rows`` rows."""

    path: str
    offset: int
    height: int
    file_rows: int


def write_parts(frames: list[pl.DataFrame], path: Path) -> list[FileRange]:
    """Write frames of one kind into one IPC file; the row range of each, in order."""
    whole = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    whole.write_ipc(path, compression="lz4")  # a third of the bytes to write and delete; as fast to scan
    ranges, offset = [], 0
    for frame in frames:
        ranges.append(FileRange(str(path), offset, frame.height, whole.height))
        offset += frame.height
    return ranges


class KindStore(Mapping[str, pl.DataFrame]):
    """Kind → records. ``store[kind]`` materialises a kind; prefer :meth:`lazy` and select columns."""

    def __init__(self, spill_bytes: int) -> None:
        self._spill_bytes = spill_bytes
        self._parts: dict[str, list[pl.DataFrame | FileRange]] = {}
        self._buffered = 0
        self._frames: dict[str, pl.DataFrame] = {}
        self._heights: dict[str, int] = {}
        self._fill_host: str | None = None
        self._dir: Path | None = None
        self._files = 0
        self._on_disk = False
        self._plans: dict[str, tuple[pl.LazyFrame, list[str]]] = {}

    # -- building -----------------------------------------------------------------------------------

    def directory(self) -> Path:
        """The temporary folder for parts on disk (created on first use, removed with the store)."""
        if self._dir is None:
            with _temp_space(tempfile.gettempdir()):
                self._dir = Path(tempfile.mkdtemp(prefix="qslogs-"))
            weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        return self._dir

    def append(self, kind: str, frame: pl.DataFrame) -> None:
        """Add one in-memory part of ``kind`` (parts keep the order they are added in)."""
        self._parts.setdefault(kind, []).append(frame)
        self._heights[kind] = self._heights.get(kind, 0) + frame.height
        self._buffered += int(frame.estimated_size())
        if self._buffered >= self._spill_bytes:
            self._flush()

    def append_range(self, kind: str, part: FileRange) -> None:
        """Add one part of ``kind`` already on disk (written with :func:`write_parts`)."""
        self._parts.setdefault(kind, []).append(part)
        self._heights[kind] = self._heights.get(kind, 0) + part.height
        self._on_disk = True

    def seal(self, fill_host: str | None = None) -> None:
        """No more parts; ``fill_host`` is the node of records whose ``host`` is null."""
        self._fill_host = fill_host
        if self._on_disk:
            self._flush()
            return
        for kind, parts in self._parts.items():
            frames = [p for p in parts if isinstance(p, pl.DataFrame)]
            frame = pl.concat(frames, how="diagonal_relaxed")
            if fill_host is not None and "host" in frame.columns:
                frame = frame.with_columns(pl.col("host").fill_null(fill_host))
            self._frames[kind] = frame
        self._parts.clear()

    def _flush(self) -> None:
        """Write every run of in-memory parts to a file, in place, so the order of parts is kept."""
        for parts in self._parts.values():
            kept: list[pl.DataFrame | FileRange] = []
            run: list[pl.DataFrame] = []
            for part in [*parts, None]:
                if isinstance(part, pl.DataFrame):
                    run.append(part)
                    continue
                if run:
                    self._files += 1
                    with _temp_space(str(self.directory())):
                        kept += write_parts(run, self.directory() / f"s{self._files}.arrow")
                    run = []
                if part is not None:
                    kept.append(part)
            parts[:] = kept
        self._buffered = 0
        self._on_disk = True

    # -- reading ------------------------------------------------------------------------------------

    @property
    def spilled(self) -> bool:
        """Whether the records are on disk (a large bundle, or parsed by worker processes)."""
        return self._on_disk

    def lazy(self, kind: str) -> pl.LazyFrame:
        """A kind's records as a lazy query (KeyError for a kind the bundle does not have)."""
        if kind in self._frames:
            return self._frames[kind].lazy()
        if kind not in self._plans:  # a plan over hundreds of files is built (and its schema read) once
            scans = [_scan(path, ranges) for path, ranges in _by_file(self._parts[kind])]
            lazy = scans[0] if len(scans) == 1 else pl.concat(scans, how="diagonal_relaxed")
            schema = lazy.collect_schema()
            if self._fill_host is not None and "host" in schema:
                lazy = lazy.with_columns(pl.col("host").fill_null(self._fill_host))
            self._plans[kind] = (lazy, schema.names())
        return self._plans[kind][0]

    def columns(self, kind: str) -> list[str]:
        """A kind's column names, without reading its records."""
        if kind in self._frames:
            return self._frames[kind].columns
        self.lazy(kind)
        return list(self._plans[kind][1])

    def height(self, kind: str) -> int:
        """A kind's number of records (0 for a kind the bundle does not have)."""
        return self._heights.get(kind, 0)

    def __getitem__(self, kind: str) -> pl.DataFrame:
        if kind in self._frames:
            return self._frames[kind]
        if kind not in self._parts:
            raise KeyError(kind)
        return self.lazy(kind).collect()

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames if self._frames else self._parts)

    def __len__(self) -> int:
        return len(self._frames) + len(self._parts)

    def __contains__(self, kind: object) -> bool:
        return kind in self._frames or kind in self._parts


@contextmanager
def _temp_space(where: str) -> Iterator[None]:
    """A failure to write temporary files (disk full, no permission) as a clear error, not a traceback."""
    try:
        yield
    except OSError as exc:
        reason = (f"{exc.strerror or exc}; qslogs keeps the records of a large bundle there (about a third "
                  "of its size): set TMPDIR to a folder with space, or raise --limit spill_bytes")
        raise ReportError(f"temporary files in {where}", reason) from exc


def _by_file(parts: list[pl.DataFrame | FileRange]) -> Iterator[tuple[str, list[FileRange]]]:
    """Consecutive ranges of one file grouped (after a seal every part is a range)."""
    current: list[FileRange] = []
    for part in parts:
        assert isinstance(part, FileRange)
        if current and current[-1].path != part.path:
            yield current[0].path, current
            current = []
        current.append(part)
    if current:
        yield current[0].path, current


def _scan(path: str, ranges: list[FileRange]) -> pl.LazyFrame:
    """The rows of ``ranges`` of one file: the whole file when they cover it, else the kept slices."""
    scan = pl.scan_ipc(path)
    if sum(r.height for r in ranges) == ranges[0].file_rows:
        return scan
    slices = [scan.slice(r.offset, r.height) for r in ranges if r.height]
    return pl.concat(slices) if slices else scan.head(0)
