"""Documented records: every field of the records that cross module boundaries says what it holds."""

from __future__ import annotations

from dataclasses import fields

import pytest

from qslogs.analyses.base import AnalysisOptions
from qslogs.findings import FileIssue, Finding, Severity


@pytest.mark.parametrize("cls", [Finding, FileIssue, AnalysisOptions])
def test_every_field_has_help_text(cls: type) -> None:
    undocumented = [f.name for f in fields(cls) if not f.metadata.get("help")]
    assert undocumented == [], f"{cls.__name__} fields without help text: {undocumented}"


def test_severities_sort_most_urgent_first() -> None:
    assert [s.value for s in Severity] == ["critical", "warning", "info", "ok"]
