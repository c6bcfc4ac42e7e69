"""The input analysis behind the Bundle section: inventory, bad lines with file:line, unreadable files,
versions and the coverage warning."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from bs4 import BeautifulSoup

from qslogs.analyses import run_analyses
from qslogs.analyses.input_quality import about
from qslogs.analyses.input_result import InputResult
from qslogs.analyses.result import SchemaError, help_of
from qslogs.findings import Severity
from qslogs.loader import load_frames
from qslogs.report import Redactor, render_report
from tests.logfiles import TRACE_SYSTEM, dotnet_file, trace_row
from tests.test_activity import AUDIT_PROXY, proxy_row

GUID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def collector(root: Path, days: int = 1) -> Path:
    """A Log Collector folder: two nodes, a bad line in each of two files, a broken JSON dump."""
    rows = [
        trace_row(1, "20241003T101500.000+0200", "ok"),
        "cut off\tline",
        trace_row(3, "20241003T101700.000+0200", "ok"),
        "another bad one",
    ]
    later = f"2024{10 + days // 30:02d}{3 + days % 30:02d}T101500.000+0200"
    archived = "sense02.corp.example/Repository/Trace/SENSE02_System_Repository_2024-10-03T09.00.00Z.log"
    files = {
        "Log/Repository/Trace/SENSE01_System_Repository.txt": dotnet_file(TRACE_SYSTEM, rows),
        archived: dotnet_file(TRACE_SYSTEM, [trace_row(1, later, "ok", host="Sense02"), "x"]),
        "Log/Proxy/Audit/SENSE01_AuditActivity_Proxy.txt": dotnet_file(
            AUDIT_PROXY, [proxy_row(1, "20241003T090000.000+0200", "Start session", "CORP", "anna.berg")]
        ),
        "Log/Repository/Trace/empty.txt": b"",
        f"QrsAbout_{GUID}.json": json.dumps(
            {
                "buildVersion": "31.14.2.0",
                "buildDate": "9/20/2025",
                "databaseProvider": "Devart.Data.PostgreSql",
                "nodeType": 1,
                "schemaPath": "About",
            }
        ).encode(),
        f"AboutSystemInfo_{GUID}.json": json.dumps(
            [{"version": "14.187.4", "releaseLabel": "November 2025", "productName": "Qlik Sense"}]
        ).encode(),
        f"CalInfo_{GUID}.json": b"{not json",
    }
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


def analyse(root: Path) -> InputResult:
    result = run_analyses(load_frames([root]), only=["input"])["input"]
    assert isinstance(result, InputResult)
    return result


def test_bad_lines_are_counted_per_file_with_their_first_lines(tmp_path: Path) -> None:
    result = analyse(collector(tmp_path))
    bad = {b["source_file"]: b for b in result.bad_files.iter_rows(named=True)}
    local = bad["Log/Repository/Trace/SENSE01_System_Repository.txt"]
    assert local["count"] == 2 and local["kind"] == "Repository/System"
    assert [(ln["line_no"], ln["text"]) for ln in local["first_lines"]] == [
        (3, "cut off\tline"),
        (5, "another bad one"),
    ]
    assert all(ln["reason"] for ln in local["first_lines"])
    assert list(bad)[0] == "Log/Repository/Trace/SENSE01_System_Repository.txt", "most bad lines first"
    finding = next(f for f in result.findings if "did not fit" in f.title)
    assert finding.severity is Severity.WARNING
    assert finding.title == "3 lines in 2 files did not fit their file's format"
    assert "Log/Repository/Trace/SENSE01_System_Repository.txt (2)" in finding.detail
    assert finding.table == "bad_files"
    assert finding.keys == (
        "Log/Repository/Trace/SENSE01_System_Repository.txt",
        "sense02.corp.example/Repository/Trace/SENSE02_System_Repository_2024-10-03T09.00.00Z.log",
    )


def test_unreadable_files_inventory_versions_and_about(tmp_path: Path) -> None:
    result = analyse(collector(tmp_path))
    assert result.file_issues["path"].to_list() == [f"CalInfo_{GUID}.json"]
    issue = next(f for f in result.findings if "could not be read" in f.title)
    assert issue.title == "1 file could not be read" and "CalInfo" in issue.detail
    assert (issue.table, issue.keys) == ("file_issues", (f"CalInfo_{GUID}.json",))
    inventory = {
        (r["kind"], r["host"]): (r["files"], r["records"], r["bad_lines"], r["archived_files"])
        for r in result.inventory.iter_rows(named=True)
    }
    assert inventory[("Repository/System", "sense01")] == (1, 2, 2, 0)
    assert inventory[("Repository/System", "sense02")] == (1, 1, 1, 1)
    assert inventory[("Proxy/AuditActivity", "sense01")] == (1, 1, 0, 0)
    assert result.hosts == ("sense01", "sense02")
    assert result.unknown_files.select("path", "status").row(0) == ("Log/Repository/Trace/empty.txt", "empty")
    assert result.versions.select("component", "host", "version", "records").rows() == [
        ("Proxy", "sense01", "11.41.1.0", 1)
    ]
    facts = {(a["source"], a["key"]): a["value"] for a in result.about.iter_rows(named=True)}
    assert facts == {
        ("QrsAbout", "buildVersion"): "31.14.2.0",
        ("QrsAbout", "buildDate"): "9/20/2025",
        ("QrsAbout", "databaseProvider"): "Devart.Data.PostgreSql",
        ("QrsAbout", "nodeType"): "1",
        ("AboutSystemInfo", "productName"): "Qlik Sense",
        ("AboutSystemInfo", "version"): "14.187.4",
        ("AboutSystemInfo", "releaseLabel"): "November 2025",
    }
    assert (result.bad_lines, result.unreadable_files, result.files_parsed) == (3, 1, 3)


def test_short_history_is_a_coverage_warning_and_a_long_one_is_not(tmp_path: Path) -> None:
    short = analyse(collector(tmp_path / "short"))
    warning = next(f for f in short.findings if "too short" in f.title)
    assert warning.title.startswith("The logs cover only ") and warning.data["days"] < 7
    assert (short.span_first, short.span_last) == (
        datetime(2024, 10, 3, 7, 0, tzinfo=UTC),
        datetime(2024, 10, 4, 8, 15, tzinfo=UTC),
    )
    assert (short.span_hours, short.span_days) == (25.2, 1.1)
    long = analyse(collector(tmp_path / "long", days=40))
    assert long.span_days == 41.1
    assert not [f for f in long.findings if "too short" in f.title]


def test_about_tolerates_odd_dumps() -> None:
    assert about({}) == []
    assert about({"QrsAbout": "text", "AboutSystemInfo": [1, None, {"VERSION": "1.2"}]}) == [
        {"source": "AboutSystemInfo", "key": "version", "value": "1.2"}
    ]


def test_bundle_section_shows_bad_lines_with_file_and_line(tmp_path: Path) -> None:
    result = analyse(collector(tmp_path / "b"))
    html = render_report({"input": result}, tmp_path / "r.html").read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    where = [w.get_text() for w in page.select("#t-bundle-bad .where")]
    assert where[:2] == [
        "Log/Repository/Trace/SENSE01_System_Repository.txt:3",
        "Log/Repository/Trace/SENSE01_System_Repository.txt:5",
    ]
    assert len(page.select("#t-bundle-issues tbody tr")) == 1
    callouts = [c.get_text(" ") for c in page.select("#bundle .callout")]
    assert any("too short for trends" in c for c in callouts), "coverage warning on top of the section"
    facts = {
        f.select_one("dt").get_text(): f.select_one("dd").get_text() for f in page.select("#bundle .fact")
    }
    assert facts["Bad lines"] == "3" and facts["Unreadable files"] == "1"
    assert facts["Repository build"].endswith("QrsAbout buildVersion"), "a person's label, the field in small print"


def test_a_table_that_differs_from_its_declaration_is_refused(tmp_path: Path) -> None:
    result = analyse(collector(tmp_path))
    with pytest.raises(SchemaError, match=r"InputResult\.inventory: .*undeclared \['size'\]"):
        replace(result, inventory=result.inventory.with_columns(pl.lit(1).alias("size")))
    with pytest.raises(SchemaError, match=r"InputResult\.bad_files: .*count: Int64 \(declared UInt32\)"):
        replace(result, bad_files=result.bad_files.with_columns(pl.col("count").cast(pl.Int64)))


def test_every_input_field_is_explained() -> None:
    text = help_of(InputResult)
    assert list(text) == [
        "findings", "inventory", "status", "bad_files", "file_issues", "unknown_files", "span_first",
        "span_last", "span_hours", "span_days", "versions", "about", "hosts", "files_total", "files_parsed",
        "records", "size_bytes", "bad_lines", "unreadable_files",
    ]
    assert text["span_days"] == "days from the first to the last record, to 0.1; null without any"
    assert text["file_issues"] == (
        "files that could not be read (or only partly), with the reason, in the order they were met "
        "(columns: path String, reason String)"
    )
    assert all(len(t) > 20 for t in text.values())


def test_redaction_keeps_the_types_of_the_input_result(tmp_path: Path) -> None:
    result = analyse(collector(tmp_path))
    redactor = Redactor.create("seed")
    redactor.add("host", "sense01")
    redactor.add("host", "sense02")
    out = redactor.results({"input": result})["input"]
    assert isinstance(out, InputResult)
    assert isinstance(out.hosts, tuple) and sorted(out.hosts) == ["host-01", "host-02"]
    assert out.inventory.schema == result.inventory.schema
    assert "sense0" not in " ".join(out.inventory["host"].to_list())
    assert (out.span_first, out.bad_lines) == (result.span_first, 3)
    bad = next(f for f in out.findings if f.table == "bad_files")
    assert not any("sense02" in k for k in bad.keys), "a finding's keys are redacted like its rows"
