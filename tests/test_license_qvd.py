"""License tables in QVDs: recognition by fields, --qvd-map, QVDs inside bundles, and `qslogs qvd`."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from test_license_support import History, write_bundle

from qslogs.analyses import run_analyses
from qslogs.analyses.base import AnalysisOptions
from qslogs.analyses.licenses.analysis import no_logs
from qslogs.analyses.licenses.qvd import drop_covered, qvd_license_events
from qslogs.analyses.licenses.qvd_map import QvdMap, QvdMapError
from qslogs.analyses.licenses.qvd_recognise import recognise
from qslogs.analyses.licenses.result import LicensesResult
from qslogs.cli import cli
from qslogs.frames import Frames
from qslogs.loader import load_frames
from qslogs.parsers.qvd import read_qvd
from qslogs.pipeline import load_qvd_map, with_qvds
from qslogs_synth.qvd_writer import write_qvd

STAMP = datetime(2026, 11, 1, tzinfo=UTC)
T0 = datetime(2026, 1, 5, 9, 30)


def _write(path: Path, frame: pl.DataFrame, name: str, date_fields: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_qvd(path, frame, name, date_fields=date_fields, create_utc_time=STAMP)
    return path


def qvd_events(
    frames: Frames, paths: tuple[Path, ...], qvd_map: QvdMap | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The license events of the QVDs of ``frames`` and ``paths``, loaded as ``qslogs license`` loads them."""
    return qvd_license_events(with_qvds(frames, paths, qvd_map).qvds, qvd_map)


def events_frame() -> pl.DataFrame:
    """A License-log-like event table: DIR\\user, Qlik access-type names, operations, timestamps."""
    return pl.DataFrame(
        {
            "UserName": ["CORP\\ann", "CORP\\ann", "CORP\\bob", "CORP\\eve", "CORP\\bob"],
            "AccessType": [
                "AnalyzerAccess",
                "AnalyzerAccess",
                "ProfessionalAccess",
                "",
                "ProfessionalAccess",
            ],
            "Operation": ["Add", "UsageGranted", "Add", "UsageDenied", "Delete"],
            "Timestamp": [
                T0,
                T0 + timedelta(hours=2),
                T0 + timedelta(days=1),
                T0 + timedelta(days=2),
                T0 + timedelta(days=40),
            ],
            "UserId": ["0f8b4c1e-1111-4c1e-9a1e-0a1b2c3d4e5f"] * 5,
        }
    )


def allocation_frame() -> pl.DataFrame:
    """Like the License Monitor's allocation overview: directory + id, type, allocated/removed/last used."""
    return pl.DataFrame(
        {
            "UserDirectory": ["CORP", "CORP", "CORP"],
            "UserId": ["ann", "bob", "carl"],
            "AccessType": ["Analyzer", "Professional", "Analyzer"],
            "AllocatedDate": [date(2026, 1, 5), date(2026, 2, 1), date(2026, 3, 1)],
            "RemovedDate": [None, date(2026, 4, 1), None],
            "LastUsed": [T0 + timedelta(days=100), None, T0 + timedelta(days=70)],
        },
        schema_overrides={"RemovedDate": pl.Date},
    )


def test_event_table_is_recognised_by_its_fields(tmp_path: Path) -> None:
    table = read_qvd(_write(tmp_path / "lic.qvd", events_frame(), "LicenseLog"))
    mapping, why = recognise(table.frame)
    assert mapping is not None, why
    assert (mapping.kind, mapping.user, mapping.access_type, mapping.operation, mapping.time) == (
        "events",
        "UserName",
        "AccessType",
        "Operation",
        "Timestamp",
    )


def test_allocation_table_is_recognised_with_removal_and_last_use(tmp_path: Path) -> None:
    table = read_qvd(_write(tmp_path / "alloc.qvd", allocation_frame(), "Allocations", ("AllocatedDate",)))
    mapping, _ = recognise(table.frame)
    assert mapping is not None
    assert (
        mapping.kind,
        mapping.user_directory,
        mapping.user_id,
        mapping.time,
        mapping.end_time,
        mapping.last_used,
    ) == ("allocation", "UserDirectory", "UserId", "AllocatedDate", "RemovedDate", "LastUsed")


@pytest.mark.parametrize(
    ("frame", "missing"),
    [
        (pl.DataFrame({"ProductKey": [1, 2], "Color": ["red", "blue"]}), "a user field"),
        (
            pl.DataFrame(
                {
                    "UserId": ["0f8b4c1e-1111-4c1e-9a1e-0a1b2c3d4e5f"],
                    "UserDirectory": ["CORP"],
                    "AccessType": ["Analyzer"],
                    "When": [T0],
                }
            ),
            "a user field",
        ),  # a GUID is not a user name
        (pl.DataFrame({"UserName": ["CORP\\ann"], "Kind": ["Gold"], "When": [T0]}), "an access-type field"),
        (
            pl.DataFrame({"UserName": ["CORP\\ann"], "AccessType": ["Analyzer"], "When": ["yesterday"]}),
            "a date/time field",
        ),
    ],
)
def test_other_tables_are_not_license_tables_and_say_why(
    tmp_path: Path, frame: pl.DataFrame, missing: str
) -> None:
    table = read_qvd(_write(tmp_path / "x.qvd", frame, "X"))
    mapping, why = recognise(table.frame)
    assert mapping is None and missing in why


def test_recognised_events_become_canonical_events(tmp_path: Path) -> None:
    _write(tmp_path / "q" / "lic.qvd", events_frame(), "LicenseLog")
    events, mapping = qvd_events(no_logs(), (tmp_path / "q",), None)
    row = mapping.row(0, named=True)
    assert (row["status"], row["mapping"], row["kind"], row["events"]) == ("used", "fields", "events", 5)
    ev = events.sort("time")
    assert ev["operation"].to_list() == ["Add", "UsageGranted", "Add", "UsageDenied", "Delete"]
    assert ev["change"].to_list() == [1, 0, 1, 0, -1]
    assert ev["access_type"].to_list() == ["Analyzer", "Analyzer", "Professional", None, "Professional"]
    assert ev["time"][0] == T0.replace(tzinfo=UTC)  # naive QVD times are read as UTC unless mapped
    assert set(ev["source"]) == {"qvd"} and ev["line_no"].to_list() == [1, 2, 3, 4, 5]


def test_allocation_rows_give_adds_removals_and_last_uses(tmp_path: Path) -> None:
    _write(tmp_path / "alloc.qvd", allocation_frame(), "Allocations", ("AllocatedDate",))
    events, _ = qvd_events(no_logs(), (tmp_path / "alloc.qvd",), None)
    ops = events.group_by("operation").len().sort("operation")
    assert dict(ops.iter_rows()) == {"Add": 3, "Delete": 1, "LastUsed": 2}
    assert set(events["user"]) == {"CORP\\ann", "CORP\\bob", "CORP\\carl"}


MAP_TOML = """
[[tables]]
match = "odd*"
user = "Who"
access_type = "Kind"
time = "When"
kind = "usage"
timezone = "Europe/Stockholm"

[[tables]]
match = "ignored*"
skip = true

[commands]
"Add user access" = "allocation"
"""


def _odd_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Who": ["CORP\\ann", "CORP\\bob"],
            "Kind": ["Analyzer", "Analyzer"],
            "When": [T0, T0 + timedelta(days=3)],
            "Note": ["x", "y"],
        }
    )


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_mapping_file_names_the_fields(tmp_path: Path, fmt: str) -> None:
    _write(tmp_path / "q" / "odd_usage.qvd", _odd_frame(), "Odd")
    _write(tmp_path / "q" / "ignored_table.qvd", events_frame(), "Ignored")
    if fmt == "toml":
        (tmp_path / "map.toml").write_text(MAP_TOML)
        path = tmp_path / "map.toml"
    else:
        import tomllib

        path = tmp_path / "map.json"
        path.write_text(json.dumps(tomllib.loads(MAP_TOML)))
    qvd_map = load_qvd_map(path)
    assert qvd_map.commands == {"Add user access": "allocation"}
    events, mapping = qvd_events(no_logs(), (tmp_path / "q",), qvd_map)
    rows = {Path(r["file"]).name: r for r in mapping.iter_rows(named=True)}
    assert rows["ignored_table.qvd"]["status"] == "skipped"
    odd = rows["odd_usage.qvd"]
    assert (odd["status"], odd["mapping"], odd["user"], odd["time"]) == ("used", f"map {path}", "Who", "When")
    assert events["operation"].to_list() == ["UsageGranted", "UsageGranted"]
    assert events.sort("time")["time"][0] == datetime(2026, 1, 5, 8, 30, tzinfo=UTC)  # 09:30 Stockholm (CET)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[tables]]\nuser = 'Who'\ncolour = 'red'\n", "unknown keys ['colour']"),
        ("[[tables]]\nkind = 'purchases'\n", "kind is 'purchases'"),
        ("[commands]\n'Add user access' = 'bought'\n", "allocation, usage or other"),
        ("[[tables]\n", "cannot read the QVD mapping"),
        ("[other]\nx = 1\n", "only 'tables' and 'commands'"),
    ],
)
def test_bad_mapping_files_are_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "map.toml").write_text(text)
    with pytest.raises(QvdMapError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_qvd_map(tmp_path / "map.toml")


def test_mapping_naming_a_missing_field_is_an_error_row(tmp_path: Path) -> None:
    _write(tmp_path / "odd_usage.qvd", _odd_frame(), "Odd")
    (tmp_path / "map.toml").write_text("[[tables]]\nuser = 'Who'\naccess_type = 'Kind'\ntime = 'Date'\n")
    events, mapping = qvd_events(no_logs(), (tmp_path / "odd_usage.qvd",), load_qvd_map(tmp_path / "map.toml"))
    row = mapping.row(0, named=True)
    assert events.is_empty() and row["status"] == "error" and "['Date']" in row["reason"]


def test_damaged_qvd_is_listed_whether_named_or_found(tmp_path: Path) -> None:
    good = _write(tmp_path / "q" / "lic.qvd", events_frame(), "LicenseLog")
    bad = tmp_path / "q" / "broken.qvd"
    bad.write_bytes(good.read_bytes()[:-40])
    events, mapping = qvd_events(no_logs(), (bad,), None)
    assert events.is_empty() and mapping.select("status").to_series().to_list() == ["error"]
    events, mapping = qvd_events(no_logs(), (tmp_path / "q",), None)
    statuses = {Path(r["file"]).name: r["status"] for r in mapping.iter_rows(named=True)}
    assert statuses == {"broken.qvd": "error", "lic.qvd": "used"} and events.height == 5


def test_qvds_inside_folder_and_zip_bundles_are_found(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", History())
    _write(root / "LicenseMonitor" / "lic.qvd", events_frame(), "LicenseLog")
    _, mapping = qvd_events(load_frames([root]), (), None)
    assert mapping["file"].to_list() == ["LicenseMonitor/lic.qvd"] and mapping["status"].to_list() == ["used"]
    zipped = tmp_path / "SenseCollector_1.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for p in root.rglob("*"):
            if p.is_file():
                zf.write(p, str(p.relative_to(root)).replace("/", "\\"))
    events, mapping = qvd_events(load_frames([zipped]), (), None)
    assert mapping["file"].to_list() == ["LicenseMonitor/lic.qvd"] and events.height == 5


def test_qvd_events_inside_the_logs_time_span_are_dropped(tmp_path: Path) -> None:
    from test_license_support import Ev

    start = datetime(2026, 1, 20, tzinfo=UTC)
    h = History(
        events=[
            Ev(start, "UsageGranted", "CORP\\ann"),
            Ev(start + timedelta(days=30), "UsageGranted", "CORP\\ann"),
        ]
    )
    frames = load_frames([write_bundle(tmp_path, h)])
    qvd = pl.DataFrame(
        {"time": [start - timedelta(days=5), start + timedelta(days=3), start + timedelta(days=31)]},
        schema={"time": pl.Datetime("ms", "UTC")},
    )
    kept = drop_covered(qvd, frames, ("Repository/License",))
    assert kept["time"].to_list() == [start - timedelta(days=5), start + timedelta(days=31)]


def test_analysis_reports_the_mapping_it_used(tmp_path: Path) -> None:
    _write(tmp_path / "odd_usage.qvd", _odd_frame(), "Odd")
    (tmp_path / "map.toml").write_text(MAP_TOML)
    qvd_map = load_qvd_map(tmp_path / "map.toml")
    frames = with_qvds(no_logs(), (tmp_path / "odd_usage.qvd",), qvd_map)
    result = run_analyses(frames, AnalysisOptions(qvd_map=qvd_map), only=["licenses"])["licenses"]
    assert isinstance(result, LicensesResult)
    [row] = result.qvd_mapping.to_dicts()
    assert row["mapping"].startswith("map ") and row["user"] == "Who" and row["status"] == "used"


def test_qvd_command_shows_header_fields_rows_and_recognition(tmp_path: Path) -> None:
    path = _write(tmp_path / "alloc.qvd", allocation_frame(), "Allocations", ("AllocatedDate",))
    runner = CliRunner()
    result = runner.invoke(cli, ["qvd", str(path), "--json", "--head", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"file", "header", "fields", "rows", "license_table"}
    assert data["header"]["table_name"] == "Allocations" and data["header"]["records"] == 3
    assert [f["name"] for f in data["fields"]] == allocation_frame().columns
    assert {f["name"]: f["kind"] for f in data["fields"]}["AllocatedDate"] == "date"
    assert len(data["rows"]) == 2 and data["rows"][0]["AllocatedDate"] == "2026-01-05"
    assert data["license_table"]["recognised"] and data["license_table"]["mapping"]["kind"] == "allocation"
    text = runner.invoke(cli, ["qvd", str(path)])
    assert text.exit_code == 0, text.output
    assert "Allocations" in text.output and "license table: " in text.output and "carl" in text.output


def test_qvd_command_refuses_a_damaged_file_with_exit_code_3(tmp_path: Path) -> None:
    path = _write(tmp_path / "alloc.qvd", allocation_frame(), "Allocations")
    path.write_bytes(path.read_bytes()[:300])
    result = CliRunner().invoke(cli, ["qvd", str(path)])
    assert result.exit_code == 3 and "alloc.qvd" in result.output and "Traceback" not in result.output


@pytest.mark.fixtures
def test_qvd_command_on_every_real_qvd_reads_or_refuses_cleanly(real_fixtures: Path) -> None:
    runner = CliRunner()
    for path in sorted((real_fixtures / "qvd").glob("*.qvd")):
        result = runner.invoke(cli, ["qvd", str(path), "--json", "--head", "3"])
        assert result.exit_code in (0, 3), (path, result.output)
        if result.exit_code == 0:
            data = json.loads(result.output)
            assert data["header"]["records"] == read_qvd(path).header.no_of_records
            assert data["license_table"]["recognised"] is False  # none of them is a license table
        else:
            assert "not a readable QVD file" in result.output and "Traceback" not in result.output
