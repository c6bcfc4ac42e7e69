"""Projected QVD reads: only the fields asked for, with exactly the values and types of a whole read.

A QVD stores each field apart (its symbol table, its bits in each record), so a field can be decoded alone.
:func:`read_projected` does that for the fields a caller names, or that a :data:`~qslogs.parsers.qvd.Columns`
function chooses after a :class:`QvdPeek`: which fields read as plain numbers (from their symbol tables), and
the first rows of some fields. Decoding field by field in numpy pays only on larger files; a small one
(:data:`WHOLE_READ_BELOW`) is read whole by qvdrs and the chosen fields kept. Either way the columns equal
those of :func:`~qslogs.parsers.qvd.read_qvd` without projection (the tests compare them on every fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from qslogs.errors import QvdError
from qslogs.parsers.qvd import (
    _TEMPORAL,
    Columns,
    QvdTable,
    _fix_column,
    _numeric_verdict,
    _Source,
    _whole,
)
from qslogs.parsers.qvd_header import QvdField, QvdHeader

__all__ = ["WHOLE_READ_BELOW", "QvdPeek", "read_projected"]

#: Below this many bytes of index and symbol tables, a projected read reads the whole file (qvdrs is
#: quicker there than decoding field by field) and keeps the chosen fields: the result is the same.
WHOLE_READ_BELOW = 1_000_000


def read_projected(path: str | Path, header: QvdHeader, columns: Collection[str] | Columns) -> QvdTable:
    """The fields ``columns`` names (or chooses; None chooses all) of the QVD at ``path``, whose header is read."""
    if header.index_length + sum(field.length for field in header.fields) < WHOLE_READ_BELOW:
        table = _whole(path, header)
        wanted = columns(header, _table_peek(table)) if callable(columns) else columns
        return table if wanted is None else _select(table, wanted)
    with open(path, "rb") as f:
        src = _Source(str(path), header, f)
        wanted = columns(header, _source_peek(src)) if callable(columns) else columns
        if wanted is not None:
            return _projected(src, [field for field in header.fields if field.name in set(wanted)])
    return _whole(path, header)


@dataclass(frozen=True)
class QvdPeek:
    """A look at a QVD before choosing what to read: which fields read as numbers, and their first rows.

    On a large file both cost only a part of it (the fields' symbol tables, the first records of the index
    table) and give exactly what a whole read would: a field's type follows from its symbols, and each
    value from its own record. On a small file they look at the whole read.
    """

    is_number: Callable[[str], bool]
    """Whether the field reads as plain numbers (Int64/Float64)."""
    head: Callable[[Collection[str], int], pl.DataFrame]
    """The first rows of the named fields, typed as a whole read types them (header order)."""
    whole: bool = False
    """The file is read whole anyway (it is small): choosing fewer fields saves memory, not time."""


def _source_peek(src: _Source) -> QvdPeek:
    def head(names: Collection[str], rows: int) -> pl.DataFrame:
        src.limit = max(rows, 0)
        try:
            return _projected(src, [field for field in src.header.fields if field.name in set(names)]).frame
        finally:
            src.limit = None

    return QvdPeek(lambda name: _reads_as_number(src, _field(src.header, name)), head)


def _table_peek(table: QvdTable) -> QvdPeek:
    def is_number(name: str) -> bool:
        _field(table.header, name)
        return table.kinds[name] == "number" and table.frame.schema[name].is_numeric()

    return QvdPeek(is_number, lambda names, rows: _select(table, names).frame.head(rows), whole=True)


def _select(table: QvdTable, names: Collection[str]) -> QvdTable:
    """The table with only the named fields (header order)."""
    keep = [name for name in table.frame.columns if name in set(names)]
    return replace(table, frame=table.frame.select(keep), kinds={name: table.kinds[name] for name in keep})


def _field(header: QvdHeader, name: str) -> QvdField:
    """The header entry of the field called ``name`` (KeyError when there is none)."""
    found = next((field for field in header.fields if field.name == name), None)
    if found is None:
        raise KeyError(f"{header.table_name} has no field {name!r}")
    return found


def _projected(src: _Source, fields: list[QvdField]) -> QvdTable:
    """The chosen fields decoded by qslogs alone: no qvdrs call, which would decode every field."""
    try:
        fixed = [_fix_column(src, field, src.decode(field, False)) for field in fields]
    except pl.exceptions.PolarsError as exc:
        raise QvdError(src.path, f"its values cannot be typed ({exc})") from exc
    frame = pl.DataFrame([col.alias(field.name) for (col, _), field in zip(fixed, fields, strict=True)])
    kinds = {field.name: kind for (_, kind), field in zip(fixed, fields, strict=True)}
    return QvdTable(src.path, src.header, frame, kinds, tuple(dict.fromkeys(src.notes)))


def _reads_as_number(src: _Source, field: QvdField) -> bool:
    """Whether the field is read as plain numbers (Int64/Float64, kind ``number``), from its symbols alone.

    The same decision as :func:`_fix_column` on qslogs' own decoding: no temporal hint, at least one
    symbol, no pure-text symbol, and any dual text only spelling its number.
    """
    if field.kind in _TEMPORAL or not field.no_of_symbols:
        return False
    b, starts = src.symbols(field)
    return not (b[starts] == 4).any() and _numeric_verdict(src, field) == "number"
