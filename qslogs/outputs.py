"""Where qslogs may write: checked before any work starts, so nothing qslogs did not write is ever replaced.

The people who run qslogs often hold the customer's only copy of the logs, and write outputs next to
it. So an output that is, lies inside, or holds an input is refused; the report goes only to a
regular file (a FIFO, a device, a folder or a symbolic link is refused, untouched) or to stdout with
``-o -``; and every refusal is a :class:`~qslogs.errors.ReportError` (exit code 5) naming the path and
what to do instead. :mod:`qslogs.dataset` applies the same rules to ``qslogs parse``.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from qslogs.errors import ReportError

#: ``-o -``: write to standard output.
STDOUT = "-"


def is_stdout(path: str | Path) -> bool:
    return str(path) == STDOUT


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def check_not_input(out: Path, inputs: Sequence[Path], what: str) -> None:
    """Refuse an output that is an input, lies inside an input folder, or holds an input."""
    target = _real(out)
    for raw in inputs:
        if not os.path.lexists(raw):
            continue
        source = _real(raw)
        same = target == source or (os.path.exists(out) and os.path.samefile(out, raw))  # hard links too
        if same:
            raise ReportError(str(out), f"it is the input {raw}: {what} never writes over its input; "
                                        "choose a path outside it")
        if source.is_dir() and target.is_relative_to(source):
            raise ReportError(str(out), f"it lies inside the input {raw}: {what} never writes into the logs it "
                                        "reads; choose a folder outside it")
        if source.is_relative_to(target):
            raise ReportError(str(out), f"it holds the input {raw}; choose a folder outside the input")


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def check_report_target(out: Path, inputs: Sequence[Path]) -> None:
    """Refuse (exit 5, untouched) a report path that is not a regular file or a new name in a writable folder.

    A symbolic link is refused too: replacing the link would destroy it, writing through it would
    replace a file under another name. ``-o -`` (stdout) needs no check.
    """
    if is_stdout(out):
        return
    if out.is_symlink():
        raise ReportError(str(out), f"it is a symbolic link (to {os.readlink(out)}); qslogs replaces only regular "
                                    "files: give the real path, or a new name")
    if out.exists():
        kind = _kind(out.stat().st_mode)
        if kind:
            raise ReportError(str(out), f"it is {kind}; qslogs writes the report only to a regular file "
                                        "(or to stdout with -o -)")
    check_not_input(out, inputs, "qslogs")
    check_writable_folder(out.parent)


def check_writable_folder(folder: Path) -> None:
    """Raise :class:`ReportError` unless ``folder`` (or, when missing, its nearest existing parent) takes new files."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe or probe.is_symlink():
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ReportError(str(folder), f"{probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ReportError(str(folder), f"no permission to create files in {probe}")


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to a regular file atomically (a temporary file renamed into place), or to stdout.

    A failed or interrupted run leaves no half report and no temporary file; the destination is
    checked again just before the rename, so a FIFO or device put there meanwhile is not replaced.
    """
    if is_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)
            if path.is_symlink() or (path.exists() and _kind(path.stat().st_mode)):
                raise ReportError(str(path), "it is no longer a regular file; nothing was replaced")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        raise ReportError(str(path), exc.strerror or str(exc)) from exc
    return path
