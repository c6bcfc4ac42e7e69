"""The typed result of the licenses analysis: declared schemas enforced, every field explained, findings that
point at rows, JSON made at the edge, redaction that keeps the types."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from test_license_support import History, calinfo, planted, write_bundle

from qslogs.analyses import run_analyses
from qslogs.analyses.licenses.result import Capacity, CapacityDetail, LicensesResult, Runway
from qslogs.analyses.result import SchemaError, help_of
from qslogs.export import result_json
from qslogs.loader import load_frames
from qslogs.redact import Redactor


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> LicensesResult:
    history: History = planted()  # Analyzer 20 → 50, Professional flat at 12, 5 denials of two guests
    root = write_bundle(
        tmp_path_factory.mktemp("lic-result"),
        history,
        cal=calinfo((15, 12), (60, 50)),
        visits=[(history.end - timedelta(days=2), "CORP\\ana001")],
    )
    found = run_analyses(load_frames([root]), only=["licenses"])["licenses"]
    assert isinstance(found, LicensesResult)
    return found


def test_a_frame_without_a_declared_column_is_refused(result: LicensesResult) -> None:
    with pytest.raises(SchemaError, match=r"LicensesResult\.unused: .*missing \['suggestion'\]"):
        replace(result, unused=result.unused.drop("suggestion"))
    with pytest.raises(SchemaError, match=r"LicensesResult\.forecast: .*in_use: Int64 \(declared Float64\)"):
        replace(result, forecast=result.forecast.with_columns(pl.col("in_use").cast(pl.Int64)))


def test_every_field_has_help_text() -> None:
    text = help_of(LicensesResult)
    assert set(text) == {f.name for f in fields(LicensesResult)}
    assert all(len(t) > 20 for t in text.values()), text
    assert text["denials_by_user"].endswith(
        "(columns: user String, count Int64, first Datetime(time_unit='ms', time_zone='UTC'), "
        "last Datetime(time_unit='ms', time_zone='UTC'), sources List(String), service_account Boolean)"
    )
    for cls in (Capacity, CapacityDetail, Runway):
        assert all(len(f.metadata.get("help", "")) > 10 for f in fields(cls)), cls


def test_json_is_made_at_the_edge_with_the_documented_keys(result: LicensesResult) -> None:
    data = result_json(result)
    assert list(data) == [
        "capacity", "timeline", "fits", "forecast", "changes_7d", "unused", "denials", "denials_by_user",
        "warnings", "qvd_mapping",
    ]
    assert data["capacity"]["source"] == "bundle CalInfo"
    assert data["capacity"]["details"][1] == {
        "access_type": "Analyzer", "capacity": 60.0, "source": "bundle CalInfo", "in_use": 50.0, "used": 50.0,
        "quarantined": None,
    }
    [analyzer] = [r for r in data["forecast"] if r["access_type"] == "Analyzer"]
    assert result.end is not None and analyzer["as_of"] == result.end.date().isoformat()
    assert analyzer["in_use_other"] is None and analyzer["status"] == "exhausts"
    # the runway (for the fleet) is the Analyzer row: Professional is flat and never runs out
    assert result.runway is not None and result.runway.access_type == "Analyzer"
    assert result.runway.months == analyzer["months_to_exhaustion"] == pytest.approx(4.0, abs=0.25)
    assert result.runway.date is not None and result.runway.date.isoformat() == analyzer["exhaustion_date"]


def test_findings_point_at_the_rows_they_are_about(result: LicensesResult) -> None:
    pointed = {(f.table, f.keys) for f in result.findings if f.table}
    assert pointed == {
        ("forecast", ("Professional",)),
        ("forecast", ("Analyzer",)),
        ("unused", ("CORP\\ana002",)),
        ("denials_by_user", ("CORP\\guest0", "CORP\\guest1"))
        if result.denials_by_user["user"][0] == "CORP\\guest0"
        else ("denials_by_user", ("CORP\\guest1", "CORP\\guest0")),
    }
    key_column = {"forecast": "access_type", "unused": "user", "denials_by_user": "user"}
    for f in result.findings:
        if f.table:
            rows = getattr(result, f.table)
            assert set(f.keys) <= set(rows[key_column[f.table]].to_list()), f


def test_redaction_keeps_the_types_and_replaces_names_in_frames_and_keys(result: LicensesResult) -> None:
    redactor = Redactor.create("seed")
    out = redactor.results({"licenses": result})["licenses"]
    assert isinstance(out, LicensesResult)
    assert out.denials_by_user.schema == result.denials_by_user.schema
    assert out.denials_by_user.height == result.denials_by_user.height == 2
    assert not any("guest" in u for u in out.denials_by_user["user"].to_list())
    denied = next(f for f in out.findings if f.table == "denials_by_user")
    assert len(denied.keys) == 2 and not any("guest" in k for k in denied.keys)
    assert out.capacity == result.capacity and isinstance(out.capacity.details, tuple)
    assert isinstance(out.warnings, tuple) and out.forecast.equals(result.forecast)


def test_the_no_events_result_is_empty_but_typed(tmp_path: Path) -> None:
    root = write_bundle(tmp_path, History(), visits=[(History().end - timedelta(days=1), "CORP\\bob")])
    (root / "Log" / "Repository" / "Trace" / "SENSE01_License_Repository.txt").unlink()
    found = run_analyses(load_frames([root]), only=["licenses"])["licenses"]
    assert isinstance(found, LicensesResult)
    assert found.timeline.schema == LicensesResult.empty_frame("timeline").schema and found.timeline.is_empty()
    assert [f.title for f in found.findings] == ["No license events in the bundle"]
    assert result_json(found)["forecast"] == [] and found.end is None and found.runway is None
