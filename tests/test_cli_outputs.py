"""Outputs never destroy what qslogs did not write: ``parse -o`` datasets with a marker, ``report -o`` targets."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from qslogs.cli import cli
from tests.logfiles import TRACE_SYSTEM, dotnet_file, trace_row

SAMPLE_LOG = Path(__file__).resolve().parents[1] / "sample_data" / "bundle" / "Log"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def hashes(root: Path) -> dict[str, str]:
    """Every file under ``root`` (and every folder, as an empty hash) by relative path."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "<dir>"
    return out


@pytest.fixture
def log_copy(tmp_path: Path) -> Path:
    """A customer's only copy of their Log folder (with Qlik's own Script folder)."""
    if not SAMPLE_LOG.is_dir():
        pytest.skip("sample_data/bundle not generated (python -m qslogs_synth sample_data)")
    return Path(shutil.copytree(SAMPLE_LOG, tmp_path / "Log"))


def small_log(root: Path, node: str = "SENSE01", ts: str = "20191023T100902.094+0200") -> Path:
    (root / "Repository" / "Trace").mkdir(parents=True)
    rows = [trace_row(1, ts, "ok"), trace_row(2, ts, "ok")]
    (root / f"Repository/Trace/{node}_System_Repository.txt").write_bytes(dotnet_file(TRACE_SYSTEM, rows))
    return root


# -- parse -o -----------------------------------------------------------------------------------------------


def test_parse_into_its_own_input_is_refused_and_touches_nothing(log_copy: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    before = hashes(log_copy)
    assert any(k.startswith("Script/") for k in before)  # the folder a kind is named after
    code, out, err = run("parse", str(log_copy), "-o", str(log_copy), "-q")
    assert code == 5 and out == ""
    assert f"cannot write {log_copy}: it is the input {log_copy}" in err and "Traceback" not in err
    monkeypatch.chdir(log_copy)
    code, _, err = run("parse", ".", "-o", ".", "-q")
    assert code == 5 and "it is the input ." in err
    code, _, err = run("parse", ".", "-o", "parsed", "-q")
    assert code == 5 and "it lies inside the input ." in err
    code, _, err = run("parse", "Script", "-o", ".", "-q")
    assert code == 5 and "it holds the input Script" in err
    assert hashes(log_copy) == before


def test_a_non_empty_folder_without_marker_is_refused(tmp_path: Path) -> None:
    bundle = small_log(tmp_path / "Log")
    target = tmp_path / "customer-share"
    (target / "Script").mkdir(parents=True)
    (target / "Script" / "keep.log").write_text("their file")
    (target / "notes.txt").write_text("their notes")
    before = hashes(target)
    code, _, err = run("parse", str(bundle), "-o", str(target), "-q")
    assert code == 5
    assert "the folder is not empty and holds no .qslogs-dataset.json" in err
    assert hashes(target) == before


def test_rerun_replaces_only_what_the_marker_lists(tmp_path: Path) -> None:
    bundle = small_log(tmp_path / "Log")
    out = tmp_path / "parsed"
    code, _, err = run("parse", str(bundle), "-o", str(out), "-q")
    assert code == 0, err
    marker = json.loads((out / ".qslogs-dataset.json").read_text())
    assert marker["sites"][""] == ["Repository.System", "bad_lines.parquet", "files.parquet"]
    (out / "my-query.sql").write_text("select 1")  # the user's own file beside the dataset
    stale = out / "Repository.System" / "host=old" / "date=2000-01-01"
    stale.mkdir(parents=True)
    (stale / "0.parquet").write_bytes(b"from an earlier run")
    code, _, err = run("parse", str(bundle), "-o", str(out), "-q")
    assert code == 0, err
    assert (out / "my-query.sql").read_text() == "select 1"
    assert not (out / "Repository.System" / "host=old").exists()  # the listed dataset was replaced whole
    assert pl.read_parquet(out / "Repository.System", hive_partitioning=True).height == 2
    assert not [p for p in out.iterdir() if p.name.startswith(".qslogs-tmp")]


def test_a_file_not_in_the_marker_is_never_replaced(tmp_path: Path) -> None:
    bundle = small_log(tmp_path / "Log")
    out = tmp_path / "parsed"
    assert run("parse", str(bundle), "-o", str(out), "-q")[0] == 0
    marker_path = out / ".qslogs-dataset.json"
    marker = json.loads(marker_path.read_text())
    marker["sites"][""].remove("files.parquet")  # as if the user had put their own files.parquet there
    marker_path.write_text(json.dumps(marker))
    (out / "files.parquet").write_bytes(b"theirs")
    code, _, err = run("parse", str(bundle), "-o", str(out), "-q")
    assert code == 5 and "files.parquet: it exists and is not listed" in err
    assert (out / "files.parquet").read_bytes() == b"theirs"


def test_sites_share_one_dataset_without_mixing(tmp_path: Path) -> None:
    acme = small_log(tmp_path / "acme" / "Log", "ACME01")
    globex = small_log(tmp_path / "globex" / "Log", "GLOBEX01", "20191025T080000.000+0000")
    out = tmp_path / "fleet"
    assert run("parse", str(acme), "-o", str(out), "--site", "acme", "-q")[0] == 0
    assert run("parse", str(globex), "-o", str(out), "--site", "globex", "-q")[0] == 0
    frame = pl.read_parquet(out / "Repository.System", hive_partitioning=True)
    assert sorted(frame.group_by("site", "host").len().rows()) == [("acme", "acme01", 2), ("globex", "globex01", 2)]
    files = pl.read_parquet(out / "files", hive_partitioning=True)
    assert sorted(files.select("site", "host").rows()) == [("acme", "acme01"), ("globex", "globex01")]
    # Re-parsing one site replaces that site only.
    assert run("parse", str(acme), "-o", str(out), "--site", "acme", "-q")[0] == 0
    frame = pl.read_parquet(out / "Repository.System", hive_partitioning=True)
    assert frame.height == 4
    # One folder holds one layout.
    code, _, err = run("parse", str(acme), "-o", str(out), "-q")
    assert code == 5 and "written with --site" in err
    code, _, err = run("parse", str(acme), "-o", str(out), "--site", "../x")
    assert code == 2 and "--site" in err


def test_parse_into_an_unwritable_place_fails_before_reading(tmp_path: Path) -> None:
    bundle = small_log(tmp_path / "Log")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run("parse", str(bundle), "-o", str(blocker))
    assert code == 5 and "it exists and is not a folder" in err


# -- report -o ----------------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX only")
def test_report_refuses_a_fifo_and_leaves_it(tmp_path: Path) -> None:
    bundle = small_log(tmp_path / "Log")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, out, err = run("report", str(bundle), "-o", str(fifo), "-q")
    assert code == 5 and "it is a FIFO (named pipe)" in err
    assert fifo.exists() and not fifo.is_file()
    assert {p.name for p in tmp_path.iterdir()} == {"Log", "pipe"}  # no temporary file left either


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_report_refuses_a_device_and_a_folder(tmp_path: Path) -> None:
    bundle = small_log(tmp_path / "Log")
    code, _, err = run("report", str(bundle), "-o", "/dev/null", "-q")
    assert code == 5 and "it is a character device" in err
    assert Path("/dev/null").is_char_device()
    code, _, err = run("report", str(bundle), "-o", str(tmp_path), "-q")
    assert code == 5 and "it is a folder" in err


def test_report_refuses_a_symlink_and_leaves_it(tmp_path: Path) -> None:
    bundle = small_log(tmp_path / "Log")
    real = tmp_path / "real.html"
    real.write_text("keep me")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    code, _, err = run("report", str(bundle), "-o", str(link), "-q")
    assert code == 5 and f"it is a symbolic link (to {real})" in err
    assert link.is_symlink() and real.read_text() == "keep me"


def test_report_never_writes_into_or_over_its_input(tmp_path: Path) -> None:
    bundle = small_log(tmp_path / "Log")
    before = hashes(bundle)
    code, _, err = run("report", str(bundle), "-o", str(bundle / "report.html"), "-q")
    assert code == 5 and "it lies inside the input" in err
    single = bundle / "Repository/Trace/SENSE01_System_Repository.txt"
    code, _, err = run("report", str(single), "-o", str(single), "-q")
    assert code == 5 and "it is the input" in err
    assert hashes(bundle) == before


def test_report_dash_writes_html_to_stdout_and_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = small_log(tmp_path / "Log")
    monkeypatch.chdir(tmp_path)
    code, out, err = run("report", str(bundle), "-o", "-", "-q")
    assert code == 0, err
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")
    assert "report written to stdout" in err
    assert not (tmp_path / "-").exists()


def test_report_destination_is_checked_before_the_bundle_is_read(tmp_path: Path) -> None:
    code, _, err = run("report", str(tmp_path / "missing.zip"), "-o", str(tmp_path / "no" / "such" / "x.html"))
    assert code == 3  # the input error, no folder created for the output
    assert not (tmp_path / "no").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bundle = small_log(tmp_path / "Log")
    code, _, err = run("report", str(bundle), "-o", str(blocker / "r.html"))
    assert code == 5 and "is not a folder" in err
