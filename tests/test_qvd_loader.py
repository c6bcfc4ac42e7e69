"""QVDs loaded once by the loading layer: files, folders and zip members alike; only the fields the analysis uses.

The license analysis receives :attr:`Frames.qvds` and never opens a file (``test_layers`` checks the imports and
calls); these tests check that what it receives does not depend on how the QVDs were handed over, and that a
projected read holds exactly the asked fields, with the values and types of a whole read.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from qslogs.analyses import run_analyses
from qslogs.analyses.licenses.analysis import no_logs
from qslogs.analyses.licenses.qvd import qvd_license_events
from qslogs.export import result_json
from qslogs.frames import Frames
from qslogs.loader import load_frames
from qslogs.parsers.qvd import read_qvd
from qslogs.pipeline import load_qvd_map, with_qvds
from qslogs.qvd_loader import load_qvds
from qslogs_synth.qvd_types import every_field_type
from qslogs_synth.qvd_writer import frame_column, write_qvd, write_qvd_columns
from tests.conftest import SHARED_REAL
from tests.test_license_qvd import allocation_frame as license_allocations

STAMP = datetime(2026, 11, 1, tzinfo=UTC)
T0 = datetime(2026, 1, 5, 9, 30)
GUID = "0f8b4c1e-1111-4c1e-9a1e-0a1b2c3d4e5f"


@pytest.fixture(params=["field by field", "whole then chosen"])
def projection(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a projected read goes: fields decoded one by one (large files), or a whole read, then the
    chosen fields (small files): every test that uses this runs each way."""
    import qslogs.parsers.qvd_projection

    limit = 0 if request.param == "field by field" else 10**12
    monkeypatch.setattr(qslogs.parsers.qvd_projection, "WHOLE_READ_BELOW", limit)
    return str(request.param)


def events_frame() -> pl.DataFrame:
    """A License-log-like event table with fields the analysis does not use: a row id, a GUID, a host, a count."""
    return pl.DataFrame({
        "Seq": [101, 102, 103, 104, 105],
        "UserName": ["CORP\\ann", "CORP\\ann", "CORP\\bob", "CORP\\eve", "CORP\\bob"],
        "AccessType": ["AnalyzerAccess", "AnalyzerAccess", "ProfessionalAccess", "", "ProfessionalAccess"],
        "Operation": ["Add", "UsageGranted", "Add", "UsageDenied", "Delete"],
        "Timestamp": [T0, T0 + timedelta(hours=2), T0 + timedelta(days=1), T0 + timedelta(days=2),
                      T0 + timedelta(days=40)],
        "SessionId": [GUID] * 5,
        "Host": ["node1", "node1", "node2", "node2", "node1"],
        "Tokens": [1.5, 0.0, 2.5, 0.0, 1.0],
    })  # fmt: skip


def allocation_frame() -> pl.DataFrame:
    """Like the License Monitor's allocation overview, plus a numeric id the analysis does not use."""
    return license_allocations().select(pl.Series("RowId", [1, 2, 3]), pl.all())


def _qvd_folder(root: Path) -> Path:
    """``LicenseMonitor/`` with an event table, an allocation table, a table of something else and a damaged file."""
    folder = root / "LicenseMonitor"
    folder.mkdir(parents=True)
    write_qvd(folder / "license_events.qvd", events_frame(), "LicenseEvents", create_utc_time=STAMP)
    write_qvd(folder / "allocations.qvd", allocation_frame(), "Allocations", date_fields=("AllocatedDate",),
              create_utc_time=STAMP)
    write_qvd(folder / "apps.qvd", pl.DataFrame({"AppName": ["Sales", "HR"], "Size": [10, 20]}), "Apps",
              create_utc_time=STAMP)
    good = (folder / "apps.qvd").read_bytes()
    (folder / "broken.qvd").write_bytes(good[: len(good) - 12])
    return folder


def _by_name(data: dict[str, Any]) -> dict[str, Any]:
    """The ``qslogs license --json`` object with every QVD named by its file name only (how it was handed differs)."""
    text = json.dumps(data, sort_keys=True)
    for row in data["qvd_mapping"]:
        text = text.replace(json.dumps(row["file"])[1:-1], Path(row["file"].split("!")[-1]).name)
    result: dict[str, Any] = json.loads(text)
    return result


def test_license_analysis_is_the_same_from_files_a_folder_and_zip_members(tmp_path: Path, projection: str) -> None:
    folder = _qvd_folder(tmp_path / "in")
    files = tuple(sorted(folder.glob("*.qvd")))
    zipped = tmp_path / "SenseCollector_1.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for path in files:
            zf.write(path, f"LicenseMonitor\\{path.name}")  # as the Log Collector writes member names
    handed = {
        "files": with_qvds(no_logs(), files),
        "folder": with_qvds(no_logs(), (folder,)),
        "zip": with_qvds(load_frames([zipped])),
    }
    outputs = {
        how: _by_name(result_json(run_analyses(frames, only=["licenses"])["licenses"]))
        for how, frames in handed.items()
    }
    assert outputs["files"] == outputs["folder"] == outputs["zip"]
    assert [q.name for q in handed["zip"].qvds] == [f"LicenseMonitor/{p.name}" for p in files]
    rows = {r["file"]: (r["status"], r["table"], r["rows"], r["kind"], r["events"], r["reason"])
            for r in outputs["zip"]["qvd_mapping"]}
    assert rows == {
        "allocations.qvd": ("used", "Allocations", 3, "allocation", 6, None),  # 3 adds, 1 removal, 2 last uses
        "apps.qvd": ("not a license table", "Apps", 2, None, 0,
                     "missing a user field, an access-type field, a date/time field"),
        "broken.qvd": ("error", "", 0, None, 0, "the index table (Offset 21 + Length 2) ends beyond the 11-byte "
                       "body: the file is truncated or damaged"),
        "license_events.qvd": ("used", "LicenseEvents", 5, "events", 5, None),
    }
    assert "QVD broken.qvd not used: " in " ".join(outputs["zip"]["warnings"])


def test_the_license_analysis_gets_only_the_fields_it_uses(tmp_path: Path, projection: str) -> None:
    folder = _qvd_folder(tmp_path)
    loaded = {Path(q.name).name: q for q in with_qvds(no_logs(), (folder,)).qvds}
    read = {name: q.table.frame.columns for name, q in loaded.items() if q.table is not None}
    events_fields = (
        # recognised on the first rows: user, access type, operation, time (+ fields recognition finds by name)
        ["UserName", "AccessType", "Operation", "Timestamp"] if projection == "field by field"
        # a small file is read whole anyway: its text and date/time fields are kept, numbers dropped
        else ["UserName", "AccessType", "Operation", "Timestamp", "SessionId", "Host"]
    )
    assert read == {
        "license_events.qvd": events_fields,
        "allocations.qvd": ["UserDirectory", "UserId", "AccessType", "AllocatedDate", "RemovedDate", "LastUsed"],
        "apps.qvd": ["AppName"],  # not a license table: its text fields give the reason; numbers are dropped
    }
    assert loaded["broken.qvd"].table is None and loaded["broken.qvd"].error
    events = loaded["license_events.qvd"].table
    assert events is not None and events.header.no_of_records == 5 and len(events.header.fields) == 8


def test_a_qvd_map_entry_reads_just_the_fields_it_names(tmp_path: Path, projection: str) -> None:
    folder = _qvd_folder(tmp_path)
    (tmp_path / "map.toml").write_text(
        "[[tables]]\nmatch = 'license_events*'\nuser = 'UserName'\naccess_type = 'AccessType'\ntime = 'Timestamp'\n"
        "kind = 'usage'\n\n[[tables]]\nmatch = 'Apps'\nskip = true\n"
    )
    qvd_map = load_qvd_map(tmp_path / "map.toml")
    loaded = {Path(q.name).name: q for q in with_qvds(no_logs(), (folder,), qvd_map).qvds}
    events, apps = loaded["license_events.qvd"].table, loaded["apps.qvd"].table
    assert events is not None and events.frame.columns == ["UserName", "AccessType", "Timestamp"]
    assert apps is not None and apps.frame.columns == [] and apps.header.no_of_records == 2
    _, mapping = qvd_license_events(tuple(loaded.values()), qvd_map)
    rows = {Path(r["file"]).name: (r["status"], r["rows"], r["events"]) for r in mapping.iter_rows(named=True)}
    assert rows["license_events.qvd"] == ("used", 5, 5) and rows["apps.qvd"] == ("skipped", 2, 0)


def _every_field_license(folder: Path) -> Path:
    lic = pl.DataFrame({
        "UserDirectory": ["CORP"] * 4, "UserId": ["anna", "bob", "carl", "dan"],
        "AccessType": ["Professional", "Analyzer", "Analyzer", "Professional"],
        "AllocatedDate": [datetime(2024, 1, d) for d in (1, 2, 3, 4)],
    })  # fmt: skip
    columns = [frame_column(c, lic[c]) for c in lic.columns] + every_field_type()
    write_qvd_columns(folder / "license_every.qvd", columns, "LicenseEvery", create_utc_time=STAMP)
    write_qvd_columns(folder / "every.qvd", every_field_type(), "Every", create_utc_time=STAMP)
    return folder


def _events(frames: Frames) -> tuple[pl.DataFrame, pl.DataFrame]:
    return qvd_license_events(frames.qvds, None)


@pytest.mark.parametrize("source", ["generated", "real"])
def test_projected_reads_give_the_license_events_of_whole_reads(tmp_path: Path, projection: str, source: str) -> None:
    """Reading only the license fields changes nothing the analysis computes (every field type; real QVDs)."""
    if source == "real":
        if not (SHARED_REAL / "qvd").is_dir():
            pytest.skip("../shared/fixtures not present")
        folder = SHARED_REAL / "qvd"
    else:
        folder = _every_field_license(_qvd_folder(tmp_path))
    whole = load_qvds(no_logs(), [folder])
    projected = with_qvds(no_logs(), (folder,))
    assert all(q.table is None or q.table.frame.width == len(q.table.header.fields) for q in whole.qvds)
    assert sum(q.table.frame.width for q in projected.qvds if q.table) < sum(
        q.table.frame.width for q in whole.qvds if q.table)
    (events_w, mapping_w), (events_p, mapping_p) = _events(whole), _events(projected)
    assert_frame_equal(events_p, events_w)
    assert_frame_equal(mapping_p, mapping_w)
    if source == "generated":
        used = mapping_p.filter(pl.col("status") == "used")["file"].map_elements(lambda f: Path(f).name, pl.String)
        assert sorted(used) == ["allocations.qvd", "license_events.qvd", "license_every.qvd"]


def _readable_qvds(tmp_path: Path) -> list[Path]:
    paths = sorted(_every_field_license(_qvd_folder(tmp_path)).glob("*.qvd"))
    paths += sorted((SHARED_REAL / "qvd").glob("*.qvd")) if (SHARED_REAL / "qvd").is_dir() else []
    return [p for p in paths if p.name not in ("broken.qvd", "ctrlq_sample.qvd")]  # those two are refused


def test_projection_returns_only_the_asked_columns_with_whole_read_values(tmp_path: Path, projection: str) -> None:
    path = tmp_path / "alloc.qvd"
    write_qvd(path, allocation_frame(), "Allocations", date_fields=("AllocatedDate",), create_utc_time=STAMP)
    table = read_qvd(path, columns=["LastUsed", "UserId", "NoSuchField"])
    assert table.frame.columns == ["UserId", "LastUsed"]  # header order; a name the file lacks is left out
    assert table.frame["UserId"].to_list() == ["ann", "bob", "carl"]
    assert table.frame["LastUsed"].to_list() == [datetime(2026, 4, 15, 9, 30), None, datetime(2026, 3, 16, 9, 30)]
    assert [f.name for f in table.header.fields] == allocation_frame().columns and table.header.no_of_records == 3
    assert set(table.kinds) == {"UserId", "LastUsed"}
    assert read_qvd(path, columns=[]).frame.shape == (0, 0)
    for qvd in _readable_qvds(tmp_path / "more"):
        whole = read_qvd(qvd)
        for name in whole.frame.columns:  # each field alone: the same values, type and kind as in the whole read
            alone = read_qvd(qvd, columns=[name])
            assert_frame_equal(alone.frame, whole.frame.select(name))
            assert alone.kinds == {name: whole.kinds[name]}, (qvd.name, name)


def test_license_command_reads_each_qvd_once_and_refuses_a_bad_map(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from qslogs.cli import cli

    folder = _qvd_folder(tmp_path / "in")
    runner = CliRunner()
    by_folder = runner.invoke(cli, ["license", str(folder / "apps.qvd"), "--qvd", str(folder), "--json", "-q"])
    assert by_folder.exit_code == 0, by_folder.output
    data = json.loads(by_folder.output)
    assert sorted(Path(r["file"]).name for r in data["qvd_mapping"]) == [
        "allocations.qvd", "apps.qvd", "broken.qvd", "license_events.qvd"]  # the file named twice is read once
    bad_map = tmp_path / "map.toml"
    bad_map.write_text("[[tables]]\ncolour = 'red'\n")
    refused = runner.invoke(cli, ["license", str(folder / "apps.qvd"), "--qvd-map", str(bad_map), "--json", "-q"])
    assert refused.exit_code == 3 and "unknown keys ['colour']" in refused.output
    assert "Traceback" not in refused.output


def test_fleet_reads_the_qvds_inside_a_site_bundle(tmp_path: Path) -> None:
    """``qslogs fleet`` loads each site as ``qslogs report`` does, the bundle's own QVDs included."""
    from click.testing import CliRunner
    from test_license_support import Ev, History, write_bundle

    from qslogs.cli import cli

    use = [Ev(datetime(2026, 1, 5, 8, 0, tzinfo=UTC), "UsageGranted", "CORP\\zed")]  # an Analyzer use
    for name in ("acme", "plain"):
        write_bundle(tmp_path / "bundles" / name, History(events=use))
    (tmp_path / "bundles" / "acme" / "LicenseMonitor").mkdir()
    write_qvd(tmp_path / "bundles" / "acme" / "LicenseMonitor" / "allocations.qvd", allocation_frame(), "Allocations",
              date_fields=("AllocatedDate",), create_utc_time=STAMP)
    result = CliRunner().invoke(cli, ["fleet", "-q", str(tmp_path / "bundles"), "-o", str(tmp_path / "out"),
                                      "--json", "--workers", "1"])
    assert result.exit_code == 0, result.output
    in_use = {s["site"]: {k: v["in_use"] for k, v in s["licenses"]["by_type"].items() if k != "Tokens"}
              for s in json.loads(result.output)["sites"]}
    # zed's use in the logs; with the QVD also ann and carl (Analyzer) and bob (Professional, removed 2026-04-01)
    assert in_use == {"acme": {"Analyzer": 3, "Professional": 0}, "plain": {"Analyzer": 1}}  # plain: no Professional
