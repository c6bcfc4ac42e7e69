"""Corruption corpus: deterministic, seeded mutations of real, sample and synthetic Qlik Sense bundles.

Why: bundles arrive truncated, re-zipped by hand, converted by editors, mixed with other files and
sometimes crafted. Each :class:`Case` writes one *small* bundle into a folder on demand (a mutated file
plus an intact companion, or a hostile zip or folder), so hundreds of cases run through the CLI in a
couple of minutes. Bases are files of ``../shared/fixtures/real`` (when present), of ``sample_data/bundle``
(when present) and synthetic files (always). ``random.Random(f"{SEED}:{case id}")`` drives every choice:
the same case id always gives the same bytes.

- :mod:`tests.corpus.files`: one mutated file per case (truncation, bit flips, header lines deleted or
  duplicated, mixed line endings, UTF-16/Latin-1, NUL bytes, empty and header-only files, records out of
  order, junk and overlong lines, a script log cut off mid-reload).
- :mod:`tests.corpus.bundles`: hostile containers (corrupt central directory, encrypted member, zip-slip
  names, zip bomb, lying sizes, unsupported compression, nested-zip loop, symlinks, FIFO, unreadable file,
  the same log twice, DST change and backwards timestamps, JSON dumps that are not JSON).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20261129
REPO = Path(__file__).resolve().parents[2]
REAL = REPO.parent / "shared" / "fixtures" / "real"
REAL_LOG = REAL / "logcollector-active-Log"
SAMPLE_BUNDLE = REPO / "sample_data" / "bundle"


@dataclass
class Built:
    """A bundle written to disk and what the robustness test must find when it reads it."""

    inputs: list[Path]
    """Paths given to the CLI."""
    expect_exit: int | None = 0
    """0 (output written) or 3 (unusable input); None when either is right for this mutation."""
    must_report: bool = False
    """The output must list bad input: bad lines, file issues, or an unknown/empty/error file."""
    logs: dict[str, bytes] = field(default_factory=dict)
    """Display path → bytes as written, of every log file whose physical lines must be accounted for."""
    incomplete_scripts: tuple[str, ...] = ()
    """Script logs cut off mid-reload: their outcome must be ``incomplete`` (never success)."""
    outside: tuple[Path, ...] = ()
    """Paths a broken reader could write to (zip-slip targets): they must not exist afterwards."""


@dataclass(frozen=True)
class Case:
    """One corpus entry: a stable id and the function that writes it."""

    id: str
    needs: str
    """``real``, ``sample`` or ``none``: which optional fixture folder the case reads."""
    build: Callable[[Path, random.Random], Built]

    def make(self, root: Path) -> Built:
        """Write the case under ``root`` (a fresh folder) with its own seeded generator."""
        return self.build(root, random.Random(f"{SEED}:{self.id}"))


def all_cases() -> list[Case]:
    """Every corpus case, file-level then bundle-level, in a fixed order."""
    from tests.corpus.bundles import bundle_cases
    from tests.corpus.files import file_cases

    return file_cases() + bundle_cases()


def write_huge_line_file(path: Path, head: bytes, size: int, *, tail: bytes = b"") -> Path:
    """``head``, one line of ``size`` bytes, then the records of ``tail``; streamed, never held in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = b"0123456789abcdef" * 65536  # 1 MiB
    with open(path, "wb") as fh:
        fh.write(head)
        written = 0
        while written < size:
            piece = block[: size - written]
            fh.write(piece)
            written += len(piece)
        if tail:
            fh.write(b"\r\n" + tail.split(b"\n", 1)[1])  # the tail file's records, without its header
    return path


def physical_lines(data: bytes) -> int:
    """Lines of a file as formats.md §4 counts them: split on LF; a last line that is empty (or only CRs,
    after the final newline) is not a line. UTF-16 files (BOM) are counted after decoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        lines = data.decode("utf-16", errors="replace").split("\n")
        return len(lines) - (1 if lines[-1].strip("\r") == "" else 0)
    parts = data.split(b"\n")
    return len(parts) - (1 if parts[-1].strip(b"\r") == b"" else 0)
