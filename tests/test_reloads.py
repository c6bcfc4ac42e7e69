"""Reload diagnosis on realistic bundles written in tmp_path: root causes, linking, rebuilding, playbook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from qslogs.analyses import registry, run_analyses
from qslogs.analyses.base import AnalysisOptions
from qslogs.analyses.reloads import ReloadsResult
from qslogs.analyses.reloads.run_outcome import NOTE_INITIATION, NOTE_NOT_COLLECTED
from qslogs.analyses.reloads.task_runs import normalise_status, outcome_of
from qslogs.error_classes import CLASS_HINTS, MONITOR_APPS_AUTH_HINT
from qslogs.export import result_json
from qslogs.jsonable import frame_rows
from qslogs.loader import load_frames
from tests.reloads_run import reloads_json, reloads_result
from tests.script_log_builder import ScriptLogBuilder
from tests.test_reloads_support import (
    LICENSE_MONITOR,
    MONITOR_401,
    SALES,
    T0,
    LogFolder,
    Node,
    Task,
    error_line_no,
    eu_offset,
    license_monitor_401,
    license_monitor_ok,
    sales_ok,
)

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def diagnose(log: Path, **options: Any) -> dict[str, Any]:
    """What ``qslogs reloads --json`` prints for the folder."""
    return reloads_json(load_frames([log]), AnalysisOptions(**options))


def run_of(data: dict[str, Any], execution_id: str) -> dict[str, Any]:
    return next(r for r in data["runs"] if r["execution_id"] == execution_id)


# -- status names and numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, status, outcome",
    [
        ("FinishedSuccess", "FinishedSuccess", "success"),
        ("finishedfail", "FinishedFail", "failed"),
        ("8", "FinishedFail", "failed"),
        (" 7 ", "FinishedSuccess", "success"),
        ("11", "Error", "failed"),
        ("6", "Aborted", "aborted"),
        ("AbortInitiated", "AbortInitiated", "aborted"),
        ("2", "Started", "running"),
        ("9", "Skipped", "other"),
        ("SomethingNew", "SomethingNew", "other"),
        ("", None, "other"),
    ],
)
def test_status_names_and_numbers_normalise_to_the_qrs_set(
    raw: str, status: str | None, outcome: str
) -> None:
    got = pl.select(normalise_status(pl.lit(raw)).alias("s")).with_columns(outcome_of(pl.col("s")).alias("o"))
    assert got.row(0) == (status, outcome)


# -- a failed run with a script log failed in the script -----------------------------------------------------


def _fails(*lines: str, connect: str | None = None, quote: str = "'") -> Any:
    def build(local: datetime) -> ScriptLogBuilder:
        b = ScriptLogBuilder(start=local).load_qvd(
            "Calendar", ["Date", "Year"], "lib://DataFiles/Calendar.qvd", 731
        )
        if connect:
            b = b.connect(connect, quote).sql_select("Orders", ["OrderId", "Amount"], "dbo.Orders", None)
        return b.error(*lines)

    return build


SQL_LOGIN = (
    "Connector connect error: SQL##f - SqlState: 28000, ErrorCode: 18456, ErrorMsg: [Microsoft][ODBC Driver "
    "17 for SQL Server][SQL Server]Login failed for user 'CORP\\svc_qlik'."
)
REPLY = (
    "Connector reply error: SQL##f - SqlState: 08001, ErrorCode: 53, ErrorMsg: [Microsoft][ODBC Driver 18 "
    "for SQL "
    "Server]Named Pipes Provider: Could not open a connection to SQL Server [53]."
)
FAILURES = [
    # case, script, class, connection (lib:// of the error line or running statement, else CONNECT), error text
    ("rest-401", license_monitor_401, "auth", "monitor_apps_REST_license_user", MONITOR_401),
    (
        "sql-login",
        _fails(SQL_LOGIN, connect="SQL_Sales (corp_svc_qlik)"),
        "auth",
        "SQL_Sales (corp_svc_qlik)",
        SQL_LOGIN,
    ),
    ("odbc-reply", _fails(REPLY, connect="Finance_SQL", quote='"'), "connector", "Finance_SQL", REPLY),
    (
        "no-connection",
        _fails("Connection 'Sales_DB (corp_svc_qlik)' not found", connect="Sales_DB (corp_svc_qlik)"),
        "connector",
        "Sales_DB (corp_svc_qlik)",
        "Connection 'Sales_DB (corp_svc_qlik)' not found",
    ),
    ("field", _fails("Field 'Region' not found"), "script", "DataFiles", "Field 'Region' not found"),
    (
        "statement",
        _fails("Unknown statement: Lod * From [lib://DataFiles/x.qvd] (qvd)"),
        "script",
        "DataFiles",
        "Unknown statement: Lod * From [lib://DataFiles/x.qvd] (qvd)",
    ),
    (
        "qvd-missing",
        _fails("Cannot open file: 'lib://DataFiles/Sales_2024.qvd'"),
        "file",
        "DataFiles",
        "Cannot open file: 'lib://DataFiles/Sales_2024.qvd'",
    ),
    (
        "path",
        _fails(
            "Cannot open file: 'lib://ArchivedLogsFolder/Script/' System error: Filesystem::FindImpl "
            "FindFirst call: The system cannot find the path specified."
        ),
        "file",
        "ArchivedLogsFolder",
        "Cannot open file: 'lib://ArchivedLogsFolder/Script/' System error: Filesystem::FindImpl "
        "FindFirst call: "
        "The system cannot find the path specified.",
    ),
    (
        "memory",
        _fails("Out of memory", connect="DWH (corp_svc_qlik)"),
        "resource",
        "DWH (corp_svc_qlik)",
        "Out of memory",
    ),
    (
        "disk",
        _fails("Cannot write file 'lib://DataFiles/Sales.qvd': There is not enough space on the disk."),
        "resource",
        "DataFiles",
        "Cannot write file 'lib://DataFiles/Sales.qvd': There is not enough space on the disk.",
    ),
    (
        "two-errors",
        _fails("Field 'Region' not found", "Table 'Sales' not found"),
        "script",
        "DataFiles",
        "Field 'Region' not found",
    ),
    (
        "unknown",
        _fails("Internal inconsistency, type D, detected"),
        "unknown",
        "DataFiles",
        "Internal inconsistency, type D, detected",
    ),
]


@pytest.mark.parametrize(
    "case, script, error_class, connection, text", FAILURES, ids=[f[0] for f in FAILURES]
)
def test_failed_run_with_a_script_log_failed_in_the_script(
    tmp_path: Path, case: str, script: Any, error_class: str, connection: str | None, text: str
) -> None:
    logs = LogFolder()
    ok = logs.run(SALES, T0 - HOUR, script=sales_ok)
    failed = logs.run(LICENSE_MONITOR, T0, outcome="script", script=script)
    data = diagnose(logs.write(tmp_path))
    run = run_of(data, failed)
    ((log_name, log_bytes),) = [
        (n, b) for n, b in logs.scripts.items() if n.startswith(LICENSE_MONITOR.app_id)
    ]
    assert (run["status"], run["outcome"], run["failure_kind"]) == ("FinishedFail", "failed", "script")
    assert (run["error_class"], run["connection"], run["root_cause"]) == (
        error_class,
        connection,
        f"Error: {text}",
    )
    assert run["script_log"] == run["root_cause_file"] == f"Script/{log_name}"
    assert run["root_cause_line"] == error_line_no(log_bytes)
    assert run["error_hint"] == (MONITOR_APPS_AUTH_HINT if case == "rest-401" else run["error_hint"])
    assert run["error_hint"] and run["note"] is None
    context = [c["text"] for c in run["error_context"]]
    assert f"Error: {text}" in context and context[-1] == "Execution finished."
    assert run_of(data, ok)["error_class"] is None and run_of(data, ok)["script_log"] is not None


def test_aborted_run_is_class_aborted_and_not_a_failure_kind(tmp_path: Path) -> None:
    logs = LogFolder()
    cut = logs.run(
        SALES,
        T0,
        seconds=600,
        outcome="aborted",
        script=lambda t: sales_ok(t).error("Execution aborted by user"),
    )
    run = run_of(diagnose(logs.write(tmp_path)), cut)
    assert (run["status"], run["outcome"], run["failure_kind"], run["error_class"]) == (
        "Aborted",
        "aborted",
        None,
        "aborted",
    )
    assert (
        run["root_cause"] == "Error: Execution aborted by user"
        and run["error_hint"] == CLASS_HINTS["aborted"]
    )


# -- linking: window, skew, closest wins, DST ----------------------------------------------------------------


@pytest.mark.parametrize(
    "delay_s, linked", [(0.6, True), (40, True), (-90, True), (125, True), (200, False), (-150, False)]
)
def test_script_log_joins_its_run_within_the_window(tmp_path: Path, delay_s: float, linked: bool) -> None:
    """+0200 node; the log starts ``delay_s`` after StartTime; the window is [start − 120 s, stop + 120 s]."""
    logs = LogFolder(Node(offset=lambda _t: 120))
    ex = logs.run(
        LICENSE_MONITOR,
        T0,
        seconds=12.094,
        outcome="script",
        script=license_monitor_401,
        script_delay_s=delay_s,
    )
    logs.run(SALES, T0 + 2 * HOUR, script=sales_ok)  # the bundle holds script logs for this period
    run = run_of(diagnose(logs.write(tmp_path)), ex)
    if linked:
        assert run["link"] == "window" and run["failure_kind"] == "script" and run["error_class"] == "auth"
        assert abs(run["link_delta_s"] - delay_s) < 1  # script logs have whole seconds
    else:
        assert run["script_log"] is None and run["failure_kind"] == "initiation"


@pytest.mark.parametrize("offset_minutes", [14 * 60, -12 * 60, 0])
@pytest.mark.parametrize("utc_clock", [(23, 59, 50), (0, 0, 10)])
def test_links_across_midnight_on_any_offset(tmp_path: Path, offset_minutes: int,
                                              utc_clock: tuple[int, int, int]) -> None:
    """The log's local day is not the run's UTC day (UTC+14, UTC−12, a run at midnight): still linked."""
    logs = LogFolder(Node(offset=lambda _t: offset_minutes))
    hour, minute, second = utc_clock
    start = T0.replace(hour=hour, minute=minute, second=second)
    ex = logs.run(LICENSE_MONITOR, start, seconds=30, outcome="script", script=license_monitor_401,
                  script_delay_s=25)
    run = run_of(diagnose(logs.write(tmp_path)), ex)
    assert run["link"] == "window" and run["error_class"] == "auth" and abs(run["link_delta_s"] - 25) < 1


def test_closest_log_wins_and_each_log_serves_one_run(tmp_path: Path) -> None:
    """A run and its retry 90 s later: both logs fall in both windows; each run gets its own."""
    logs = LogFolder()
    first = logs.run(
        LICENSE_MONITOR,
        T0,
        seconds=20,
        outcome="script",
        script=license_monitor_401,
        script_delay_s=40,
        label="first",
    )
    retry = logs.run(
        LICENSE_MONITOR,
        T0 + timedelta(seconds=90),
        seconds=20,
        script=license_monitor_ok,
        script_delay_s=3,
        label="retry",
    )
    data = diagnose(logs.write(tmp_path))
    a, b = run_of(data, first), run_of(data, retry)
    assert a["script_log"] != b["script_log"] and None not in (a["script_log"], b["script_log"])
    assert abs(a["link_delta_s"] - 40) < 1 and abs(b["link_delta_s"] - 3) < 1
    assert (a["error_class"], b["error_class"]) == ("auth", None)


def _dst_bundle(tmp_path: Path, rim_offsets: bool) -> tuple[dict[str, Any], str]:
    """Autumn DST change (27 Oct 2024, 01:00 UTC). The run executes on a rim node whose only .NET lines are at
    00:55 UTC (+0200) and 05:00 UTC (+0100): its log's naive 02:30:40 is nearest the +0200 line, so it lands
    an
    hour early on the UTC line and only the DST pass can link it."""
    central, rim = Node(offset=eu_offset), Node("SENSE02", offset=eu_offset)
    logs = LogFolder(central)
    logs.run(SALES, datetime(2024, 10, 26, 20, 0, 2, tzinfo=UTC), script=sales_ok)
    start = datetime(2024, 10, 27, 1, 30, 0, 500000, tzinfo=UTC)
    ex = logs.run(
        LICENSE_MONITOR,
        start,
        outcome="script",
        script=license_monitor_401,
        script_delay_s=40,
        node=rim,
        system_lines=False,
    )
    if rim_offsets:
        logs.engine_system(datetime(2024, 10, 27, 0, 55, tzinfo=UTC), "Server: Heartbeat", rim)
        logs.engine_system(datetime(2024, 10, 27, 5, 0, tzinfo=UTC), "Server: Heartbeat", rim)
    return diagnose(logs.write(tmp_path)), ex


def test_dst_change_links_through_the_one_hour_fallback_pass(tmp_path: Path) -> None:
    data, ex = _dst_bundle(tmp_path, rim_offsets=True)
    run = run_of(data, ex)
    assert (run["node"], run["link"], run["failure_kind"], run["error_class"]) == (
        "sense02",
        "dst",
        "script",
        "auth",
    )
    assert abs(run["link_delta_s"] - 40) < 1


def test_log_an_hour_off_without_a_dst_change_is_not_linked(tmp_path: Path) -> None:
    """Same shape on a node whose clock never changes: a log 3640 s after StartTime is another reload."""
    logs = LogFolder(Node(offset=lambda _t: 60))
    ex = logs.run(LICENSE_MONITOR, T0, outcome="script", script=license_monitor_401, script_delay_s=3640)
    logs.run(SALES, T0 + 3 * HOUR, script=sales_ok)
    run = run_of(diagnose(logs.write(tmp_path)), ex)
    assert run["script_log"] is None and run["failure_kind"] == "initiation"


# -- the playbook rule: initiation only where script logs were collected -------------------------------------


def _story(tmp_path: Path, scripts: bool = True, **run_options: Any) -> tuple[dict[str, Any], dict[str, str]]:
    logs = LogFolder()
    ids = {
        "lm_ok": logs.run(LICENSE_MONITOR, T0, script=license_monitor_ok, script_delay_s=40, **run_options),
        "lm_401": logs.run(
            LICENSE_MONITOR,
            T0 + DAY,
            outcome="script",
            script=license_monitor_401,
            script_delay_s=40,
            **run_options,
        ),
        "sales_init": logs.run(SALES, T0 + DAY + HOUR, outcome="initiation", **run_options),
        "sales_ok": logs.run(SALES, T0 + DAY + 2 * HOUR, script=sales_ok, **run_options),
    }
    return diagnose(logs.write(tmp_path, scripts=scripts)), ids


def test_failed_run_without_a_log_failed_at_initiation_when_logs_were_collected(tmp_path: Path) -> None:
    data, ids = _story(tmp_path)
    run = run_of(data, ids["sales_init"])
    assert (run["failure_kind"], run["error_class"], run["script_log"]) == ("initiation", "initiation", None)
    assert run["root_cause"] == "Failed to start session" and run["note"] == NOTE_INITIATION
    assert run["root_cause_file"] == "Scheduler/Trace/SENSE01_System_Scheduler.txt"
    line = next(c for c in run["error_context"] if c["line_no"] == run["root_cause_line"])
    assert (line["level"], line["text"]) == ("ERROR", "Task: Failed to start session")
    assert run["error_hint"] == CLASS_HINTS["initiation"]


def test_without_script_logs_the_bundle_says_script_log_not_collected(tmp_path: Path) -> None:
    data, ids = _story(tmp_path, scripts=False)
    for key in ("lm_401", "sales_init"):
        run = run_of(data, ids[key])
        assert (run["failure_kind"], run["script_log"], run["note"]) == (None, None, NOTE_NOT_COLLECTED)
    assert run_of(data, ids["sales_init"])["error_class"] == "initiation"  # the scheduler said so itself
    info = [f for f in data["findings"] if f["title"].startswith("2 failed runs have no script log")]
    assert len(info) == 1 and info[0]["severity"] == "info"
    assert data["meta"]["script_logs_cover"] is None


def test_findings_point_at_their_rows_by_key(tmp_path: Path) -> None:
    logs = LogFolder()
    logs.run(LICENSE_MONITOR, T0, script=license_monitor_ok, script_delay_s=40)
    lm_401 = logs.run(LICENSE_MONITOR, T0 + DAY, outcome="script", script=license_monitor_401, script_delay_s=40)
    sales_init = logs.run(SALES, T0 + DAY + HOUR, outcome="initiation")
    result = reloads_result(load_frames([logs.write(tmp_path, scripts=False)]))
    assert {(f.table, f.keys) for f in result.findings} == {
        ("monitoring_apps", ("License Monitor",)),  # failing: its task's failures are told here
        ("monitoring_apps", ("Operations Monitor",)),  # missing: no task for it
        ("runs", (lm_401, sales_init)),  # the failed runs whose script log was not collected
        ("runs", (sales_init,)),  # the Sales task's last failure
    }


def test_initiation_rule_stops_where_the_collected_script_logs_stop(tmp_path: Path) -> None:
    logs = LogFolder()
    logs.run(SALES, T0, script=sales_ok)
    inside = logs.run(SALES, T0 + 3 * HOUR, outcome="initiation")
    outside = logs.run(SALES, T0 + 5 * DAY, outcome="initiation")
    data = diagnose(logs.write(tmp_path))
    assert run_of(data, inside)["failure_kind"] == "initiation"
    assert (
        run_of(data, outside)["failure_kind"] is None and run_of(data, outside)["note"] == NOTE_NOT_COLLECTED
    )


# -- runs rebuilt without TaskExecution ----------------------------------------------------------------------


def _summary(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    keys = (
        "execution_id",
        "task",
        "app_id",
        "node",
        "status",
        "failure_kind",
        "error_class",
        "root_cause",
        "connection",
        "script_log",
    )
    return sorted(tuple(r[k] for k in keys) for r in data["runs"])


@pytest.mark.parametrize(
    "system_lines, audit_lines, source",
    [(True, True, "AuditActivity+System"), (True, False, "System"), (False, True, "AuditActivity")],
)
def test_runs_are_rebuilt_from_scheduler_lines_when_task_execution_is_missing(
    tmp_path: Path, system_lines: bool, audit_lines: bool, source: str
) -> None:
    full, _ = _story(tmp_path / "full")
    rebuilt, ids = _story(
        tmp_path / "rebuilt", task_execution=False, system_lines=system_lines, audit_lines=audit_lines
    )
    assert not (tmp_path / "rebuilt/Log/Scheduler/Trace/SENSE01_TaskExecution_Scheduler.txt").exists()
    expected = _summary(full)
    if not system_lines:  # the initiation failure's reason is only in the system log
        expected = [r[:7] + (None,) + r[8:] if r[0] == ids["sales_init"] else r for r in expected]
    assert _summary(rebuilt) == expected
    assert {r["source"] for r in rebuilt["runs"]} == {source}
    for r in rebuilt["runs"]:
        twin = run_of(full, r["execution_id"])
        assert abs(datetime.fromisoformat(r["start"]) - datetime.fromisoformat(twin["start"])) < timedelta(
            seconds=1
        )
        assert r["stop"] is not None and abs(r["duration_s"] - twin["duration_s"]) < 1


def test_task_execution_rows_win_and_executions_are_not_counted_twice(tmp_path: Path) -> None:
    data, ids = _story(tmp_path)
    assert sorted(r["execution_id"] for r in data["runs"]) == sorted(ids.values())
    assert {r["source"] for r in data["runs"]} == {"TaskExecution"}


def test_initiation_failure_lines_without_an_execution_id_become_a_run(tmp_path: Path) -> None:
    logs = LogFolder()
    logs.run(SALES, T0, script=sales_ok)
    at = T0 + 2 * HOUR
    logs.system(at, "Master.Task.Task", "Starting task", LICENSE_MONITOR)
    logs.system(
        at + timedelta(seconds=31),
        "Master.Task.TaskSession",
        "Could not reserve an executor for task",
        LICENSE_MONITOR,
        level="WARN",
    )
    logs.system(
        at + timedelta(seconds=31.006),
        "Master.Task.Task",
        "Failed to start session",
        LICENSE_MONITOR,
        level="ERROR",
    )
    data = diagnose(logs.write(tmp_path))
    orphan = [r for r in data["runs"] if r["task"] == LICENSE_MONITOR.name]
    assert len(orphan) == 1
    run = orphan[0]
    assert (run["execution_id"], run["status"], run["failure_kind"], run["error_class"]) == (
        None,
        "FinishedFail",
        "initiation",
        "initiation",
    )
    assert run["root_cause"] == "Could not reserve an executor for task"


# -- monitoring-app freshness --------------------------------------------------------------------------------


def _monitor_week(tmp_path: Path) -> Path:
    """License Monitor daily at 01:00 UTC: ok on day 0, 401 on days 1 and 2, ok again on day 3."""
    logs = LogFolder()
    for day, outcome in enumerate(("success", "script", "script", "success")):
        script = license_monitor_ok if outcome == "success" else license_monitor_401
        logs.run(
            LICENSE_MONITOR, T0 + day * DAY, seconds=14.2, outcome=outcome, script=script, script_delay_s=2
        )
    logs.run(Task("Reload Operations Monitor", "Operations Monitor"), T0 + 5 * HOUR, script=sales_ok)
    return logs.write(tmp_path)


@pytest.mark.parametrize(
    "until, stale_hours, verdict, severity, title",
    [
        (T0 + 20 * HOUR, 24, "ok", "ok", "License Monitor reloaded successfully 20 hours before"),
        (
            T0 + DAY + 20 * HOUR,
            24,
            "stale",
            "critical",
            "License Monitor has not reloaded successfully for 44 hours: "
            "HTTP 401 from data connection monitor_apps_REST_license_user",
        ),
        (
            T0 + 2 * DAY + 20 * HOUR,
            24,
            "stale",
            "critical",
            "License Monitor has not reloaded successfully for 2 days: "
            "HTTP 401 from data connection monitor_apps_REST_license_user",
        ),
        (
            T0 + 2 * DAY + 20 * HOUR,
            72,
            "failing",
            "critical",
            "License Monitor is failing since 2024-03-05 01:00 UTC (2 failed reloads): HTTP 401 from data "
            "connection monitor_apps_REST_license_user",
        ),
        # the day-3 reload has started but not finished: it does not count yet (71.99 h is "2 days")
        (
            T0 + 3 * DAY + timedelta(seconds=5),
            24,
            "stale",
            "critical",
            "License Monitor has not reloaded successfully for 2 days",
        ),
        (
            T0 + 3 * DAY + timedelta(seconds=15),
            24,
            "ok",
            "ok",
            "License Monitor reloaded successfully 1 minute",
        ),
        (None, 24, "ok", "ok", "License Monitor reloaded successfully"),
    ],
)
def test_license_monitor_verdict_follows_until(
    tmp_path: Path, until: datetime | None, stale_hours: float, verdict: str, severity: str, title: str
) -> None:
    data = diagnose(_monitor_week(tmp_path), until=until, stale_hours=stale_hours)
    lm = next(m for m in data["monitoring_apps"] if m["name"] == "License Monitor")
    assert lm["verdict"] == verdict and lm["stale"] is (verdict == "stale")
    finding = next(
        f for f in data["findings"] if "License Monitor" in f["title"] and "Task '" not in f["title"]
    )
    assert finding["severity"] == severity and finding["title"].startswith(title)
    if verdict in ("stale", "failing"):
        root = lm["root_cause"]
        assert (root["class"], root["connection"], root["hint"]) == (
            "auth",
            "monitor_apps_REST_license_user",
            MONITOR_APPS_AUTH_HINT,
        )
        assert root["text"] == f"Error: {MONITOR_401}" and root["script_log"] and root["line"] > 0
        assert MONITOR_APPS_AUTH_HINT in finding["detail"]
    else:
        assert lm["root_cause"] is None


def test_monitor_with_attempts_but_no_success_is_stale_and_unseen_monitor_is_missing(tmp_path: Path) -> None:
    logs = LogFolder()
    logs.run(LICENSE_MONITOR, T0, outcome="script", script=license_monitor_401)
    data = diagnose(logs.write(tmp_path))
    lm, om = data["monitoring_apps"]
    assert (lm["stale"], lm["last_success"], lm["last_status"]) == (True, None, "FinishedFail")
    # the bundle has scheduler logs but no task for the Operations Monitor: renamed or deleted
    assert (om["name"], om["stale"], om["verdict"], om["last_attempt"]) == (
        "Operations Monitor",
        None,
        "missing",
        None,
    )
    titles = {f["title"]: f["severity"] for f in data["findings"]}
    assert (
        titles[
            "License Monitor has not reloaded successfully in the period of the bundle: HTTP 401 from data "
            "connection monitor_apps_REST_license_user"
        ]
        == "critical"
    )
    assert titles["No reload task for the Operations Monitor: it was not reloaded in the period of the bundle"] == (
        "warning"
    )


# -- manual reloads, per-task numbers, options ---------------------------------------------------------------


def test_hub_reloads_are_reported_as_manual_reloads(tmp_path: Path) -> None:
    logs = LogFolder()
    logs.run(SALES, T0, script=sales_ok)
    user = "UserDirectory=CORP; UserId=anna.berg"
    failed_log = logs.manual(
        "Sales Overview",
        "CORP\\anna.berg",
        T0 + 2 * HOUR,
        lambda t: (
            ScriptLogBuilder(start=t, executed_by=user)
            .load_qvd("Sales", ["OrderId", "Region"], "lib://DataFiles/Sales.qvd", None)
            .error("Field 'Region' not found")
        ),
    )
    logs.manual(
        "Sales Overview",
        "CORP\\erik.holm",
        T0 + 4 * HOUR,
        lambda t: (
            ScriptLogBuilder(start=t, executed_by="UserDirectory=CORP; UserId=erik.holm")
            .load_qvd("Sales", ["OrderId"], "lib://DataFiles/Sales.qvd", 120)
            .finish()
        ),
        audit=False,
    )
    logs.engine_reload(
        T0 + 6 * HOUR,
        SALES.app_id,
        SALES.app,
        "CORP\\maria.lund",
        result="1",
        result_text="Error: The reload was cancelled by the user",
    )
    data = diagnose(logs.write(tmp_path))
    manual = data["manual_reloads"]
    assert [(m["user"], m["outcome"], m["source"], m["error_class"]) for m in manual] == [
        ("CORP\\anna.berg", "failed", "engine audit + script log", "script"),
        ("CORP\\erik.holm", "success", "script log", None),
        ("CORP\\maria.lund", "failed", "engine audit", "aborted"),
    ]
    first = manual[0]
    assert (first["app"], first["root_cause"], first["script_log"]) == (
        "Sales Overview",
        "Error: Field 'Region' not found",
        failed_log.removeprefix("Log/"),
    )
    assert first["root_cause_line"] == error_line_no(logs.scripts[failed_log.split("/")[-1]])
    assert any(c["text"] == "Error: Field 'Region' not found" for c in first["error_context"])
    assert manual[2]["root_cause"] == "The reload was cancelled by the user"
    warnings = [f["title"] for f in data["findings"] if f["severity"] == "warning"]
    assert "Manual reload of 'Sales Overview' by CORP\\anna.berg failed: Field 'Region' not found" in warnings
    assert len(data["runs"]) == 1  # hub reloads never become task runs
    assert sum(s["manual"] for s in data["script_logs"]) == 2


def test_per_task_summary_heatmap_in_local_time_and_durations(tmp_path: Path) -> None:
    logs = LogFolder(Node(offset=lambda _t: 120))
    for i, (outcome, secs) in enumerate(
        (("success", 10.0), ("script", 20.0), ("script", 30.0), ("success", 40.0))
    ):
        logs.run(
            LICENSE_MONITOR,
            T0 + i * DAY,
            seconds=secs,
            outcome=outcome,
            script=license_monitor_ok if outcome == "success" else license_monitor_401,
        )
    logs.run(SALES, T0 + HOUR, seconds=5, script=sales_ok)
    data = diagnose(logs.write(tmp_path))
    lm = next(t for t in data["tasks"] if t["task"] == LICENSE_MONITOR.name)
    assert (lm["runs"], lm["successes"], lm["failures"], lm["failure_rate"]) == (4, 2, 2, 0.5)
    assert (lm["mean_duration_s"], lm["max_duration_s"], lm["last_outcome"]) == (
        25.0,
        40.0,
        "FinishedSuccess",
    )
    assert (lm["last_error_class"], lm["last_connection"]) == ("auth", "monitor_apps_REST_license_user")
    assert data["tasks"][0]["task"] == LICENSE_MONITOR.name  # most failures first
    # T0 is Monday 01:00 UTC = 03:00 at +0200: failures on Tuesday and Wednesday at 03:00 local.
    cells = {(c["weekday_name"], c["hour"]): (c["runs"], c["failures"]) for c in data["failure_heatmap"]}
    assert cells == {
        ("Mon", 3): (1, 0),
        ("Mon", 4): (1, 0),
        ("Tue", 3): (1, 1),
        ("Wed", 3): (1, 1),
        ("Thu", 3): (1, 0),
    }
    assert "UTC+02:00" in data["meta"]["heatmap_time_basis"]
    assert [d["duration_s"] for d in data["durations"] if d["task"] == LICENSE_MONITOR.name] == [
        10,
        20,
        30,
        40,
    ]


def test_failed_only_and_time_window(tmp_path: Path) -> None:
    data, ids = _story(tmp_path)
    only = diagnose(tmp_path / "Log", failed_only=True)
    assert sorted(r["execution_id"] for r in only["runs"]) == sorted([ids["lm_401"], ids["sales_init"]])
    assert only["tasks"] == data["tasks"] and only["meta"]["runs_total"] == 4
    window = diagnose(tmp_path / "Log", since=T0 + DAY - HOUR, until=T0 + DAY + HOUR + timedelta(minutes=5))
    assert sorted(r["execution_id"] for r in window["runs"]) == sorted([ids["lm_401"], ids["sales_init"]])


def test_reloads_is_registered_and_tables_are_the_json(tmp_path: Path) -> None:
    assert "reloads" in [a.name for a in registry()]
    frames = load_frames([_story(tmp_path)[0] and tmp_path / "Log"])
    result = run_analyses(frames, AnalysisOptions(), only=["reloads"])["reloads"]
    assert isinstance(result, ReloadsResult)
    data = result_json(result)
    assert list(data) == [
        "runs", "monitoring_apps", "tasks", "manual_reloads", "script_logs", "failure_heatmap", "durations", "meta",
        "version_changes", "restarts", "findings",
    ]
    assert data["runs"] == frame_rows(result.runs) and len(data["runs"]) == 4
