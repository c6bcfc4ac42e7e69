"""The error-class table: realistic error texts → class, the monitoring-app hint, scalar = vectorised."""

from __future__ import annotations

import polars as pl
import pytest

from qslogs.error_classes import (
    CLASS_HINTS,
    CLASS_NAMES,
    ERROR_RULES,
    MONITOR_APPS_AUTH_HINT,
    ErrorRule,
    classify_error,
    error_class_expr,
    error_hint_expr,
)

MS_ODBC = (
    "SQL##f - SqlState: {state}, ErrorCode: {code}, ErrorMsg: [Microsoft][ODBC Driver 17 for SQL Server]"
)
OLEDB = "ErrorSource: Microsoft OLE DB Provider for SQL Server, ErrorMsg: "

#: Realistic texts of script-log ``Error:`` lines (prefix removed) and scheduler messages, by class.
TEXTS: dict[str, list[str]] = {
    "auth": [
        "QVX_UNEXPECTED_END_OF_DATA: HTTP protocol error 401 (Unauthorized): The server refused the request.",
        "QVX_UNEXPECTED_END_OF_DATA: HTTP protocol error 401 (Unauthorized):\n"
        "Requested resource requires authentication.",
        "Connector reply error: HTTP protocol error 403 (Forbidden): The server refused the request.",
        "The remote server returned an error: (401) Unauthorized.",
        "Response status code does not indicate success: 401 (Unauthorized).",
        "Access is denied: the authentication has failed or has not been provided",
        OLEDB + "Login failed for user 'CORP\\svc_qlik'.",
        MS_ODBC.format(state="28000", code="18456") + "[SQL Server]Login failed for user 'qlik_reader'.",
        "Connector connect error: SQL##f - SqlState: 28000, ErrorCode: 1045, ErrorMsg: [MySQL][ODBC 8.0(w) "
        "Driver]Access denied for user 'qlik'@'10.1.2.3' (using password: YES)",
        'Connector connect error: ERROR [28P01] FATAL: password authentication failed for user "qlik"',
        "ORA-01017: invalid username/password; logon denied",
        "Logon failure: unknown user name or bad password.",
    ],
    "connector": [
        "Connector reply error: ***",
        "Connector connect error: Unable to connect to the remote server",
        "Connection 'Sales_DB (corp_svc_qlik)' not found",
        MS_ODBC.format(state="08001", code="53")
        + "Named Pipes Provider: Could not open a connection to SQL Server [53].",
        OLEDB + "[DBNETLIB][ConnectionOpen (Connect()).]SQL Server does not exist or access denied.",
        MS_ODBC.format(state="S1T00", code="0") + "Query timeout expired",
        "QVX_UNEXPECTED_END_OF_DATA: The operation has timed out.",
        "QVX_UNEXPECTED_END_OF_DATA: A task was canceled.",
        "QVX_UNEXPECTED_END_OF_DATA: HTTP protocol error 500 (Internal Server Error): An error has occurred.",
        MS_ODBC.format(state="S0002", code="208") + "[SQL Server]Invalid object name 'dbo.Orders'.",
    ],
    "script": [
        "Field 'SessionId' not found",
        "Field not found - <SessionId>",
        "Table 'Users' not found",
        "Table 'Sales 401' not found",
        "Unknown statement: Lod * From [lib://DataFiles/x.qvd] (qvd)",
        "Unexpected token: ')', expected one of: ',', 'as', 'FROM', 'RESIDENT', ...",
        "Syntax error, missing/misplaced FROM: LOAD a, b FROM_x",
        "Field names must be unique within table",
        "LOAD statement only works with lib:// paths in this script mode",
    ],
    "file": [
        "Cannot open file: 'lib://DataFiles/Sales_2024.qvd'",
        "Cannot open file: 'lib://ArchivedLogsFolder/qlikserver1/Script/x.log' (Native Path: "
        "\\\\fs01\\QlikShare\\ArchivedLogs\\qlikserver1\\Script\\x.log) System error: Filesystem::FindImpl "
        "FindFirst call: The system cannot find the path specified.",
        "Path not found: lib://ServerLogFolder/Engine/Trace",
        "The process cannot access the file because it is being used by another process.",
    ],
    "resource": [
        "Out of memory",
        "OUT OF VIRTUAL AND/OR LOGICAL MEMORY, allocating 512 MB",
        "Cannot write file 'lib://DataFiles/Sales.qvd': There is not enough space on the disk.",
        "Not enough storage is available to process this command.",
    ],
    "aborted": [
        "Execution aborted by user",
        "The reload was cancelled by the task (timeout of 1440 minutes exceeded)",
        "Execution State Change to Aborting",
    ],
    # System_Scheduler / TaskSession messages of a run without a script log.
    "initiation": [
        "Failed to start session for task Reload License Monitor",
        "Could not reserve an executor for task 'Reload Operations Monitor'",
        "Max retries reached",
        "Engine unreachable: qlikserver1.corp.example:4747",
    ],
    "unknown": [
        "Something unexpected happened",
        "Internal inconsistency, type D, detected",
    ],
}
CASES: list[tuple[str, str]] = [(text, name) for name, texts in TEXTS.items() for text in texts]


@pytest.mark.parametrize("text, expected", CASES)
def test_classify_error(text: str, expected: str) -> None:
    result = classify_error(text)
    assert result.name == expected, (text, result.pattern)
    assert result.text == text
    assert result.hint
    assert (result.pattern is None) == (expected == "unknown")


def test_every_class_has_at_least_two_cases_and_a_hint() -> None:
    for name in CLASS_NAMES:
        assert sum(1 for _, c in CASES if c == name) >= 2, name
        assert CLASS_HINTS[name]
    assert {rule.name for rule in ERROR_RULES} <= set(CLASS_NAMES)


def test_vectorised_classification_agrees_with_scalar() -> None:
    texts = [t for t, _ in CASES]
    got = pl.DataFrame({"text": texts}).select(error_class_expr(pl.col("text"))).to_series().to_list()
    assert got == [classify_error(t).name for t in texts]


def test_vectorised_null_stays_null() -> None:
    frame = pl.DataFrame({"text": [None, "Out of memory"]}, schema={"text": pl.String})
    assert frame.select(error_class_expr(pl.col("text"))).to_series().to_list() == [None, "resource"]


@pytest.mark.parametrize(
    "connection, monitor_hint",
    [
        ("monitor_apps_REST_license_user", True),
        ("monitor_apps_REST_task", True),
        ("Monitor_Apps_REST_app", True),
        ("SQL_Sales (corp_svc_qlik)", False),
        (None, False),
    ],
)
def test_monitor_apps_hint_only_for_auth_on_their_connections(
    connection: str | None, monitor_hint: bool
) -> None:
    result = classify_error("HTTP protocol error 401 (Unauthorized)", connection)
    assert result.name == "auth"
    assert (result.hint == MONITOR_APPS_AUTH_HINT) is monitor_hint
    other = classify_error("Field 'SessionId' not found", connection)
    assert other.hint != MONITOR_APPS_AUTH_HINT


def test_hint_expr_matches_scalar_hints() -> None:
    rows = [
        ("HTTP protocol error 401 (Unauthorized)", "monitor_apps_REST_license_user"),
        ("HTTP protocol error 401 (Unauthorized)", "Sales"),
        ("Connection 'Sales' not found", None),
        ("Something unexpected happened", None),
    ]
    frame = pl.DataFrame(rows, schema={"text": pl.String, "connection": pl.String}, orient="row")
    got = frame.select(error_hint_expr(pl.col("text"), pl.col("connection"))).to_series().to_list()
    assert got == [classify_error(t, c).hint for t, c in rows]


def test_table_is_extensible_first_match_wins() -> None:
    custom = (ErrorRule(r"(?i)sharepoint throttling", "connector", "SharePoint throttled the requests."),
              *ERROR_RULES)
    result = classify_error("SharePoint throttling: 429 Too Many Requests", rules=custom)
    assert (result.name, result.hint) == ("connector", "SharePoint throttled the requests.")
    assert classify_error("SharePoint throttling: 429 Too Many Requests").name == "unknown"
