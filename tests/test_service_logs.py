"""Service-log parsing: traps of formats.md §4 as table rows, and every real fixture file."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from qslogs.bundle import open_bundle
from qslogs.errors import ParseError
from qslogs.inventory import classify
from qslogs.loader import load_frames
from qslogs.parsers.service_logs import parse_tabular
from qslogs.schemas import Family
from tests.logfiles import (
    LICENSE,
    NODE,
    SYSTEM_ENGINE_NEW,
    SYSTEM_ENGINE_OLD,
    TASK_EXECUTION,
    TRACE_SYSTEM,
    dotnet_file,
    trace_row,
)

TS = "20191023T100902.094+0200"
UTC_TS = datetime(2019, 10, 23, 8, 9, 2, 94000, tzinfo=UTC)


def parse_bytes(tmp_path: Path, name: str, data: bytes, strict: bool = False):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    with open_bundle([tmp_path]) as bundle:
        member = next(m for m in bundle.members if m.name == name)
        entry = classify(member)
        return entry, parse_tabular(member.read(), entry, strict=strict)


@pytest.mark.parametrize(
    ("case", "data", "expected"),
    [
        ("bom+crlf", dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, "Started")]),
         {"Message": "Started", "Timestamp": UTC_TS}),
        ("no bom, lf only", dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, "Started")], bom=False, eol="\n"),
         {"Message": "Started"}),
        ("\\r\\r\\n line ends", dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, "Started")], eol="\r\r\n"),
         {"Message": "Started"}),
        ("encoded line breaks", dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, "line one↵↓line two",
                                                                      stack="at A()↵↓at B()")]),
         {"Message": "line one\nline two", "StackTrace": "at A()\nat B()"}),
        ("bare quotes", dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, 'Hostname: "::1" it\'s')]),
         {"Message": 'Hostname: "::1" it\'s'}),
        ("empty optional columns are null", dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, "x")]),
         {"Exception": None, "StackTrace": None}),
        ("colon offset", dotnet_file(TRACE_SYSTEM, [trace_row(1, "20191023T100902.094+02:00", "x")]),
         {"Timestamp": UTC_TS}),
    ],
)
def test_trace_line_table(tmp_path: Path, case: str, data: bytes, expected: dict[str, object]) -> None:
    _, parsed = parse_bytes(tmp_path, "Repository/Trace/SENSE01_System_Repository.txt", data)
    assert parsed.bad_lines.height == 0, case
    assert parsed.frame.height == 1, case
    row = parsed.frame.row(0, named=True)
    for key, value in expected.items():
        assert row[key] == value, (case, key)
    assert row["host"] == "sense01"
    assert row["line_no"] == 2
    assert parsed.frame.schema["Timestamp"] == pl.Datetime("ms", "UTC")


def test_task_execution_columns_are_typed(tmp_path: Path) -> None:
    row = "\t".join(["7", TS, "INFO", "Sense01", "TaskExecution.Scheduler.Scheduler.Master.Task.TaskSessionState",
                     "1", "id", "CORP\\qlik", "Task execution finished", "", "", "0", "task-id",
                     "Reload License Monitor", "app-id", "License Monitor", "exec-id", "node-id",
                     "sense01.corp.example", "FinishedFail", "20191023T100850.000+0200", TS, "12094",
                     "Script error", "id"])
    _, parsed = parse_bytes(tmp_path, "Scheduler/Trace/SENSE01_TaskExecution_Scheduler.txt",
                            dotnet_file(TASK_EXECUTION, [row]))
    got = parsed.frame.row(0, named=True)
    assert got["Duration"] == 12094
    assert got["StopTime"] - got["StartTime"] == UTC_TS - datetime(2019, 10, 23, 8, 8, 50, tzinfo=UTC)
    assert got["Status"] == "FinishedFail"
    assert got["FailureReason"] == "Script error"


def test_bad_lines_are_kept_with_file_and_line(tmp_path: Path) -> None:
    rows = [trace_row(1, TS, "ok"), "this line was cut", trace_row(3, "not a time", "bad time"),
            "", trace_row(5, TS, "ok again")]
    _, parsed = parse_bytes(tmp_path, "Repository/Trace/SENSE01_System_Repository.txt",
                            dotnet_file(TRACE_SYSTEM, rows))
    assert parsed.frame["Message"].to_list() == ["ok", "ok again"]
    bad = parsed.bad_lines.sort("line_no")
    assert bad["line_no"].to_list() == [3, 4, 5]
    assert bad["reason"].to_list()[0].startswith("fewer than the 13")
    assert bad["reason"].to_list()[1] == "timestamp not recognised"
    assert bad["text"][0] == "this line was cut"
    assert set(bad["source_file"]) == {"Repository/Trace/SENSE01_System_Repository.txt"}
    assert parsed.frame.height + bad.height == parsed.lines


def test_strict_raises_at_first_bad_line(tmp_path: Path) -> None:
    rows = [trace_row(1, TS, "ok"), "broken"]
    with pytest.raises(ParseError, match=r"SENSE01_System_Repository.txt:3: fewer than"):
        parse_bytes(tmp_path, "Repository/Trace/SENSE01_System_Repository.txt", dotnet_file(TRACE_SYSTEM, rows),
                    strict=True)


def test_signature_trailer_is_not_a_record(tmp_path: Path) -> None:
    row = "\t".join(["1", TS, "INFO", "Sense01", "License.Repository.Repository.Core.Licensing.LicenseMaintenance",
                     "5", "id", "CORP\\qlik", "Performing License maintenance...", "0", "", "", "", "", "",
                     "0273f18a474e6c7316f133ae0798d760f9b86e53"])
    data = dotnet_file(LICENSE, [row, "Signature:\t" + "ab" * 20])
    _, parsed = parse_bytes(tmp_path, "Repository/Trace/SENSE01_License_Repository_2019-10-23T08.14.02Z.log", data)
    assert parsed.frame.height == 1
    assert parsed.bad_lines.height == 0
    assert parsed.trailer == 1
    assert parsed.frame["Checksum"][0] == "0273f18a474e6c7316f133ae0798d760f9b86e53"


def test_node_continuation_lines_and_raw_tabs(tmp_path: Path) -> None:
    rows = [
        "1\t20191023T100851.234+0200\t127.0.0.1\t3.3.0\tConfig\tINFO\tstarting",
        "2\t20191023T100852.234+0200\tSense01.corp.example\t3.3.0\tHttp\tERROR\tError: boom",
        "    at Object.<anonymous> (C:\\app.js:1:1)",
        "    at next (C:\\app.js:2:2)",
        "3\t20191023T100853.234+02:00\tSense01.corp.example\t3.3.0\tOdag\tINFO\t[startup]:\tinit:\twaiting",
    ]
    data = ("\r\n".join([NODE, *rows]) + "\r\n").encode()
    entry, parsed = parse_bytes(tmp_path, "Log/HubService/201910231008512340200.log", data)
    assert entry.kind == "HubService/NodeService"
    assert parsed.frame.height == 3
    assert parsed.continuation == 2
    stack = "\n    at Object.<anonymous> (C:\\app.js:1:1)\n    at next (C:\\app.js:2:2)"
    assert parsed.frame["Message"][1] == "Error: boom" + stack
    assert parsed.frame["Message"][2] == "[startup]:\tinit:\twaiting"
    assert parsed.frame["host"].to_list() == ["sense01"] * 3


def test_header_variants_concatenate_by_name(tmp_path: Path) -> None:
    old = "\t".join(["1", TS, "INFO", "Sense01", "System.Engine.Engine", "1", "id1", "CORP\\qlik", "old row", "0",
                     "", "", "20191023T080902.094Z", "1", "123", "20191001T000000.000Z", "id1"])
    new = "\t".join(["1", TS, "INFO", "Sense01", "System.Engine.Engine", "1", "id2", "CORP\\qlik", "new row", "0",
                     "", "", "20191023T080902.094Z", "1", "123", "sess-1", "20191001T000000.000Z", "id2"])
    (tmp_path / "Engine" / "Trace").mkdir(parents=True)
    (tmp_path / "Engine/Trace/SENSE01_System_Engine.txt").write_bytes(dotnet_file(SYSTEM_ENGINE_NEW, [new]))
    (tmp_path / "Engine/Trace/SENSE01_System_Engine_2019-10-22T08.14.02Z.log").write_bytes(
        dotnet_file(SYSTEM_ENGINE_OLD, [old]))
    frames = load_frames([tmp_path])
    engine = frames.frames["Engine/System"].sort("Message")
    assert engine["Message"].to_list() == ["new row", "old row"]
    assert engine["SessionId"].to_list() == ["sess-1", None]
    assert engine["Server Started"].to_list() == ["20191001T000000.000Z"] * 2


def test_garbage_and_truncated_files_do_not_crash(tmp_path: Path) -> None:
    good = dotnet_file(TRACE_SYSTEM, [trace_row(i, TS, f"row {i}") for i in range(1, 6)])
    (tmp_path / "Repository" / "Trace").mkdir(parents=True)
    (tmp_path / "Repository/Trace/SENSE01_System_Repository.txt").write_bytes(good[: len(good) - 40])
    (tmp_path / "Repository/Trace/random.bin").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "Repository/Trace/SENSE01_Security_Repository.txt").write_bytes(
        good.decode("utf-8-sig").encode("utf-16"))
    frames = load_frames([tmp_path])
    stats = {r["path"]: r for r in frames.files.iter_rows(named=True)}
    cut = stats["Repository/Trace/SENSE01_System_Repository.txt"]
    assert (cut["records"], cut["bad_lines"]) == (4, 1)
    assert stats["Repository/Trace/random.bin"]["status"] == "unknown"
    utf16 = stats["Repository/Trace/SENSE01_Security_Repository.txt"]
    assert (utf16["records"], utf16["encoding"]) == (5, "utf-16")
    assert frames.bad_lines["line_no"].to_list() == [6]


_RECORD_START = {
    Family.TRACE: re.compile(r"^\d+\t\d{8}T\d{6}\.\d{3}[+-]\d{4}\t"),
    Family.AUDIT: re.compile(r"^\d+\t[\d.]+\t\d{8}T\d{6}\.\d{3}[+-]\d{4}\t"),
    Family.SERVICE: re.compile(r"^\d+\t[\d.]+\t\d{8}T\d{6}\.\d{3}[+-]\d{4}\t"),
    Family.NODE: re.compile(r"^\d+\t\d{8}T\d{6}\.\d{3}[+-]\d{2}:?\d{2}\t"),
    Family.DATAPROFILING: re.compile(r"^\w+\t[A-Z]+\t\d{4}-"),
    Family.ENGINE_DAILY: re.compile(r"^[A-Z]+\t"),
    Family.ACCESS: re.compile(r"^\S+ - - \["),
}


@pytest.mark.fixtures
def test_every_real_file_parses_completely(real_log_folder: Path) -> None:
    """Every record line of every real file becomes a record; counts are taken independently."""
    frames = load_frames([real_log_folder])
    assert frames.bad_lines.height == 0
    assert frames.file_issues == []
    checked = 0
    for row in frames.files.iter_rows(named=True):
        text = (real_log_folder / row["path"]).read_bytes().decode("utf-8-sig")
        lines = [ln.rstrip("\r") for ln in text.split("\n") if ln.strip("\r")]
        if row["status"] == "empty":
            assert row["records"] == 0
            continue
        assert row["status"] == "parsed", row
        family = Family(row["family"])
        expected = sum(1 for ln in lines if _RECORD_START[family].match(ln))
        assert row["records"] == expected, row["path"]
        checked += 1
    assert checked >= 60
    total = sum(f.height for f in frames.frames.values())
    assert total == int(frames.files["records"].sum()) == 4472
    for kind, frame in frames.frames.items():
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Datetime):
                assert dtype.time_zone == "UTC", (kind, name)


@pytest.mark.fixtures
def test_real_task_execution_and_license(real_log_folder: Path) -> None:
    frames = load_frames([real_log_folder])
    runs = frames.frames["Scheduler/TaskExecution"]
    assert runs.height == 20
    assert set(runs["Status"]) == {"FinishedSuccess"}
    assert (runs["StopTime"] >= runs["StartTime"]).all()
    lic = frames.frames["Repository/License"]
    ops = dict(lic.group_by("Operation").len().iter_rows())
    assert ops["UsageDenied"] > 0 and ops["UsageGranted"] > 0
    assert lic.filter(pl.col("Operation") == "UsageDenied")["AccessType"].null_count() == ops["UsageDenied"]
    assert set(frames.frames["Scheduler/TaskExecution"]["host"]) == {"qlikserver1"}
    # node.js files carry 127.0.0.1 until startup finishes: they still belong to the node.
    assert set(frames.frames["HubService/NodeService"]["host"]) == {"qlikserver1"}
