"""Bytes → lines: the encoding traps shared by every text log (formats.md §4).

UTF-8 BOM, CRLF and ``\\r\\r\\n``, UTF-16 files converted by an editor, non-UTF-8 bytes (read as
Windows-1252 rather than dropped) and the ``Signature:`` trailer of rolled files are handled here once.
(Cutting overlong lines while reading is :mod:`qslogs.capped`, part of reading the bundle.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

_SIGNATURE = re.compile(r"^Signature:\t[0-9A-Fa-f]{40}\s*$")


@dataclass(frozen=True)
class DecodedText:
    """A file's text split into physical lines, with what had to be done to read it."""

    lines: list[str]
    """Physical lines without their line ends; a final empty line (file ending in a newline) is dropped."""
    encoding: str
    """``utf-8``, ``utf-16`` or ``windows-1252`` (the last when the bytes were not valid UTF-8)."""


def decode_text(data: bytes) -> DecodedText:
    """Decode a log file's bytes and split them into lines, never failing on bad bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding = data.decode("utf-16", errors="replace"), "utf-16"
    else:
        try:
            text, encoding = data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = data.decode("cp1252", errors="replace"), "windows-1252"
    lines = text.split("\n")
    if lines and lines[-1].strip("\r") == "":
        lines.pop()
    return DecodedText(lines=lines, encoding=encoding)


def is_signature_trailer(line: str) -> bool:
    """The ``Signature:<TAB><40 hex>`` line closing some rolled files: metadata, not a record."""
    return bool(_SIGNATURE.match(line.rstrip("\r")))


def fast_lines(data: bytes) -> pl.Series | None:
    """The physical lines of UTF-8 bytes split by polars' native reader, or None to take the Python path.

    Same lines as :func:`decode_text` (trailing CRs stripped, one BOM dropped, a
    final line end not starting another line, a last line of nothing but CRs dropped), about three
    times faster on large files. None when the bytes are empty, hold a NUL, start with a UTF-16 BOM or
    are not valid UTF-8: :func:`decode_text` handles those.
    """
    if not data or b"\x00" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    try:
        frame = pl.read_csv(data, has_header=False, separator="\x00", quote_char=None, new_columns=["line"],
                            infer_schema=False, encoding="utf8")
    except pl.exceptions.PolarsError:  # invalid UTF-8 (or nothing but a BOM)
        return None
    lines = frame.to_series().fill_null("").str.strip_chars_end("\r")
    last_nl = data.rfind(b"\n")
    tail = data[last_nl + 1:] if last_nl >= 0 else data.removeprefix(b"\xef\xbb\xbf")
    if tail and not tail.strip(b"\r"):
        lines = lines.head(-1)
    return lines
