"""Records per log kind, held in memory for a small bundle and spilled to disk for a large one.

A gigabyte of logs is more than a gigabyte of typed frames, and an analysis reads a few columns of a
few kinds. So parsed parts are buffered, and once the buffer passes ``spill_bytes`` every buffered part
is written to temporary Arrow IPC files (one segment per kind per flush) and dropped from memory. Reading
a spilled kind is a lazy scan of its segments: a query that selects three columns reads three columns.
Below the threshold nothing touches the disk and each kind is one in-memory frame, as before.

The temporary folder lives as long as the store (it is removed when the store is garbage collected,
or at exit); ``TMPDIR`` chooses where it goes.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path

import polars as pl

#: Default for :attr:`qslogs.bundle.Limits.spill_bytes`.
SPILL_BYTES = 256 * 1024**2


class KindStore(Mapping[str, pl.DataFrame]):
    """Kind → records. ``store[kind]`` materialises a kind; prefer :meth:`lazy` and select columns."""

    def __init__(self, spill_bytes: int = SPILL_BYTES) -> None:
        self._spill_bytes = spill_bytes
        self._buffers: dict[str, list[pl.DataFrame]] = {}
        self._buffered = 0
        self._segments: dict[str, list[Path]] = {}
        self._frames: dict[str, pl.DataFrame] = {}
        self._heights: dict[str, int] = {}
        self._fill_host: str | None = None
        self._dir: Path | None = None
        self._files = 0
        self._sealed = False

    # -- building -----------------------------------------------------------------------------------

    def append(self, kind: str, frame: pl.DataFrame) -> None:
        """Add one part of ``kind`` (parts keep the order they are added in)."""
        if self._sealed:
            raise RuntimeError("the store is sealed")
        self._buffers.setdefault(kind, []).append(frame)
        self._heights[kind] = self._heights.get(kind, 0) + frame.height
        self._buffered += int(frame.estimated_size())
        if self._buffered >= self._spill_bytes:
            self._flush()

    def seal(self, fill_host: str | None = None) -> None:
        """No more parts; ``fill_host`` is the node of records whose ``host`` is null."""
        self._fill_host = fill_host
        if self._dir is not None:
            self._flush()
        else:
            for kind, parts in self._buffers.items():
                self._frames[kind] = self._fill(pl.concat(parts, how="diagonal_relaxed"))
            self._buffers.clear()
        self._sealed = True

    def _flush(self) -> None:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="qslogs-"))
            weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        for kind, parts in self._buffers.items():
            self._files += 1
            path = self._dir / f"{self._files}.arrow"
            pl.concat(parts, how="diagonal_relaxed").write_ipc(path)
            self._segments.setdefault(kind, []).append(path)
        self._buffers.clear()
        self._buffered = 0

    def _fill(self, frame: pl.DataFrame) -> pl.DataFrame:
        if self._fill_host is None or "host" not in frame.columns:
            return frame
        return frame.with_columns(pl.col("host").fill_null(self._fill_host))

    # -- reading ------------------------------------------------------------------------------------

    @property
    def spilled(self) -> bool:
        """Whether the records are on disk (the bundle was larger than ``spill_bytes``)."""
        return self._dir is not None

    def lazy(self, kind: str) -> pl.LazyFrame:
        """A kind's records as a lazy query (KeyError for a kind the bundle does not have)."""
        if kind in self._frames:
            return self._frames[kind].lazy()
        segments = self._segments[kind]
        lazy = pl.concat([pl.scan_ipc(path) for path in segments], how="diagonal_relaxed")
        if self._fill_host is not None and "host" in lazy.collect_schema():
            lazy = lazy.with_columns(pl.col("host").fill_null(self._fill_host))
        return lazy

    def columns(self, kind: str) -> list[str]:
        """A kind's column names, without reading its records."""
        if kind in self._frames:
            return self._frames[kind].columns
        return self.lazy(kind).collect_schema().names()

    def height(self, kind: str) -> int:
        """A kind's number of records (0 for a kind the bundle does not have)."""
        return self._heights.get(kind, 0)

    def __getitem__(self, kind: str) -> pl.DataFrame:
        if kind in self._frames:
            return self._frames[kind]
        if kind not in self._segments:
            raise KeyError(kind)
        return self.lazy(kind).collect()

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames if not self._segments else self._segments)

    def __len__(self) -> int:
        return len(self._frames) + len(self._segments)

    def __contains__(self, kind: object) -> bool:
        return kind in self._frames or kind in self._segments
