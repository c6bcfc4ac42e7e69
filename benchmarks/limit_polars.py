"""The raw-parsing limit: polars reads every tab-separated log of an unzipped bundle as strings.

    .venv/bin/python benchmarks/limit_polars.py benchmarks/data/b100/bundle

The same files as ``baseline_pandas.py`` (every ``*.txt`` / ``*.log`` except script logs, access logs
and the collector's own log), each read with ``pl.read_csv(separator="\\t", quote_char=None,
infer_schema=False)``: the header line gives the column count and is not a record, every column is a
string, ``encoding="utf8-lossy"`` reads Windows-1252 bytes, and ``truncate_ragged_lines=True`` lets
node.js lines with tabs inside the message through (the extra fields are dropped; short lines get
nulls). Nothing is checked or typed: this is what splitting the bytes costs, the floor any parser
pays. Files are scanned :data:`CHUNK` at a time with ``pl.collect_all`` so polars spreads them over the cores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

#: Files scanned per ``collect_all`` (a site-shaped bundle has tens of thousands: with all of them in one
#: call polars 2.1 sat idle with 500 threads).
CHUNK = 64


def tsv_files(folder: Path) -> list[Path]:
    """The tab-separated logs of a bundle folder (the selection ``baseline_pandas.py`` makes)."""
    out = []
    for path in sorted(folder.rglob("*")):
        name = path.as_posix()
        if not path.is_file() or not name.endswith((".txt", ".log")) or "/Script/" in name:
            continue
        if name.endswith(("-access.log", "SenseCollector.log")) or path.stat().st_size == 0:
            continue
        out.append(path)
    return out


def scan(path: Path) -> pl.LazyFrame:
    """One file, every column a string, header line consumed."""
    return pl.scan_csv(path, separator="\t", has_header=True, quote_char=None, infer_schema=False,
                       truncate_ragged_lines=True, encoding="utf8-lossy")


def main(argv: list[str]) -> int:
    """Read every TSV file of the folder and print the record and byte counts."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    files = tsv_files(Path(argv[0]))
    records = 0
    for start in range(0, len(files), CHUNK):  # thousands of scans in one collect_all can hang polars
        records += sum(f.height for f in pl.collect_all([scan(p) for p in files[start:start + CHUNK]]))
    size = sum(p.stat().st_size for p in files)
    print(f"{records} records from {len(files)} files, {size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
