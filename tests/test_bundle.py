"""Bundle input: folders, Log Collector zips with backslash names, nested zips, and hostile members."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from qslogs.bundle import Limits, normalise_name, open_bundle
from qslogs.errors import BundleError
from qslogs.export import inventory_summary
from qslogs.loader import load_frames
from tests.logfiles import TRACE_SYSTEM, dotnet_file, trace_row

TS = "20191023T100902.094+0200"


def zip_folder_like_collector(folder: Path, zip_path: Path, top: str = "Log") -> Path:
    """Zip a folder as .NET ZipFile.CreateFromDirectory does: backslash member names."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                rel = path.relative_to(folder).as_posix().replace("/", "\\")
                zf.writestr(zipfile.ZipInfo(f"{top}\\{rel}"), path.read_bytes())
    return zip_path


@pytest.mark.parametrize(
    ("raw", "expected", "unsafe"),
    [
        ("Log\\Engine\\Trace\\X.txt", "Log/Engine/Trace/X.txt", False),
        ("../../evil.txt", "evil.txt", True),
        ("/etc/passwd", "etc/passwd", True),
        ("C:\\Windows\\x.log", "Windows/x.log", True),
        ("a/./b//c.log", "a/b/c.log", False),
    ],
)
def test_normalise_name(raw: str, expected: str, unsafe: bool) -> None:
    assert normalise_name(raw) == (expected, unsafe)


@pytest.mark.fixtures
def test_zip_and_folder_give_identical_inventory(real_log_folder: Path, tmp_path: Path) -> None:
    zipped = zip_folder_like_collector(real_log_folder, tmp_path / "SenseCollector_1.zip")
    with zipfile.ZipFile(zipped) as zf:
        assert all("\\" in n for n in zf.namelist())
    from_folder = inventory_summary(load_frames([real_log_folder]))
    from_zip = inventory_summary(load_frames([zipped]))
    assert from_zip["kinds"] == from_folder["kinds"]
    assert from_zip["totals"]["records"] == from_folder["totals"]["records"] == 4472
    strip = [{**f, "path": f["path"].removeprefix("Log/")} for f in from_zip["files"]]
    assert strip == from_folder["files"]


def test_zip_inside_a_folder_and_nested_zip(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("Repository\\Trace\\SENSE02_System_Repository.txt",
                    dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, "inner", host="Sense02")]))
    outer = tmp_path / "in" / "SenseCollector_2.zip"
    outer.parent.mkdir()
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("Log\\Repository\\Trace\\SENSE01_System_Repository.txt",
                    dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, "outer")]))
        zf.writestr("nested.zip", inner.getvalue())
    frames = load_frames([tmp_path / "in"])
    assert sorted(frames.frames["Repository/System"]["Message"]) == ["inner", "outer"]
    assert sorted(frames.files["path"]) == [
        "SenseCollector_2.zip!Log/Repository/Trace/SENSE01_System_Repository.txt",
        "SenseCollector_2.zip!nested.zip!Repository/Trace/SENSE02_System_Repository.txt",
    ]


def test_zip_loop_is_cut_at_the_depth_limit(tmp_path: Path) -> None:
    payload = b""
    for _ in range(4):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("again.zip", payload or b"not a zip")
        payload = buf.getvalue()
    path = tmp_path / "loop.zip"
    path.write_bytes(payload)
    with open_bundle([path], Limits(max_depth=2)) as bundle:
        assert any("nested deeper than 2" in i.reason for i in bundle.issues)


def test_hostile_members_are_reported_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../evil.txt", "x")
        zf.writestr("bomb.log", b"\0" * (8 * 1024**2))
        info = zipfile.ZipInfo("secret.log")
        zf.writestr(info, b"hidden")
    data = bytearray(path.read_bytes())
    # Set the "encrypted" flag of secret.log in its local and central headers.
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        start = 0
        while (i := data.find(sig, start)) >= 0:
            name_at = i + (30 if sig == b"PK\x03\x04" else 46)
            flag_at = i + (6 if sig == b"PK\x03\x04" else 8)
            if bytes(data[name_at:name_at + 10]) == b"secret.log":
                data[flag_at] |= 1
            start = i + 4
    path.write_bytes(bytes(data))
    with open_bundle([path]) as bundle:
        reasons = {i.path: i.reason for i in bundle.issues}
    assert "points outside the bundle" in reasons["evil.txt"]
    assert "zip bomb" in reasons["bomb.log"]
    assert "encrypted" in reasons["secret.log"]
    assert not (tmp_path.parent / "evil.txt").exists()


def test_corrupt_zip_is_a_file_issue(tmp_path: Path) -> None:
    good = tmp_path / "in" / "Repository" / "Trace"
    good.mkdir(parents=True)
    (good / "SENSE01_System_Repository.txt").write_bytes(dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, "x")]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Log\\Repository\\Trace\\SENSE02_System_Repository.txt", os.urandom(5000))
    (tmp_path / "in" / "broken.zip").write_bytes(buf.getvalue()[:3000])  # central directory cut off
    (tmp_path / "in" / "empty.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    frames = load_frames([tmp_path / "in"])
    assert frames.frames["Repository/System"].height == 1
    reasons = {i.path: i.reason for i in frames.file_issues}
    assert reasons["broken.zip"].startswith("the zip is incomplete (truncated download?)")
    assert reasons["empty.zip"] == "zip holds no files"


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "Log"
    (root / "Repository" / "Trace").mkdir(parents=True)
    (root / "Repository/Trace/SENSE01_System_Repository.txt").write_bytes(
        dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, "x")]))
    (tmp_path / "outside.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    (root / "loop").symlink_to(root)
    frames = load_frames([root])
    reasons = {i.path: i.reason for i in frames.file_issues}
    assert reasons["link.txt"] == "symbolic link: not followed"
    assert "not followed" in reasons["loop"]
    assert frames.frames["Repository/System"].height == 1


def test_collision_copy_is_counted_once(tmp_path: Path) -> None:
    data = dotnet_file(TRACE_SYSTEM, [trace_row(1, TS, "x")])
    folder = tmp_path / "Repository" / "Trace"
    folder.mkdir(parents=True)
    (folder / "SENSE01_System_Repository.txt").write_bytes(data)
    (folder / "SENSE01_System_Repository_x7Gq2.txt").write_bytes(data)
    frames = load_frames([tmp_path])
    assert frames.frames["Repository/System"].height == 1
    statuses = dict(zip(frames.files["path"], frames.files["status"], strict=True))
    assert statuses["Repository/Trace/SENSE01_System_Repository_x7Gq2.txt"] == "duplicate"


def test_missing_path_is_a_bundle_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such file or folder"):
        open_bundle([tmp_path / "nope.zip"])
