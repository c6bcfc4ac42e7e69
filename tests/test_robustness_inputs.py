"""Awkward but legitimate bundles, checked value by value: copies of one log, DST and time going backwards,
unreadable files, a file whose read fails half-way, and script logs cut off mid-reload."""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from qslogs.bundle import Bundle, Member
from qslogs.loader import load_frames, parse_bundle
from tests.corpus.files import SCRIPT_NAME, synthetic_bases
from tests.logfiles import TRACE_SYSTEM, dotnet_file, trace_row

SYSTEM = "Repository/Trace/SENSE01_System_Repository.txt"


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_active_archived_and_collision_copies_are_counted_once(tmp_path: Path) -> None:
    data = synthetic_bases()[SYSTEM]
    _write(tmp_path / "Log" / SYSTEM, data)
    _write(tmp_path / "sense01.corp.example" / SYSTEM, data)
    _write(tmp_path / "Log" / SYSTEM.replace(".txt", "_x7Gq2.txt"), data)
    frames = load_frames([tmp_path])
    assert frames.frames["Repository/System"].height == 20
    status = dict(zip(frames.files["path"], frames.files["status"], strict=True))
    assert status == {f"Log/{SYSTEM}": "parsed", f"Log/{SYSTEM.replace('.txt', '_x7Gq2.txt')}": "duplicate",
                      f"sense01.corp.example/{SYSTEM}": "duplicate"}


def test_dst_change_and_time_going_backwards_keep_every_record_in_utc(tmp_path: Path) -> None:
    stamps = ["20191027T015900.000+0200", "20191027T025930.000+0200", "20191027T020010.000+0100",
              "20191027T021500.000+0100", "20191027T013000.000+0200", "20191027T030000.000+0100"]
    rows = [trace_row(i % 3 + 1, ts, f"row {i}") for i, ts in enumerate(stamps)]  # Sequence# restarts too
    _write(tmp_path / "Log" / SYSTEM, dotnet_file(TRACE_SYSTEM, rows))
    frames = load_frames([tmp_path / "Log"])
    frame = frames.frames["Repository/System"].sort("line_no")
    utc = [datetime(2019, 10, 26, 23, 59), datetime(2019, 10, 27, 0, 59, 30),
           datetime(2019, 10, 27, 1, 0, 10), datetime(2019, 10, 27, 1, 15), datetime(2019, 10, 26, 23, 30),
           datetime(2019, 10, 27, 2)]
    assert frame["Timestamp"].to_list() == [t.replace(tzinfo=UTC) for t in utc]
    assert frame["Message"].to_list() == [f"row {i}" for i in range(6)]
    assert frames.bad_lines.height == 0
    offsets = frames.offsets.filter(pl.col("host") == "sense01")["offset_minutes"].to_list()
    assert offsets[0] == 120 and 60 in offsets and 120 in offsets[1:]  # back to +0200 on the late row


AS_ROOT = ("running as root: chmod 000 does not stop root from reading, so no file is unreadable "
           "(test_a_file_whose_read_fails_is_a_file_issue_and_the_rest_is_parsed covers the path)")


@pytest.mark.skipif(os.geteuid() == 0, reason=AS_ROOT)
def test_unreadable_file_is_a_file_issue(tmp_path: Path) -> None:
    _write(tmp_path / "Log" / SYSTEM, synthetic_bases()[SYSTEM])
    locked = _write(tmp_path / "Log/Scheduler/Trace/SENSE01_TaskExecution_Scheduler.txt", b"x")
    locked.chmod(0)
    try:
        frames = load_frames([tmp_path / "Log"])
    finally:
        locked.chmod(0o644)
    reasons = {i.path: i.reason for i in frames.file_issues}
    assert reasons == {locked.relative_to(tmp_path / "Log").as_posix(): "cannot read: permission denied"}
    assert frames.frames["Repository/System"].height == 20


def test_a_file_whose_read_fails_is_a_file_issue_and_the_rest_is_parsed() -> None:
    good = synthetic_bases()[SYSTEM]

    def failing(*_: object) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    members = [Member(f"Log/{SYSTEM}", f"Log/{SYSTEM}", len(good), lambda limit: good[:limit]),
               Member("Log/Scheduler/Trace/SENSE01_TaskExecution_Scheduler.txt",
                      "Log/Scheduler/Trace/SENSE01_TaskExecution_Scheduler.txt", 5000, failing, failing)]
    frames = parse_bundle(Bundle(sources=["x"], members=members, issues=[]))
    (issue,) = frames.file_issues
    assert issue.path.endswith("TaskExecution_Scheduler.txt") and issue.reason.startswith("cannot read:")
    assert "Input/output error" in issue.reason
    assert dict(zip(frames.files["path"], frames.files["status"], strict=True))[issue.path] == "error"
    assert frames.frames["Repository/System"].height == 20


@pytest.mark.parametrize(("keep", "outcome"), [(None, "success"), (-1, "incomplete"), (6, "incomplete"),
                                               (3, "incomplete")])
def test_a_script_log_cut_off_mid_reload_is_incomplete_never_success(tmp_path: Path, keep: int | None,
                                                                     outcome: str) -> None:
    lines = synthetic_bases()[SCRIPT_NAME].split(b"\r\n")[:-1]
    kept = lines if keep is None else lines[:keep]
    _write(tmp_path / "Log" / SCRIPT_NAME, b"\r\n".join(kept) + b"\r\n")
    summary = load_frames([tmp_path / "Log"]).frames["Script/Summary"]
    assert summary["outcome"].to_list() == [outcome]


def test_a_failed_script_log_cut_after_its_error_is_failed(tmp_path: Path) -> None:
    lines = synthetic_bases()[SCRIPT_NAME].split(b"\r\n")[:7]
    lines += [b"2019-10-23 10:09:20      Error: Field 'SessionId' not found",
              b"2019-10-23 10:09:20      Execution Failed"]
    _write(tmp_path / "Log" / SCRIPT_NAME, b"\r\n".join(lines))  # cut before "Execution finished."
    summary = load_frames([tmp_path / "Log"]).frames["Script/Summary"]
    assert summary["outcome"].to_list() == ["failed"]
    assert summary["root_cause"].to_list() == ["Error: Field 'SessionId' not found"]
