"""Script logs of every release, anywhere: both timestamp forms, any name or folder, failures without scheduler logs.

Real classic logs come from ``../shared/fixtures/real/script-logs``; modern ones (no public failing file exists)
are written like the public excerpts of formats.md §6.1: ``20200227T121011.881+0100 0549 Store …``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qslogs.analyses.reloads.script_link import TIME_BASIS_LOG, TIME_BASIS_NODE, TIME_BASIS_UNKNOWN
from qslogs.bundle import open_bundle
from qslogs.export import result_json
from qslogs.findings import Severity
from qslogs.frames import Frames
from qslogs.inventory import UNKNOWN, classify
from qslogs.loader import load_frames
from qslogs.parsers.script_logs import Outcome, parse_script_log
from qslogs.schemas import Family
from tests.conftest import SHARED_REAL
from tests.logfiles import TRACE_SYSTEM, dotnet_file, trace_row
from tests.reloads_run import reloads_result
from tests.script_log_builder import MONITOR_401, ScriptLogBuilder

LM_APP = "3b2a9f10-5e4d-4c3b-8a29-1f0e9d8c7b6a"
SALES_APP = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
HR_APP = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
CHURN_APP = "aa11bb22-cc33-4d44-8e55-ff6677889900"
SPRING_AHEAD = datetime(2024, 3, 31, 1, 0, tzinfo=UTC)  # Europe: +0100 before, +0200 after


def script_name(app: str, when: datetime) -> str:
    return f"{app}.{when:%Y_%m_%d_%H_%M_%S}.4F1A2B3C4D5E6F708192.log"


def modern_401(start: datetime, offset: int = 60) -> bytes:
    """The License Monitor refused with HTTP 401, written by a modern release (its own offset)."""
    return (ScriptLogBuilder(start=start, utc_offset_minutes=offset)
            .load_qvd("LicenseLog", ["Timestamp", "UserId"], "lib://ServerLogFolder/License.qvd", 1480)
            .connect("monitor_apps_REST_license_user")
            .rest_select("RestConnectorMasterTable", ["id", "userDirectory", "userId"])
            .error(MONITOR_401).build())


def classic_field(start: datetime) -> bytes:
    """A scheduled reload failing on a missing field, classic form (naive local time)."""
    return (ScriptLogBuilder(start=start)
            .load_qvd("Sales", ["OrderId", "Region"], "lib://DataFiles/Sales.qvd", None)
            .error("Field 'Region' not found").build())


def modern_store(start: datetime) -> bytes:
    """A STORE into a lib:// folder that fails (modern form): the folder connection is named."""
    return (ScriptLogBuilder(start=start, utc_offset_minutes=60)
            .sql_select("Headcount", ["EmployeeId", "FTE"], "dbo.Headcount", 1210)
            .statement("STORE Headcount INTO [lib://HR_Share/headcount.qvd] (qvd)")
            .error("Cannot open file: 'lib://HR_Share/headcount.qvd'").build())


def reloads_json(path: Path) -> dict[str, Any]:
    """``qslogs reloads --json`` of the folder, with the findings as :class:`Finding` objects."""
    result = reloads_result(load_frames([path]))
    return {**result_json(result), "findings": list(result.findings)}


# -- failures from script logs alone ---------------------------------------------------------------------------


def test_script_log_only_folder_yields_a_finding_per_app_and_root_cause(tmp_path: Path) -> None:
    """What a customer sends when asked for "the script log": logs only, any names, both forms."""
    t1, t2 = datetime(2024, 3, 4, 5, 30, 1, 250000), datetime(2024, 3, 5, 5, 30, 2, 500000)
    folder = tmp_path / "from customer"
    (folder / "mail 1").mkdir(parents=True)
    (folder / "lm_monday.txt").write_bytes(modern_401(t1))
    (folder / "mail 1" / "license monitor again.log").write_bytes(modern_401(t2))
    (folder / script_name(SALES_APP, datetime(2024, 3, 4, 8, 0))).write_bytes(
        classic_field(datetime(2024, 3, 4, 8, 0, 5)))
    (folder / script_name(HR_APP, datetime(2024, 3, 4, 9, 0))).write_bytes(modern_store(datetime(2024, 3, 4, 9, 0, 1)))
    manual = (ScriptLogBuilder(start=datetime(2024, 3, 4, 10, 0), executed_by="UserDirectory=CORP; UserId=anna")
              .load_qvd("WebSessions", ["SessionId"], "lib://DataFiles/web.qvd", None)
              .error("Field 'SessionId' not found").build())
    (folder / script_name(CHURN_APP, datetime(2024, 3, 4, 10, 0))).write_bytes(manual)

    data = reloads_json(folder)
    urgent = [f for f in data["findings"] if f.severity in (Severity.CRITICAL, Severity.WARNING)]
    by_cause = {f.data.get("root_cause"): f for f in urgent}
    lm = by_cause[f"Error: {MONITOR_401}"]
    assert lm.severity is Severity.CRITICAL and lm.data["count"] == 2
    assert lm.data["connection"] == "monitor_apps_REST_license_user" and lm.data["error_class"] == "auth"
    # The modern form's own offset (+0100) gives UTC to the millisecond, with no .NET log in sight.
    assert (lm.data["first_utc"], lm.data["last_utc"]) == ("2024-03-04T04:30:01.250Z", "2024-03-05T04:30:02.500Z")
    assert "HTTP 401" in lm.title and "2024-03-04 04:30 UTC" in lm.detail and "2024-03-05 04:30 UTC" in lm.detail

    sales = by_cause["Error: Field 'Region' not found"]
    assert sales.severity is Severity.WARNING and sales.data["count"] == 1 and sales.data["first_utc"] is None
    assert sales.data["offset_unknown"] is True and "2024-03-04 08:00:05 (local time, offset unknown)" in sales.detail
    assert sales.data["connection"] == "DataFiles" and sales.data["line"] is not None

    hr = by_cause["Error: Cannot open file: 'lib://HR_Share/headcount.qvd'"]
    assert hr.severity is Severity.WARNING and hr.data["connection"] == "HR_Share"
    assert hr.data["first_utc"] == "2024-03-04T08:00:01.000Z"

    churn = [f for f in urgent if "Manual reload" in f.title]
    assert len(churn) == 1 and "Field 'SessionId' not found" in churn[0].detail
    assert len(urgent) == 4  # every failed log is in exactly one urgent finding

    logs = {r["source_file"].rsplit("/", 1)[-1]: r for r in data["script_logs"]}
    assert logs["lm_monday.txt"]["time_basis"] == TIME_BASIS_LOG
    assert logs[script_name(SALES_APP, datetime(2024, 3, 4, 8, 0))]["time_basis"] == TIME_BASIS_UNKNOWN


def test_a_failure_followed_by_a_success_is_info(tmp_path: Path) -> None:
    ok = (ScriptLogBuilder(start=datetime(2024, 3, 6, 8, 0), utc_offset_minutes=60)
          .load_qvd("Sales", ["OrderId"], "lib://DataFiles/Sales.qvd", 10).finish().build())
    (tmp_path / script_name(HR_APP, datetime(2024, 3, 5, 8, 0))).write_bytes(modern_store(datetime(2024, 3, 5, 8, 0)))
    (tmp_path / script_name(HR_APP, datetime(2024, 3, 6, 8, 0))).write_bytes(ok)
    found = [f for f in reloads_json(tmp_path)["findings"] if f.data.get("app") == HR_APP]
    assert len(found) == 1 and found[0].severity is Severity.INFO and found[0].data["recovered"] is True


# -- the same UTC times inside a bundle and alone ------------------------------------------------------------


def _node_log(offset: int, when: datetime) -> bytes:
    """A .NET System_Repository file that tells the node's UTC offset around ``when`` (local time)."""
    sign, (hh, mm) = ("-" if offset < 0 else "+"), divmod(abs(offset), 60)
    stamp = f"{when:%Y%m%dT%H%M%S}.000{sign}{hh:02d}{mm:02d}"
    return dotnet_file(TRACE_SYSTEM, [trace_row(1, stamp, "Repository started")])


def _fixtures() -> list[tuple[str, bytes]]:
    """Every real script-log fixture there is, plus generated modern and classic logs (both outcomes)."""
    found = []
    real = SHARED_REAL / "script-logs"
    if real.is_dir():
        found = [(p.name, p.read_bytes()) for p in sorted(real.iterdir())]
    found += [
        ("modern-401", modern_401(datetime(2024, 3, 31, 2, 59, 59, 999000), offset=60)),  # a DST night
        ("modern-store", modern_store(datetime(2024, 10, 27, 2, 30))),
        ("modern-west", modern_401(datetime(2024, 7, 1, 23, 59, 59), offset=-300)),
        ("classic-field", classic_field(datetime(2024, 3, 4, 8, 0, 5))),
    ]
    return found


FIXTURES = _fixtures()
NAMES = st.text(alphabet="abcXYZ019 _-()", min_size=1, max_size=20).map(str.strip).filter(bool)


def _start(folder: Path) -> list[tuple[Any, Any, Any]]:
    rows = reloads_json(folder)["script_logs"]
    assert len(rows) == 1, rows
    return [(r["start"], r["start_utc"], r["end_utc"]) for r in rows]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fixture=st.sampled_from(FIXTURES),
    name=NAMES,
    ext=st.sampled_from(["", ".txt", ".log", ".log.2", ".LOG"]),
    folder=st.lists(NAMES, max_size=3),
    node_offset=st.sampled_from([-300, 0, 60, 120, 330]),
)
def test_same_utc_times_inside_a_bundle_and_alone(
    tmp_path_factory: pytest.TempPathFactory, fixture: tuple[str, bytes], name: str, ext: str, folder: list[str],
    node_offset: int,
) -> None:
    label, data = fixture
    log = parse_script_log(data, label)
    local = log.summary.start or datetime(2024, 1, 1)
    # Inside a bundle: Log/Script beside the node's .NET logs, with the name the node gives it.
    bundle = tmp_path_factory.mktemp("bundle")
    (bundle / "Log" / "Script").mkdir(parents=True)
    (bundle / "Log" / "Repository" / "Trace").mkdir(parents=True)
    (bundle / "Log" / "Repository" / "Trace" / "SENSE01_System_Repository.txt").write_bytes(
        _node_log(node_offset, local))
    (bundle / "Log" / "Script" / script_name(LM_APP, local)).write_bytes(data)
    inside = _start(bundle)
    # Alone: any name, any folder, nothing else.
    alone_root = tmp_path_factory.mktemp("alone")
    where = alone_root.joinpath(*folder) if folder else alone_root
    where.mkdir(parents=True, exist_ok=True)
    (where / f"{name}{ext}").write_bytes(data)
    alone = _start(alone_root)
    assert alone[0][0] == inside[0][0]  # the local time as written never changes
    if log.lines["utc_offset_minutes"].is_not_null().any():
        assert alone == inside  # the log's own offset decides, wherever the file is
    else:
        # Classic form: the node's offset inside the bundle; alone, no offset is known and none is invented.
        expected = local.replace(tzinfo=UTC).timestamp() - node_offset * 60
        assert datetime.fromisoformat(inside[0][1].replace("Z", "+00:00")).timestamp() == expected
        assert alone[0][1] is None and alone[0][2] is None


def test_modern_offsets_beat_the_node_offset_and_track_dst(tmp_path: Path) -> None:
    """Across the spring-forward night each line keeps its own offset: UTC is exact on both sides."""
    b = ScriptLogBuilder(start=datetime(2024, 3, 31, 1, 59, 59), utc_offset_minutes=60)
    b.load_qvd("T", ["A"], "lib://DataFiles/T.qvd", None)
    b.offset, b.time = 120, datetime(2024, 3, 31, 3, 0, 1)
    data = b.error("Out of memory").build()
    s = parse_script_log(data, "x.log").summary
    assert s.start_utc == datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC)
    assert s.end_utc == datetime(2024, 3, 31, 1, 0, 2, tzinfo=UTC) and s.duration_s == 3.0
    assert s.end_utc > SPRING_AHEAD > s.start_utc and s.utc_offset_minutes == 60
    (tmp_path / "Log" / "Script").mkdir(parents=True)
    (tmp_path / "Log" / "Repository" / "Trace").mkdir(parents=True)
    (tmp_path / "Log" / "Repository" / "Trace" / "SENSE01_System_Repository.txt").write_bytes(
        _node_log(-300, datetime(2024, 3, 31, 2, 0)))  # a node clock that disagrees: the log wins
    (tmp_path / "Log" / "Script" / script_name(LM_APP, datetime(2024, 3, 31, 2, 0))).write_bytes(data)
    (row,) = reloads_json(tmp_path)["script_logs"]
    assert (row["start_utc"], row["time_basis"]) == ("2024-03-31T00:59:59.000Z", TIME_BASIS_LOG)


def test_classic_log_in_a_bundle_uses_the_node_offset(tmp_path: Path) -> None:
    (tmp_path / "Log" / "Script").mkdir(parents=True)
    (tmp_path / "Log" / "Repository" / "Trace").mkdir(parents=True)
    (tmp_path / "Log" / "Repository" / "Trace" / "SENSE01_System_Repository.txt").write_bytes(
        _node_log(60, datetime(2024, 3, 4, 8, 0)))
    (tmp_path / "Log" / "Script" / script_name(SALES_APP, datetime(2024, 3, 4, 8, 0))).write_bytes(
        classic_field(datetime(2024, 3, 4, 8, 0, 5)))
    data = reloads_json(tmp_path)
    (row,) = data["script_logs"]
    assert (row["start_utc"], row["time_basis"]) == ("2024-03-04T07:00:05.000Z", TIME_BASIS_NODE)
    (finding,) = [f for f in data["findings"] if f.data.get("app") == SALES_APP]
    assert "2024-03-04 07:00 UTC" in finding.detail and finding.data["offset_unknown"] is False


# -- recognition by content ------------------------------------------------------------------------------------


def _entry(tmp_path: Path, rel: str, data: bytes) -> Any:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    bundle = open_bundle([tmp_path])
    (member,) = [m for m in bundle.members if m.name.endswith(rel.rsplit("/", 1)[-1])]
    return classify(member)


CRASH_DUMP = (
    b"<--- Last few GCs --->\n\n[4312:000001D8]   123456 ms: Mark-sweep 2046.1 (2081.5) -> 2045.9 MB\n\n"
    b"<--- JS stacktrace --->\n\nFATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - "
    b"JavaScript heap out of memory\n 1: 00007FF6A1B2C3D4 node::Abort+1234\n" * 40
)


@pytest.mark.parametrize("rel", [
    "Downloads/export (1).txt", "reload", "Log/Engine/Trace/odd.log", f"x/{LM_APP}.2024_03_04_05_30_01.AB.log",
    "deep/er/still/ReloadLog.TXT",
])
@pytest.mark.parametrize("form", ["modern", "classic", "header-only", "statements-only"])
def test_script_logs_are_recognised_by_their_lines_whatever_the_name(tmp_path: Path, rel: str, form: str) -> None:
    full = modern_401(datetime(2024, 3, 4, 5, 30)) if form == "modern" else classic_field(datetime(2024, 3, 4))
    lines = full.split(b"\r\n")
    data = {
        "modern": full, "classic": full,
        "header-only": b"\r\n".join(lines[5:12]),  # starts inside the header block (a .log.2 part)
        "statements-only": b"  " + b"\r\n".join(lines[30:]),  # numbered statements, indented like a real file
    }[form]
    entry = _entry(tmp_path, rel, data)
    assert (entry.family, entry.kind) == (Family.SCRIPT, "Script")


@pytest.mark.parametrize("rel", [
    f"Log/Script/{LM_APP}.2024_03_04_05_30_01.4F1A2B3C4D5E6F708192.log", "Log/Script/report.log",
    "Log/HubService/201910231008512340200.log",
])
def test_files_only_named_like_logs_are_unknown_not_bad_lines(tmp_path: Path, rel: str) -> None:
    entry = _entry(tmp_path, rel, CRASH_DUMP)
    assert entry.kind == UNKNOWN and entry.family is None and "crash dump" in entry.reason
    frames = load_frames([tmp_path])
    assert frames.bad_lines.height == 0 and not frames.file_issues
    assert frames.files.filter(frames.files["status"] == "unknown").height == 1


def test_hotfix_text_list_is_metadata_and_broken_json_is_an_issue(tmp_path: Path) -> None:
    (tmp_path / "HotFixes_0a1b2c3d-1111-2222-3333-444455556666.json").write_bytes(
        b"\xef\xbb\xbfKB5034439, KB5034129\r\nKB5033118\r\n")
    (tmp_path / "QrsAbout_0a1b2c3d-1111-2222-3333-444455556667.json").write_bytes(b'{"BuildVersion": "31.14"')
    (tmp_path / "Log" / "Script").mkdir(parents=True)
    (tmp_path / "Log" / "Script" / "a.log").write_bytes(classic_field(datetime(2024, 3, 4, 8, 0)))
    frames = load_frames([tmp_path])
    assert frames.meta["HotFixes"] == ["KB5034439", "KB5034129", "KB5033118"]
    assert [i.path.rsplit("/", 1)[-1].split("_")[0] for i in frames.file_issues] == ["QrsAbout"]
    hot = frames.files.filter(frames.files["path"].str.contains("HotFixes")).row(0, named=True)
    assert hot["status"] == "metadata" and "text list of 3" in hot["note"]


# -- lib:// connections ----------------------------------------------------------------------------------------


def test_lib_paths_name_their_folder_connection() -> None:
    b = (ScriptLogBuilder(utc_offset_minutes=60)
         .load_qvd("Sales", ["OrderId"], "lib://DataFiles/Sales.qvd", 10)
         .connect("DWH (corp_svc_qlik)")
         .sql_select("Facts", ["Key"], "dbo.Facts", 100)
         .statement("STORE Facts INTO [lib://QVD Store/facts.qvd] (qvd)")
         .tick(1).message("Error: Cannot write file 'facts.qvd'").message("Execution Failed"))
    s = parse_script_log(b.build(), "x.log").summary
    assert s.outcome is Outcome.FAILED
    assert s.connections == ("DataFiles", "DWH (corp_svc_qlik)", "QVD Store")
    assert s.connection == "QVD Store" and s.running_statement == "STORE Facts INTO [lib://QVD Store/facts.qvd] (qvd)"


def test_a_sql_failure_keeps_its_connect_even_after_lib_paths() -> None:
    b = (ScriptLogBuilder()
         .load_qvd("Sales", ["OrderId"], "lib://DataFiles/Sales.qvd", 10)
         .connect("Finance_SQL")
         .sql_select("Ledger", ["Account"], "dbo.Ledger", None)
         .error("Connector reply error: SQL##f - SqlState: 08001"))
    s = parse_script_log(b.build(), "x.log").summary
    assert (s.connection, s.connections) == ("Finance_SQL", ("DataFiles", "Finance_SQL"))


# -- the generator covers each variant -------------------------------------------------------------------------


def test_sample_data_holds_both_script_log_forms_and_both_header_variants(
    sample_frames: Frames,
) -> None:
    """sample_data/ (make sample): a node upgraded mid-week writes classic logs before and modern ones after."""
    from tests.conftest import SAMPLE_BUNDLE

    scripts = sorted(SAMPLE_BUNDLE.glob("*/Script/*.log")) + sorted(SAMPLE_BUNDLE.glob("Log/Script/*.log"))
    firsts = [p.read_bytes()[3:28].decode() for p in scripts]
    modern = [f for f in firsts if f[8] == "T" and f[19] == "+"]
    classic = [f for f in firsts if f[4] == "-" and f[10] == " "]
    assert modern and classic and len(modern) + len(classic) == len(scripts)
    headers = {p.read_bytes().split(b"\r\n", 1)[0].decode("utf-8-sig")
               for p in SAMPLE_BUNDLE.rglob("*_System_Printing*")}
    assert any("ProxySessionId" in h for h in headers) and any("ProxySessionId" not in h for h in headers)
    frames = sample_frames
    assert frames.bad_lines.height == 1 and not frames.file_issues  # the one planted broken line only
    bases = set(reloads_result(frames).script_logs["time_basis"].to_list())
    assert bases == {TIME_BASIS_LOG, TIME_BASIS_NODE}


def test_a_modern_log_handed_over_alone_is_read_not_refused(tmp_path: Path) -> None:
    """Once refused with 'no known Qlik Sense log header' (exit 3): now read, with its exact UTC times."""
    from click.testing import CliRunner

    from qslogs.cli import cli

    path = tmp_path / "LM reload (copy).txt"
    path.write_bytes(modern_401(datetime(2024, 3, 4, 5, 30, 1, 250000)))
    result = CliRunner().invoke(cli, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    import json

    (row,) = json.loads(result.output)["files"]
    assert (row["kind"], row["first"], row["bad_lines"]) == ("Script", "2024-03-04T04:30:01.250Z", 0)


def test_parsers_report_facts_and_do_not_diagnose() -> None:
    """Layering: no parser imports the error classes or an analysis (classification is an analysis)."""
    import ast

    import qslogs.parsers

    for path in Path(qslogs.parsers.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m.startswith(("qslogs.error_classes", "qslogs.analyses"))}, path
