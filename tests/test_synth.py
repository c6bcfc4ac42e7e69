"""Tests of the synthetic bundle generator (qslogs_synth): determinism, layout, traps and the planted truth.

One default bundle is generated per module and shared; determinism, the size target and the CLI each
generate another small one.  Headers are checked against a copy of formats.md §3 kept here (and against
formats.md itself when the shared docs are present).
"""

from __future__ import annotations

import json
import random
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qslogs_synth import clock, generate_bundle, write_collector_zip
from qslogs_synth.__main__ import main as synth_main

DOTNET = re.compile(
    r"^(?P<host>[^_]+)_(?P<type>[A-Za-z]+)_(?P<svc>[A-Za-z]+)"
    r"(?:_(?P<roll>\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2})Z)?\.(txt|log)$"
)
FORMATS_MD = Path(__file__).resolve().parents[2] / "shared" / "docs" / "formats.md"

_T = "Sequence#|Timestamp|Level|Hostname|Logger|Thread|Id|ServiceUser|Message"
_A = (
    "Sequence#|ProductVersion|Timestamp|Hostname|Id|Description|ProxySessionId|ProxyPackageId|"
    "RequestSequenceId|"
)
_E = _T + "|ProxySessionId|ActiveUserDirectory|ActiveUserId|EngineTimestamp|EngineThread|ProcessId|"
_PERF = (
    "ActiveDocSessions|DocSessions|ActiveAnonymousDocSessions|AnonymousDocSessions|ActiveTunneledDocSessions|"
    "TunneledDocSessions|DocSessionStarts|ActiveDocs|RefDocs|LoadedDocs|DocLoads|DocLoadFails|Calls|Selections|"
    "ActiveIpAddrs|IpAddrs|ActiveUsers|Users|CPULoad|VMCommitted(MB)|VMAllocated(MB)|VMFree(MB)|"
    "VMLargestFreeBlock(MB)|CacheHits|CacheLookups|CacheObjectAdded|CacheBytesAdded|CacheTimeAdded|CacheReplaced"
)
_SIMPLE = _T + "|Exception|StackTrace|ProxySessionId|Id2"
_ACT = _A + "UserDirectory|UserId|ObjectId|ObjectName|Service|Origin|Context|Command|Result|Message|Id2"
_SVC = (
    "Sequence#|ProductVersion|Timestamp|Severity|Hostname|Id|Description|ProxySessionId|ProxyPackageId|"
    "RequestSequenceId|UserDirectory|UserId|ObjectId|ObjectName|Service|Origin|Context|Command|Result|Message|Id2"
)
_SVC_ENGINE = (
    "Sequence#|ProductVersion|Timestamp|Severity|Hostname|Id|EngineTimestamp|EngineVersion|Description|"
    "ProxySessionId|ProxyPackageId|RequestSequenceId|UserDirectory|UserId|{}ObjectId|ObjectName|Service|Origin|"
    "Context|Command|Result|Message|Id2"
)
#: Headers by (LogType, Service), transcribed from formats.md §3 independently of qslogs_synth/headers.py.
EXPECTED: dict[tuple[str, str], set[str]] = {
    **{
        (t, s): {_SIMPLE}
        for t, s in [
            ("System", "Repository"),
            ("Security", "Repository"),
            ("Synchronization", "Repository"),
            ("UserManagement", "Repository"),
            ("System", "Proxy"),
            ("Security", "Proxy"),
            ("System", "Printing"),
            ("Security", "Printing"),
            ("Security", "Scheduler"),
        ]
    },
    # Files written before the upgrade lack optional Trace columns (formats.md §3.1): both variants occur.
    ("System", "Printing"): {_SIMPLE, _T + "|Exception|StackTrace|Id2"},
    ("Security", "Printing"): {_SIMPLE, _T + "|Exception|StackTrace|Id2"},
    ("Synchronization", "Repository"): {_SIMPLE, _T + "|Id2"},
    ("System", "Scheduler"): {
        _T + "|Exception|StackTrace|ProxySessionId|TaskName|TaskId|User|ExecutionId|AppName|AppId|Id2"
    },
    ("TaskExecution", "Scheduler"): {
        _T + "|Exception|StackTrace|ProxySessionId|TaskId|TaskName|AppId|AppName|ExecutionId|ExecutingNodeId|"
        "ExecutingNodeName|Status|StartTime|StopTime|Duration|FailureReason|Id2"
    },
    ("License", "Repository"): {
        _T + "|ProxySessionId|AccessTypeId|AccessType|Operation|UserName|UserId|Checksum"
    },
    ("Audit", "Repository"): {
        _T + "|ProxySessionId|Action|ActiveUserDirectory|ActiveUserId|ResourceId|Checksum"
    },
    ("Audit", "Proxy"): {
        _T
        + "|ProxySessionId|ConnectionId|ActiveUserDirectory|ActiveUserId|TicketId|IpAddress|AppId|TargetHost|"
        "VirtualProxy|Checksum"
    },
    ("Performance", "Proxy"): {
        _T + "|ProxySessionId|ActiveConnections|ActiveStreams|ActiveSessions|LoadBalancingDecisions|"
        "PrintingLoadBalancingDecisions|Tickets|ActiveClientWebsockets|ActiveEngineWebsockets|WorkerThreads|"
        "HandleCount|Id2"
    },
    ("System", "Engine"): {_E + "SessionId|Server Started|Id2", _E + "Server Started|Id2"},
    ("Session", "Engine"): {
        _E + "SessionId|Exe Version|Server Started|ProxyPackageId|AppId|App Title|Doc Timestamp|Exit Reason|"
        "Session Start|Session Duration|CPU Spent (s)|Bytes Received|Bytes Sent|Calls|Selections|"
        "Authenticated User|Secure Protocol|Id2"
    },
    ("Performance", "Engine"): {_E + "Exe Version|Server Started|Entry Type|" + _PERF + "|Id2"},
    ("QixCounter", "Engine"): {_E + "CounterName|CounterValue|Checksum"},
    **{("AuditActivity", s): {_ACT} for s in ("Proxy", "Repository", "Scheduler")},
    **{
        ("AuditSecurity", s): {
            _A + "UserDirectory|UserId|ObjectId|ObjectName|SecurityClass|ClientHostAddress|Service|Origin|"
            "Context|Command|Result|Message|Checksum"
        }
        for s in ("Proxy", "Repository")
    },
    ("AuditActivity", "Engine"): {
        "Sequence#|ProductVersion|Timestamp|Hostname|Id|EngineTimestamp|EngineVersion|Description|ProxySessionId|"
        "ProxyPackageId|RequestSequenceId|UserDirectory|UserId|SessionId|ObjectId|ObjectName|Service|Origin|"
        "Context|Command|Result|Message|Id2"
    },
    **{("Service", s): {_SVC} for s in ("Proxy", "Repository", "Scheduler", "Printing")},
    ("Service", "Engine"): {_SVC_ENGINE.format("SessionId|"), _SVC_ENGINE.format("")},
}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _dotnet(root: Path) -> list[Path]:
    """.NET service logs (not engine daily files, node.js logs or script logs)."""
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if (
            p.is_file()
            and DOTNET.match(p.name)
            and "/Script/" not in rel
            and not re.search(r"_\d{4}-\d{2}-\d{2}\.log$", p.name)
        ):
            out.append(p)
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("synth")
    root = generate_bundle(out)
    return root, json.loads((out / "TRUTH.json").read_text(encoding="utf-8"))


def test_same_seed_same_bytes(sample: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, _ = sample
    again = generate_bundle(tmp_path / "again")
    first, second = _files(root.parent), _files(again.parent)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_collector_layout(sample: tuple[Path, dict[str, Any]]) -> None:
    root, truth = sample
    top = {p.name for p in root.iterdir()}
    assert {"Log", "sense01.corp.example", "sense02.corp.example", "SenseCollector.log"} <= top
    for name in ("CalInfo", "LicenseAgent", "QrsAbout", "ServiceCluster", "AboutComponents", "WmiWin32"):
        assert any(re.fullmatch(rf"{name}_[0-9a-f-]{{36}}\.json", n) for n in top), name
    cal = json.loads((root / truth["bundle"]["collector_json"]["CalInfo"]).read_text(encoding="utf-8"))
    lic = truth["licenses"]
    assert cal["ProfessionalAllocatedTokens"] == lic["professional"]["allocated_at_end"] == 12
    assert cal["AnalyzerAllocatedTokens"] == lic["analyzer"]["allocated_at_end"] == 35
    assert (cal["ProfessionalTotalTokens"], cal["AnalyzerTotalTokens"]) == (15.0, 40.0)
    cluster = json.loads(
        (root / truth["bundle"]["collector_json"]["ServiceCluster"]).read_text(encoding="utf-8")
    )
    assert cluster["settings"]["sharedPersistenceProperties"]["archivedLogsRootFolder"].endswith(
        "ArchivedLogs"
    )
    assert (root / "Log/Scheduler/Trace/SENSE01_TaskExecution_Scheduler.txt").is_file()
    assert not list(root.glob("sense0*/**/*.txt")), "archived files are rolled .log files"
    rolled = [p.name for p in root.glob("sense01.corp.example/Repository/Trace/*_License_Repository_*Z.log")]
    assert len(rolled) > 40, "a year of license history spread over weekly rolled files"


def test_headers_match_formats(sample: tuple[Path, dict[str, Any]]) -> None:
    seen = set()
    for path in _dotnet(sample[0]):
        m = DOTNET.match(path.name)
        assert m is not None
        header = path.read_bytes().decode("utf-8-sig").split("\r\n", 1)[0].replace("\t", "|")
        assert header in EXPECTED[(m["type"], m["svc"])], path
        seen.add((m["type"], m["svc"], header))
    assert {h for t, s, h in seen if (t, s) == ("System", "Engine")} == EXPECTED[("System", "Engine")]
    assert {h for t, s, h in seen if (t, s) == ("Service", "Engine")} == EXPECTED[("Service", "Engine")]


@pytest.mark.skipif(not FORMATS_MD.is_file(), reason="shared formats.md not available")
def test_headers_are_in_formats_md(sample: tuple[Path, dict[str, Any]]) -> None:
    doc = FORMATS_MD.read_text(encoding="utf-8")
    documented = {line.split(": ", 1)[1].strip() for line in doc.splitlines() if ": Sequence#|" in line}
    documented |= (
        {h.replace("[SessionId]|", "SessionId|") for h in documented}
        | {h.replace("[SessionId]|", "") for h in documented}
        | {h.replace("SessionId|Server", "Server") for h in documented}
    )
    # §3.1: Exception|StackTrace are optional and ProxySessionId is not in every file.
    documented |= {h.replace("|ProxySessionId|", "|", 1) for h in documented}
    documented |= {h.replace("|Exception|StackTrace|", "|", 1) for h in documented}
    for path in _dotnet(sample[0]):
        header = path.read_bytes().decode("utf-8-sig").split("\r\n", 1)[0].replace("\t", "|")
        assert header in documented, path


def test_bom_crlf_and_exactly_one_broken_line(sample: tuple[Path, dict[str, Any]]) -> None:
    root, truth = sample
    broken = []
    for path in _dotnet(root):
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), path
        assert data.count(b"\n") == data.count(b"\r\n"), path
        lines = data[3:].decode("utf-8").split("\r\n")[:-1]
        width = lines[0].count("\t")
        for no, line in enumerate(lines[1:], start=2):
            if line.startswith("Signature:\t"):
                assert no == len(lines) and re.fullmatch(r"Signature:\t[0-9a-f]{40}", line), path
            elif line.count("\t") != width:
                broken.append(f"{path.relative_to(root).as_posix()}:{no}")
    assert broken == [truth["traps"]["broken_line"]["location"]]
    for rel in truth["traps"]["signature_trailers"]:
        assert (root / rel).read_bytes().splitlines()[-1].startswith(b"Signature:\t")
    for path in root.glob("Log/Script/*.log"):
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\n") == data.count(b"\r\n"), path
        assert data.endswith(b"Execution finished.\r\n"), path


def test_nodejs_and_engine_daily_traps(sample: tuple[Path, dict[str, Any]]) -> None:
    root, truth = sample
    traps = truth["traps"]
    rel, line = traps["nodejs_continuation_record"].rsplit(":", 1)
    raw = (root / rel).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    record = raw.split(b"\r\n")[int(line) - 1]
    assert b"\n" in record and record.split(b"\n")[1].startswith(b"    at ")
    rel, line = traps["odag_raw_tabs_record"].rsplit(":", 1)
    assert (root / rel).read_bytes().split(b"\r\n")[int(line) - 1].count(b"\t") > 6
    assert b"\r\r\n" in (root / traps["engine_start_crcrlf_file"]).read_bytes()
    assert b"\xe2\x86\xb5\xe2\x86\x93" in (root / traps["encoded_line_breaks_files"][0]).read_bytes()  # ↵↓


def test_zip_has_backslash_names_and_same_files(sample: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, _ = sample
    zpath = write_collector_zip(root, tmp_path / "SenseCollector_x.zip")
    files = _files(root)
    with zipfile.ZipFile(zpath) as zf:
        names = zf.namelist()
        assert all("/" not in n for n in names)
        assert any(n.startswith("Log\\Engine\\Audit\\") for n in names)
        assert {n.replace("\\", "/") for n in names} == set(files)
        member = "Log\\Scheduler\\Trace\\SENSE01_TaskExecution_Scheduler.txt"
        assert zf.read(member) == files[member.replace("\\", "/")]
    assert write_collector_zip(root, tmp_path / "again.zip").read_bytes() == zpath.read_bytes()


def test_target_mb_is_honoured(tmp_path: Path) -> None:
    root = generate_bundle(tmp_path / "big", target_mb=6)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert 5.4e6 <= size <= 6.6e6
    truth = json.loads((tmp_path / "big" / "TRUTH.json").read_text(encoding="utf-8"))
    assert truth["filler"]["filler_rows"] > 0
    assert truth["reloads"]["license_monitor"]["failed_local_dates"] == ["2026-10-28", "2026-10-29"]
    assert truth["licenses"]["last_week_distinct_users"] <= 40


def _row(root: Path, location: str) -> list[str]:
    rel, line = location.rsplit(":", 1)
    lines = (root / rel).read_bytes().decode("utf-8-sig").split("\r\n")
    header, row = lines[0], lines[int(line) - 1]
    return [f"{k}={v}" for k, v in zip(header.split("\t"), row.split("\t"), strict=True)]


def test_reload_story_rows(sample: tuple[Path, dict[str, Any]]) -> None:
    root, truth = sample
    reloads = truth["reloads"]
    execs = reloads["executions"]
    assert len({e["execution_id"] for e in execs}) == len(execs)
    for e in execs:
        cells = _row(root, e["taskexecution_row"])
        assert f"ExecutionId={e['execution_id']}" in cells and f"Status={e['status']}" in cells
        assert f"ExecutingNodeName={e['executing_node']}" in cells
        assert f"Duration={e['duration_ms']}" in cells
        if e["failure_phase"] == "initiation":
            assert e["script_log"] is None
        else:
            assert (root / e["script_log"]).is_file()
    lm = reloads["license_monitor"]
    failed = [e for e in execs if e["execution_id"] in lm["failed_execution_ids"]]
    assert len(failed) == 4 and {e["connection"] for e in failed} == {"monitor_apps_REST_license_user"}
    assert lm["last_status"] == "FinishedSuccess"
    text = (root / failed[0]["script_log"]).read_bytes().decode("utf-8-sig")
    # Either timestamp form (classic before the node's upgrade, modern with its offset after it).
    stamp = re.compile(r"^(?:\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}|\d{8}T\d{6}\.\d{3}[+-]\d{4}) ")
    body = [stamp.sub("", line, count=1) for line in text.split("\r\n") if line]
    assert all(line != stamp.sub("", line, count=1) for line in text.split("\r\n") if line)
    connects = [i for i, t in enumerate(body) if t.startswith(("0", "1")) and "LIB CONNECT TO" in t]
    error = next(i for i, t in enumerate(body) if t.strip().startswith("Error:"))
    assert "monitor_apps_REST_license_user" in body[max(i for i in connects if i < error)]
    assert "401" in body[error] and body[-2].strip() == "Execution Failed"
    sched = (root / "Log/Scheduler/Trace/SENSE01_System_Scheduler.txt").read_text(encoding="utf-8-sig")
    assert "Execution State Change to FinishedFail" in sched and "Max retries reached" in sched
    initiation = next(e for e in execs if e["failure_phase"] == "initiation")
    archived = "".join(
        p.read_text(encoding="utf-8-sig") for p in root.glob("sense01*/Scheduler/Trace/*System_S*")
    )
    assert "Could not reserve an executor for task" in archived and "Failed to start session" in archived
    assert initiation["status"] == "Error"
    manual = reloads["manual_reload"]
    script = (root / manual["script_log"]).read_text(encoding="utf-8-sig")
    assert f"UserDirectory=CORP; UserId={manual['user'].split(chr(92))[1]}" in script
    assert "Error: Field 'SessionId' not found" in script
    assert "UserId=" + manual["user"].split("\\")[1] in " ".join(_row(root, manual["engine_audit_row"]))
    classes = {f["error_class"] for f in reloads["failures"]}
    assert classes == {"auth", "initiation", "connector", "file", "script"}


def test_script_starts_after_task_start_in_local_time(sample: tuple[Path, dict[str, Any]]) -> None:
    for e in sample[1]["reloads"]["executions"]:
        if e["script_log"] is None:
            continue
        start = datetime.strptime(e["start_time"], "%Y%m%dT%H%M%S.%f%z")
        local_start = start.replace(tzinfo=None)  # the offset-bearing value's own wall clock
        script = datetime.strptime(e["script_started_local"], "%Y-%m-%d %H:%M:%S")
        assert timedelta(seconds=1) <= script - local_start <= timedelta(seconds=6), e["execution_id"]
        name_time = datetime.strptime(Path(e["script_log"]).name.split(".")[1], "%Y_%m_%d_%H_%M_%S")
        assert script - name_time == timedelta(hours=-e["script_log_name_shift_hours"])


def test_license_rows_match_truth(sample: tuple[Path, dict[str, Any]]) -> None:
    root, truth = sample
    lic = truth["licenses"]
    rows = []
    for path in root.glob("**/*_License_Repository*"):
        lines = path.read_bytes().decode("utf-8-sig").split("\r\n")[1:]
        rows += [line.split("\t") for line in lines if line and not line.startswith("Signature:")]
    adds = [r for r in rows if r[12] == "Add"]
    assert sum(1 for r in adds if r[11] == "AnalyzerAccess") == lic["analyzer"]["adds_in_history"] == 30
    assert {r[13] for r in rows if r[12] == "UsageDenied"} == {d["user"] for d in lic["usage_denied"]}
    assert {"UsageGranted", "UsageDenied", "Timedout", "Add", "Update", "Delete", ""} <= {r[12] for r in rows}
    assert len(lic["unused_over_90_days"]) >= 3
    cutoff = (datetime(2026, 10, 31, 18, tzinfo=UTC) - timedelta(days=90)).strftime("%Y%m%d")
    for unused in lic["unused_over_90_days"]:
        used = [r[1][:8] for r in rows if r[12] == "UsageGranted" and r[13] == unused["user"]]
        assert all(day < cutoff for day in used), unused["user"]
    security = "".join(p.read_text(encoding="utf-8-sig") for p in root.glob("**/*_AuditSecurity_Repository*"))
    for command in (
        "Add analyzer access",
        "License analyzer access",
        "Add professional access",
        "License professional access",
        "License user access",
        "License maintenance",
    ):
        assert f"\t{command}\t" in security, command
    assert 15 <= lic["last_week_distinct_users"] <= 40
    qvd = truth["licenses"]["qvd"]
    if qvd["path"] is not None:
        assert (root.parent / qvd["path"]).read_bytes().startswith(b"<?xml")


def test_offsets_follow_stockholm_dst() -> None:
    rng = random.Random(5)
    base = clock.to_ms(datetime(2025, 10, 1, tzinfo=UTC))
    for _ in range(2000):
        ms = base + rng.randrange(400 * clock.DAY)
        moment = clock.from_ms(ms)
        summer = clock.dst_window(moment.year)[0] <= ms < clock.dst_window(moment.year)[1]
        off = 2 if summer else 1
        expected = (moment + timedelta(hours=off)).strftime("%Y%m%dT%H%M%S.") + f"{ms % 1000:03d}+0{off}00"
        assert clock.fmt_net(ms) == expected
    assert clock.fmt_net(clock.to_ms(datetime(2026, 10, 25, 0, 59, tzinfo=UTC))) == "20261025T025900.000+0200"
    assert clock.fmt_net(clock.to_ms(datetime(2026, 10, 25, 1, 0, tzinfo=UTC))) == "20261025T020000.000+0100"


def test_cli_writes_bundle_and_zip(sample: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    result = CliRunner().invoke(synth_main, [str(tmp_path / "cli"), "--seed", "3", "--nodes", "1", "--zip"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "bundle" / "Log").is_dir() and (tmp_path / "cli" / "TRUTH.json").is_file()
    assert not (tmp_path / "cli" / "bundle" / "sense02.corp.example").exists()
    other = (tmp_path / "cli" / "TRUTH.json").read_bytes()
    assert other != (sample[0].parent / "TRUTH.json").read_bytes(), "another seed gives another bundle"
    assert len(list((tmp_path / "cli").glob("SenseCollector_*.zip"))) == 1
    assert "Example:" in (synth_main.help or "")
