"""QVD inputs → :attr:`Frames.qvds <qslogs.frames.Frames.qvds>`: the loading layer for QVDs, beside the loader.

Every QVD a run is given is read here, once: the ``.qvd`` members of the bundle itself (files of a folder
read in place, members of a zip handed to the reader as an anonymous in-memory file, never extracted to
disk) and the ``--qvd`` files and folders (searched recursively). A damaged QVD becomes a
:class:`~qslogs.frames.QvdInput` with its reason, never an exception. An analysis can say which fields
it uses (a :data:`~qslogs.frames.QvdColumns` chooser): only those are decoded. Analyses get the tables
and never open, extract or write files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

from qslogs.bundle import open_bundle
from qslogs.errors import QvdError
from qslogs.frames import Frames, QvdColumns, QvdInput, QvdLayout
from qslogs.parsers.qvd import Columns, QvdHeader, read_qvd
from qslogs.parsers.qvd_projection import QvdPeek

__all__ = ["load_qvds", "qvd_paths"]


def load_qvds(frames: Frames, paths: Sequence[Path] = (), *, columns: QvdColumns | None = None) -> Frames:
    """``frames`` with :attr:`~qslogs.frames.Frames.qvds` set: the bundle's QVD members, then ``paths``.

    ``columns`` chooses the fields to decode per QVD (default: all). A file met twice (a ``--qvd`` folder
    that holds the bundle's folder, say) is read once.
    """
    loaded: list[QvdInput] = []
    with qvd_paths(frames, paths) as found:
        for name, path in found:
            try:
                table = read_qvd(path, columns=_for(name, columns) if columns else None)
            except QvdError as exc:
                loaded.append(QvdInput(name, None, exc.reason))
                continue
            loaded.append(QvdInput(name, replace(table, path=name)))
    return replace(frames, qvds=tuple(loaded))


def _for(name: str, columns: QvdColumns) -> Columns:
    """The reader's chooser for the QVD shown as ``name``."""

    def choose(header: QvdHeader, peek: QvdPeek) -> Collection[str] | None:
        return columns(QvdLayout(name, header.table_name, tuple(f.name for f in header.fields), peek.is_number,
                                 peek.head, peek.whole))

    return choose


@contextmanager
def qvd_paths(frames: Frames, paths: Sequence[Path] = ()) -> Iterator[list[tuple[str, Path]]]:
    """Every QVD to read as (shown name, readable path): the bundle's ``.qvd`` members, then ``paths``.

    Members of folders are read in place. The QVD reader needs a path, so a member of a zip is handed
    over as an anonymous in-memory file (Linux ``memfd``); nothing is extracted to disk. Where memfd is
    not available, a private temporary file is used and removed when the context ends.
    """
    members = [p for p in frames.files["path"].to_list() if p.lower().endswith(".qvd")] if frames.files.height else []
    with ExitStack() as stack:
        found: list[tuple[str, Path]] = []
        if members:
            if len(frames.sources) == 1 and Path(frames.sources[0]).is_dir():
                found += [(m, Path(frames.sources[0]) / m) for m in members]
            else:
                wanted = set(members)
                bundle = stack.enter_context(open_bundle(list(frames.sources)))
                for member in (m for m in bundle.members if m.display in wanted):
                    found.append((member.display, stack.enter_context(_in_memory(member.read(), member.basename))))
        for path in paths:
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".qvd") if path.is_dir() else [path]
            found += [(str(p), p) for p in files]
        seen: set[str] = set()
        unique = []
        for name, path in found:
            key = name if str(path).startswith(("/proc/self/fd/", "/dev/fd/")) else str(path.resolve())
            if key not in seen:
                seen.add(key)
                unique.append((name, path))
        yield unique


@contextmanager
def _in_memory(data: bytes, name: str) -> Iterator[Path]:
    """A readable path holding ``data``: a memfd on Linux, else a private temporary file (removed after)."""
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        fd = os.memfd_create(name or "qvd")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            yield Path(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="qslogs-qvd-") as tmp:
        target = Path(tmp) / (name or "member.qvd")
        target.write_bytes(data)
        yield target
