"""The activity analysis: levels per service × host × hour, grouped messages, sessions and users per day."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from qslogs.analyses import registry, run_analyses
from qslogs.analyses.activity_result import ActivityResult
from qslogs.analyses.base import AnalysisOptions
from qslogs.analyses.result import SchemaError, help_of
from qslogs.cli import cli
from qslogs.export import result_json
from qslogs.frames import Frames
from qslogs.loader import load_frames
from tests.logfiles import GUID, NODE, TRACE_SYSTEM, dotnet_file, trace_row

AUDIT_PROXY = (
    "Sequence#\tProductVersion\tTimestamp\tHostname\tId\tDescription\tProxySessionId\tProxyPackageId\t"
    "RequestSequenceId\tUserDirectory\tUserId\tObjectId\tObjectName\tService\tOrigin\tContext\tCommand\t"
    "Result\tMessage\tId2"
)
SESSION_ENGINE = (
    "Sequence#\tTimestamp\tLevel\tHostname\tLogger\tThread\tId\tServiceUser\tMessage\tProxySessionId\t"
    "ActiveUserDirectory\tActiveUserId\tEngineTimestamp\tEngineThread\tProcessId\tSessionId\t"
    "Exe Version\tServer Started\tProxyPackageId\tAppId\tApp Title\tDoc Timestamp\tExit Reason\t"
    "Session Start\tSession Duration\tCPU Spent (s)\tBytes Received\tBytes Sent\tCalls\tSelections\t"
    "Authenticated User\tSecure Protocol\tId2"
)
GUID2 = "9d8e7f60-1a2b-4c3d-8e9f-0a1b2c3d4e5f"


def proxy_row(
    seq: int, ts: str, command: str, directory: str, user: str, host: str = "Sense01", ip: str = "10.1.2.3"
) -> str:
    fields = [
        str(seq),
        "11.41.1.0",
        ts,
        host,
        GUID,
        f"Command={command};Result=0;ResultText=Success",
        GUID,
        "0",
        "0",
        directory,
        user,
        "Not available",
        "Not available",
        "Proxy",
        "Not available",
        "Not available",
        command,
        "0",
        f"{command} for user: '{directory}\\{user}' from {ip}",
        GUID,
    ]
    return "\t".join(fields)


def session_row(
    seq: int, ts: str, directory: str, user: str, app: str = "Sales", host: str = "Sense01"
) -> str:
    fields = [
        str(seq),
        ts,
        "INFO",
        host,
        "Session.Engine",
        "12",
        GUID,
        "CORP\\svc_qlik",
        "Session finished",
        GUID,
        directory,
        user,
        ts,
        "12",
        "4412",
        GUID2,
        "12.145.50600.0409.10",
        ts,
        "0",
        GUID,
        app,
        ts,
        "Socket closed by client",
        ts,
        "00:10:00",
        "1.5",
        "100",
        "200",
        "10",
        "3",
        f"UserDirectory={directory}; UserId={user}",
        "TLS",
        GUID,
    ]
    return "\t".join(fields)


def write_activity_bundle(root: Path) -> Path:
    """A Log folder with levels on two nodes, a node.js service, proxy sessions and engine sessions."""
    log = root / "Log"
    repo1 = [
        trace_row(1, "20241003T101500.000+0200", "Started", level="INFO"),
        trace_row(2, "20241003T101600.000+0200", f"Connection 1234 failed for {GUID}", level="ERROR"),
        trace_row(
            3,
            "20241003T101700.000+0200",
            f"Connection 99 failed for {GUID2}\u21b5at Foo.Bar()",
            level="ERROR",
        ),
        trace_row(4, "20241003T103000.000+0200", "Slow answer from sense02.corp.example", level="WARN"),
        trace_row(5, "20241003T113000.000+0200", "Done", level="INFO"),
    ]
    repo2 = [
        trace_row(1, "20241003T101500.000+0200", "Fatal thing", level="FATAL", host="Sense02"),
        trace_row(2, "20241004T091500.000+0200", "ok", level="INFO", host="Sense02"),
    ]
    files = {
        "Repository/Trace/SENSE01_System_Repository.txt": dotnet_file(TRACE_SYSTEM, repo1),
        "Repository/Trace/SENSE02_System_Repository.txt": dotnet_file(TRACE_SYSTEM, repo2),
        "Proxy/Audit/SENSE01_AuditActivity_Proxy.txt": dotnet_file(
            AUDIT_PROXY,
            [
                proxy_row(1, "20241003T090000.000+0200", "Start session", "CORP", "anna.berg"),
                proxy_row(2, "20241003T091000.000+0200", "Start session", "CORP", "ANNA.BERG"),
                proxy_row(3, "20241003T092000.000+0200", "Start session", "CORP", "lars.ek", ip="10.1.2.4"),
                proxy_row(4, "20241003T093000.000+0200", "Start session", "INTERNAL", "sa_proxy"),
                proxy_row(5, "20241003T094000.000+0200", "Stop session", "CORP", "anna.berg"),
                proxy_row(6, "20241004T090000.000+0200", "Start session", "CORP", "lars.ek"),
            ],
        ),
        "Engine/Trace/SENSE01_Session_Engine.txt": dotnet_file(
            SESSION_ENGINE,
            [
                session_row(1, "20241003T100000.000+0200", "CORP", "anna.berg"),
                session_row(2, "20241003T110000.000+0200", "INTERNAL", "sa_scheduler", app="License Monitor"),
            ],
        ),
    }
    for path, data in files.items():
        (log / path).parent.mkdir(parents=True, exist_ok=True)
        (log / path).write_bytes(data)
    node_rows = [
        "1\t20241003T101851.234+0200\tSense01.corp.example\t3.3.0\tHttp\tWARN\tslow request",
        "2\t20241003T101852.234+0200\tSense01.corp.example\t3.3.0\tHttp\tINFO\tok",
    ]
    (log / "HubService").mkdir(parents=True)
    (log / "HubService/201910231008512340200.log").write_bytes(
        ("\r\n".join([NODE, *node_rows]) + "\r\n").encode()
    )
    return log


def analyse(frames: Frames, options: AnalysisOptions | None = None) -> ActivityResult:
    """The activity analysis alone, as ``qslogs activity`` runs it."""
    result = run_analyses(frames, options, only=["activity"])["activity"]
    assert isinstance(result, ActivityResult)
    return result


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 10, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def activity(tmp_path: Path) -> ActivityResult:
    return analyse(load_frames([write_activity_bundle(tmp_path)]))


def test_levels_are_counted_per_service_host_and_hour(activity: ActivityResult) -> None:
    levels = {(r["kind"], r["host"], r["hour"], r["level"]): r["count"] for r in activity.levels.iter_rows(named=True)}
    assert levels[("Repository/System", "sense01", utc(3, 8), "ERROR")] == 2
    assert levels[("Repository/System", "sense01", utc(3, 8), "WARN")] == 1
    assert levels[("Repository/System", "sense01", utc(3, 9), "INFO")] == 1
    assert levels[("Repository/System", "sense02", utc(3, 8), "FATAL")] == 1
    assert levels[("HubService/NodeService", "sense01", utc(3, 8), "WARN")] == 1
    assert levels[("Engine/Session", "sense01", utc(3, 8), "INFO")] == 1
    assert not any(k[0].endswith("AuditActivity") for k in levels), "audit logs have no level column"


def test_service_host_totals_most_errors_first(activity: ActivityResult) -> None:
    rows = activity.by_service_host.select("service", "host", "errors", "warnings").rows()
    assert rows[:3] == [
        ("Repository", "sense01", 2, 1),
        ("Repository", "sense02", 1, 0),
        ("HubService", "sense01", 0, 1),
    ]
    repo1 = activity.by_service_host.row(0, named=True)
    # the real times of the two ERROR lines (08:16 and 08:17), not the start of their hour
    assert (repo1["records"], repo1["first_error"], repo1["last_error"]) == (5, utc(3, 8, 16), utc(3, 8, 17))
    daily = {
        (r["day"], r["service"], r["host"]): (r["errors"], r["warnings"], r["records"])
        for r in activity.daily.iter_rows(named=True)
    }
    assert daily[(date(2024, 10, 4), "Repository", "sense02")] == (0, 0, 1)
    assert activity.hourly_totals.row(0, named=True) == {"hour": utc(3, 8), "errors": 3, "warnings": 2}
    assert activity.daily_totals.rows() == [(date(2024, 10, 3), 3, 2), (date(2024, 10, 4), 0, 0)]


def test_counts_per_service_node_and_hour_are_computed_for_the_report(activity: ActivityResult) -> None:
    """The sparklines and the date filter's recount read these sums; the report adds nothing up."""
    hourly = {(r["service"], r["host"], r["hour"]): (r["errors"], r["warnings"], r["records"])
              for r in activity.hourly.iter_rows(named=True)}
    assert hourly[("Repository", "sense01", utc(3, 8))] == (2, 1, 4)
    assert hourly[("Repository", "sense01", utc(3, 9))] == (0, 0, 1)
    assert hourly[("Repository", "sense02", utc(3, 8))] == (1, 0, 1)
    assert hourly[("HubService", "sense01", utc(3, 8))] == (0, 1, 2)
    assert "hourly" not in result_json(activity), "report data only, not in --json"


def test_repeated_errors_with_different_numbers_and_ids_group_together(activity: ActivityResult) -> None:
    top = activity.messages.row(0, named=True)
    assert (top["service"], top["level"], top["count"], top["message"]) == (
        "Repository",
        "ERROR",
        2,
        "Connection # failed for <id>",
    )
    assert top["example"] == f"Connection 1234 failed for {GUID}"
    assert (top["first"], top["last"]) == (utc(3, 8, 16), utc(3, 8, 17))


def test_sessions_and_distinct_users_per_day_without_internal_accounts(activity: ActivityResult) -> None:
    sessions = {
        (r["source"], r["day"]): (r["sessions"], r["users"], r["internal_sessions"])
        for r in activity.sessions.iter_rows(named=True)
    }
    assert sessions == {
        ("proxy", date(2024, 10, 3)): (3, 2, 1),
        ("proxy", date(2024, 10, 4)): (1, 1, 0),
        ("engine", date(2024, 10, 3)): (1, 1, 1),
    }
    assert activity.session_totals.rows() == [("engine", 1, 1), ("proxy", 4, 2)]
    proxy = next(f for f in activity.findings if f.title.startswith("Proxy sessions"))
    assert proxy.title == "Proxy sessions: 4 by 2 distinct users over 2 days"
    assert (proxy.table, proxy.keys) == ("session_totals", ("proxy",))
    errors = next(f for f in activity.findings if "errors and" in f.title)
    assert errors.title.startswith("3 errors and 2 warnings logged by 1 service; most in Repository on sense01")
    assert (errors.table, errors.keys) == ("by_service_host", ("Repository|sense01",))
    assert isinstance(activity.findings, tuple)


def test_time_window_narrows_every_table(tmp_path: Path) -> None:
    frames = load_frames([write_activity_bundle(tmp_path)])
    result = analyse(frames, AnalysisOptions(since=datetime(2024, 10, 4, tzinfo=UTC)))
    assert set(result.levels["hour"].dt.date().to_list()) == {date(2024, 10, 4)}
    assert result.messages.is_empty()
    assert result.sessions.select("source", "day").rows() == [("proxy", date(2024, 10, 4))]


def test_empty_bundle_gives_empty_tables_and_no_findings(tmp_path: Path) -> None:
    (tmp_path / "Log" / "Repository" / "Trace").mkdir(parents=True)
    (tmp_path / "Log/Repository/Trace/SENSE01_System_Repository.txt").write_bytes(
        dotnet_file(TRACE_SYSTEM, [])
    )
    result = analyse(load_frames([tmp_path / "Log"]))
    assert result.findings == ()
    assert result_json(result) == {
        "levels": [], "by_service_host": [], "daily": [], "hourly_totals": [], "daily_totals": [],
        "messages": [], "sessions": [], "session_totals": [], "findings": [],
    }
    assert result.hourly.is_empty()


def test_a_table_that_differs_from_its_declaration_is_refused(activity: ActivityResult) -> None:
    wrong = activity.by_service_host.with_columns(pl.col("errors").cast(pl.Int64))
    with pytest.raises(SchemaError, match=r"ActivityResult\.by_service_host: .*errors: Int64 \(declared UInt32\)"):
        replace(activity, by_service_host=wrong)
    with pytest.raises(SchemaError, match=r"ActivityResult\.sessions: .*missing \['internal_sessions'\]"):
        replace(activity, sessions=activity.sessions.drop("internal_sessions"))


def test_every_activity_field_is_explained() -> None:
    text = help_of(ActivityResult)
    assert list(text) == [
        "findings", "levels", "by_service_host", "daily", "hourly_totals", "daily_totals", "messages",
        "sessions", "session_totals", "hourly",
    ]
    assert text["levels"].startswith("records per log kind × node × UTC hour × level")
    assert "(columns: kind String, service String, host String, hour Datetime(time_unit='ms', time_zone='UTC'), " \
        "level String, count UInt32)" in text["levels"]
    assert "INTERNAL" in text["sessions"] and "sparklines" in text["hourly"]


def test_activity_is_registered_and_the_command_prints_json_and_text(tmp_path: Path) -> None:
    assert "activity" in [a.name for a in registry()]
    log = write_activity_bundle(tmp_path)
    result = CliRunner().invoke(cli, ["activity", str(log), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == [
        "levels", "by_service_host", "daily", "hourly_totals", "daily_totals", "messages", "sessions",
        "session_totals", "findings",
    ]
    assert doc["by_service_host"][0] == {
        "service": "Repository", "host": "sense01", "errors": 2, "warnings": 1, "records": 5,
        "first_error": "2024-10-03T08:16:00.000Z", "last_error": "2024-10-03T08:17:00.000Z",
    }
    assert doc["sessions"][0] == {"source": "engine", "day": "2024-10-03", "sessions": 1, "users": 1,
                                  "internal_sessions": 1}
    text = CliRunner().invoke(cli, ["activity", str(log)])
    assert text.exit_code == 0, text.output
    assert "Repository" in text.stdout and "Connection # failed for <id>" in text.stdout
    assert "proxy sessions: 4 by 2 distinct users over 2 days" in text.stdout


@pytest.mark.fixtures
def test_real_fixture_activity(real_log_folder: Path) -> None:
    result = analyse(load_frames([real_log_folder]))
    worst = result.by_service_host.row(0, named=True)
    assert (worst["service"], worst["host"], worst["errors"]) == ("Repository", "qlikserver1", 108)
    assert result.messages["message"][0].startswith("Login access denied for SessionID: '<id>'")
    assert result.session_totals["source"].to_list() == ["engine", "proxy"]
