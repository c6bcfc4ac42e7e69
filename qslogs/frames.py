"""The parsed bundle as analyses see it: :class:`Frames`, records per log kind backed by the store.

Frames is only the data type; building it (planning units, reading, parsing, accumulating) is
:mod:`qslogs.loader`. ``load_frames`` / ``parse_bundle`` are still importable from here for callers
written before the split (resolved lazily, so this module imports nothing of the loader).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from qslogs.findings import FileIssue
from qslogs.store import KindStore
from qslogs.timeutil import UTC_DATETIME

if TYPE_CHECKING:
    from qslogs.parsers.qvd import QvdTable

SCRIPT_SUMMARY = "Script/Summary"

FILE_STATS_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.String(),
    "kind": pl.String(),
    "family": pl.String(),
    "service": pl.String(),
    "host": pl.String(),
    "archived": pl.Boolean(),
    "size": pl.Int64(),
    "status": pl.String(),
    "records": pl.Int64(),
    "bad_lines": pl.Int64(),
    "lines": pl.Int64(),
    "first": UTC_DATETIME,
    "last": UTC_DATETIME,
    "encoding": pl.String(),
    "note": pl.String(),
}
"""One row per file: ``status`` is parsed, empty, unknown, duplicate or error."""

OFFSETS_SCHEMA: dict[str, pl.DataType] = {"host": pl.String(), "time": UTC_DATETIME, "offset_minutes": pl.Int32()}


@dataclass(frozen=True)
class QvdInput:
    """One QVD given to qslogs (a ``--qvd`` file, a file of a ``--qvd`` folder, a ``.qvd`` of the bundle), loaded."""

    name: str
    """As shown: the path, or ``bundle.zip!member`` for a member of a zip."""
    table: QvdTable | None
    """Its header (every field, the row count) and the columns read; None when it could not be read."""
    error: str | None = None
    """Why it could not be read (a damaged or mock file): the analyses name it, and go on."""


@dataclass(frozen=True)
class QvdLayout:
    """A QVD as known before its rows are decoded: what a column chooser (:data:`QvdColumns`) decides on."""

    name: str
    """As shown (see :attr:`QvdInput.name`)."""
    table_name: str
    fields: tuple[str, ...]
    is_number: Callable[[str], bool]
    """Whether a field reads as plain numbers (Int64/Float64): costs reading that field's symbol table."""
    head: Callable[[Collection[str], int], pl.DataFrame]
    """The first rows of some fields, typed as a whole read types them (costs their symbol tables)."""
    whole: bool = False
    """The file is read whole anyway (a small one): a chooser need not spend time to choose narrowly."""


#: Chooses the fields of a QVD to read (None: every field): analyses declare what they use, the loader reads it.
QvdColumns = Callable[[QvdLayout], Collection[str] | None]


@dataclass
class Frames:
    """Everything parsed from a bundle, ready for analyses."""

    frames: Mapping[str, pl.DataFrame]
    """Records per kind (``Scheduler/TaskExecution``, ``Script``, ``Script/Summary``, …): a
    :class:`~qslogs.store.KindStore` when parsed from a bundle. ``frames[kind]`` reads a whole kind;
    analyses use :meth:`lazy` and select the columns they need."""
    files: pl.DataFrame
    """Per-file inventory with counts (schema :data:`FILE_STATS_SCHEMA`)."""
    bad_lines: pl.DataFrame
    """Every line that did not become a record (schema :data:`qslogs.schemas.BAD_LINE_SCHEMA`)."""
    file_issues: list[FileIssue]
    """Files that could not be read, or only partly, with the reason."""
    offsets: pl.DataFrame
    """Local UTC offsets per node over time (schema :data:`OFFSETS_SCHEMA`), to place naive script times."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Log Collector JSON dumps by name (``CalInfo``, ``LicenseAgent``, ``QrsAbout``, …)."""
    sources: list[str] = field(default_factory=list)
    qvds: tuple[QvdInput, ...] = ()
    """QVDs of the bundle and of ``--qvd``, read by :func:`qslogs.qvd_loader.load_qvds` (in that order)."""

    def lazy(self, kind: str) -> pl.LazyFrame:
        """A kind's records as a LazyFrame (empty, with no columns, when the bundle has none)."""
        if kind not in self.frames:
            return pl.LazyFrame()
        if isinstance(self.frames, KindStore):
            return self.frames.lazy(kind)
        return self.frames[kind].lazy()

    def columns(self, kind: str) -> list[str]:
        """A kind's column names ([] when the bundle has none), without reading its records."""
        if kind not in self.frames:
            return []
        if isinstance(self.frames, KindStore):
            return self.frames.columns(kind)
        return self.frames[kind].columns

    def height(self, kind: str) -> int:
        """A kind's number of records (0 when the bundle has none)."""
        if isinstance(self.frames, KindStore):
            return self.frames.height(kind)
        return self.frames[kind].height if kind in self.frames else 0

    def has(self, kind: str) -> bool:
        return self.height(kind) > 0

    @property
    def time_span(self) -> tuple[datetime | None, datetime | None]:
        """First and last record time over every parsed file."""
        first, last = self.files["first"].min(), self.files["last"].max()
        return (first if isinstance(first, datetime) else None, last if isinstance(last, datetime) else None)


def __getattr__(name: str) -> Any:
    """``load_frames``, ``parse_bundle`` and ``Progress`` live in :mod:`qslogs.loader` (kept importable here)."""
    if name in ("load_frames", "parse_bundle", "Progress"):
        from qslogs import loader

        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
