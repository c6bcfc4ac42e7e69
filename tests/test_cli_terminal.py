"""Terminal text: fits the width with node names whole, colour on a terminal only (NO_COLOR honoured),
``--failed-only`` in text, the script log beside each root cause, and a view of script logs alone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qslogs.cli import cli

SAMPLE_LOG = Path(__file__).resolve().parents[1] / "sample_data" / "bundle" / "Log"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def log() -> Path:
    if not SAMPLE_LOG.is_dir():
        pytest.skip("sample_data/bundle not generated (python -m qslogs_synth sample_data)")
    return SAMPLE_LOG


def text(*args: str, columns: int | None = None) -> str:
    env = {"COLUMNS": str(columns)} if columns else {}
    result = CliRunner(env=env).invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("command", ["inspect", "reloads", "activity"])
def test_every_line_fits_the_width_and_nodes_stay_whole(sample_cli: Path, command: str, columns: int) -> None:
    out = text(command, str(sample_cli), "-q", columns=columns)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= columns, max(lines, key=len)
    assert not ANSI.search(out)  # not a terminal: no colour
    node_cells = [line for line in lines if re.search(r"\bsense01\b", line)]
    assert node_cells, "node names are cut"


def test_wide_pipes_keep_whole_lines(sample_cli: Path) -> None:
    out = text("reloads", str(sample_cli), "-q")  # no COLUMNS: as wide as a pipe gets (160)
    assert "Reload License Monitor" in out and "monitor_apps_REST_license_user" in out


def test_root_cause_names_its_script_log_and_line(sample_cli: Path) -> None:
    lines = text("reloads", str(sample_cli), "-q", columns=200).splitlines()
    at = next(i for i, line in enumerate(lines) if "Reload Sales Overview" in line and "script" in line)
    assert "Cannot open file: 'lib://DataFiles/sales.qvd'" in lines[at + 1]
    match = re.match(r"\s+script log line (\d+): (\S+\.log)$", lines[at + 2])
    assert match, lines[at + 2]
    script = SAMPLE_LOG / "Script" / match[2]
    cited = script.read_bytes().decode("utf-8-sig").split("\r\n")[int(match[1]) - 1]
    assert "Cannot open file" in cited  # the named line of the named file holds the cause


def test_failed_only_changes_the_text_view(sample_cli: Path) -> None:
    full = text("reloads", str(sample_cli), "-q", columns=160)
    failed = text("reloads", str(sample_cli), "-q", "--failed-only", columns=160)
    assert "Reload Warehouse Stock" in full and "Reload Warehouse Stock" not in failed  # never failed
    assert "Tasks with failures" in failed and "Reload License Monitor" in failed
    assert re.search(r"Operations Monitor\s+ok", full) and "Operations Monitor" not in failed.split("Findings")[0]


def test_script_logs_alone_get_their_own_view(log: Path, tmp_path: Path) -> None:
    scripts = Path(shutil.copytree(log / "Script", tmp_path / "Script"))
    out = text("reloads", str(scripts), "-q", columns=160)
    assert out.startswith("Script logs: 50, 50 shown (no scheduler log in this input")
    failed = text("reloads", str(scripts), "-q", "--failed-only", columns=160)
    assert failed.startswith("Script logs: 50, 7 shown")
    listed = failed.split("Failed manual reloads")[0].splitlines()
    rows = [line for line in listed if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", line)]
    assert len(rows) == 7 and all(re.search(r"failed +\w+ +[0-9a-f]{8}-[0-9a-f-]{27}\S* +\d+ ", r) for r in rows), rows
    assert any("HTTP protocol error 401" in r and "auth" in r for r in rows)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("no_color", [False, True])
def test_colour_only_on_a_terminal_and_never_with_no_color(log: Path, no_color: bool) -> None:
    import pty

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(COLUMNS="120", PYTHONPATH=str(Path(__file__).parents[1]))
    if no_color:
        env["NO_COLOR"] = "1"
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qslogs", "reloads", str(log), "-q"], stdout=follower,
                            stderr=subprocess.PIPE, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    if proc.stderr:
        proc.stderr.close()
    out = b"".join(chunks).decode()
    if no_color:
        assert not ANSI.search(out)
    else:
        assert re.search(r"\x1b\[[0-9;]*31m", out), "failures are not red on a terminal"
    assert "Failed runs: 5 of 57 task runs" in ANSI.sub("", out)


def test_a_bundle_of_many_files_is_shown_per_kind_and_node(sample_cli: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A site's ArchivedLogs hold tens of thousands of files: one row each is unreadable (and took rich
    longer to lay out than parsing them). Above the limit the sample's 356 files become 78 kind × node
    groups and the one file with a bad line; ``--all`` still lists every file."""
    from qslogs.commands import inspect

    monkeypatch.setattr(inspect, "FILE_ROWS", 100)
    out = text("inspect", str(sample_cli), "-q", columns=200)
    assert "356 files, shown per kind and node; the 1 with bad lines below; --all lists every file" in out
    group = next(line for line in out.splitlines() if line.split()[:2] == ["AboutService/NodeService", "sense01"])
    assert group.split()[2:4] == ["2", "25"]  # files, records
    assert "SENSE01_System_Repository.txt" in out
    assert "SENSE01_Service_Repository.txt" not in out  # a file without bad lines is in its group only
    every = text("inspect", str(sample_cli), "-q", "--all", columns=200)
    assert "SENSE01_Service_Repository.txt" in every and "shown per kind and node" not in every
