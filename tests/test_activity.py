"""The activity analysis: levels per service × host × hour, grouped messages, sessions and users per day."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from qslogs.analyses import registry
from qslogs.analyses.activity import activity_analysis, activity_json
from qslogs.analyses.base import AnalysisOptions
from qslogs.cli import cli
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


@pytest.fixture
def activity(tmp_path: Path) -> dict[str, object]:
    return activity_json(activity_analysis(load_frames([write_activity_bundle(tmp_path)])))


def test_levels_are_counted_per_service_host_and_hour(activity: dict[str, object]) -> None:
    levels = {(r["kind"], r["host"], r["hour"], r["level"]): r["count"] for r in activity["levels"]}  # type: ignore
    assert levels[("Repository/System", "sense01", "2024-10-03T08:00:00.000Z", "ERROR")] == 2
    assert levels[("Repository/System", "sense01", "2024-10-03T08:00:00.000Z", "WARN")] == 1
    assert levels[("Repository/System", "sense01", "2024-10-03T09:00:00.000Z", "INFO")] == 1
    assert levels[("Repository/System", "sense02", "2024-10-03T08:00:00.000Z", "FATAL")] == 1
    assert levels[("HubService/NodeService", "sense01", "2024-10-03T08:00:00.000Z", "WARN")] == 1
    assert levels[("Engine/Session", "sense01", "2024-10-03T08:00:00.000Z", "INFO")] == 1
    assert not any(k[0].endswith("AuditActivity") for k in levels), "audit logs have no level column"


def test_service_host_totals_most_errors_first(activity: dict[str, object]) -> None:
    rows = [(r["service"], r["host"], r["errors"], r["warnings"]) for r in activity["by_service_host"]]  # type: ignore
    assert rows[:3] == [
        ("Repository", "sense01", 2, 1),
        ("Repository", "sense02", 1, 0),
        ("HubService", "sense01", 0, 1),
    ]
    repo1 = activity["by_service_host"][0]  # type: ignore[index]
    # the real times of the two ERROR lines (08:16 and 08:17), not the start of their hour
    assert (repo1["records"], repo1["first_error"], repo1["last_error"]) == (
        5,
        "2024-10-03T08:16:00.000Z",
        "2024-10-03T08:17:00.000Z",
    )
    daily = {
        (r["day"], r["service"], r["host"]): (r["errors"], r["warnings"], r["records"])
        for r in activity["daily"]
    }  # type: ignore[union-attr]
    assert daily[("2024-10-04", "Repository", "sense02")] == (0, 0, 1)
    assert activity["hourly_totals"][0] == {  # type: ignore[index]
        "hour": "2024-10-03T08:00:00.000Z",
        "errors": 3,
        "warnings": 2,
    }


def test_repeated_errors_with_different_numbers_and_ids_group_together(activity: dict[str, object]) -> None:
    top = activity["messages"][0]  # type: ignore[index]
    assert (top["service"], top["level"], top["count"], top["message"]) == (
        "Repository",
        "ERROR",
        2,
        "Connection # failed for <id>",
    )
    assert top["example"] == f"Connection 1234 failed for {GUID}"
    assert top["first"] == "2024-10-03T08:16:00.000Z" and top["last"] == "2024-10-03T08:17:00.000Z"


def test_sessions_and_distinct_users_per_day_without_internal_accounts(activity: dict[str, object]) -> None:
    sessions = {
        (r["source"], r["day"]): (r["sessions"], r["users"], r["internal_sessions"])
        for r in activity["sessions"]
    }  # type: ignore[union-attr]
    assert sessions == {
        ("proxy", "2024-10-03"): (3, 2, 1),
        ("proxy", "2024-10-04"): (1, 1, 0),
        ("engine", "2024-10-03"): (1, 1, 1),
    }
    totals = {r["source"]: (r["sessions"], r["users"]) for r in activity["session_totals"]}  # type: ignore
    assert totals == {"proxy": (4, 2), "engine": (1, 1)}
    titles = [f["title"] for f in activity["findings"]]  # type: ignore[union-attr]
    assert "Proxy sessions: 4 by 2 distinct users over 2 days" in titles
    assert any(
        t.startswith("3 errors and 2 warnings logged by 1 service; most in Repository on sense01")
        for t in titles
    )


def test_time_window_narrows_every_table(tmp_path: Path) -> None:
    frames = load_frames([write_activity_bundle(tmp_path)])
    options = AnalysisOptions(since=datetime(2024, 10, 4, tzinfo=UTC))
    data = activity_json(activity_analysis(frames, options))
    assert {r["hour"][:10] for r in data["levels"]} == {"2024-10-04"}
    assert data["messages"] == []
    assert [(r["source"], r["day"]) for r in data["sessions"]] == [("proxy", "2024-10-04")]


def test_empty_bundle_gives_empty_tables_and_no_findings(tmp_path: Path) -> None:
    (tmp_path / "Log" / "Repository" / "Trace").mkdir(parents=True)
    (tmp_path / "Log/Repository/Trace/SENSE01_System_Repository.txt").write_bytes(
        dotnet_file(TRACE_SYSTEM, [])
    )
    result = activity_analysis(load_frames([tmp_path / "Log"]))
    assert result.findings == []
    assert all(v == [] for v in result.tables.values())


def test_activity_is_registered_and_the_command_prints_json_and_text(tmp_path: Path) -> None:
    assert "activity" in [a.name for a in registry()]
    log = write_activity_bundle(tmp_path)
    result = CliRunner().invoke(cli, ["activity", str(log), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"levels", "by_service_host", "messages", "sessions", "session_totals", "findings"} <= set(doc)
    text = CliRunner().invoke(cli, ["activity", str(log)])
    assert text.exit_code == 0, text.output
    assert "Repository" in text.stdout and "Connection # failed for <id>" in text.stdout
    assert "proxy sessions: 4 by 2 distinct users over 2 days" in text.stdout


@pytest.mark.fixtures
def test_real_fixture_activity(real_log_folder: Path) -> None:
    data = activity_json(activity_analysis(load_frames([real_log_folder])))
    worst = data["by_service_host"][0]
    assert (worst["service"], worst["host"], worst["errors"]) == ("Repository", "qlikserver1", 108)
    assert data["messages"][0]["message"].startswith("Login access denied for SessionID: '<id>'")
    assert {r["source"] for r in data["session_totals"]} == {"proxy", "engine"}
