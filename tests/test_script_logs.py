"""Script-log parser: real sample files, realistic failing logs, line-level edge cases, any bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qslogs.analyses.reloads.script_link import classify_scripts
from qslogs.error_classes import MONITOR_APPS_AUTH_HINT
from qslogs.errors import ParseError
from qslogs.parsers.script_logs import (
    LINES_SCHEMA,
    SUMMARY_SCHEMA,
    Outcome,
    ScriptLog,
    ScriptLogSummary,
    parse_script_log,
    parse_script_logs,
    summaries_frame,
)
from qslogs.schemas import BAD_LINE_SCHEMA
from tests.script_log_builder import (
    MONITOR_401,
    ScriptLogBuilder,
    license_monitor_401,
    license_monitor_401_multiline,
)

APP = "5afb19a5-54df-4987-8a3b-ca4ed5811683"
NAME = f"{APP}.2024_03_04_02_00_05.4F1A2B3C4D5E6F708192.log"


def diagnosis(summary: ScriptLogSummary) -> dict[str, Any]:
    """The class and hint the analyses give a parsed log (the parser itself reports facts only)."""
    row: dict[str, Any] = classify_scripts(summaries_frame([summary]).lazy()).collect().row(0, named=True)
    return row


def physical_line_count(data: bytes) -> int:
    """Independent count: LF-separated lines after dropping a BOM and every CR; a final LF ends the last.

    A file with a UTF-16 byte-order mark (re-saved by an editor) is counted in its decoded text.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16", errors="replace").encode("utf-8")
    body = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r", b"")
    return 0 if not body else body.count(b"\n") + (0 if body.endswith(b"\n") else 1)


def assert_accounted(log: ScriptLog, data: bytes) -> None:
    """Every physical line is exactly once in lines or bad lines, and the schemas are the declared ones."""
    numbers = log.lines.get_column("line_no").to_list() + log.bad_lines.get_column("line_no").to_list()
    assert sorted(numbers) == list(range(1, physical_line_count(data) + 1))
    assert log.summary.physical_lines == physical_line_count(data)
    assert dict(log.lines.schema) == LINES_SCHEMA
    assert dict(log.bad_lines.schema) == BAD_LINE_SCHEMA


# -- real sample files ------------------------------------------------------------------------------------

REAL_SUCCESS = [
    ("disabled_1.txt", "Personal\\Me", "Personal", "Me", 49, 0),
    ("disabled_1.1.txt", "UserDirectory=FRPAR-LRN1; UserId=qlikadmin", "FRPAR-LRN1", "qlikadmin", 61, 0),
    ("disabled_2.txt", "UserDirectory=FRPAR-LRN1; UserId=qlikadmin", "FRPAR-LRN1", "qlikadmin", 83, 1),
]


@pytest.mark.fixtures
@pytest.mark.parametrize("name, executed_by, directory, user, physical, bad", REAL_SUCCESS)
def test_real_successful_reloads(
    real_fixtures: Path, name: str, executed_by: str, directory: str, user: str, physical: int, bad: int
) -> None:
    data = (real_fixtures / "script-logs" / name).read_bytes()
    log = parse_script_log(data, name)
    s = log.summary
    assert_accounted(log, data)
    assert (s.physical_lines, log.bad_lines.height) == (physical, bad)
    assert s.outcome is Outcome.SUCCESS
    assert (s.executed_by, s.user_directory, s.user_id) == (executed_by, directory, user)
    assert s.is_scheduled is False
    assert s.connections == () and s.connection is None and s.errors == () and diagnosis(s)["error_class"] is None
    assert s.server_version == "10.0.4+Build:0.local.Component.Version"
    assert len(s.header) == 27 and s.header["LogFile CodePage Used:"] == "65001"
    assert s.app_id is None and s.name_time is None
    assert s.start == s.end and s.duration_s == 0


@pytest.mark.fixtures
def test_real_blank_line_is_a_bad_line_and_the_table_label_is_found(real_fixtures: Path) -> None:
    log = parse_script_log((real_fixtures / "script-logs" / "disabled_2.txt").read_bytes(), "disabled_2.txt")
    assert log.bad_lines.select("line_no", "text").rows() == [(57, "")]
    assert [(t.table, t.script_line, t.fields_found, t.lines_fetched) for t in log.summary.tables] == [
        ("Months", 40, 2, 12)
    ]
    with pytest.raises(ParseError, match=r"disabled_2.txt:57: blank line"):
        parse_script_log((real_fixtures / "script-logs" / "disabled_2.txt").read_bytes(), "disabled_2.txt",
                         strict=True)


@pytest.mark.fixtures
def test_real_partial_rolled_log_is_incomplete(real_fixtures: Path) -> None:
    path = next((real_fixtures / "script-logs").glob("*.log.2"))
    data = path.read_bytes()
    log = parse_script_log(data, path.name)
    s = log.summary
    assert_accounted(log, data)
    assert s.outcome is Outcome.INCOMPLETE
    assert s.app_id == APP and s.name_time == datetime(2016, 11, 15, 1, 12, 3)
    assert s.start == datetime(2016, 11, 15, 2, 12, 3)  # an hour after the name: don't trust the name
    assert (s.user_directory, s.user_id) == ("INTERNAL", "sa_scheduler") and s.is_scheduled and s.has_bom
    assert log.bad_lines.height == 0  # its indented lines are still lines
    assert [(t.table, t.lines_fetched) for t in s.tables] == [("CommandList", 9)]
    assert s.rows_fetched_total == 9
    assert log.lines.filter(pl.col("script_line") == 48).height == 2  # a number repeats on a continued line


@pytest.mark.fixtures
@pytest.mark.parametrize("name", ["brice_a.txt", "iberia_Alberto_a.txt"])
def test_real_fragments_are_incomplete(real_fixtures: Path, name: str) -> None:
    data = (real_fixtures / "script-logs" / name).read_bytes()
    log = parse_script_log(data, name)
    assert_accounted(log, data)
    assert log.summary.outcome is Outcome.INCOMPLETE and log.lines.height == 2


# -- realistic failing reloads ------------------------------------------------------------------------------

SQL_LOGIN = ("Connector connect error: SQL##f - SqlState: 28000, ErrorCode: 18456, ErrorMsg: "
             "[Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Login failed for user 'CORP\\svc_qlik'.")
ORA_TIMEOUT = "SQL##f - SqlState: S1T00, ErrorCode: 0, ErrorMsg: [Oracle][ODBC]Query timeout expired"
CONTINUED_401 = ("QVX_UNEXPECTED_END_OF_DATA: HTTP protocol error 401 (Unauthorized):\n"
                 "Requested resource requires authentication.")
NO_CONNECTION = "Connection 'Sales_DB (corp_svc_qlik)' not found"
ARCHIVE = ("Cannot open file: 'lib://ArchivedLogsFolder/qlikserver1/Script/' System error: "
           "Filesystem::FindImpl FindFirst call: The system cannot find the path specified.")
DISK = "Cannot write file 'lib://DataFiles/Sales.qvd': There is not enough space on the disk."
CANCELLED = "The reload was cancelled by the task (timeout of 1440 minutes exceeded)"
LOD = "Lod * From [lib://DataFiles/x.qvd] (qvd)"
SESSIONS_QVD = "lib://ServerLogFolder/Engine/Trace/QLIKSERVER1_Session_Engine.qvd"


def _b(connection: str | None = None, quote: str = "'") -> ScriptLogBuilder:
    """A scheduled reload's header and SET lines, then optionally a LIB CONNECT TO."""
    builder = ScriptLogBuilder()
    return builder.connect(connection, quote) if connection else builder


@dataclass(frozen=True)
class Failure:
    """A failing reload, what the parser must conclude, and the start of the statement it must point at."""

    case: str
    build: Callable[[], ScriptLogBuilder]
    error_class: str
    error: str
    connection: str | None
    statement_starts: str | None


FAILURES = [
    Failure("license-monitor-401", license_monitor_401, "auth", MONITOR_401,
            "monitor_apps_REST_license_user", "RestConnectorMasterTable:"),
    Failure("monitor-401-continued", license_monitor_401_multiline, "auth",
            CONTINUED_401, "monitor_apps_REST_task", "RestConnectorMasterTable:"),
    Failure("sql-login-failed", lambda: _b("SQL_Sales (corp_svc_qlik)").error(SQL_LOGIN), "auth", SQL_LOGIN,
            "SQL_Sales (corp_svc_qlik)", "LIB CONNECT TO 'SQL_Sales (corp_svc_qlik)'"),
    Failure("connection-not-found",
            lambda: _b("Sales_DB (corp_svc_qlik)", '"').error(NO_CONNECTION),
            "connector", NO_CONNECTION, "Sales_DB (corp_svc_qlik)", 'LIB CONNECT TO "Sales_DB'),
    Failure("odbc-timeout",
            lambda: _b("Oracle_ERP (corp_svc_qlik)", "[")
            .sql_select("Orders", ["OrderId", "CustomerId", "Amount"], "ERP.ORDERS", None)
            .error(ORA_TIMEOUT), "connector", ORA_TIMEOUT, "Oracle_ERP (corp_svc_qlik)", "Orders:"),
    Failure("masked-connect",
            lambda: _b().statement("*** CONNECT TO ***")
            .sql_select("Stock", ["Item", "Qty"], "dbo.Stock", None).error("Connector reply error: ***"),
            "connector", "Connector reply error: ***", None, "Stock:"),
    Failure("field-not-found",
            lambda: _b().load_qvd("Sessions", ["Timestamp", "UserId", "SessionId"], SESSIONS_QVD, None)
            .error("Field 'SessionId' not found"),
            "script", "Field 'SessionId' not found", "ServerLogFolder", "Sessions:"),
    Failure("table-not-found",
            lambda: _b().statement("DROP TABLE Users").statement(
                "Left Join (Users)", "LOAD UserId,", "    Count(SessionId) as Sessions", "RESIDENT Sessions",
                "GROUP BY UserId").error("Table 'Users' not found"),
            "script", "Table 'Users' not found", None, "Left Join (Users)"),
    Failure("unknown-statement", lambda: _b().statement(LOD).error(f"Unknown statement: {LOD}"), "script",
            f"Unknown statement: {LOD}", "DataFiles", "Lod * From"),
    Failure("qvd-missing",
            lambda: _b().load_qvd("Sales", ["OrderId", "Amount"], "lib://DataFiles/Sales_2024.qvd", None)
            .error("Cannot open file: 'lib://DataFiles/Sales_2024.qvd'"),
            "file", "Cannot open file: 'lib://DataFiles/Sales_2024.qvd'", "DataFiles", "Sales:"),
    Failure("archive-path",
            lambda: _b().statement("FOR EACH vFile IN FileList('lib://ArchivedLogsFolder/qlikserver1/Script/*.log')")
            .error(ARCHIVE), "file", ARCHIVE, "ArchivedLogsFolder", "FOR EACH vFile"),
    Failure("out-of-memory",
            lambda: _b("DWH (corp_svc_qlik)").sql_select("Facts", ["DateKey"], "dbo.FactSales", 48_000_000)
            .statement("Cross:", "LOAD * RESIDENT Facts", "Cross join Facts").error("Out of memory"),
            "resource", "Out of memory", "DWH (corp_svc_qlik)", "Cross:"),
    Failure("disk-full",
            lambda: _b().load_qvd("Sales", ["OrderId"], "lib://DataFiles/In.qvd", 10)
            .statement("STORE Sales INTO [lib://DataFiles/Sales.qvd] (qvd)").error(DISK),
            "resource", DISK, "DataFiles", "STORE Sales"),
    Failure("aborted-by-user", lambda: _b().statement("Sleep 600000").error("Execution aborted by user"),
            "aborted", "Execution aborted by user", None, "Sleep"),
    Failure("cancelled-by-task",
            lambda: _b("DWH (corp_svc_qlik)").sql_select("Facts", ["DateKey"], "dbo.FactSales", None)
            .error(CANCELLED), "aborted", CANCELLED, "DWH (corp_svc_qlik)", "Facts:"),
    Failure("engine-inconsistency",
            lambda: _b().load_qvd("T", ["A"], "lib://DataFiles/T.qvd", None)
            .error("Internal inconsistency, type D, detected"),
            "unknown", "Internal inconsistency, type D, detected", "DataFiles", "T:"),
    Failure("failed-without-error-line", lambda: _b().statement("LET x = 1").error(),
            "unknown", "", None, None),
]


@pytest.mark.parametrize("failure", FAILURES, ids=[f.case for f in FAILURES])
def test_realistic_failed_reloads(failure: Failure) -> None:
    builder = failure.build()
    data = builder.build()
    log = parse_script_log(data, NAME)
    s = log.summary
    assert_accounted(log, data)
    assert log.bad_lines.height == 0
    assert s.outcome is Outcome.FAILED
    assert (diagnosis(s)["error_class"], s.root_cause, s.connection) == (
        failure.error_class, f"Error: {failure.error}" if failure.error else None, failure.connection)
    assert s.app_id == APP and s.is_scheduled and s.has_bom
    assert s.connection_masked is (failure.case == "masked-connect")
    assert diagnosis(s)["error_hint"]
    assert s.end == builder.time and s.duration_s is not None and s.duration_s > 0
    if failure.statement_starts is None:
        assert s.running_statement is None and s.errors == ()
        return
    assert s.running_statement is not None and s.running_statement.startswith(failure.statement_starts)
    numbered = log.lines.filter(pl.col("line_no") < s.root_cause_line_no).drop_nulls("script_line")
    assert s.root_cause_script_line == numbered.get_column("script_line")[-1]
    assert s.errors[0].text == s.root_cause


def test_license_monitor_401_gets_the_service_account_hint() -> None:
    s = parse_script_log(license_monitor_401().build(), NAME).summary
    assert diagnosis(s)["error_hint"] == MONITOR_APPS_AUTH_HINT
    assert s.connections == ("ServerLogFolder", "monitor_apps_REST_license_user")  # lib:// paths count too
    assert [(t.table, t.lines_fetched) for t in s.tables] == [("LicenseLog", 1480)]
    assert s.running_statement is not None
    assert s.running_statement.endswith('FROM JSON (wrap on) "root" PK "__KEY_root"')


def test_continued_error_message_is_attached() -> None:
    log = parse_script_log(license_monitor_401_multiline().build(), NAME)
    assert log.summary.continuation_lines == 1 and diagnosis(log.summary)["error_hint"] == MONITOR_APPS_AUTH_HINT
    assert log.summary.connections == ("ServerLogFolder", "monitor_apps_REST_license_access", "monitor_apps_REST_task")
    assert log.lines.filter(pl.col("continuation")).select("script_line", "text").rows() == [
        (None, "Requested resource requires authentication.")
    ]


def test_success_log_tables_and_preceding_load() -> None:
    b = (_b("SQL_Sales (corp_svc_qlik)").sql_select("Orders", ["OrderId", "Amount"], "dbo.Orders", 1_250_000)
         .statement("Concatenate (Orders)", "LOAD * INLINE [", "OrderId, Amount", "1, 2", "]")
         .fetched(["OrderId", "Amount"], 1).finish())
    s = parse_script_log(b.build(), NAME).summary
    assert s.outcome is Outcome.SUCCESS and s.connection == "SQL_Sales (corp_svc_qlik)"
    assert [(t.table, t.statement, t.lines_fetched) for t in s.tables] == [
        ("Orders", "SQL SELECT OrderId, Amount", 1_250_000), ("Orders", "LOAD * INLINE [", 1)]
    assert s.rows_fetched_total == 1_250_001


def test_error_mode_errors_on_a_successful_reload_are_kept_but_not_a_root_cause() -> None:
    b = ScriptLogBuilder().statement("SET ErrorMode = 0").load_qvd("T", ["A"], "lib://DataFiles/T.qvd", None)
    b.message("Error: Cannot open file: 'lib://DataFiles/T.qvd'").finish()
    s = parse_script_log(b.build(), NAME).summary
    assert s.outcome is Outcome.SUCCESS and len(s.errors) == 1
    assert s.root_cause is None and diagnosis(s)["error_class"] is None


@pytest.mark.parametrize("failed_line, outcome", [(False, Outcome.INCOMPLETE), (True, Outcome.FAILED)])
def test_cut_off_logs_are_never_success(failed_line: bool, outcome: Outcome) -> None:
    b = ScriptLogBuilder().load_qvd("T", ["A"], "lib://DataFiles/T.qvd", None)
    if failed_line:
        b.error("Out of memory")
    else:
        b.message("Error: Out of memory")
    s = parse_script_log(b.build(finished=False), NAME).summary
    assert s.outcome is outcome and s.root_cause == "Error: Out of memory" and diagnosis(s)["error_class"] == "resource"
    assert ScriptLogBuilder().build(finished=False) and parse_script_log(
        ScriptLogBuilder().build(finished=False), NAME).summary.outcome is Outcome.INCOMPLETE


def test_numbered_error_lines_are_used_only_when_nothing_else_explains_a_failure() -> None:
    b = ScriptLogBuilder().trace("Error: not really")
    b.statement("LOAD * FROM x").statements("Error: Field 'x' not found").message("Execution Failed")
    s = parse_script_log(b.build(), NAME).summary
    assert [e.text for e in s.errors] == ["Error: Field 'x' not found"] and diagnosis(s)["error_class"] == "script"


# -- line-level rules ---------------------------------------------------------------------------------------

T = "2019-10-23 10:08:50"
LINE_CASES = [
    ("empty", b"", 0, 0),
    ("bom-only", b"\xef\xbb\xbf", 0, 0),
    ("crlf-and-cr-cr-lf", f"{T}      Execution started.\r\r\n{T} 0002 SET a=1\r\n".encode(), 2, 0),
    ("stray-cr", f"{T} 0002 SET a\r=1\n".encode(), 1, 0),
    ("lf-only-no-final-newline", f"{T} 0002 SET a=1\n{T} 0003 SET b=2".encode(), 2, 0),
    ("blank-line", f"{T} 0002 SET a=1\n\n{T} 0003 x\n".encode(), 2, 1),
    ("five-digit-script-line", f"{T} 12345 LOAD a\n".encode(), 1, 0),
    ("no-text-after-number", f"{T} 0032\n{T} 0033 \n".encode(), 2, 0),
    ("indented", f"  {T} 0074 CommandList:\t\n".encode(), 1, 0),
    ("impossible-date", b"2019-02-30 10:08:50 0002 x\n", 0, 1),
    ("broken-prefix", f"{T} 02 x\n".encode(), 0, 1),
    ("text-before-first-line", f"hello\n{T} 0002 x\n".encode(), 1, 1),
    ("continuation-after-bad-line", f"{T} 0002 x\n\x01\x02\nmore text\n".encode(), 1, 2),
    ("binary-garbage", bytes(range(256)) * 8, 0, 9),
]


@pytest.mark.parametrize("case, data, n_lines, n_bad", LINE_CASES, ids=[c[0] for c in LINE_CASES])
def test_line_rules(case: str, data: bytes, n_lines: int, n_bad: int) -> None:
    log = parse_script_log(data, "x.log")
    assert_accounted(log, data)
    assert (log.lines.height, log.bad_lines.height) == (n_lines, n_bad)
    if "Execution finished." not in data.decode("utf-8", "replace"):
        assert log.summary.outcome is Outcome.INCOMPLETE


def test_line_values() -> None:
    log = parse_script_log(f"{T} 0002 SET a\r=1\n{T}      \t2 fields found: A, B, \n".encode(), "x.log")
    assert log.lines.select("line_no", "time", "script_line", "text").rows() == [
        (1, datetime(2019, 10, 23, 10, 8, 50), 2, "SET a=1"),
        (2, datetime(2019, 10, 23, 10, 8, 50), None, "\t2 fields found: A, B, "),
    ]


def test_dotnet_timestamps_stay_naive_and_report_the_offset() -> None:
    data = (b"20191023T100850.123+0200      Execution started.\n"
            b"20191023T100902.094+0200      Execution finished.\n")
    s = parse_script_log(data, "x.log").summary
    assert (s.start, s.end, s.utc_offset_minutes) == (
        datetime(2019, 10, 23, 10, 8, 50, 123000), datetime(2019, 10, 23, 10, 9, 2, 94000), 120)
    assert s.outcome is Outcome.SUCCESS and s.duration_s == pytest.approx(11.971)


def test_invalid_utf8_is_replaced_counted_and_strict_raises() -> None:
    data = f"{T} 0002 SET a='".encode() + b"\xff\xfe'\n" + f"{T}      Execution finished.\n".encode()
    log = parse_script_log(data, "x.log")
    assert log.summary.invalid_utf8_lines == 1 and log.bad_lines.height == 0
    assert "\ufffd" in log.lines.get_column("text")[0]
    with pytest.raises(ParseError, match=r"x.log:1: invalid UTF-8"):
        parse_script_log(data, "x.log", strict=True)


def test_header_keys_known_and_unknown() -> None:
    b = ScriptLogBuilder(with_set_lines=False)
    b.lines.insert(3, f"{T}      SomeNewSetting                1")
    s = parse_script_log(b.finish().build(), NAME).summary
    assert s.header["SomeNewSetting"] == "1" and s.header["MDAC Full Install Version"] == "6.3.9600.16384"
    assert s.header["Operating System"] == "Windows Server 2019 Datacenter  (64 bit edition)"
    assert len(s.header) == 28


@pytest.mark.parametrize("name, app_id", [
    (NAME, APP),
    (f"Log\\Script\\{APP}.2019_10_23_10_08_50.4F1A2B3C4D5E6F708192.log", APP),
    (f"{APP}.2019_10_23_10_08_50.4F1A2B3C4D5E6F708192.log.2", APP),
    ("disabled_1.txt", None),
])
def test_app_id_from_the_file_name(name: str, app_id: str | None) -> None:
    assert parse_script_log(b"", name).summary.app_id == app_id


def test_an_impossible_date_in_the_file_name_leaves_the_name_time_empty() -> None:
    s = parse_script_log(b"", f"{APP}.2024_02_30_25_00_00.4F1A2B3C4D5E6F708192.log").summary
    assert (s.app_id, s.name_time) == (APP, None)
    assert parse_script_log(b"", NAME).summary.name_time == datetime(2024, 3, 4, 2, 0, 5)


def test_summaries_frame_has_a_stable_schema() -> None:
    batch = parse_script_logs([(f.build().build(), NAME) for f in FAILURES] + [(b"", "e.log")])
    frame = summaries_frame(batch.summaries)
    assert frame.height == len(FAILURES) + 1 and dict(frame.schema) == SUMMARY_SCHEMA
    assert dict(summaries_frame([]).schema) == SUMMARY_SCHEMA
    first = frame.row(0, named=True)  # the License Monitor 401
    assert first["errors"][0]["text"].startswith("Error: QVX_UNEXPECTED_END_OF_DATA")
    assert first["tables"][0]["table"] == "LicenseLog"


_MESSAGES = st.sampled_from(["Execution finished.", "Execution Failed", "Error: x"])
_LINE = st.one_of(
    st.builds(lambda n, t: f"{T} {n:04d} {t}", st.integers(0, 9999), st.text(max_size=30)),
    st.builds(lambda t: f"{T}      {t}", _MESSAGES),
    st.text(max_size=30),
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.binary(max_size=600),
    st.lists(_LINE, max_size=12).map(lambda ls: "\r\n".join(ls).encode("utf-8", "surrogatepass")),
))
def test_any_bytes_every_line_accounted_or_parse_error_in_strict(data: bytes) -> None:
    log = parse_script_log(data, "any.log")
    assert_accounted(log, data)
    try:
        strict = parse_script_log(data, "any.log", strict=True)
    except ParseError:
        assert log.bad_lines.height > 0 or log.summary.invalid_utf8_lines > 0
    else:
        assert strict.bad_lines.height == 0 and strict.summary.invalid_utf8_lines == 0


# -- batches: many files in one pass, each as if parsed alone ------------------------------------------------


def assert_same_log(got: ScriptLog, alone: ScriptLog) -> None:
    assert got.lines.equals(alone.lines) and got.bad_lines.equals(alone.bad_lines)
    assert got.summary == alone.summary


def test_batch_gives_each_file_what_it_gives_alone() -> None:
    files = [(f.build().build(), f"{APP}.2024_03_04_02_00_{i:02d}.AB.log") for i, f in enumerate(FAILURES)]
    files += [(data, f"{case}.log") for case, data, _, _ in LINE_CASES]
    batch = parse_script_logs(files)
    assert len(batch.summaries) == len(files)
    assert batch.lines.height == sum(batch.line_counts) and batch.bad_lines.height == sum(batch.bad_counts)
    for i, (data, name) in enumerate(files):
        assert_same_log(batch.log(i), parse_script_log(data, name))


def test_nothing_crosses_from_one_file_into_the_next() -> None:
    """A label, a LOAD, a header and a parsed line at the end of one file are not the next file's."""
    first = f"{T}      Reload Executed By UserDirectory=INTERNAL; UserId=sa_scheduler\n{T} 0002 Users:\n" \
            f"{T} 0003 LOAD a FROM x\n{T}      Error: Field 'a' not found\n"
    second = f"driver text without a prefix\n{T}      2 fields found: a, b\n{T}      5 lines fetched\n" \
             f"{T}      Execution Failed\n"
    batch = parse_script_logs([(first.encode(), "a.log"), (second.encode(), "b.log")])
    b = batch.log(1)
    assert b.bad_lines.get_column("reason").to_list() == [
        "text without a line prefix before the first timestamped line"]
    assert [(t.table, t.statement, t.lines_fetched) for t in b.summary.tables] == [(None, None, 5)]
    assert b.summary.executed_by is None and b.summary.errors == () and b.summary.running_statement is None
    assert batch.log(0).summary.root_cause == "Error: Field 'a' not found"
    assert batch.log(0).summary.outcome is Outcome.INCOMPLETE and b.summary.outcome is Outcome.FAILED


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_LINE, max_size=8).map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass")),
                min_size=1, max_size=5))
def test_any_batch_equals_its_files_parsed_alone(datas: list[bytes]) -> None:
    batch = parse_script_logs([(data, f"f{i}.log") for i, data in enumerate(datas)])
    for i, data in enumerate(datas):
        assert_same_log(batch.log(i), parse_script_log(data, f"f{i}.log"))
