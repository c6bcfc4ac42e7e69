"""qslogs fleet without generated bundles: site discovery and naming, the output folder's guard, and one
real run over the sample bundle beside a broken one (the broken one is listed, the sample is analysed)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qslogs.cli import cli
from qslogs.fleet.discover import FleetUsageError, discover, site_name

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "bundle"
TRUTH = ROOT / "sample_data" / "TRUTH.json"


@pytest.mark.parametrize(("entry", "name"), [
    ("acme.zip", "acme"),
    ("ACME Corp (EU).ZIP", "acme-corp-eu"),
    ("SenseCollector_5f2c.zip", "sensecollector_5f2c"),
    ("2026-10 globex", "site-2026-10-globex"),   # a leading digit: no engine may read site=2026… as a number
    ("Zürich AG", "zurich-ag"),                  # accents dropped; the name stays SQL- and path-safe
    ("東京", "site"),
    ("---", "site"),
])
def test_site_names_are_safe_for_folders_and_sql(entry: str, name: str) -> None:
    assert site_name(entry) == name


def test_discovery_names_clashing_entries_apart_and_skips_what_is_not_a_bundle(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    for folder in ("Acme", "acme.zip", "Globex", ".hidden", "out"):
        (fleet / folder).mkdir(parents=True)
    (fleet / "ACME.zip").write_bytes(b"PK")
    (fleet / "notes.txt").write_text("call Bob", encoding="utf-8")
    sites, skipped = discover([fleet], out=fleet / "out")
    assert [(s.name, Path(s.path).name) for s in sites] == [
        ("acme", "ACME.zip"), ("acme-2", "Acme"), ("acme-3", "acme.zip"), ("globex", "Globex")]
    assert [(Path(s.path).name, s.reason) for s in skipped] == [("notes.txt", "not a .zip or a folder")]


def test_a_bundle_given_as_the_fleet_folder_is_a_usage_error_that_says_what_to_do() -> None:
    with pytest.raises(FleetUsageError, match="looks like one site's bundle.*qslogs report"):
        discover([SAMPLE])
    result = CliRunner().invoke(cli, ["fleet", str(SAMPLE), "-o", "unused"])
    assert result.exit_code == 2 and "one site's bundle" in result.output


def test_missing_or_empty_fleet_folder_is_an_input_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["fleet", str(tmp_path / "nowhere"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 3 and "no such folder" in result.output
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["fleet", str(tmp_path / "empty"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 3 and "no site bundle found" in result.output


def test_a_folder_with_other_files_is_never_used_as_output(tmp_path: Path) -> None:
    (tmp_path / "fleet" / "acme").mkdir(parents=True)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("years of work", encoding="utf-8")
    result = CliRunner().invoke(cli, ["fleet", str(tmp_path / "fleet"), "-o", str(mine)])
    assert result.exit_code == 5 and "not empty" in result.output
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.docx"]


def test_options_of_the_other_engine_are_refused() -> None:
    result = CliRunner().invoke(cli, ["fleet", "x", "-o", "y", "--master", "local[2]"])
    assert result.exit_code == 2 and "--master is for --engine spark" in result.output


@pytest.fixture(scope="module")
def sample_fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """The sample bundle as site 'acme' (a zip), and a zip cut in half as site 'broken'."""
    base = tmp_path_factory.mktemp("sample-fleet")
    fleet = base / "bundles"
    fleet.mkdir()
    with zipfile.ZipFile(fleet / "Acme.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path in sorted(p for p in SAMPLE.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(SAMPLE).as_posix())
    whole = (fleet / "Acme.zip").read_bytes()
    (fleet / "broken.zip").write_bytes(whole[: len(whole) // 2])
    out = base / "out"
    result = CliRunner().invoke(cli, ["fleet", "-q", str(fleet), "-o", str(out), "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.output)


def test_sample_fleet_json_lists_the_broken_bundle_and_analyses_the_other(
        sample_fleet: tuple[Path, dict[str, object]]) -> None:
    out, data = sample_fleet
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    sites = {s["site"]: s for s in data["sites"]}  # type: ignore[index, union-attr]
    assert list(sites) == ["acme", "broken"]
    broken = sites["broken"]
    assert "broken.zip" in broken["error"] and broken["report"] is None and broken["runs"] == 0
    acme = sites["acme"]
    assert acme["error"] is None
    planted = [f for f in truth["reloads"]["failures"] if f.get("execution_id")]
    assert acme["failed_runs"] == len(planted) == 7
    assert acme["runs"] == len(truth["reloads"]["executions"])
    assert acme["failed_manual_reloads"] == 1
    assert acme["connections_401"] == {truth["reloads"]["license_monitor"]["connection"]: 4}
    assert acme["bad_input"]["bad_lines"] == truth["traps"]["broken_line"]["count_in_bundle"]
    assert [m["name"] for m in acme["monitoring_apps"]] == ["License Monitor", "Operations Monitor"]
    assert set(acme["findings"]) == {"critical", "warning", "info", "ok"}
    assert (out / "reports" / "acme.html").stat().st_size > 10_000
    assert json.loads((out / "fleet.json").read_text(encoding="utf-8")) == data


def test_sample_fleet_rerun_replaces_its_own_output(sample_fleet: tuple[Path, dict[str, object]],
                                                    tmp_path: Path) -> None:
    """A second run into the same folder is allowed (fleet.json marks it) and leaves no stale site behind."""
    import shutil

    out = shutil.copytree(sample_fleet[0], tmp_path / "out")
    (out / "reports" / "gone.html").write_text("old", encoding="utf-8")
    fleet = tmp_path / "again"
    fleet.mkdir()
    (fleet / "only.zip").write_bytes(b"not a zip")
    result = CliRunner().invoke(cli, ["fleet", "-q", str(fleet), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 3 and "no site bundle could be analysed" in result.output
    assert sorted(p.name for p in (out / "reports").iterdir()) == []
    assert [s["site"] for s in json.loads((out / "fleet.json").read_text(encoding="utf-8"))["sites"]] == ["only"]
    assert "only" in (out / "fleet.html").read_text(encoding="utf-8")


def _all_text(out: Path) -> str:
    """Every value of every table of a fleet dataset, as one text."""
    import pyarrow.dataset as ds

    return json.dumps([ds.dataset(folder, format="parquet", partitioning="hive").to_table().to_pylist()
                       for folder in sorted((out / "data").iterdir())], default=str)


def test_redact_reaches_the_dataset_the_json_and_the_reports(sample_fleet: tuple[Path, dict[str, object]],
                                                            tmp_path: Path) -> None:
    """The planted manual reload's user is in the plain dataset, and nowhere in the redacted output."""
    user = json.loads(TRUTH.read_text(encoding="utf-8"))["reloads"]["manual_reload"]["user"]
    login = user.split("\\")[-1]
    plain, _ = sample_fleet
    assert login in _all_text(plain)
    zipped = plain.parent / "bundles" / "Acme.zip"  # a zip given directly is one site
    out = tmp_path / "redacted"
    result = CliRunner().invoke(cli, ["fleet", "-q", str(zipped), "-o", str(out), "--redact", "--json"])
    assert result.exit_code == 0, result.output
    assert [s["site"] for s in json.loads(result.output)["sites"]] == ["acme"]
    assert login not in _all_text(out) and login not in result.output
    report = (out / "reports" / "acme.html").read_text(encoding="utf-8")
    assert login not in report
    # the Source line names the input by its pseudonym, as `report --redact` does: no folder, no file name
    assert str(zipped.parent) not in report and "Acme.zip" not in report and re.search(r"input-\d+\.zip", report)
    assert re.search(r'"user": "[^"]*user-\d+', _all_text(out))
