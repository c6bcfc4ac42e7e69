"""Ctrl-C at any moment: the line ``interrupted``, exit 130, no traceback, no partial output, no worker left.

The command runs as a real process in its own session; SIGINT goes to its whole process group, as a
terminal sends it. The moments are observed, not guessed: start-up is while polars is being loaded
(its library appears in the process's memory map), parsing is while worker processes run, analysis is
after the workers are gone. Linux only (/proc).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc to observe the moments"),
]

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "bundle"
QSLOGS = [sys.executable, "-m", "qslogs"]


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _maps(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _interrupt(args: list[str], tmp_path: Path, moment: Callable[[subprocess.Popen[bytes], list[int]], bool]
               ) -> tuple[int, str, list[int]]:
    """Run qslogs, wait for ``moment``, send SIGINT to its process group; (exit code, stderr, workers seen)."""
    spill = tmp_path / "tmp"
    spill.mkdir()
    env = dict(os.environ, QSLOGS_WORKERS="2", TMPDIR=str(spill), PYTHONPATH=str(Path(__file__).parents[1]))
    proc = subprocess.Popen([*QSLOGS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True, cwd=tmp_path)
    seen: list[int] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            seen = sorted(set(seen) | set(_children(proc.pid)))
            if moment(proc, seen):
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the command ended before the moment came: " + proc.stderr.read().decode()[-500:]
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not os.listdir(spill), f"temporary files left: {os.listdir(spill)}"
    return proc.returncode, err.decode(), seen


def _check(code: int, err: str, tmp_path: Path, seen: list[int]) -> None:
    assert code == 130, err
    assert err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err, err
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "parsed").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], list(tmp_path.iterdir())
    time.sleep(0.2)
    assert not [w for w in seen if _alive(w)], "a worker was left running"


@pytest.fixture
def sample() -> Path:
    if not SAMPLE.is_dir():
        pytest.skip("sample_data/bundle not generated (python -m qslogs_synth sample_data)")
    return SAMPLE


def test_ctrl_c_during_start_up(sample: Path, tmp_path: Path) -> None:
    code, err, seen = _interrupt(["report", str(sample), "-o", "r.html"], tmp_path,
                                 lambda proc, _: "polars" in _maps(proc.pid))
    _check(code, err, tmp_path, seen)
    assert err == "interrupted\n"


def test_ctrl_c_while_workers_parse(sample: Path, tmp_path: Path) -> None:
    code, err, seen = _interrupt(["parse", str(sample), "-o", "parsed"], tmp_path, lambda _, kids: bool(kids))
    assert seen, "no worker process was started"
    _check(code, err, tmp_path, seen)


def test_ctrl_c_during_analysis_after_the_workers(sample: Path, tmp_path: Path) -> None:
    def after_workers(proc: subprocess.Popen[bytes], seen: list[int]) -> bool:
        return bool(seen) and not any(_alive(w) for w in seen)

    code, err, seen = _interrupt(["report", str(sample), "-o", "r.html", "-q"], tmp_path, after_workers)
    _check(code, err, tmp_path, seen)


def test_closed_stdout_stays_quiet(sample: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    with subprocess.Popen([*QSLOGS, "inspect", str(sample / "Log"), "-q"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, cwd=tmp_path) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
    assert "Traceback" not in err and "Broken pipe" not in err, err
