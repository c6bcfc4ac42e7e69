"""Frozen, documented records that cross module boundaries: file issues, bad lines and findings.

Every field carries ``metadata={"help": ...}``; a test fails on an undocumented field, so the report
and the JSON output can always explain what they show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How urgent a finding is, most urgent first."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"
    OK = "ok"


@dataclass(frozen=True)
class FileIssue:
    """A file that could not be read (or only partly), with the reason; the rest of the bundle goes on."""

    path: str = field(metadata={"help": "the file as named in the bundle (zip members as zip!member)"})
    reason: str = field(metadata={"help": "what was wrong, in one sentence"})


@dataclass(frozen=True)
class Finding:
    """One conclusion of an analysis, ready to be shown: the report never computes, it shows findings."""

    analysis: str = field(metadata={"help": "the analysis that produced it (reloads, licenses, input, …)"})
    severity: Severity = field(metadata={"help": "critical, warning, info or ok"})
    title: str = field(metadata={"help": "one line that says what was found"})
    detail: str = field(default="", metadata={"help": "plain-language explanation and what to do"})
    data: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "the numbers and rows behind the finding (JSON-ready)"}
    )
    table: str = field(
        default="",
        metadata={"help": "the field of the analysis's result whose rows this finding is about (runs, tasks, …)"},
    )
    keys: tuple[str, ...] = field(
        default=(), metadata={"help": "the keys of those rows in that table (a run_key, a task name, …)"}
    )
    about: str = field(
        default="site",
        metadata={
            "help": "site (the Qlik site: reloads, licenses, …) or bundle (the input itself: bad lines, "
            "unreadable files, short history); the report groups bundle findings below the site's"
        },
    )


# -- Severity from meaning: the one rule table ---------------------------------------------------------------

#: A cause that keeps failing until someone fixes it (credentials, a missing connection, field or file, a
#: script error); retrying the reload does not help.
PERSISTENT = "persistent"
#: A cause that often heals on the next run (a timeout, an unreachable source, a busy engine, memory).
TRANSIENT = "transient"
#: No error class, or one qslogs does not know: treated as transient, but said so.
UNCLASSIFIED = "unclassified"

#: (error class, optional case-insensitive pattern on the error text, persistence); first match wins.
#: A ``connector`` error is persistent only when the data connection itself is missing; a ``file`` error
#: is transient only when the file is locked by another process.
CAUSE_RULES: tuple[tuple[str, str | None, str], ...] = (
    ("auth", None, PERSISTENT),
    ("connector", r"\bconnection\s+\S.*?\s+(?:was\s+)?not\s+found", PERSISTENT),
    ("connector", None, TRANSIENT),
    ("script", None, PERSISTENT),
    ("file", r"being\s+used\s+by\s+another\s+process", TRANSIENT),
    ("file", None, PERSISTENT),
    ("resource", None, TRANSIENT),
    ("initiation", None, TRANSIENT),
    ("aborted", None, TRANSIENT),
)

#: (what is judged, its state, persistence of the cause or ``*``) → severity; first match wins.
#: ``monitor`` is a monitoring app (verdicts of :mod:`qslogs.analyses.reloads.health`), ``task`` any other
#: reload task, ``manual`` a reload started by a person from the hub. ``recovered``: failed, then succeeded.
SEVERITY_RULES: tuple[tuple[str, str, str, Severity], ...] = (
    ("monitor", "stale", "*", Severity.CRITICAL),
    ("monitor", "failing", PERSISTENT, Severity.CRITICAL),
    ("monitor", "failing", "*", Severity.WARNING),
    ("monitor", "missing", "*", Severity.WARNING),
    ("monitor", "unknown", "*", Severity.INFO),
    ("monitor", "ok", "*", Severity.OK),
    ("task", "failing", PERSISTENT, Severity.CRITICAL),
    ("task", "failing", "*", Severity.WARNING),
    ("manual", "failing", "*", Severity.WARNING),
    ("*", "recovered", "*", Severity.INFO),
)


def cause_persistence(error_class: str | None, text: str | None = None) -> str:
    """``persistent``, ``transient`` or ``unclassified`` for an error class (and its text), from CAUSE_RULES."""
    for name, pattern, kind in CAUSE_RULES:
        if name == error_class and (pattern is None or re.search(pattern, text or "", re.IGNORECASE)):
            return kind
    return UNCLASSIFIED


def severity_for(subject: str, state: str, persistence: str = UNCLASSIFIED) -> Severity:
    """The severity of ``subject`` (monitor, task, manual) in ``state`` with a cause of ``persistence``.

    Raises ``KeyError`` for a combination the table does not cover, so a new state cannot slip through
    with a guessed severity.
    """
    for who, what, kind, severity in SEVERITY_RULES:
        if who in (subject, "*") and what == state and kind in (persistence, "*"):
            return severity
    raise KeyError(f"no severity rule for {subject} {state} ({persistence})")


SEVERITY_ORDER: dict[Severity, int] = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2, Severity.OK: 3}
