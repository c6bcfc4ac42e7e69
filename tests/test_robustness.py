"""Every corpus case (tests/corpus) through every bundle command of the CLI: no crash, honest accounting.

For each mutated bundle, each of ``inspect``, ``parse``, ``reloads``, ``license`` and ``report`` (those
that exist) must: exit with the documented code (0 with the bad input listed, or 3 for unusable input,
the same for every command), never show a traceback, write nothing outside the output path and extract
nothing to disk (the case folder, the working directory and TMPDIR are compared before and after), and
account for every physical line of every parsed file: records + bad lines (+ trailer + joined
continuation lines) = lines, each bad line with its file and line number.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from qslogs.cli import cli
from qslogs.loader import load_frames
from tests.corpus import REAL_LOG, SAMPLE_BUNDLE, Built, Case, all_cases, physical_lines

CASES = all_cases()
#: Commands that parse a bundle (run on every case) and that analyse one (run on ANALYSIS_CASES), with the
#: arguments that make each write its output.
PARSE_COMMANDS: dict[str, list[str]] = {"inspect": ["--json"], "parse": ["-o", "{out}/parsed"]}
ANALYSIS_COMMANDS: dict[str, list[str]] = {
    "reloads": ["--json"], "license": ["--json"], "report": ["-o", "{out}/report.html"],
}
#: The analysis commands cost about a second per call whatever the bundle size (query planning), so they
#: run on every ANALYSIS_STRIDE-th case and on every case of the families below (the ones that change
#: what an analysis sees: missing or empty kinds, cut script logs, duplicates, DST).
ANALYSIS_STRIDE = 5
_ALWAYS = ("cut_mid_reload", "long_line", "empty", "header_only", "drop_header", "bundle-zip-clean",
           "bundle-same-log-twice", "bundle-dst-and-backwards-time", "bundle-json-dumps-not-json")
ANALYSIS_CASES = [c for i, c in enumerate(CASES) if c.id.startswith(_ALWAYS) or i % ANALYSIS_STRIDE == 0]


REPORTED_STATUSES = {"unknown", "empty", "error", "duplicate"}
_NOTE_CONTINUATION = re.compile(r"(\d+) continuation lines joined")


def _params(cases: list[Case]) -> list[Any]:
    return [pytest.param(case, id=case.id) for case in cases]


_WRITES: list[str] = []
_WATCHING: list[bool] = [False]


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Record every file opened for writing while a CLI call runs (Python-side writes, even short-lived)."""
    if not _WATCHING[0] or event != "open" or isinstance(args[0], int) or args[0] is None:
        return
    path, mode, flags = args
    if mode is not None:
        writing = any(c in mode for c in "wax+")
    else:
        writing = bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
    if writing and not str(path).endswith((".pyc", ".pyc.tmp")) and "__pycache__" not in str(path):
        _WRITES.append(os.fsdecode(path))


sys.addaudithook(_audit)


def available(commands: dict[str, list[str]]) -> dict[str, list[str]]:
    """The commands of this table that exist in this build of qslogs."""
    return {name: args for name, args in commands.items() if name in cli.commands}  # type: ignore[attr-defined]


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under ``root`` (symlinks not followed) with mode, size and modification time."""
    seen: dict[str, tuple[int, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            seen[os.path.relpath(full, root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return seen


def run(args: list[str]) -> tuple[int, str, str]:
    """One CLI call; a Python exception escaping click (exit 1 with a traceback) fails the test here."""
    _WATCHING[0] = True
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        _WATCHING[0] = False
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"qslogs {' '.join(args)} crashed: {result.exception!r}"
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def _skip_unavailable(case: Case) -> None:
    if case.needs == "real" and not REAL_LOG.is_dir():
        pytest.skip("../shared/fixtures not present: the real sample files are only on developer machines")
    if case.needs == "sample" and not SAMPLE_BUNDLE.is_dir():
        pytest.skip("sample_data/bundle not generated yet")


@pytest.fixture(scope="session")
def corpus_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where cases are written: a tmpfs folder when one is there (each case creates and removes dozens of
    files and folders, which dominates the runtime on a slow disk), else pytest's temporary folder."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 512 * 1024**2:
        base = Path(tempfile.mkdtemp(prefix="qslogs-corpus-", dir=shm))
        yield base
        shutil.rmtree(base, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("corpus")


@pytest.fixture
def isolated(corpus_base: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A case folder with its own working directory and TMPDIR, so stray writes can be seen."""
    root = Path(tempfile.mkdtemp(dir=corpus_base)) / "case"
    for sub in ("cwd", "tmp", "out"):
        (root / sub).mkdir(parents=True)
    monkeypatch.chdir(root / "cwd")
    monkeypatch.setenv("TMPDIR", str(root / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(root / "tmp"))
    yield root
    monkeypatch.undo()
    shutil.rmtree(root.parent, ignore_errors=True)


def run_commands(commands: dict[str, list[str]], built: Built, root: Path) -> dict[str, tuple[int, str]]:
    """Run each command on the case; every one exits 0 or 3, the same for all, and writes only to out/."""
    before = snapshot(root.parent)
    _WRITES.clear()
    results: dict[str, tuple[int, str]] = {}
    for name, args in commands.items():
        code, out, err = run([name, *map(str, built.inputs), *(a.format(out=root / "out") for a in args)])
        assert code in (0, 3), f"{name}: exit {code}: {err}"
        if code == 3:
            assert err.startswith("Error:") and out == "", f"{name}: {err}"
        results[name] = code, out
    codes = {name: code for name, (code, _) in results.items()}
    assert len(set(codes.values())) == 1, f"commands disagree on the input: {codes}"
    if built.expect_exit is not None:
        assert set(codes.values()) == {built.expect_exit}, f"expected exit {built.expect_exit}: {codes}"
    _check_nothing_written_outside(root, before, built)
    return results


@pytest.mark.parametrize("case", _params(CASES))
def test_corpus_case(case: Case, isolated: Path) -> None:
    """inspect and parse: exit code, bad input listed, every line of every file accounted for."""
    _skip_unavailable(case)
    built = case.make(isolated)
    results = run_commands(available(PARSE_COMMANDS), built, isolated)
    code, out = results["inspect"]
    if code == 3:
        assert not (isolated / "out" / "parsed").exists()
        return
    doc = json.loads(out)
    if built.must_report:
        statuses = {f["status"] for f in doc["files"]}
        assert doc["totals"]["bad_lines"] or doc["file_issues"] or statuses & REPORTED_STATUSES, \
            "bad input was not reported"
    if doc["file_issues"] or doc["totals"]["bad_lines"]:
        _check_text_inventory_lists_issues([str(p) for p in built.inputs], doc)
    _check_line_accounting(isolated / "out" / "parsed", built, doc)
    _check_incomplete_scripts(built)


@pytest.mark.parametrize("case", _params(ANALYSIS_CASES))
def test_corpus_case_analyses(case: Case, isolated: Path) -> None:
    """reloads, license and report (those that exist): no crash, the documented exit code, no stray file."""
    _skip_unavailable(case)
    commands = available(ANALYSIS_COMMANDS)
    if not commands:
        pytest.skip("no analysis command in this build yet")
    built = case.make(isolated)
    if built.expect_exit is None:  # either code is right, but it must be the one inspect gives
        built.expect_exit = run(["inspect", *map(str, built.inputs)])[0]
    results = run_commands(commands, built, isolated)
    for name, (code, out) in results.items():
        if code == 0 and name != "report":
            assert json.loads(out), name


def _check_nothing_written_outside(root: Path, before: dict[str, tuple[int, int, int]], built: Built) -> None:
    after = snapshot(root.parent)
    out, tmp = os.path.join("case", "out"), os.path.join("case", "tmp")
    changed = {p for p in set(before) | set(after)
               if before.get(p) != after.get(p) and p != tmp and not (p == out or p.startswith(out + os.sep))}
    assert not changed, f"files written outside the output path: {sorted(changed)}"
    assert not any((root / "tmp").iterdir()), "something was left in TMPDIR"
    written = [w for w in _WRITES if not Path(w).resolve().is_relative_to((root / "out").resolve())]
    assert not written, f"files opened for writing outside the output path (extracted?): {written}"
    for path in built.outside:
        assert not path.exists(), f"{path} was written: a zip member escaped the bundle"


def _check_text_inventory_lists_issues(inputs: list[str], doc: dict[str, Any]) -> None:
    code, text, _ = run(["inspect", *inputs])
    assert code == 0
    for issue in doc["file_issues"]:
        assert f"unreadable: {issue['path']}: {issue['reason']}" in text
    assert f"{doc['totals']['bad_lines']} bad lines" in text


def _records(parsed: Path) -> pl.DataFrame:
    """(source_file, line_no) of every record written by ``parse``, over every kind's dataset."""
    parts = []
    for dataset in sorted(p for p in parsed.iterdir() if p.is_dir()):
        frame = pl.read_parquet(dataset, hive_partitioning=True)
        if "line_no" in frame.columns:
            parts.append(frame.select("source_file", "line_no"))
    return pl.concat(parts) if parts else pl.DataFrame(schema={"source_file": pl.String, "line_no": pl.Int64})


def _check_line_accounting(parsed: Path, built: Built, doc: dict[str, Any]) -> None:
    files = pl.read_parquet(parsed / "files.parquet")
    bad = pl.read_parquet(parsed / "bad_lines.parquet")
    records = _records(parsed)
    assert bad.height == doc["totals"]["bad_lines"]
    assert bad.filter(pl.col("line_no").is_null() | pl.col("reason").is_null()).height == 0
    assert files["path"].is_duplicated().sum() == 0, "two files are shown under one name"
    issues = {i["path"] for i in doc["file_issues"]}
    for path in built.logs:
        assert path in set(files["path"]) | issues, f"{path} vanished from the inventory"
    for row in files.filter(pl.col("status") == "parsed").iter_rows(named=True):
        path = row["path"]
        own_bad = bad.filter(pl.col("source_file") == path)["line_no"]
        own_rec = records.filter(pl.col("source_file") == path)["line_no"]
        assert (own_bad.len(), own_rec.len()) == (row["bad_lines"], row["records"]), path
        numbers = pl.concat([own_bad, own_rec])
        assert not numbers.is_duplicated().any(), f"{path}: a line is both a record and a bad line"
        note = row["note"] or ""
        trailer = 1 if "signature trailer" in note else 0
        joined = int(m.group(1)) if (m := _NOTE_CONTINUATION.search(note)) else 0
        assert row["records"] + row["bad_lines"] + trailer + joined == row["lines"], f"{path}: {row}"
        if path in built.logs:
            header = 0 if row["family"] in ("script", "access") else 1
            physical = physical_lines(built.logs[path])
            assert row["lines"] + header == physical, f"{path}: {row['lines']} + header != {physical} lines"
            if numbers.len():
                assert numbers.min() >= 1 and numbers.max() <= physical  # type: ignore[operator]


def _check_incomplete_scripts(built: Built) -> None:
    if not built.incomplete_scripts:
        return
    summary = load_frames(built.inputs).frames["Script/Summary"]
    for path in built.incomplete_scripts:
        outcome = summary.filter(pl.col("source_file") == path)["outcome"].to_list()
        assert outcome == ["incomplete"], f"{path} was cut off mid-reload but reads as {outcome}"


def test_the_corpus_is_large_and_deterministic(tmp_path: Path) -> None:
    assert len(CASES) >= 200
    assert len({c.id for c in CASES}) == len(CASES)
    case = next(c for c in CASES if c.id.startswith("bitflip") and c.needs == "none")
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    one, two = case.make(first), case.make(second)
    assert one.logs and one.logs == two.logs
