"""The XML header of a QVD file (formats.md §8.1, §8.5), read and checked before any row is trusted.

Terminator, ``Compression``, field names and every offset inside the body are validated here, so a
damaged or mock file is refused with a :class:`~qslogs.errors.QvdError` naming what is wrong.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from qslogs.errors import QvdError

__all__ = ["FORMAT_KINDS", "QvdField", "QvdHeader", "read_qvd_header"]

_END_TAG = b"</QvdTableHeader>"
_CHUNK = 64 * 1024
_MAX_HEADER = 16 * 1024 * 1024
#: NumberFormat types that make a field temporal, and the kind each gives.
FORMAT_KINDS = {"DATE": "date", "TIMESTAMP": "timestamp", "TIME": "time", "INTERVAL": "interval"}
_TAG_KINDS = (("$date", "date"), ("$timestamp", "timestamp"), ("$time", "time"), ("$interval", "interval"))
_FIELD_INTS = ("BitOffset", "BitWidth", "Bias", "NoOfSymbols", "Offset", "Length")


@dataclass(frozen=True)
class QvdField:
    """One ``<QvdFieldHeader>``: where the field's bits and symbols are, and how Qlik formats it.

    ``kind`` is the hint from the header alone (§8.4 rules 1 and 2): ``date``, ``timestamp``, ``time``,
    ``interval``, else ``number`` (tag ``$numeric``), ``text`` (``$text``) or ``unknown``.
    """

    name: str
    bit_offset: int
    bit_width: int
    bias: int
    no_of_symbols: int
    offset: int
    length: int
    number_format_type: str
    number_format_fmt: str
    tags: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class QvdHeader:
    """The validated XML header of a QVD file; offsets count from ``body_offset`` (the byte after the NUL)."""

    table_name: str
    no_of_records: int
    record_byte_size: int
    qv_build_no: str | None
    creator_doc: str | None
    create_utc_time: str | None
    fields: tuple[QvdField, ...]
    body_offset: int
    index_offset: int
    index_length: int


def _text(elem: ET.Element, tag: str) -> str | None:
    child = elem.find(tag)
    return None if child is None else (child.text or "")


def _int(elem: ET.Element, tag: str, path: str, where: str = "") -> int:
    raw = _text(elem, tag)
    try:
        return int((raw or "").strip())
    except ValueError:
        shown = "missing" if raw is None else f"not a number ({raw!r})"
        raise QvdError(path, f"{where}<{tag}> in the XML header is {shown}") from None


def _hint(number_format_type: str, tags: tuple[str, ...]) -> str:
    """§8.4 rules 1 and 2: NumberFormat type first, then tags."""
    tagged = [kind for tag, kind in _TAG_KINDS if tag in tags]
    plain = "number" if "$numeric" in tags else "text" if "$text" in tags else "unknown"
    return FORMAT_KINDS.get(number_format_type) or (tagged[0] if tagged else plain)


def _read_header_bytes(f: BinaryIO, path: str) -> tuple[bytes, int]:
    """Read just the XML header (in chunks, capped) and return it with the body offset."""
    buf, search_from = bytearray(), 0
    while (pos := buf.find(_END_TAG, search_from)) < 0:
        if len(buf) > _MAX_HEADER:
            raise QvdError(path, f"no {_END_TAG.decode()} in the first {_MAX_HEADER // 2**20} MiB")
        chunk = f.read(_CHUNK)
        if not chunk:
            raise QvdError(path, f"no {_END_TAG.decode()} found: not a QVD file, or its header is truncated")
        search_from = max(0, len(buf) - len(_END_TAG) + 1)
        buf += chunk
    end = pos + len(_END_TAG)
    buf += f.read(max(0, end + 3 - len(buf)))
    for term in (b"\r\n\x00", b"\n\x00"):
        if buf.startswith(term, end):
            return bytes(buf[:end]), end + len(term)
    found = bytes(buf[end : end + 3])
    raise QvdError(path, f"the XML header is not followed by \\r\\n\\0 or \\n\\0 (found {found!r})")


def read_qvd_header(path: str | Path) -> QvdHeader:
    """Parse and validate the header of a QVD file, reading only the header bytes.

    Raises :class:`QvdError` naming the file and the problem: no terminator, bad XML, non-empty
    ``Compression``, a missing number, or an index/symbol region that does not fit the file.
    """
    spath = str(path)
    try:
        with open(path, "rb") as f:
            raw, body_offset = _read_header_bytes(f, spath)
            body_size = f.seek(0, 2) - body_offset
    except OSError as exc:
        raise QvdError(spath, f"cannot read it ({exc.strerror or exc})") from exc
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise QvdError(spath, "the XML header declares a DOCTYPE or entities, which Qlik never writes")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise QvdError(spath, f"the XML header does not parse ({exc})") from exc
    if root.tag != "QvdTableHeader":
        raise QvdError(spath, f"the XML root is <{root.tag}>, expected <QvdTableHeader>")
    if compression := (_text(root, "Compression") or "").strip():
        raise QvdError(spath, f"<Compression> is {compression!r}; only uncompressed QVDs exist and are read")
    n_rows, rbs = _int(root, "NoOfRecords", spath), _int(root, "RecordByteSize", spath)
    index_offset, index_length = _int(root, "Offset", spath), _int(root, "Length", spath)
    if min(n_rows, rbs, index_offset, index_length) < 0:
        raise QvdError(spath, "NoOfRecords, RecordByteSize, Offset and Length cannot be negative")
    if index_length != n_rows * rbs:
        raise QvdError(spath, f"index Length {index_length} != NoOfRecords {n_rows} x RecordByteSize {rbs}")
    if index_offset + index_length > body_size:
        raise QvdError(spath, f"the index table (Offset {index_offset} + Length {index_length}) ends beyond "
                       f"the {body_size}-byte body: the file is truncated or damaged")  # fmt: skip
    fields: list[QvdField] = []
    for elem in root.iterfind("Fields/QvdFieldHeader"):
        name = _text(elem, "FieldName") or ""
        where = f"field {name!r} "  # error messages name the field
        v = {k: _int(elem, k, spath, where) for k in _FIELD_INTS}
        if v["Bias"] not in (0, -2) or min(x for k, x in v.items() if k != "Bias") < 0:
            raise QvdError(spath, f"{where}has a negative size or offset, or a Bias other than 0 and -2")
        if v["Offset"] + v["Length"] > body_size:
            raise QvdError(spath, f"{where}symbol table (Offset {v['Offset']} + Length {v['Length']}) ends "
                           f"beyond the {body_size}-byte body: the file is truncated or damaged")  # fmt: skip
        if v["NoOfSymbols"] * 2 > v["Length"]:  # the smallest symbol (an empty string) takes 2 bytes
            raise QvdError(spath, f"{where}declares {v['NoOfSymbols']} symbols in a {v['Length']}-byte "
                           "symbol table: the header is damaged")  # fmt: skip
        if v["BitWidth"] and (v["BitOffset"] + v["BitWidth"] > rbs * 8 or v["BitWidth"] > 56):
            raise QvdError(spath, f"{where}bits {v['BitOffset']}+{v['BitWidth']} do not fit a {rbs}-byte row")
        fmt_type = (_text(elem, "NumberFormat/Type") or "").strip().upper() or "UNKNOWN"
        tags = tuple((s.text or "").strip() for s in elem.iterfind("Tags/String"))
        fields.append(QvdField(
            name, v["BitOffset"], v["BitWidth"], v["Bias"], v["NoOfSymbols"], v["Offset"], v["Length"],
            fmt_type, _text(elem, "NumberFormat/Fmt") or "", tags, _hint(fmt_type, tags)))  # fmt: skip
    names = [fl.name for fl in fields]
    if not fields or len(set(names)) != len(names):
        raise QvdError(spath, "the header lists no fields" if not fields else "two fields share a name")
    return QvdHeader(_text(root, "TableName") or "", n_rows, rbs, _text(root, "QvBuildNo"),
                     _text(root, "CreatorDoc"), _text(root, "CreateUtcTime"), tuple(fields), body_offset,
                     index_offset, index_length)  # fmt: skip
