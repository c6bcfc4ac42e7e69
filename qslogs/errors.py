"""The errors qslogs raises on purpose, and the exit code each one maps to.

Every deliberate error is a :class:`QslogsError`, so a Python caller can catch them all.
``str(error)`` is a complete sentence naming the file (and line) and what was wrong.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of the ``qslogs`` command (documented in ``qslogs --help`` and README)."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    INPUT = 3
    PARSE = 4
    OUTPUT = 5


class QslogsError(Exception):
    """Base class of every error qslogs raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return self.message


class BundleError(QslogsError):
    """The bundle or a file is missing, unreadable, or not a Qlik Sense log bundle."""

    exit_code = ExitCode.INPUT


class ParseError(QslogsError):
    """A line does not fit its file's format (raised only under ``--strict``)."""

    exit_code = ExitCode.PARSE

    def __init__(self, path: str, line: int, text: str, reason: str) -> None:
        shown = text if len(text) <= 200 else text[:200] + "…"
        super().__init__(f"{path}:{line}: {reason}: {shown!r}", path)
        self.line = line
        self.text = text
        self.reason = reason


class QvdError(QslogsError):
    """A QVD file is damaged or not a QVD: bad XML header, truncated or inconsistent data."""

    exit_code = ExitCode.INPUT

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: not a readable QVD file: {reason}", path)
        self.reason = reason


class ReportError(QslogsError):
    """The report, an export or qslogs' temporary files cannot be written."""

    exit_code = ExitCode.OUTPUT

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}", path)
        self.reason = reason
