"""One QVD table holding every field type Qlik writes (formats.md §8.2, §8.4), for tests of every output path.

Hand-built with :func:`~qslogs_synth.qvd_writer.pack_symbols`, because several types only occur as Qlik
writes them: duals whose text is not their number, dates stored as plain ints, fields mixing symbol types,
an all-NULL field without symbols. Write it with :func:`~qslogs_synth.qvd_writer.write_qvd_columns`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from qslogs_synth.qvd_writer import QvdColumn, pack_symbols


def _column(name: str, symbols: bytes, n_symbols: int, codes: list[int], fmt: str,
            tags: tuple[str, ...] = ()) -> QvdColumn:
    return QvdColumn(name, symbols, n_symbols, np.array(codes, dtype=np.int64), fmt, tags)


def every_field_type() -> list[QvdColumn]:
    """Four rows in one field per type Qlik writes (formats.md §8.2, §8.4), for tests of every output path.

    ``DATE`` as duals and as plain ints, ``TIMESTAMP``, ``TIME`` (with a NULL), ``INTERVAL`` (negative and
    over a day), ``MONEY`` and ``FIX`` duals whose text is not the number, ``REAL`` doubles (one huge),
    ``INTEGER``, ``ASCII`` text, ``UNKNOWN`` mixing every symbol type, dual ids with leading zeros,
    non-ASCII text and an all-NULL field without symbols.
    """
    def f64(values: list[float]) -> np.ndarray:
        return np.array(values, dtype=np.float64)

    def i32(values: list[int]) -> np.ndarray:
        return np.array(values, dtype=np.int64)

    def text(*values: str) -> pl.Series:
        return pl.Series(list(values), dtype=pl.String)

    return [
        _column("DateDual", pack_symbols(5, i32([45000, 45001]), text("2023-03-15", "2023-03-16")), 2,
                [0, 1, -1, 0], "DATE", ("$numeric", "$integer", "$date")),
        _column("DatePlain", pack_symbols(1, i32([33857, -1])), 2, [0, 1, 0, 1], "DATE"),
        _column("Timestamp", pack_symbols(6, f64([45000.5, 45000.0000810185]),
                                          text("2023-03-15 12:00:00", "2023-03-15 00:00:07")), 2,
                [0, 1, 1, -1], "TIMESTAMP", ("$numeric", "$timestamp")),
        _column("Time", pack_symbols(6, f64([0.5, 0.2500115741]), text("12:00:00", "06:00:01")), 2,
                [0, 1, -1, 0], "TIME", ("$numeric", "$time")),
        _column("Interval", pack_symbols(6, f64([1.5, -0.25]), text("36:00:00", "-06:00:00")), 2,
                [0, 1, 0, -1], "INTERVAL", ("$numeric", "$interval")),
        _column("Money", pack_symbols(6, f64([9.5, 1234.25]), text("$9.50", "$1,234.25")), 2,
                [0, 1, 0, 1], "MONEY", ("$numeric",)),
        _column("Fix", pack_symbols(6, f64([3.14159, 2.0]), text("3.14", "2.00")), 2, [0, 1, 1, 0], "FIX",
                ("$numeric",)),
        _column("Real", pack_symbols(2, f64([1.5, -0.125, 1e300])), 3, [0, 1, 2, -1], "REAL", ("$numeric",)),
        _column("Integer", pack_symbols(1, i32([1, -4, 2_000_000_000])), 3, [0, 1, 2, 0], "INTEGER",
                ("$numeric", "$integer")),
        _column("Ascii", pack_symbols(4, texts=text("a", "NULL", "")), 3, [0, 1, 2, 0], "ASCII",
                ("$ascii", "$text")),
        _column("Unknown", pack_symbols(4, texts=text("x")) + pack_symbols(1, i32([7]))
                + pack_symbols(2, f64([2.5])) + pack_symbols(5, i32([901]), text("0901")), 4, [0, 1, 2, 3],
                "UNKNOWN"),
        _column("DualId", pack_symbols(5, i32([901, 7]), text("0901", "7.0")), 2, [0, 1, 0, 1], "UNKNOWN",
                ("$numeric", "$integer")),
        _column("NonAscii", pack_symbols(4, texts=text("Åsa Öberg", "東京")), 2, [0, 1, -1, 1], "UNKNOWN",
                ("$text",)),
        _column("AllNull", b"", 0, [-1, -1, -1, -1], "UNKNOWN"),
    ]
