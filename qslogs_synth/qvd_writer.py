"""Write real-format QVD files (formats.md §8) from polars frames: sample data and benchmark inputs.

The output is what a Qlik Sense build writes: the XML header laid out as Qlik lays it out (``QvBuildNo``,
``CreatorDoc``, ``CreateUtcTime``, ``NumberFormat`` and ``Tags`` per field), ``\\r\\n\\0``, the symbol tables
(types 1/2/4/5/6) and the bit-packed little-endian index table with ``Bias=-2`` for NULLs.  Everything that
scales with the row count is done with numpy/polars, so two million rows write in a few seconds.

Dtype mapping used by :func:`write_qvd`:

============================  ==========================================================================
frame dtype                   QVD symbols, ``NumberFormat/Type`` and tags
============================  ==========================================================================
String, Categorical, Enum     type 4 text; tags ``$text`` (plus ``$ascii`` when every value is ASCII)
Int*/UInt*, Boolean           type 1 int (type 2 double outside int32); ``INTEGER``; ``$numeric $integer``
Float*                        type 2 double (NaN is written as NULL); ``$numeric``
Date                          type 5 dual (day serial, ``YYYY-MM-DD``); ``DATE``; ``$numeric $integer $date``
Datetime (zone dropped)       type 6 dual (serial, ``YYYY-MM-DD hh:mm:ss[.fff]``); ``TIMESTAMP``;
                              ``$numeric $timestamp``
Time                          type 6 dual (fraction of a day, ``hh:mm:ss``); ``TIME``; ``$numeric``
Duration                      type 6 dual (days, ``hh:mm:ss``); ``INTERVAL``; ``$numeric``
Null                          no symbols; every row NULL
============================  ==========================================================================

``number_formats`` overrides the ``NumberFormat/Type`` of named fields (``MONEY``, ``FIX``, ``REAL``,
``ASCII``, …: Qlik writes them over the same symbol types), and ``old_header=True`` writes the header of
QlikView 11 builds (``QvBuildNo`` 7314: no ``Comment``, ``Tags`` or ``Lineage``, ``Type`` ``0``).
:func:`qslogs_synth.qvd_types.every_field_type` builds one table holding every field type Qlik writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

#: Day serial of 1970-01-01 (serials count days since 1899-12-30).
UNIX_EPOCH_SERIAL = 25569
_US_PER_DAY = 86_400_000_000
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1

_FMT = {"DATE": "YYYY-MM-DD", "TIMESTAMP": "YYYY-MM-DD hh:mm:ss[.fff]", "TIME": "hh:mm:ss",
        "INTERVAL": "hh:mm:ss", "INTEGER": "###0"}  # fmt: skip


@dataclass(frozen=True)
class QvdColumn:
    """One field ready to be written: its encoded symbol table, per-row symbol codes and header metadata.

    ``codes`` holds one symbol index per row, ``-1`` for NULL.  Build one by hand (with
    :func:`pack_symbols`) to write unusual files for tests: mixed symbol types, duals whose text differs
    from their number, dates stored as plain ints.
    """

    name: str
    symbols: bytes
    n_symbols: int
    codes: np.ndarray
    number_format: str = "UNKNOWN"
    tags: tuple[str, ...] = ()


def pack_symbols(kind: int, numbers: np.ndarray | None = None, texts: pl.Series | None = None) -> bytes:
    """Encode one symbol table in which every symbol has type ``kind`` (1, 2, 4, 5 or 6; formats.md §8.2).

    ``numbers`` are int32 values (types 1, 5) or float64 values (2, 6); ``texts`` are the strings (4, 5, 6),
    written as UTF-8 plus a NUL.  Vectorised: numpy lays out the fixed part, Arrow appends the texts.
    """
    width = {1: 4, 2: 8, 4: 0, 5: 4, 6: 8}[kind]
    if (width > 0) != (numbers is not None) or (kind in (4, 5, 6)) != (texts is not None):
        need = " and ".join(w for w, on in (("numbers", width > 0), ("texts", kind > 2)) if on)
        raise ValueError(f"symbol type {kind} needs {need}")
    count = len(texts) if texts is not None else len(numbers) if numbers is not None else 0
    if count == 0:
        return b""
    if texts is not None and (texts.null_count() or texts.str.contains("\x00", literal=True).any()):
        raise ValueError("QVD symbol texts cannot be null or contain NUL characters")
    prefix: pa.Array | pa.Scalar = pa.scalar(bytes([kind]), pa.large_binary())
    if numbers is not None:
        if width == 4 and len(numbers) and (numbers.min() < _INT32_MIN or numbers.max() > _INT32_MAX):
            raise ValueError(f"symbol type {kind} holds int32 numbers only")
        fixed = np.empty(count, dtype=[("t", "u1"), ("v", "<i4" if width == 4 else "<f8")])
        fixed["t"], fixed["v"] = kind, numbers
        if texts is None:
            return fixed.tobytes()
        raw = pa.py_buffer(fixed.tobytes())
        prefix = pa.FixedSizeBinaryArray.from_buffers(pa.binary(1 + width), count, [None, raw])
        prefix = prefix.cast(pa.large_binary())
    assert texts is not None
    joined = pc.binary_join_element_wise(
        prefix,
        texts.rechunk().to_arrow().cast(pa.large_binary()),
        pa.scalar(b"\x00", pa.large_binary()),
        pa.scalar(b"", pa.large_binary()),  # the separator: none
    )
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)
    start, stop = offsets[joined.offset], offsets[joined.offset + count]
    return memoryview(joined.buffers()[2])[start:stop].tobytes()


def _codes(series: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """Distinct non-null values and per-row symbol codes (-1 = NULL).

    Numbers and temporals get sorted symbols via a dense rank (fast); strings keep first-appearance
    order, as Qlik writes them, via a join (a dense rank on strings is much slower).
    """
    if series.dtype == pl.String:
        uniq = series.drop_nulls().unique(maintain_order=True)
        lookup = pl.DataFrame({"v": uniq, "c": pl.int_range(len(uniq), eager=True, dtype=pl.Int64)})
        joined = series.rename("v").to_frame().join(lookup, on="v", how="left", maintain_order="left")
        return uniq, joined["c"].fill_null(-1).to_numpy()
    uniq = series.drop_nulls().unique().sort()
    codes = (series.rank("dense").cast(pl.Int64) - 1).fill_null(-1).to_numpy()
    return uniq, codes


def _serial_text_column(name: str, series: pl.Series, fmt_type: str) -> QvdColumn:
    """Temporal column → type 6 duals (serial number + display text) with the matching NumberFormat."""
    uniq, codes = _codes(series)
    if fmt_type == "TIMESTAMP":
        serials = uniq.dt.epoch("us").to_numpy().astype(np.float64) / _US_PER_DAY + UNIX_EPOCH_SERIAL
        texts = uniq.dt.strftime("%Y-%m-%d %H:%M:%S%.3f").str.strip_suffix(".000")
        tags: tuple[str, ...] = ("$numeric", "$timestamp")
    elif fmt_type == "TIME":
        serials = uniq.cast(pl.Int64).to_numpy() / (_US_PER_DAY * 1000)
        texts, tags = uniq.dt.strftime("%H:%M:%S"), ("$numeric",)
    else:  # INTERVAL
        us = uniq.dt.total_microseconds()
        serials = us.to_numpy().astype(np.float64) / _US_PER_DAY
        secs = us.abs() // 1_000_000
        texts = pl.select(
            pl.concat_str(
                pl.when(us < 0).then(pl.lit("-")).otherwise(pl.lit("")),
                (secs // 3600).cast(pl.String).str.zfill(2), pl.lit(":"),
                (secs // 60 % 60).cast(pl.String).str.zfill(2), pl.lit(":"),
                (secs % 60).cast(pl.String).str.zfill(2),
            )
        ).to_series()
        tags = ("$numeric",)
    symbols = pack_symbols(6, serials, texts)
    return QvdColumn(name, symbols, len(uniq), codes, fmt_type, tags)


def frame_column(name: str, series: pl.Series, *, as_date: bool = False) -> QvdColumn:
    """Encode one frame column as a QVD field (see the module docstring for the dtype mapping).

    ``as_date`` writes an integer column of day serials as plain type-1 ints with ``NumberFormat`` DATE and
    no tags (as Qlik Sense 2017 wrote ``BirthDate``), and a Datetime or ISO-date String column as dates.
    """
    dtype = series.dtype
    if as_date and dtype.is_integer():
        uniq, codes = _codes(series.cast(pl.Int64))
        return QvdColumn(name, pack_symbols(1, uniq.to_numpy()), len(uniq), codes, "DATE")
    if as_date and dtype == pl.String:
        series = series.str.to_date("%Y-%m-%d")
    elif as_date and isinstance(dtype, pl.Datetime):
        if (series.dt.truncate("1d") != series).any():
            raise ValueError(f"date field {name!r} has values with a time of day")
        series = series.dt.date()
    elif as_date and dtype != pl.Date:
        raise ValueError(f"cannot write {name!r} ({dtype}) as a date field")
    dtype = series.dtype
    if dtype == pl.Null:
        return QvdColumn(name, b"", 0, np.full(len(series), -1, dtype=np.int64))
    if isinstance(dtype, pl.Categorical | pl.Enum):
        series = series.cast(pl.String)
    if series.dtype == pl.String:
        uniq, codes = _codes(series)
        ascii_only = bool(uniq.str.contains(r"^[\x00-\x7f]*$").all())
        tags = ("$ascii", "$text") if ascii_only else ("$text",)
        return QvdColumn(name, pack_symbols(4, texts=uniq), len(uniq), codes, "UNKNOWN", tags)
    if dtype == pl.Boolean or dtype.is_integer():
        uniq, codes = _codes(series.cast(pl.Int64))
        values = uniq.to_numpy()
        in_range = len(values) == 0 or (values.min() >= _INT32_MIN and values.max() <= _INT32_MAX)
        symbols = pack_symbols(1, values) if in_range else pack_symbols(2, values.astype(np.float64))
        return QvdColumn(name, symbols, len(uniq), codes, "INTEGER", ("$numeric", "$integer"))
    if dtype.is_float():
        uniq, codes = _codes(series.cast(pl.Float64).fill_nan(None) + 0.0)  # + 0.0: -0.0 → 0.0
        return QvdColumn(name, pack_symbols(2, uniq.to_numpy()), len(uniq), codes, "UNKNOWN", ("$numeric",))
    if dtype == pl.Date:
        uniq, codes = _codes(series)
        serials = uniq.cast(pl.Int32).to_numpy().astype(np.int64) + UNIX_EPOCH_SERIAL
        symbols = pack_symbols(5, serials, uniq.dt.strftime("%Y-%m-%d"))
        return QvdColumn(name, symbols, len(uniq), codes, "DATE", ("$numeric", "$integer", "$date"))
    if isinstance(dtype, pl.Datetime):
        naive = series.dt.replace_time_zone(None) if dtype.time_zone else series
        return _serial_text_column(name, naive, "TIMESTAMP")
    if dtype == pl.Time:
        return _serial_text_column(name, series, "TIME")
    if isinstance(dtype, pl.Duration):
        return _serial_text_column(name, series, "INTERVAL")
    raise ValueError(f"cannot write column {name!r} of dtype {dtype} to a QVD")


def _layout(columns: Sequence[QvdColumn], n_rows: int) -> tuple[list[tuple[int, int, int]], int, bytes]:
    """Bit-pack the index table: (BitOffset, BitWidth, Bias) per field, RecordByteSize, the packed rows."""
    layout: list[tuple[int, int, int]] = []
    offset = 0
    for col in columns:
        has_null = n_rows > 0 and (col.n_symbols == 0 or bool((col.codes < 0).any()))
        if has_null:
            width, bias = max(2, (col.n_symbols + 1).bit_length()), -2
        else:
            width, bias = (0 if col.n_symbols <= 1 else (col.n_symbols - 1).bit_length()), 0
        layout.append((offset if width else 0, width, bias))
        offset += width
    rbs = (offset + 7) // 8
    words = np.zeros((n_rows, (offset + 63) // 64 or 1), dtype="<u8")
    for col, (bit_offset, width, bias) in zip(columns, layout, strict=True):
        if width == 0:
            continue
        stored = np.where(col.codes < 0, 0, col.codes - bias).astype(np.uint64)
        word, shift = divmod(bit_offset, 64)
        words[:, word] |= stored << np.uint64(shift)
        if shift + width > 64:
            words[:, word + 1] |= stored >> np.uint64(64 - shift)
    index = words.view(np.uint8).reshape(n_rows, words.shape[1] * 8)[:, :rbs].tobytes()
    return layout, rbs, index


def _field_xml(col: QvdColumn, layout: tuple[int, int, int], offset: int, old_header: bool = False) -> str:
    """One ``<QvdFieldHeader>`` element, indented and ordered as Qlik writes it (``old_header``: QlikView 11)."""
    bit_offset, width, bias = layout
    tags = "".join(f"\r\n         <String>{escape(t)}</String>" for t in col.tags)
    if old_header:
        return (
            "     <QvdFieldHeader>\r\n"
            f"       <FieldName>{escape(col.name)}</FieldName>\r\n"
            f"       <BitOffset>{bit_offset}</BitOffset>\r\n"
            f"       <BitWidth>{width}</BitWidth>\r\n"
            f"       <Bias>{bias}</Bias>\r\n"
            "       <NumberFormat>\r\n"
            "         <Type>0</Type>\r\n"
            "         <nDec>0</nDec>\r\n"
            "         <UseThou>0</UseThou>\r\n"
            "       </NumberFormat>\r\n"
            f"       <NoOfSymbols>{col.n_symbols}</NoOfSymbols>\r\n"
            f"       <Offset>{offset}</Offset>\r\n"
            f"       <Length>{len(col.symbols)}</Length>\r\n"
            "     </QvdFieldHeader>\r\n"
        )
    return (
        "     <QvdFieldHeader>\r\n"
        f"       <FieldName>{escape(col.name)}</FieldName>\r\n"
        f"       <BitOffset>{bit_offset}</BitOffset>\r\n"
        f"       <BitWidth>{width}</BitWidth>\r\n"
        f"       <Bias>{bias}</Bias>\r\n"
        "       <NumberFormat>\r\n"
        f"         <Type>{col.number_format}</Type>\r\n"
        "         <nDec>0</nDec>\r\n"
        "         <UseThou>0</UseThou>\r\n"
        f"         <Fmt>{escape(_FMT.get(col.number_format, ''))}</Fmt>\r\n"
        "         <Dec></Dec>\r\n"
        "         <Thou></Thou>\r\n"
        "       </NumberFormat>\r\n"
        f"       <NoOfSymbols>{col.n_symbols}</NoOfSymbols>\r\n"
        f"       <Offset>{offset}</Offset>\r\n"
        f"       <Length>{len(col.symbols)}</Length>\r\n"
        "       <Comment></Comment>\r\n"
        f"       <Tags>{tags}{chr(13) + chr(10) + '       ' if tags else ''}</Tags>\r\n"
        "     </QvdFieldHeader>\r\n"
    )


def write_qvd_columns(
    path: str | Path,
    columns: Sequence[QvdColumn],
    table_name: str,
    *,
    creator_doc: str = "qslogs-synth",
    create_utc_time: datetime | None = None,
    qv_build_no: str = "50689",
    old_header: bool = False,
) -> None:
    """Write already-encoded fields as one QVD file (header, ``\\r\\n\\0``, symbol tables, index table).

    ``old_header`` writes a QlikView 11 header (no Comment, Tags, Lineage or recent elements; Type ``0``).
    """
    n_rows = len(columns[0].codes) if columns else 0
    for col in columns:
        if len(col.codes) != n_rows:
            raise ValueError(f"field {col.name!r} has {len(col.codes)} rows, expected {n_rows}")
        if len(col.codes) and col.codes.max() >= col.n_symbols:
            raise ValueError(f"field {col.name!r} refers to a symbol beyond its {col.n_symbols} symbols")
    layout, rbs, index = _layout(columns, n_rows)
    offsets = np.cumsum([0] + [len(c.symbols) for c in columns]).tolist()
    stamp = (create_utc_time or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S")
    header = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        " <QvdTableHeader>\r\n"
        f"   <QvBuildNo>{escape(qv_build_no)}</QvBuildNo>\r\n"
        f"   <CreatorDoc>{escape(creator_doc)}</CreatorDoc>\r\n"
        f"   <CreateUtcTime>{stamp}</CreateUtcTime>\r\n"
        "   <SourceCreateUtcTime></SourceCreateUtcTime>\r\n"
        "   <SourceFileUtcTime></SourceFileUtcTime>\r\n"
        "   <SourceFileSize>-1</SourceFileSize>\r\n"
        "   <StaleUtcTime></StaleUtcTime>\r\n"
        f"   <TableName>{escape(table_name)}</TableName>\r\n"
        "   <Fields>\r\n"
        + "".join(_field_xml(c, lay, off, old_header) for c, lay, off in zip(columns, layout, offsets, strict=False))
        + "   </Fields>\r\n"
        "   <Compression></Compression>\r\n"
        f"   <RecordByteSize>{rbs}</RecordByteSize>\r\n"
        f"   <NoOfRecords>{n_rows}</NoOfRecords>\r\n"
        f"   <Offset>{offsets[-1]}</Offset>\r\n"
        f"   <Length>{len(index)}</Length>\r\n"
    )
    if old_header:
        header += " </QvdTableHeader>\r\n\x00"
    else:
        header += (
            "   <Lineage>\r\n"
            "     <LineageInfo>\r\n"
            "       <Discriminator>AUTOGENERATE;</Discriminator>\r\n"
            "       <Statement></Statement>\r\n"
            "     </LineageInfo>\r\n"
            "   </Lineage>\r\n"
            "   <Comment></Comment>\r\n"
            "   <EncryptionInfo></EncryptionInfo>\r\n"
            "   <TableTags></TableTags>\r\n"
            "   <ProfilingData></ProfilingData>\r\n"
            " </QvdTableHeader>\r\n\x00"
        )
    with open(path, "wb") as out:
        out.write(header.encode("utf-8"))
        for col in columns:
            out.write(col.symbols)
        out.write(index)


def write_qvd(
    path: str | Path,
    frame: pl.DataFrame,
    table_name: str,
    *,
    date_fields: Sequence[str] = (),
    number_formats: Mapping[str, str] | None = None,
    creator_doc: str = "qslogs-synth",
    create_utc_time: datetime | None = None,
    old_header: bool = False,
    qv_build_no: str = "50689",
) -> None:
    """Write ``frame`` as a QVD file named ``table_name`` (dtype mapping in the module docstring).

    ``date_fields`` names columns to write as DATE fields although their dtype is not ``Date``: integer
    day serials (plain ints, NumberFormat DATE, no tags), midnight Datetimes and ISO-date strings.  Pass
    ``create_utc_time`` for byte-identical output across runs (it defaults to now, as Qlik writes it).
    """
    formats = dict(number_formats or {})
    unknown = (set(date_fields) | set(formats)) - set(frame.columns)
    if unknown:
        raise ValueError(f"date_fields/number_formats not in the frame: {sorted(unknown)}")
    columns = [frame_column(name, frame[name], as_date=name in date_fields) for name in frame.columns]
    columns = [replace(c, number_format=formats[c.name]) if c.name in formats else c for c in columns]
    write_qvd_columns(path, columns, table_name, creator_doc=creator_doc, create_utc_time=create_utc_time,
                      old_header=old_header, qv_build_no=qv_build_no)

