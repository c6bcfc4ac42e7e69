"""Every QVD field type Qlik writes, through every output: ``qvd``, ``qvd --json``, ``license --json``, the report.

No output may meet a value JSON cannot hold. Durations (``INTERVAL``, a ``TIME`` beyond a day) are written in
JSON as ISO 8601 durations (``P1DT12H0M0S``); times of day as ISO 8601 times (``12:00:00.000``).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from qslogs.cli import cli
from qslogs.export import iso_duration, to_jsonable
from qslogs.parsers.qvd import read_qvd
from qslogs_synth.qvd_types import every_field_type
from qslogs_synth.qvd_writer import frame_column, write_qvd, write_qvd_columns
from tests.conftest import SHARED_REAL
from tests.script_log_builder import ScriptLogBuilder

STAMP = datetime(2024, 1, 1)

#: field → (polars dtype, first row, JSON of the first four rows), written out from formats.md §8.
EXPECTED: dict[str, tuple[Any, Any, list[Any]]] = {
    "DateDual": (pl.Date, date(2023, 3, 15), ["2023-03-15", "2023-03-16", None, "2023-03-15"]),
    "DatePlain": (pl.Date, date(1992, 9, 10), ["1992-09-10", "1899-12-29", "1992-09-10", "1899-12-29"]),
    "Timestamp": (pl.Datetime("ms"), datetime(2023, 3, 15, 12),
                  ["2023-03-15T12:00:00.000", "2023-03-15T00:00:07.000", "2023-03-15T00:00:07.000", None]),
    "Time": (pl.Time, time(12), ["12:00:00.000", "06:00:01.000", None, "12:00:00.000"]),
    "Interval": (pl.Duration("ms"), timedelta(days=1, hours=12), ["P1DT12H0M0S", "-PT6H0M0S", "P1DT12H0M0S", None]),
    "Money": (pl.String, "$9.50", ["$9.50", "$1,234.25", "$9.50", "$1,234.25"]),
    "Fix": (pl.Float64, 3.14159, [3.14159, 2.0, 2.0, 3.14159]),
    "Real": (pl.Float64, 1.5, [1.5, -0.125, 1e300, None]),
    "Integer": (pl.Int64, 1, [1, -4, 2_000_000_000, 1]),
    "Ascii": (pl.String, "a", ["a", "NULL", "", "a"]),
    "Unknown": (pl.String, "x", ["x", "7", "2.5", "0901"]),
    "DualId": (pl.String, "0901", ["0901", "7.0", "0901", "7.0"]),
    "NonAscii": (pl.String, "Åsa Öberg", ["Åsa Öberg", "東京", None, "東京"]),
    "AllNull": (pl.String, None, [None, None, None, None]),
}


def strict_json(text: str) -> Any:
    """Parse JSON as a strict consumer would: NaN and Infinity are not JSON."""
    def refuse(token: str) -> Any:
        raise ValueError(f"not JSON: {token}")
    return json.loads(text, parse_constant=refuse)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def every_qvd(tmp_path: Path) -> Path:
    path = tmp_path / "every.qvd"
    write_qvd_columns(path, every_field_type(), "Every", create_utc_time=STAMP)
    return path


@pytest.fixture
def license_every(tmp_path: Path) -> Path:
    """A license allocation table (user, access type, date) with one more field of every type."""
    lic = pl.DataFrame({
        "UserDirectory": ["CORP"] * 4, "UserId": ["anna", "bob", "carl", "dan"],
        "AccessType": ["Professional", "Analyzer", "Analyzer", "Professional"],
        "AllocatedDate": [datetime(2024, 1, d) for d in (1, 2, 3, 4)],
    })
    folder = tmp_path / "qvd"
    folder.mkdir()
    columns = [frame_column(c, lic[c]) for c in lic.columns] + every_field_type()
    write_qvd_columns(folder / "license_every.qvd", columns, "LicenseEvery", create_utc_time=STAMP)
    return folder


def test_every_field_type_reads_to_a_polars_type(every_qvd: Path) -> None:
    table = read_qvd(every_qvd)
    assert table.frame.columns == list(EXPECTED)
    for name, (dtype, first, _) in EXPECTED.items():
        assert table.frame.schema[name] == dtype, name
        assert table.frame[name][0] == first, name


def test_every_field_type_prints_in_qvd_and_qvd_json(every_qvd: Path) -> None:
    code, text = run("qvd", str(every_qvd))
    assert code == 0 and "Interval" in text and "1d 12h" in text and "東京" in text
    code, out = run("qvd", str(every_qvd), "--json")
    assert code == 0
    data = strict_json(out)
    assert {f["name"]: f["number_format"] for f in data["fields"]}["Money"] == "MONEY"
    for name, (_, _, values) in EXPECTED.items():
        assert [row[name] for row in data["rows"]] == values, name


def test_qlikview_11_header_reads_and_prints(tmp_path: Path) -> None:
    path = tmp_path / "qv11.qvd"
    frame = pl.DataFrame({"Id": [1, 2, None], "Name": ["a", "b", "c"], "When": [date(2012, 5, 1)] * 3})
    write_qvd(path, frame, "QV11", old_header=True, qv_build_no="7314", create_utc_time=STAMP)
    assert b"<Tags>" not in path.read_bytes() and b"<Lineage>" not in path.read_bytes()
    code, out = run("qvd", str(path), "--json")
    data = strict_json(out)
    assert code == 0 and data["header"]["qv_build_no"] == "7314"
    assert [f["number_format"] for f in data["fields"]] == ["0", "0", "0"]
    # Type 0 and no tags: the date is a dual whose text looks like a date (formats.md §8.4 rule 3).
    assert [r["Id"] for r in data["rows"]] == [1, 2, None] and data["rows"][0]["When"] == "2012-05-01"


@pytest.mark.parametrize("field, status, events", [
    ("AllocatedDate", "used", 4), ("DateDual", "used", 3), ("Timestamp", "used", 3),
    # Serial -1 (1899-12-29) makes a 125-year license timeline: correct, but tens of seconds (see the note).
    pytest.param("DatePlain", "used", 4, marks=pytest.mark.slow),
    pytest.param("Real", "used", 2, marks=pytest.mark.slow),
    ("Time", "error", 0), ("Interval", "error", 0), ("AllNull", "used", 0),
    ("Ascii", "used", 0),
])
def test_every_field_type_as_the_license_time(tmp_path: Path, license_every: Path, field: str, status: str,
                                              events: int) -> None:
    qvd_map = tmp_path / "map.toml"
    qvd_map.write_text(
        '[[tables]]\nmatch = "*every*"\nuser_directory = "UserDirectory"\nuser_id = "UserId"\n'
        f'access_type = "AccessType"\ntime = "{field}"\nkind = "allocation"\n', encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_bytes(ScriptLogBuilder().finish().build())
    code, out = run("license", str(logs), "--qvd", str(license_every), "--qvd-map", str(qvd_map), "--json", "-q")
    assert code == 0, out
    (row,) = strict_json(out)["qvd_mapping"]
    assert (row["status"], row["events"]) == (status, events)
    if status == "error":
        assert f"field '{field}'" in row["reason"] and "not dates" in row["reason"]


@pytest.mark.parametrize("field", list(EXPECTED))
def test_every_field_type_as_the_license_user(tmp_path: Path, license_every: Path, field: str) -> None:
    qvd_map = tmp_path / "map.toml"
    qvd_map.write_text(
        f'[[tables]]\nmatch = "*every*"\nuser_directory = "UserDirectory"\nuser_id = "{field}"\n'
        f'access_type = "{field}"\ntime = "AllocatedDate"\nkind = "allocation"\n', encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_bytes(ScriptLogBuilder().finish().build())
    code, out = run("license", str(logs), "--qvd", str(license_every), "--qvd-map", str(qvd_map), "--json", "-q")
    assert code == 0, out
    (row,) = strict_json(out)["qvd_mapping"]
    non_null = sum(v is not None for v in EXPECTED[field][2])  # "CORP\\" + "" is still a user key
    assert row["status"] == "used" and row["events"] == non_null


@pytest.mark.parametrize("mapped", [None, "Time", "Interval"])
def test_every_field_type_in_the_report(tmp_path: Path, license_every: Path, mapped: str | None) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_bytes(ScriptLogBuilder().finish().build())
    args = ["report", str(logs), "--qvd", str(license_every), "-o", str(tmp_path / "r.html"), "-q"]
    if mapped:
        (tmp_path / "map.toml").write_text(
            '[[tables]]\nmatch = "*every*"\nuser_directory = "UserDirectory"\nuser_id = "UserId"\n'
            f'access_type = "AccessType"\ntime = "{mapped}"\nkind = "allocation"\n', encoding="utf-8")
        args += ["--qvd-map", str(tmp_path / "map.toml")]
    code, out = run(*args)
    assert code == 0, out
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "license_every.qvd" in html
    if mapped:
        assert f"field &#39;{mapped}&#39; holds" in html or f"field '{mapped}' holds" in html


REAL_QVDS = sorted(p.name for p in (SHARED_REAL / "qvd").glob("*.qvd")) if (SHARED_REAL / "qvd").is_dir() else []


@pytest.mark.fixtures
@pytest.mark.parametrize("name", REAL_QVDS)
def test_qvd_json_prints_valid_json_for_every_real_qvd(real_fixtures: Path, name: str) -> None:
    code, out = run("qvd", str(real_fixtures / "qvd" / name), "--json", "--head", "100000")
    if name == "ctrlq_sample.qvd":  # a hand-made header-only mock: refused with the reason
        assert code == 3 and "not a readable QVD file" in out and name in out
        return
    assert code == 0, out
    data = strict_json(out)
    assert len(data["rows"]) == data["header"]["records"] and data["fields"]


@pytest.mark.parametrize("value, text", [
    (timedelta(hours=1, minutes=30), "PT1H30M0S"), (timedelta(days=2, milliseconds=500), "P2DT0H0M0.500S"),
    (timedelta(minutes=-15), "-PT0H15M0S"), (timedelta(0), "PT0H0M0S"),
    (timedelta(seconds=7, microseconds=999_600), "PT0H0M8S"),
])
def test_iso_durations(value: timedelta, text: str) -> None:
    assert iso_duration(value) == text


def test_to_jsonable_leaves_nothing_json_cannot_hold() -> None:
    value = {"t": time(6, 0, 1), "d": timedelta(hours=-6), "nan": float("nan"), "inf": float("-inf"),
             "nested": [{"when": datetime(2024, 1, 1, 5)}]}
    assert to_jsonable(value) == {"t": "06:00:01.000", "d": "-PT6H0M0S", "nan": None, "inf": None,
                                  "nested": [{"when": "2024-01-01T05:00:00.000"}]}


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "sample_data" / "qvd").glob("*.qvd")),
                         ids=lambda p: p.name)
def test_qvd_json_prints_valid_json_for_every_generated_qvd(path: Path) -> None:
    code, out = run("qvd", str(path), "--json", "--head", "5")
    assert code == 0, out
    data = strict_json(out)
    assert data["header"]["records"] > 0 and len(data["rows"]) == 5
