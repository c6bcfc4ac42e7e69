"""The reading limit in Python: every member of a zip read with :mod:`zipfile`, nothing else.

    .venv/bin/python benchmarks/limit_zipfile.py benchmarks/data/b100/bundle.zip

``unzip -p`` is the floor for inflating the bytes; this row adds what Python's ``zipfile`` costs per
member (open, local header, checks), which matters when a bundle is tens of thousands of small files.
"""

from __future__ import annotations

import sys
import zipfile


def main(argv: list[str]) -> int:
    """Read every member and print the member and byte counts."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    files = size = 0
    with zipfile.ZipFile(argv[0]) as zf:
        for info in zf.infolist():
            if not info.is_dir():
                size += len(zf.read(info))
                files += 1
    print(f"{files} files, {size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
