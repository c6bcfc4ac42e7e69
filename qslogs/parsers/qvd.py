"""Read QVD files (formats.md §8): a thin adapter over ``qvdrs`` that validates and types what it returns.

``qvdrs`` (import name ``qvd``) decodes the bytes; this module adds what it lacks:

* the header is parsed and checked first (terminator, ``Compression``, every offset inside the body), so a
  damaged or mock file is refused with a :class:`~qslogs.errors.QvdError` instead of yielding made-up rows;
* timestamps are rounded to 1 ms (qvdrs truncates, so ``00:00:07`` arrives as ``00:00:06.999999``);
* date-ness follows §8.4: NumberFormat ``DATE/TIMESTAMP/TIME/INTERVAL``, then the ``$date``-style tags, then
  dual texts that look like dates; QVD serials carry no zone, so datetimes stay naive;
* a dual's text is kept when it says more than its number (``'0901'`` for 901, ``'Jan'`` for 1), and text
  values that qvdrs would turn into NULLs in a typed column are kept: such a field is read as text.

All of it column by column with numpy and polars: the common symbol-table layouts cost one strided
comparison, and only an unusual field (or a file qvdrs refuses) has its bit-packed index decoded here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import polars as pl
import pyarrow as pa
import qvd  # the qvdrs package

from qslogs.errors import QvdError
from qslogs.parsers.qvd_header import FORMAT_KINDS, QvdField, QvdHeader, read_qvd_header
from qslogs.timeutil import NAIVE_DATETIME

if TYPE_CHECKING:
    from qslogs.parsers.qvd_projection import QvdPeek

__all__ = ["Columns", "QvdField", "QvdHeader", "QvdTable", "read_qvd", "read_qvd_header"]

#: Chooses the fields to read from the header and a :class:`~qslogs.parsers.qvd_projection.QvdPeek`
#: (None reads every field).
Columns = Callable[[QvdHeader, "QvdPeek"], Collection[str] | None]

_EPOCH_SERIAL = 25569  # day serial of 1970-01-01; serials count days since 1899-12-30
_MS_PER_DAY = 86_400_000
_QLIK_EPOCH = date(1899, 12, 30)
_TEMPORAL = frozenset(FORMAT_KINDS.values())
#: A dual text that only formats its number: it can be dropped without losing anything.
_PLAIN_NUMBER = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$"
#: A dual text that shows a date or timestamp (§8.4 rule 3): 2020-06-18, 06.08.2020, 12/31/2018 10:15 PM.
_DATE_TEXT = (
    r"^\d{1,4}[-./]\d{1,2}[-./]\d{1,4}"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?: ?[AaPp][Mm])?)?$"
)
_HEAD = np.zeros(256, dtype=np.int64)  # bytes before the text (text types) or whole size (types 1, 2)
_HEAD[[1, 2, 4, 5, 6]] = [5, 9, 1, 5, 9]
_HAS_TEXT = np.isin(np.arange(256), (4, 5, 6))


@dataclass(frozen=True)
class QvdTable:
    """A QVD file read into one polars frame (one column per field, in header order).

    ``kinds`` maps each column to what it turned out to hold: a header ``kind``, or ``mixed`` when its
    values could only be kept as text, or ``date``/``timestamp`` found from dual texts.  ``notes`` lists
    what a report should mention: invalid UTF-8 replaced, a file qvdrs refused and qslogs decoded.
    """

    path: str
    header: QvdHeader
    """Every field of the file, also those not read (``header.no_of_records`` counts the rows)."""
    frame: pl.DataFrame
    """The fields read: all of them, or those asked for (header order)."""
    kinds: dict[str, str]
    notes: tuple[str, ...] = ()


def _walk(b: np.ndarray, n: int, zeros: np.ndarray, nodes: np.ndarray) -> np.ndarray | None:
    """Follow the symbols from byte 0 through the candidate starts ``nodes``, vectorised by pointer doubling.

    Each candidate's successor comes from its own type byte (and, for text, the next NUL), so the chain
    from byte 0 is the true parse; None if it leaves ``nodes`` or does not end exactly after ``n`` symbols.
    """
    if not len(nodes) or nodes[0] != 0:
        return None
    size, m = len(b), len(nodes)  # step value m: the table ends there; m + 1: the chain broke
    nxt = nodes + _HEAD[b[nodes]]
    texty = _HAS_TEXT[b[nodes]]
    nxt[texty] = np.append(zeros + 1, size + 1)[np.searchsorted(zeros, nxt[texty])]
    j = np.minimum(np.searchsorted(nodes, nxt), m - 1)
    step = np.append(np.where(nodes[j] == nxt, j, np.where(nxt == size, m, m + 1)), [m, m + 1])
    far = step
    for _ in range(5):
        far = far[far]  # 32 symbols ahead
    marks, at = np.empty(-(-n // 32), dtype=np.int64), 0
    for i in range(len(marks)):  # n / 32 Python steps; the rest is vectorised
        marks[i], at = at, int(far[at])
    rows = np.empty((32, len(marks)), dtype=np.int64)
    for i in range(32):
        rows[i], marks = marks, step[marks]
    path = rows.T.ravel()[:n]
    return nodes[path] if (path < m).all() and step[path[-1]] == m else None


def _symbol_starts(b: np.ndarray, n: int) -> np.ndarray | None:
    """Start offset of each of the ``n`` symbols in one symbol table (§8.2), or None if malformed.

    Tried in order: one strided comparison (all ints or all doubles); a walk through the bytes that follow
    a NUL (every symbol carries text); a walk through every byte that could be a type byte.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64) if len(b) == 0 else None
    for kind in (1, 2):
        width = int(_HEAD[kind])
        if len(b) == width * n and (b[::width] == kind).all():
            return np.arange(0, len(b), width, dtype=np.int64)
    zeros = np.flatnonzero(b == 0)
    after_nul = np.concatenate(([0], zeros[:-1] + 1))
    starts = _walk(b, n, zeros, after_nul[_HAS_TEXT[b[after_nul]]])
    return starts if starts is not None else _walk(b, n, zeros, np.flatnonzero(_HEAD[b] > 0))


def _texts(b: np.ndarray, starts: np.ndarray, notes: list[str], name: str) -> pl.Series:
    """The text of every symbol (null for types 1 and 2), each decoded as one UTF-8 run."""
    types = b[starts]
    text_at = starts + _HEAD[types]
    lens = np.where(_HAS_TEXT[types], np.append(starts[1:], len(b)) - 1 - text_at, 0)
    offsets = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    data = b[np.repeat(text_at - offsets[:-1], lens) + np.arange(offsets[-1])]
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    raw = pl.Series(pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(starts), buffers))
    try:
        texts = raw.cast(pl.String)
    except pl.exceptions.ComputeError:  # invalid UTF-8 (rare): replace it symbol by symbol, and say so
        shown = [v.decode("utf-8", errors="replace") for v in raw.to_list()]
        bad = sum(text.encode() != v for text, v in zip(shown, raw.to_list(), strict=True))
        notes.append(f"field {name!r}: invalid UTF-8 replaced by U+FFFD in {bad} value(s)")
        texts = pl.Series(shown, dtype=pl.String)
    return pl.select(pl.when(pl.lit(pl.Series(_HAS_TEXT[types]))).then(texts)).to_series()


def _numbers(b: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The number of every symbol as float64 (NaN for text-only symbols)."""
    types = b[starts]
    out = np.full(len(starts), np.nan)
    for kinds, width, dtype in (((1, 5), 4, "<i4"), ((2, 6), 8, "<f8")):
        sel = np.isin(types, kinds)
        out[sel] = np.ascontiguousarray(b[starts[sel, None] + 1 + np.arange(width)]).view(dtype)[:, 0]
    return out


class _Source:
    """Raw access to one validated QVD file, for the fields qvdrs cannot type losslessly (or at all)."""

    def __init__(self, path: str, header: QvdHeader, f: BinaryIO) -> None:
        self.path, self.header, self.f, self.notes = path, header, f, list[str]()
        self._rows: np.ndarray | None = None
        self._symbols: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.limit: int | None = None
        """Decode only the first ``limit`` records (a peek at the first rows); None: all of them."""

    def count(self) -> int:
        """How many records a decoded column has (all, or the first :attr:`limit`)."""
        n = self.header.no_of_records
        return n if self.limit is None else min(n, self.limit)

    def rows(self) -> np.ndarray:
        """The index table as one row of ``RecordByteSize`` bytes per record (read once, for every field)."""
        h = self.header
        if self._rows is None and self.limit is not None:  # a sample: read just its records
            self.f.seek(h.body_offset + h.index_offset)
            return np.frombuffer(self.f.read(self.count() * h.record_byte_size), dtype=np.uint8).reshape(
                -1, h.record_byte_size)
        if self._rows is None:
            self.f.seek(h.body_offset + h.index_offset)
            self._rows = np.frombuffer(self.f.read(h.index_length), dtype=np.uint8).reshape(-1, h.record_byte_size)
        return self._rows[: self.count()]

    def symbols(self, field: QvdField) -> tuple[np.ndarray, np.ndarray]:
        """The symbol-table bytes and the start offset of each symbol (found once per field)."""
        if field.name in self._symbols:
            return self._symbols[field.name]
        self.f.seek(self.header.body_offset + field.offset)
        b = np.frombuffer(self.f.read(field.length), dtype=np.uint8)
        starts = _symbol_starts(b, field.no_of_symbols)
        if starts is None:
            raise QvdError(self.path, f"the symbol table of field {field.name!r} is not "
                           f"{field.no_of_symbols} well-formed symbols")  # fmt: skip
        self._symbols[field.name] = b, starts
        return b, starts

    def codes(self, field: QvdField) -> pl.Series:
        """Per-row symbol index of one field, null for NULL, from the bit-packed index table (§8.3)."""
        stored = np.zeros(self.count(), dtype=np.int64)
        if field.bit_width:
            rows = self.rows()
            first, last = field.bit_offset // 8, (field.bit_offset + field.bit_width - 1) // 8
            word = np.zeros((len(rows), 8), dtype=np.uint8)
            word[:, : last - first + 1] = rows[:, first : last + 1]
            bits = word.view("<u8")[:, 0] >> np.uint64(field.bit_offset % 8)
            stored = (bits & np.uint64((1 << field.bit_width) - 1)).astype(np.int64)
        idx = pl.Series(stored + field.bias)
        if len(idx) and idx.max() >= field.no_of_symbols:  # type: ignore[operator]
            raise QvdError(self.path, f"field {field.name!r} points past its {field.no_of_symbols} symbols")
        return idx.set(idx < 0, None)

    def decode(self, field: QvdField, as_text: bool) -> pl.Series:
        """The field decoded here: as text (a dual's text, a number's digits), else numbers if all are."""
        b, starts = self.symbols(field)
        types, numbers = b[starts], pl.Series(_numbers(b, starts))
        if not as_text and len(types) and not (types == 4).any():
            numbers = numbers.cast(pl.Int64) if np.isin(types, (1, 5)).all() else numbers
            return numbers.gather(self.codes(field)).rename(field.name)
        whole = numbers.is_finite() & (numbers == numbers.floor()) & (numbers.abs() < 2**53)
        as_int = numbers.cast(pl.Int64, strict=False).cast(pl.String)
        digits = pl.select(pl.when(whole).then(as_int).otherwise(numbers.cast(pl.String))).to_series()
        shown = _texts(b, starts, self.notes, field.name).fill_null(digits)
        return shown.gather(self.codes(field)).rename(field.name)


def _temporal(s: pl.Series, kind: str) -> tuple[pl.Series, str]:
    """Type a column of serials (or qvdrs' own dates) as Date, naive Datetime[ms], Time or Duration."""
    if s.dtype == pl.Date:
        return (s.cast(NAIVE_DATETIME), kind) if kind == "timestamp" else (s, "date")
    if isinstance(s.dtype, pl.Datetime):  # qvdrs truncates to µs: 00:00:07 arrives as 00:00:06.999999
        return s.dt.round("1ms").cast(NAIVE_DATETIME), "timestamp"
    serial = s.cast(pl.Float64)
    if kind == "date":  # the day Qlik shows: floor, also for negative serials
        return (serial.floor() - _EPOCH_SERIAL).cast(pl.Int32).cast(pl.Date), kind
    if kind == "timestamp":
        return ((serial - _EPOCH_SERIAL) * _MS_PER_DAY).round().cast(pl.Int64).cast(NAIVE_DATETIME), kind
    ms = (serial * _MS_PER_DAY).round().cast(pl.Int64)
    if kind == "time" and ((ms >= 0) & (ms < _MS_PER_DAY)).all():
        return (ms * 1_000_000).cast(pl.Time), kind
    return ms.cast(pl.Duration("ms")), "interval"  # an interval, or a TIME beyond one day


def _fix_column(src: _Source, field: QvdField, s: pl.Series) -> tuple[pl.Series, str]:
    """Turn one qvdrs column into the typed, lossless column described in the module docstring."""
    kind = field.kind
    if s.dtype == pl.String:
        if field.no_of_symbols == 0 and kind in _TEMPORAL:
            return _temporal(s.cast(pl.Float64), kind)
        return s, "mixed" if kind in _TEMPORAL or kind == "number" else "text"
    if kind in _TEMPORAL or s.dtype == pl.Date or isinstance(s.dtype, pl.Datetime):
        if s.null_count() and (field.bias == 0 or s.null_count() > src.codes(field).null_count()):
            return src.decode(field, True), "mixed"  # text values that qvdrs could only make NULL
        if s.dtype == pl.Date and (s < _QLIK_EPOCH).any() and field.length != 5 * field.no_of_symbols:
            s = src.decode(field, False)  # qvdrs truncates negative serials toward zero: -1.5 → day -1
        return _temporal(s, kind if kind in _TEMPORAL else "date" if s.dtype == pl.Date else "timestamp")
    verdict = _numeric_verdict(src, field)
    if verdict == "number":
        return s, "number"
    if verdict == "date":
        return _temporal(s, "date")  # §8.4 rule 3: the duals display as dates
    return src.decode(field, True), "mixed"


def _numeric_verdict(src: _Source, field: QvdField) -> str:
    """A field of numbers (no pure-text symbol) from its symbol table: ``number``, ``date`` or ``mixed``."""
    b, starts = src.symbols(field)
    types = b[starts]
    if not _HAS_TEXT[types].any():
        return "number"
    texts = _texts(b, starts, src.notes, field.name).drop_nulls()
    if texts.str.contains(_PLAIN_NUMBER).all():
        return "number"  # every text just spells its number
    if not (types == 4).any() and texts.str.contains(_DATE_TEXT).all():
        return "date"
    return "mixed"


def read_qvd(path: str | Path, columns: Collection[str] | Columns | None = None) -> QvdTable:
    """Read a QVD file into a :class:`QvdTable`; raise :class:`QvdError` if it is damaged or not a QVD.

    ``columns`` projects: only those fields are decoded (names the file lacks are left out; the header
    still lists every field), or a :data:`Columns` function chooses them from the header and a peek
    (:mod:`~qslogs.parsers.qvd_projection`: each field decoded alone, or a small file read whole), with
    the same columns as the whole read (tests compare them on every fixture).
    If qvdrs refuses a file whose header is sound (it rejects invalid UTF-8, for one), the fields are
    decoded here instead, and ``notes`` says so.
    """
    header = read_qvd_header(path)
    if columns is None:
        return _whole(path, header)
    from qslogs.parsers.qvd_projection import read_projected  # imported here: it builds on this module

    return read_projected(path, header, columns)


def _whole(path: str | Path, header: QvdHeader) -> QvdTable:
    """Every field: qvdrs decodes, then each column is checked and typed (:func:`_fix_column`)."""
    spath = str(path)
    try:
        raw: pl.DataFrame | None = qvd.read_qvd_to_polars(spath)
        refusal = ""
    except BaseException as exc:  # a Rust panic arrives as pyo3's PanicException, a BaseException
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        raw, refusal = None, f"qvdrs refused it ({exc}); decoded by qslogs instead"
    names = [field.name for field in header.fields]
    if raw is not None and (raw.height, raw.columns) != (header.no_of_records, names):
        raise QvdError(spath, f"qvdrs returned {raw.height} rows of {raw.columns}, the header says "
                       f"{header.no_of_records} rows of {names}")  # fmt: skip
    with open(path, "rb") as f:
        src = _Source(spath, header, f)
        src.notes += [refusal] if refusal else []
        try:
            fixed = [_fix_column(src, field, src.decode(field, False) if raw is None else raw[field.name])
                     for field in header.fields]  # fmt: skip
        except pl.exceptions.PolarsError as exc:  # e.g. a date serial beyond polars' range
            raise QvdError(spath, f"its values cannot be typed ({exc})") from exc
    frame = pl.DataFrame([col.alias(name) for (col, _), name in zip(fixed, names, strict=True)])
    kinds = {name: kind for (_, kind), name in zip(fixed, names, strict=True)}
    return QvdTable(spath, header, frame, kinds, tuple(src.notes))
