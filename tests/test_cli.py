"""The command line: documented exit codes, one-line errors without tracebacks, real --help texts."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from qslogs.cli import cli
from tests.logfiles import TRACE_SYSTEM, dotnet_file, trace_row

TS = "20191023T100902.094+0200"


@pytest.fixture
def small_bundle(tmp_path: Path) -> Path:
    root = tmp_path / "Log"
    (root / "Repository" / "Trace").mkdir(parents=True)
    rows = [trace_row(1, TS, "ok"), "half a line", trace_row(3, TS, "ok")]
    (root / "Repository/Trace/SENSE01_System_Repository.txt").write_bytes(dotnet_file(TRACE_SYSTEM, rows))
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_every_command_has_help_with_an_example() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "Exit codes:" in out
    for name, command in cli.commands.items():  # type: ignore[attr-defined]
        code, text, _ = run(name, "--help")
        assert code == 0, name
        assert "Example" in text, f"qslogs {name} --help has no example"
        assert len((command.help or "").split()) > 15, f"qslogs {name} --help is too thin"


def test_inspect_json_shape(small_bundle: Path) -> None:
    code, out, err = run("inspect", str(small_bundle), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"files", "kinds"}
    (entry,) = doc["files"]
    assert {k: entry[k] for k in ("path", "kind", "host", "records", "bad_lines")} == {
        "path": "Repository/Trace/SENSE01_System_Repository.txt", "kind": "Repository/System",
        "host": "sense01", "records": 2, "bad_lines": 1}
    assert entry["first"] == "2019-10-23T08:09:02.094Z"
    assert doc["kinds"] == {"Repository/System": {"files": 1, "records": 2}}


def test_inspect_table(small_bundle: Path) -> None:
    code, out, _ = run("inspect", str(small_bundle))
    assert code == 0
    assert "Repository/System" in out and "1 bad lines" in out


def test_missing_input_exits_3_without_traceback(tmp_path: Path) -> None:
    code, out, err = run("inspect", str(tmp_path / "missing.zip"))
    assert code == 3
    assert "Error:" in err and "no such file or folder" in err
    assert "Traceback" not in out + err


def test_usage_error_exits_2() -> None:
    code, _, err = run("inspect")
    assert code == 2 and "Missing argument" in err


def test_strict_exits_4_and_names_file_and_line(small_bundle: Path) -> None:
    code, out, err = run("inspect", str(small_bundle), "--strict")
    assert code == 4
    assert "SENSE01_System_Repository.txt:3" in err
    assert "Traceback" not in out + err


def test_parse_writes_partitioned_parquet(small_bundle: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "parsed"
    code, out, err = run("parse", str(small_bundle), "-o", str(out_dir))
    assert code == 0, err
    files = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.parquet"))
    assert "Repository.System/host=sense01/date=2019-10-23/00000000.parquet" in files
    frame = pl.read_parquet(out_dir / "Repository.System", hive_partitioning=True)
    assert frame.height == 2
    bad = pl.read_parquet(out_dir / "bad_lines.parquet")
    assert bad.select("line_no", "text").rows() == [(3, "half a line")]


def test_parse_to_unwritable_place_exits_5(small_bundle: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, out, err = run("parse", str(small_bundle), "-o", str(blocker / "sub"))
    assert code == 5
    assert "cannot write" in err and "Traceback" not in out + err
