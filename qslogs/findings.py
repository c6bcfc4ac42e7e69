"""Frozen, documented records that cross module boundaries: file issues, bad lines and findings.

Every field carries ``metadata={"help": ...}``; a test fails on an undocumented field, so the report
and the JSON output can always explain what they show.
"""

from __future__ import annotations

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
