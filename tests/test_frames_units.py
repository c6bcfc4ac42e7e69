"""Units: small files read and parsed together (script logs in one vectorised batch) give exactly the
frames of a file-by-file read, including collision copies, damaged files and bad lines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

import qslogs.units
from qslogs.bundle import Member
from qslogs.frames import Frames
from qslogs.loader import load_frames
from qslogs.units import plan_units

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "bundle"


def _member(size: int) -> Member:
    return Member(name=f"f{size}", display=f"f{size}", size=size, _reader=lambda limit: b"")


def test_plan_units_groups_runs_of_small_files_and_keeps_large_ones_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qslogs.units, "UNIT_MAX_FILES", 3)
    sizes = [10, 10, 10, 10, 2 * 1024**2, 10, 10]
    assert plan_units([_member(s) for s in sizes]) == [[0, 1, 2], [3], [4], [5, 6]]
    assert plan_units([_member(s) for s in sizes], single=True) == [[i] for i in range(len(sizes))]
    monkeypatch.setattr(qslogs.units, "UNIT_MAX_BYTES", 100)
    assert plan_units([_member(30), _member(60), _member(61)]) == [[0, 1], [2]]


def _assert_same(got: Frames, want: Frames) -> None:
    assert sorted(got.frames) == sorted(want.frames)
    for kind, frame in want.frames.items():
        assert_frame_equal(got.frames[kind], frame)
    for name in ("files", "offsets"):
        assert_frame_equal(getattr(got, name), getattr(want, name))
    assert_frame_equal(got.bad_lines.sort("source_file", "line_no"), want.bad_lines.sort("source_file", "line_no"))
    assert got.file_issues == want.file_issues


def _damaged_copy(tmp_path: Path) -> tuple[Path, list[Path], list[Path]]:
    """The sample bundle with collision copies (a script log, a tabular log), a damaged script log, an
    empty one, a Windows-1252 and a junk-ended tabular log; its script logs and that kind's logs."""
    bundle = tmp_path / "bundle"
    shutil.copytree(SAMPLE, bundle)
    scripts = sorted((bundle / "Log" / "Script").iterdir())
    shutil.copy(scripts[3], scripts[3].with_name("copy (2) of " + scripts[3].name))  # a collision copy
    scripts[5].write_bytes(scripts[5].read_bytes()[:700] + b"\n\x00\x01 garbage\nno prefix\n")
    scripts[6].write_bytes(b"")
    # Tabular logs of one kind and layout share a batch: one of them copied (a duplicate inside the
    # batch), one made Windows-1252 (parsed alone), one given junk lines (bad lines inside the batch).
    trace = bundle / "sense01.corp.example" / "Repository" / "Trace"
    rolled = sorted(trace.glob("SENSE01_System_Repository_*.log"))
    rolled[1].write_bytes(rolled[1].read_bytes() + b"junk without tabs\r\n\r\n")
    rolled[2].write_bytes(rolled[2].read_bytes().replace(b"Repository", b"R\xe9pository", 3))
    shutil.copy(rolled[3], trace / ("copy (2) of " + rolled[3].name))  # sorted right after it
    return bundle, scripts, rolled


def test_units_equal_a_file_by_file_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle, scripts, rolled = _damaged_copy(tmp_path)
    monkeypatch.setenv("QSLOGS_WORKERS", "1")
    batched = load_frames([bundle])
    assert max(len(u) for u in plan_units(sorted_members(bundle))) > 50  # the script logs did share units
    monkeypatch.setattr(qslogs.units, "SMALL_FILE_BYTES", -1)
    alone = load_frames([bundle])
    _assert_same(batched, alone)
    files = alone.files
    assert files.filter(files["path"].str.contains("copy \\(2\\) of"))["status"].to_list() == ["duplicate"] * 2
    assert files.filter(files["path"].str.ends_with(rolled[2].name))["encoding"].to_list() == ["windows-1252"]
    assert batched.bad_lines.filter(batched.bad_lines["source_file"].str.ends_with(rolled[1].name)).height == 2
    assert batched.frames["Script/Summary"].height == files.filter(
        (files["kind"] == "Script") & (files["status"] == "parsed")).height
    assert batched.bad_lines.filter(batched.bad_lines["source_file"].str.ends_with(scripts[5].name)).height == 2


def sorted_members(bundle: Path) -> list[Member]:
    from qslogs.bundle import Limits, open_bundle

    with open_bundle([bundle], Limits()) as opened:
        return list(opened.members)


@pytest.mark.slow
def test_units_in_worker_processes_equal_a_serial_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QSLOGS_WORKERS", "1")
    monkeypatch.setattr(qslogs.units, "SMALL_FILE_BYTES", -1)
    alone = load_frames([SAMPLE])
    monkeypatch.undo()
    monkeypatch.setenv("QSLOGS_WORKERS", "2")
    _assert_same(load_frames([SAMPLE]), alone)


@pytest.mark.slow
def test_batches_in_worker_processes_keep_the_files_taken_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """Workers write a batch's records (script lines with their nodes, tabular rows) for every file of it,
    collision copies included; the parent keeps the rows of the files it takes: the frames, summaries, bad
    lines and inventory of a serial read, where the copies are never parsed."""
    bundle, _, _ = _damaged_copy(tmp_path)
    monkeypatch.setenv("QSLOGS_WORKERS", "1")
    serial = load_frames([bundle])
    monkeypatch.setenv("QSLOGS_WORKERS", "2")
    parallel = load_frames([bundle])
    assert parallel.frames.spilled and not serial.frames.spilled
    _assert_same(parallel, serial)
    assert parallel.files.filter(parallel.files["status"] == "duplicate").height == 2


@pytest.mark.slow
def test_spilled_records_read_back_as_in_memory_ones() -> None:
    """With ``spill_bytes=0`` every part goes to temporary Arrow files; kinds, columns, heights, records
    and every analysis result are those of the in-memory read."""
    from qslogs.analyses import run_analyses
    from qslogs.bundle import Limits
    from qslogs.export import result_json
    from qslogs.store import KindStore

    memory = load_frames([SAMPLE])
    spilled = load_frames([SAMPLE], limits=Limits(spill_bytes=0))
    assert isinstance(spilled.frames, KindStore) and spilled.frames.spilled
    assert isinstance(memory.frames, KindStore) and not memory.frames.spilled
    assert sorted(spilled.frames) == sorted(memory.frames)
    for kind in memory.frames:
        assert spilled.columns(kind) == memory.columns(kind) and spilled.height(kind) == memory.height(kind)
        assert_frame_equal(spilled.frames[kind], memory.frames[kind])
    assert spilled.frames["Script"]["host"].null_count() == 0
    got, want = run_analyses(spilled), run_analyses(memory)
    assert {k: result_json(r) for k, r in got.items()} == {k: result_json(r) for k, r in want.items()}
    assert {k: r.findings for k, r in got.items()} == {k: r.findings for k, r in want.items()}


def test_no_temporary_space_is_a_clear_error_with_exit_code_5(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk (or no permission) where the records spill: exit 5 and what to do, no traceback."""
    import errno
    import tempfile

    from click.testing import CliRunner

    from qslogs.cli import cli

    def no_space(*args: object, **kwargs: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkdtemp", no_space)
    monkeypatch.setenv("QSLOGS_WORKERS", "1")
    result = CliRunner().invoke(cli, ["--limit", "spill_bytes=1", "inspect", "-q", str(SAMPLE)])
    assert result.exit_code == 5, result.output
    assert "No space left on device" in result.output and "TMPDIR" in result.output
    assert "Traceback" not in result.output
