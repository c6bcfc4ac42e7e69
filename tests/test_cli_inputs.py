"""Consistent input errors: a truncated zip says so, a damaged --qvd never stops a command, a missing input exits 3."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qslogs.cli import cli
from tests.logfiles import TRACE_SYSTEM, dotnet_file, trace_row

SAMPLE_QVD = Path(__file__).resolve().parents[1] / "sample_data" / "qvd" / "license_allocation_history.qvd"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "Log"
    (root / "Repository" / "Trace").mkdir(parents=True)
    rows = [trace_row(i, "20191023T100902.094+0200", f"message {i}") for i in range(1, 400)]
    (root / "Repository/Trace/SENSE01_System_Repository.txt").write_bytes(dotnet_file(TRACE_SYSTEM, rows))
    return root


@pytest.fixture
def damaged_qvd(tmp_path: Path) -> Path:
    if not SAMPLE_QVD.is_file():
        pytest.skip("sample_data/qvd not generated (python -m qslogs_synth sample_data)")
    data = SAMPLE_QVD.read_bytes()
    path = tmp_path / "qvd" / "license_allocation_history.qvd"
    path.parent.mkdir()
    path.write_bytes(data[: len(data) * 2 // 3])  # a copy cut short
    return path


def test_a_truncated_zip_says_it_is_incomplete(bundle: Path, tmp_path: Path) -> None:
    whole = tmp_path / "SenseCollector.zip"
    with zipfile.ZipFile(whole, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in bundle.rglob("*.txt"):
            zf.write(path, path.relative_to(bundle.parent).as_posix())
        zf.writestr("Log/padding.bin", bytes(range(256)) * 4000)
    cut = tmp_path / "download.zip"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    code, _, err = run("inspect", str(cut))
    assert code == 3 and "the zip is incomplete (truncated download?)" in err and "Traceback" not in err
    garbage = tmp_path / "notazip.zip"
    garbage.write_bytes(b"this was never a zip file at all")
    code, _, err = run("inspect", str(garbage))
    assert code == 3 and "corrupt zip" in err and "incomplete" not in err


@pytest.mark.parametrize("command", ["report", "license"])
def test_a_damaged_qvd_file_warns_and_the_command_goes_on(bundle: Path, damaged_qvd: Path, tmp_path: Path,
                                                          command: str) -> None:
    out = ["-o", str(tmp_path / "r.html")] if command == "report" else []
    as_file = run(command, str(bundle), "--qvd", str(damaged_qvd), "-q", *out)
    as_folder = run(command, str(bundle), "--qvd", str(damaged_qvd.parent), "-q", *out)
    for code, stdout, err in (as_file, as_folder):
        assert code == 0, err
        shown = (tmp_path / "r.html").read_text(encoding="utf-8") if command == "report" else stdout
        assert "license_allocation_history.qvd" in shown and "not used" in shown


def test_every_missing_input_exits_3(bundle: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    cases = [
        ("report", missing, "-o", str(tmp_path / "r.html")),
        ("report", str(bundle), "--qvd", missing, "-o", str(tmp_path / "r.html")),
        ("license", str(bundle), "--qvd", missing),
        ("license", str(bundle), "--qvd-map", missing),
        ("reloads", missing),
        ("inspect", missing),
        ("parse", missing, "-o", str(tmp_path / "parsed")),
        ("qvd", missing),
    ]
    for args in cases:
        code, _, err = run(*args)
        assert code == 3, (args, err)
        assert f"{missing}: no such file" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "parsed").exists()
