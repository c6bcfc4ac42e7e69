"""Safety limits on untrusted input: bounded memory for endless lines, size limits, damaged zips, exit 3.

Every limit of :class:`qslogs.bundle.Limits` is exercised here with a small value (or, for the line
limit, with a real 100 MB line) so that each one is known to be enforced, not only declared.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qslogs.bundle import Limits, open_bundle
from qslogs.capped import cap_lines
from qslogs.cli import cli
from qslogs.loader import load_frames
from tests.corpus import write_huge_line_file
from tests.logfiles import TRACE_SYSTEM, dotnet_file, trace_row

TS = "20191023T100902.094+0200"
LOG = "Repository/Trace/SENSE01_System_Repository.txt"


def _log(*messages: str) -> bytes:
    return dotnet_file(TRACE_SYSTEM, [trace_row(i + 1, TS, m) for i, m in enumerate(messages)])


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_100_mb_line_costs_bounded_memory_and_is_one_bad_line(tmp_path: Path) -> None:
    path = write_huge_line_file(tmp_path / "Log" / LOG, _log("before"), 100 * 1024**2, tail=_log("after"))
    tracemalloc.start()
    try:
        frames = load_frames([tmp_path / "Log"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 1024**2, f"reading a 100 MB line allocated {peak:,} bytes in Python"
    bad = frames.bad_lines.select("line_no", "reason").rows()
    assert (3, "line longer than 1,000,000 characters") in bad
    assert frames.frames["Repository/System"]["Message"].to_list() == ["before", "after"]
    (row,) = frames.files.select("records", "bad_lines", "lines").rows()
    assert row[0] + row[1] == row[2]
    assert path.stat().st_size > 100 * 1024**2


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16-le", "utf-16-be"])
def test_cap_lines_cuts_on_a_character_boundary_and_keeps_every_line(encoding: str) -> None:
    bom = {"utf-8-sig": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    text = "head\n" + "é€😀" * 40 + "\nshort\n" + "x" * 500 + "\nend"
    data = bom + text.encode(encoding)
    keep = Limits(max_line_chars=20).max_line_bytes
    capped = cap_lines(io.BytesIO(data), keep, 10**6)
    assert capped.cut_lines == (2, 4)
    decoded = capped.data.decode("utf-16" if bom else "utf-8-sig")  # strict: no half character left
    lines = decoded.split("\n")
    assert [lines[0], lines[2], lines[4]] == ["head", "short", "end"]
    assert all(20 < len(lines[i]) < 120 for i in (1, 3))
    assert text.split("\n")[1].startswith(lines[1])


def test_cap_lines_refuses_a_file_that_grows_past_the_member_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        cap_lines(io.BytesIO(b"x\n" * 5000), 1000, 4096)


def test_size_and_total_limits_apply_to_files_on_disk(tmp_path: Path) -> None:
    for name in ("A", "B", "C"):
        path = tmp_path / "Log" / LOG.replace("SENSE01", f"SENSE0{name}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_log("x" * 100))
    size = (tmp_path / "Log" / LOG.replace("SENSE01", "SENSE0A")).stat().st_size
    with open_bundle([tmp_path / "Log"], Limits(max_member_bytes=size - 1)) as bundle:
        assert not bundle.members
        assert all("exceeds the" in i.reason for i in bundle.issues) and len(bundle.issues) == 3
    with open_bundle([tmp_path / "Log"], Limits(max_total_bytes=2 * size)) as bundle:
        assert [m.name.split("/")[-1][:8] for m in bundle.members] == ["SENSE0A_", "SENSE0B_"]
        (issue,) = bundle.issues
        assert issue.path.endswith("SENSE0C_System_Repository.txt") and "total limit" in issue.reason


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _break_deflate_stream(data: bytes, name: bytes) -> bytes:
    """Make the compressed data of one member an invalid deflate stream (block type 3): zlib.error on read."""
    at = data.index(b"PK\x03\x04")
    while data[at + 30: at + 30 + len(name)] != name:
        at = data.index(b"PK\x03\x04", at + 4)
    start = at + 30 + len(name) + int.from_bytes(data[at + 28: at + 30], "little")
    return data[:start] + bytes([0xFF]) + data[start + 1:]


def test_damaged_nested_zip_and_json_dump_are_file_issues(tmp_path: Path) -> None:
    inner = _zip({f"Log\\{LOG}": _log("inner")})
    dump = b'{"TotalTokens": 100.0, "x": "' + b"y" * 4000 + b'"}'
    outer = _zip({"nested.zip": inner, "CalInfo_0a1b.json": dump, f"Log\\{LOG}": _log("outer")})
    outer = _break_deflate_stream(outer, b"nested.zip")
    outer = _break_deflate_stream(outer, b"CalInfo_0a1b.json")
    path = tmp_path / "SenseCollector_1.zip"
    path.write_bytes(outer)
    frames = load_frames([path])
    reasons = {i.path: i.reason for i in frames.file_issues}
    assert reasons["nested.zip"].startswith("corrupt zip:")
    assert reasons["CalInfo_0a1b.json"].startswith("unreadable JSON dump:")
    assert frames.frames["Repository/System"]["Message"].to_list() == ["outer"]


def test_deeply_nested_json_dump_is_a_file_issue(tmp_path: Path) -> None:
    (tmp_path / "Log" / LOG).parent.mkdir(parents=True)
    (tmp_path / "Log" / LOG).write_bytes(_log("x"))
    (tmp_path / "CalInfo_0a1b.json").write_bytes(b"[" * 200_000 + b"]" * 200_000)
    frames = load_frames([tmp_path])
    assert "unreadable JSON dump" in {i.path: i.reason for i in frames.file_issues}["CalInfo_0a1b.json"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: (p / "x.zip").write_bytes(b"PK\x05\x06 cut"), "corrupt zip"),
        (lambda p: (p / "x.zip").write_bytes(_zip({})), "zip holds no files"),
        (lambda p: (p / "x.zip").write_bytes(_zip({"notes.txt": b"hello", "Log\\": b""})), "no known Qlik"),
    ],
    ids=["corrupt-zip", "empty-zip", "no-qlik-file"],
)
def test_unusable_input_exits_3_and_says_why(tmp_path: Path, make: object, message: str) -> None:
    make(tmp_path)  # type: ignore[operator]
    code, out, err = _run("inspect", str(tmp_path / "x.zip"))
    assert code == 3, out + err
    assert "not a Qlik Sense log bundle" in err and message in err
    assert "Traceback" not in out + err


def test_empty_folder_exits_3(tmp_path: Path) -> None:
    code, _, err = _run("inspect", str(tmp_path))
    assert code == 3 and "no files" in err


def test_limit_option_changes_limits_and_rejects_unknown_names(tmp_path: Path) -> None:
    data = _log("short", "a message that makes its line 60 characters longer than the first one")
    (tmp_path / "Log" / LOG).parent.mkdir(parents=True)
    (tmp_path / "Log" / LOG).write_bytes(data)
    first_record = len(data.splitlines()[1])
    limit = f"max_line_chars={first_record + 10}"
    code, out, _ = _run("--limit", limit, "inspect", str(tmp_path / "Log"), "--json")
    assert code == 0 and '"bad_lines": 1' in out  # only the longer record is over the limit
    code, _, err = _run("--limit", "max_member_bytes=0.25k", "inspect", str(tmp_path / "Log"))
    assert code == 3 and "256-byte limit" in err
    code, _, err = _run("--limit", "max_size=1", "inspect", str(tmp_path / "Log"))
    assert code == 2 and "unknown limit 'max_size'" in err
    code, _, err = _run("--limit", "max_ratio=-4", "inspect", str(tmp_path / "Log"))
    assert code == 2 and "positive number" in err
