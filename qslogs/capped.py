"""Reading a file with every overlong line cut, in bounded memory (the bundle's line limit).

A hostile or corrupt file can hold a line of hundreds of megabytes; :func:`cap_lines` keeps at most a
limit's worth of each line while streaming, so such a file costs bounded memory, and says which lines
it cut (the parsers then report them with their numbers). This is part of reading, owned by
:mod:`qslogs.bundle` (``Member.read_capped``), not of parsing.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass
from typing import IO


@dataclass(frozen=True)
class CappedRead:
    """A file's bytes with overlong lines cut, and which lines were cut."""

    data: bytes
    cut_lines: tuple[int, ...]
    """1-based physical numbers of the lines that were cut."""


_CHUNK = 1024**2


def cap_lines(stream: IO[bytes], keep: int, max_bytes: int) -> CappedRead:
    """Read a stream, keeping at most ``keep`` bytes of each line, in bounded memory.

    A line without a newline of any length (a corrupt or hostile file) costs ``keep`` bytes plus one
    chunk, not its own size. The cut is made on a character boundary (UTF-8, or UTF-16 with a BOM), and
    with ``keep`` = 4 × (max characters + 2) the kept part is still longer than the character limit, so
    the parser sees an overlong line and reports it with its line number. Raises ValueError past
    ``max_bytes``.
    """
    chunk_size = max(2, min(_CHUNK, keep) // 2 * 2)  # even, and never longer than a kept line
    chunk = _read_full(stream, chunk_size)
    nl = b"\n\x00" if chunk.startswith(b"\xff\xfe") else b"\x00\n" if chunk.startswith(b"\xfe\xff") else b"\n"
    out = bytearray()
    lines = _LineCounter(nl)
    current, total = 0, 0
    while chunk:
        total += len(chunk)
        if total > max_bytes:
            raise ValueError(f"file grows beyond the {max_bytes:,}-byte limit while reading")
        view = memoryview(chunk)
        first = _find(chunk, nl, 0)
        if first < 0:
            current = _extend(out, view, current, keep, lines)
        else:
            _extend(out, view[:first], current, keep, lines)
            # Whole lines inside one chunk are shorter than `keep`: the rest is copied as it is.
            out += view[first:]
            last = _rfind(chunk, nl, first + len(nl))
            current = len(chunk) - (max(first, last) + len(nl))
        chunk = _read_full(stream, chunk_size)
    return CappedRead(bytes(out), tuple(lines.cut))


class _LineCounter:
    """Line numbers of cut lines, counted only when a line is cut (newlines counted once, as they come)."""

    def __init__(self, nl: bytes) -> None:
        self.nl = nl
        self.cut: list[int] = []
        self._counted = 0
        self._line_no = 1

    def note_cut(self, out: bytearray) -> None:
        """Note the line at the end of ``out`` as cut (once); the first time, end it on a whole character."""
        self._line_no += _count(out, self.nl, self._counted, len(out))
        if not self.cut or self.cut[-1] != self._line_no:
            _drop_partial_char(out, self.nl)
            self.cut.append(self._line_no)
        self._counted = len(out)


def _read_full(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    while data and len(data) < size and (more := stream.read(size - len(data))):
        data += more
    return data


def _find(chunk: bytes, nl: bytes, start: int) -> int:
    i = chunk.find(nl, start)
    while i >= 0 and len(nl) == 2 and i % 2:  # UTF-16: a newline only at an even offset
        i = chunk.find(nl, i + 1)
    return i


def _rfind(chunk: bytes, nl: bytes, start: int) -> int:
    i = chunk.rfind(nl, start)
    while i >= start and len(nl) == 2 and i % 2:
        i = chunk.rfind(nl, start, i + 1)
    return i


def _count(chunk: bytes | bytearray, nl: bytes, start: int, end: int) -> int:
    if len(nl) == 1:
        return chunk.count(nl, start, end)
    return array("H", chunk[start:end]).count(int.from_bytes(nl, sys.byteorder))


def _extend(out: bytearray, seg: memoryview, current: int, keep: int, lines: _LineCounter) -> int:
    """Append a piece of the current line, up to ``keep`` bytes of it; note the line when it is cut."""
    after = current + len(seg)
    if after <= keep:
        out += seg
        return after
    if current < keep:
        out += seg[: keep - current]
    lines.note_cut(out)
    return after


def _drop_partial_char(out: bytearray, nl: bytes) -> None:
    """Drop an incomplete character at the end of a cut line, so the rest of the file still decodes."""
    if len(nl) == 2:
        high = out[-1] if nl == b"\n\x00" else out[-2]
        if 0xD8 <= high <= 0xDB:  # a UTF-16 high surrogate without its pair
            del out[-2:]
        return
    for back in range(1, 4):
        byte = out[-back]
        if byte & 0xC0 == 0xC0:  # lead byte of a multi-byte UTF-8 sequence
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            if back < need:
                del out[-back:]
            return
        if byte & 0xC0 != 0x80:
            return
