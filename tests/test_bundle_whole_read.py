"""Small zip members are read whole (one positioned read, one inflate) with exactly zipfile's bytes;
anything unusual (a damaged member, a size the directory does not match) takes zipfile's path, which
names the damage as before."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import pytest

from qslogs.bundle import READ_ERRORS, Limits, open_bundle

ROWS = b"".join(b"%d\t20240310T101010.000+0100\tsense01\tINFO\tline %d\r\n" % (i, i) for i in range(500))


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Log/a.txt", ROWS, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("Log/b.txt", ROWS[:100], compress_type=zipfile.ZIP_STORED)
        zf.writestr("Log/c.txt", b"", compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_small_members_read_whole_give_zipfiles_bytes(tmp_path: Path) -> None:
    path = _zip(tmp_path / "b.zip")
    with open_bundle([path]) as bundle, zipfile.ZipFile(path) as zf:
        assert [m.name for m in bundle.members] == ["Log/a.txt", "Log/b.txt", "Log/c.txt"]
        for member in bundle.members:
            assert member._whole is not None
            assert member._whole(10**6) == zf.read(member.name)
            capped = member.read_capped(Limits())
            assert capped.data == zf.read(member.name) and capped.cut_lines == ()


def test_a_damaged_member_is_refused_by_the_whole_read_and_reported_by_zipfile(tmp_path: Path) -> None:
    path = _zip(tmp_path / "b.zip")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("Log/a.txt")
    raw = bytearray(path.read_bytes())
    at = info.header_offset + 30 + len(b"Log/a.txt") + 40  # inside the deflated bytes
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    with open_bundle([path]) as bundle:
        member = next(m for m in bundle.members if m.name == "Log/a.txt")
        assert member._whole is not None and member._whole(10**6) is None
        with pytest.raises(READ_ERRORS) as caught:
            member.read_capped(Limits())
        assert isinstance(caught.value, (zipfile.BadZipFile, zlib.error))


def test_a_member_larger_than_a_line_is_streamed_and_its_long_lines_cut(tmp_path: Path) -> None:
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Log/long.txt", b"x" * 5000 + b"\nshort\n", compress_type=zipfile.ZIP_DEFLATED)
    with open_bundle([path]) as bundle:
        capped = bundle.members[0].read_capped(Limits(max_line_chars=100))
    assert capped.cut_lines == (1,) and capped.data.endswith(b"\nshort\n") and len(capped.data) < 1000
