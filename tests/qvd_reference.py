"""An independent, deliberately simple QVD decoder, written straight from formats.md §8.

Test-only: it decodes byte by byte and row by row, with no polars and no qvdrs, so that the production
reader (qvdrs plus :mod:`qslogs.parsers.qvd`) can be compared with it cell by cell.  It is slow on purpose
and must stay obviously correct; never import it from ``qslogs``.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

NULL = None


@dataclass(frozen=True)
class RefSymbol:
    """One symbol: its type byte, its number (None for a string) and its text (None for a plain number)."""

    kind: int
    number: int | float | None
    text: str | None


@dataclass(frozen=True)
class RefField:
    """A field header plus its decoded symbol table and its per-row symbol (None = NULL)."""

    name: str
    bit_offset: int
    bit_width: int
    bias: int
    number_format_type: str
    tags: tuple[str, ...]
    symbols: tuple[RefSymbol, ...]
    cells: tuple[RefSymbol | None, ...]


@dataclass(frozen=True)
class RefTable:
    """A whole decoded QVD."""

    table_name: str
    no_of_records: int
    fields: tuple[RefField, ...]


def _text(elem: ET.Element, tag: str, default: str = "") -> str:
    child = elem.find(tag)
    return default if child is None or child.text is None else child.text


def _read_cstring(body: bytes, pos: int) -> tuple[str, int]:
    end = body.index(b"\x00", pos)
    return body[pos:end].decode("utf-8", errors="replace"), end + 1


def decode_symbols(region: bytes, count: int) -> tuple[RefSymbol, ...]:
    """Decode ``count`` symbols from one field's symbol region (§8.2)."""
    out: list[RefSymbol] = []
    pos = 0
    for _ in range(count):
        kind = region[pos]
        pos += 1
        if kind == 1:
            (num,) = struct.unpack_from("<i", region, pos)
            pos += 4
            out.append(RefSymbol(1, num, None))
        elif kind == 2:
            (dbl,) = struct.unpack_from("<d", region, pos)
            pos += 8
            out.append(RefSymbol(2, dbl, None))
        elif kind == 4:
            text, pos = _read_cstring(region, pos)
            out.append(RefSymbol(4, None, text))
        elif kind == 5:
            (num,) = struct.unpack_from("<i", region, pos)
            text, pos = _read_cstring(region, pos + 4)
            out.append(RefSymbol(5, num, text))
        elif kind == 6:
            (dbl,) = struct.unpack_from("<d", region, pos)
            text, pos = _read_cstring(region, pos + 8)
            out.append(RefSymbol(6, dbl, text))
        else:
            raise ValueError(f"unknown symbol type {kind:#x} at {pos - 1}")
    if pos != len(region):
        raise ValueError(f"symbol region has {len(region) - pos} unread bytes")
    return tuple(out)


def decode(path: str | Path) -> RefTable:
    """Decode a whole QVD file into a :class:`RefTable` (raises ValueError on anything odd)."""
    data = Path(path).read_bytes()
    end_tag = data.index(b"</QvdTableHeader>") + len(b"</QvdTableHeader>")
    if data[end_tag : end_tag + 3] == b"\r\n\x00":
        body_start = end_tag + 3
    elif data[end_tag : end_tag + 2] == b"\n\x00":
        body_start = end_tag + 2
    else:
        raise ValueError("no header terminator")
    root = ET.fromstring(data[:end_tag])
    body = data[body_start:]
    n_rows = int(_text(root, "NoOfRecords"))
    rbs = int(_text(root, "RecordByteSize"))
    idx_off = int(_text(root, "Offset"))
    index = body[idx_off : idx_off + n_rows * rbs]
    if len(index) != n_rows * rbs:
        raise ValueError("index table truncated")
    rows = [int.from_bytes(index[r * rbs : (r + 1) * rbs], "little") for r in range(n_rows)]

    fields: list[RefField] = []
    for fh in root.iter("QvdFieldHeader"):
        off, length = int(_text(fh, "Offset")), int(_text(fh, "Length"))
        n_sym = int(_text(fh, "NoOfSymbols"))
        symbols = decode_symbols(body[off : off + length], n_sym)
        bit_offset, bit_width, bias = (int(_text(fh, k)) for k in ("BitOffset", "BitWidth", "Bias"))
        cells: list[RefSymbol | None] = []
        for row in rows:
            stored = (row >> bit_offset) & ((1 << bit_width) - 1) if bit_width else 0
            idx = stored + bias
            if idx < 0:
                cells.append(NULL)
            elif idx >= n_sym:
                raise ValueError(f"symbol index {idx} >= {n_sym} in field {_text(fh, 'FieldName')}")
            else:
                cells.append(symbols[idx])
        tags_elem = fh.find("Tags")
        tags = tuple(s.text or "" for s in tags_elem.iter("String")) if tags_elem is not None else ()
        nf = fh.find("NumberFormat")
        fields.append(
            RefField(
                name=_text(fh, "FieldName"),
                bit_offset=bit_offset,
                bit_width=bit_width,
                bias=bias,
                number_format_type=_text(nf, "Type") if nf is not None else "",
                tags=tags,
                symbols=symbols,
                cells=tuple(cells),
            )
        )
    return RefTable(_text(root, "TableName"), n_rows, tuple(fields))
