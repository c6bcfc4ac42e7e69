"""Open what the user gave (folders, Log Collector zips, single files) and list its files.

Nothing is parsed here and nothing is extracted to disk: zip members are read in place. Member names
are normalised once (``\\`` → ``/``, no drive letter, no ``..``), so the rest of qslogs never sees a
Windows path. Limits guard against zip bombs, zip loops and runaway files; a member that breaks a limit
or cannot be read becomes a :class:`~qslogs.findings.FileIssue`, and the rest of the bundle goes on.
"""

from __future__ import annotations

import dataclasses
import io
import lzma
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from qslogs.capped import CappedRead, cap_lines
from qslogs.errors import BundleError
from qslogs.findings import FileIssue

#: Default for :attr:`Limits.spill_bytes`: parsed records held in memory before they go to disk.
SPILL_BYTES = 256 * 1024**2


@dataclass(frozen=True)
class Limits:
    """Safety limits for reading untrusted bundles; every one can be raised by the caller."""

    max_member_bytes: int = 2 * 1024**3
    """Largest file (or zip member, uncompressed) that is read."""
    max_ratio: float = 200.0
    """Largest uncompressed/compressed ratio of a zip member above 1 MiB (zip-bomb guard)."""
    max_total_bytes: int = 64 * 1024**3
    """Largest total uncompressed size read from one bundle."""
    max_depth: int = 2
    """How many zips deep a zip inside a zip is still opened."""
    max_nested_zip_bytes: int = 512 * 1024**2
    """Largest zip inside a zip that is opened (it is held in memory)."""
    max_line_chars: int = 1_000_000
    """Longest line kept whole; longer lines are cut while reading (so a 100 MB line costs a few MB)."""
    spill_bytes: int = SPILL_BYTES
    """Parsed records held in memory; beyond this they go to temporary Arrow files (``TMPDIR``) and are
    read back column by column, so a large bundle fits in a laptop's memory."""

    @property
    def max_line_bytes(self) -> int:
        """Bytes kept of an overlong line: over ``max_line_chars`` characters in any encoding, BOM or not."""
        return 4 * (self.max_line_chars + 2)


#: Errors a damaged file or zip member can raise while it is read (zlib.error, lzma.LZMAError and
#: BadZipFile are not OSErrors; an unsupported compression method is a NotImplementedError).
READ_ERRORS: tuple[type[Exception], ...] = (
    OSError, ValueError, RuntimeError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile,
)


@dataclass(frozen=True)
class Member:
    """One file of the bundle: a file on disk or a zip member, with a normalised relative name."""

    name: str
    """Normalised path relative to its source, ``/``-separated (``Log/Engine/Trace/X_System_Engine.txt``)."""
    display: str
    """How the file is named to the user (source-qualified when several sources were given)."""
    size: int
    _reader: Callable[[int | None], bytes] = field(repr=False, compare=False)
    _opener: Callable[[], IO[bytes]] | None = field(default=None, repr=False, compare=False)
    _whole: Callable[[int], bytes | None] | None = field(default=None, repr=False, compare=False)
    """Reads a small member in one call (at most the given number of bytes, or None to take the
    streaming path): a zip member's compressed bytes with one positioned read and one inflate."""

    def read(self, limit: int | None = None) -> bytes:
        """The file's bytes (at most ``limit`` of them); raises OSError/zip errors on damage."""
        return self._reader(limit)

    def read_capped(self, limits: Limits) -> CappedRead:
        """The file's bytes, streamed, with every line longer than the limit cut (see :func:`cap_lines`).

        A file no longer than a line may be (most log files) cannot hold a line to cut: it is read whole,
        in one call, when the member can (no stream, no chunks).
        """
        small = min(limits.max_line_bytes, limits.max_member_bytes)
        if self._whole is not None and self.size <= small:
            data = self._whole(small)
            if data is not None and len(data) <= small:
                return CappedRead(data, ())
        if self._opener is None:
            return cap_lines(io.BytesIO(self.read()), limits.max_line_bytes, limits.max_member_bytes)
        with self._opener() as stream:
            return cap_lines(stream, limits.max_line_bytes, limits.max_member_bytes)

    @property
    def basename(self) -> str:
        return PurePosixPath(self.name).name


@dataclass
class Bundle:
    """Everything that was given, as a flat list of members plus the files that could not be listed."""

    sources: list[str]
    members: list[Member]
    issues: list[FileIssue]
    _zips: list[zipfile.ZipFile] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for zf in self._zips:
            zf.close()
        self._zips.clear()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def normalise_name(raw: str) -> tuple[str, bool]:
    """Turn a zip/Windows member name into a safe relative POSIX path; say whether it had to be changed.

    ``..``, absolute roots and drive letters are dropped (the name is only ever a label, never a path
    written to), and the caller reports the member as suspicious when the flag is true.
    """
    text = raw.replace("\\", "/")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    unsafe = text.startswith("/") or ".." in parts or (bool(parts) and parts[0].endswith(":"))
    parts = [p for p in parts if p != ".." and not (p.endswith(":") and len(p) == 2)]
    return "/".join(parts), unsafe


def open_bundle(paths: list[str | Path], limits: Limits | None = None) -> Bundle:
    """List every file under the given folders, zips and files.

    Raises :class:`BundleError` only when nothing usable was given (a path that does not exist, or
    no path at all); damaged members are reported in ``Bundle.issues`` instead.
    """
    limits = limits or Limits()
    if not paths:
        raise BundleError("no input given: name a Log Collector .zip, a log folder or log files")
    bundle = Bundle(sources=[str(p) for p in paths], members=[], issues=[])
    multi = len(paths) > 1
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            raise BundleError(f"{path}: no such file or folder")
        if path.is_dir():
            _walk_folder(bundle, path, f"{path.name}/" if multi else "", limits)
        elif path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
            _open_zip_file(bundle, path, f"{path.name}!" if multi else "", limits)
        elif path.is_file():
            display = path.name
            if problem := _too_big(path.stat().st_size, limits):
                bundle.issues.append(FileIssue(display, problem))
            else:
                bundle.members.append(_disk_member(path, path.name, display))
        else:
            raise BundleError(f"{path}: not a regular file or folder")
    bundle.members.sort(key=lambda m: m.display)
    _unique_displays(bundle)
    _apply_total_limit(bundle, limits)
    return bundle


def _unique_displays(bundle: Bundle) -> None:
    """Two members shown under one name (a zip with a repeated entry, ``../x`` next to ``x``, two inputs
    with the same folder name) get ``~2``, ``~3``… so every bad line and count points at one file."""
    seen: dict[str, int] = {}
    for i, member in enumerate(bundle.members):
        n = seen[member.display] = seen.get(member.display, 0) + 1
        if n > 1:
            shown = f"{member.display}~{n}"
            reason = f"another file of the bundle is also named {member.display!r}"
            bundle.issues.append(FileIssue(shown, reason))
            bundle.members[i] = dataclasses.replace(member, display=shown)


def _disk_member(path: Path, name: str, display: str) -> Member:
    def reader(limit: int | None) -> bytes:
        with open(path, "rb") as fh:
            return fh.read() if limit is None else fh.read(limit)

    def whole(limit: int) -> bytes:
        with open(path, "rb") as fh:
            return fh.read(limit + 1)

    return Member(name=name, display=display, size=path.stat().st_size, _reader=reader,
                  _opener=lambda: open(path, "rb"), _whole=whole)


def _too_big(size: int, limits: Limits) -> str | None:
    if size > limits.max_member_bytes:
        return f"file of {size:,} bytes exceeds the {limits.max_member_bytes:,}-byte limit: not read"
    return None


def _apply_total_limit(bundle: Bundle, limits: Limits) -> None:
    """Members past ``max_total_bytes`` (in display order, so the cut is deterministic) are not read."""
    total = 0
    kept: list[Member] = []
    for member in bundle.members:
        total += member.size
        if total > limits.max_total_bytes:
            reason = f"not read: the bundle exceeds the {limits.max_total_bytes:,}-byte total limit"
            bundle.issues.append(FileIssue(member.display, reason))
            continue
        kept.append(member)
    bundle.members = kept


def _walk_folder(bundle: Bundle, root: Path, prefix: str, limits: Limits) -> None:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        here = Path(dirpath)
        for linked in [d for d in dirnames if (here / d).is_symlink()]:
            rel = (here / linked).relative_to(root).as_posix()
            bundle.issues.append(FileIssue(f"{prefix}{rel}", "symbolic link to a folder: not followed"))
        for fname in sorted(filenames):
            full = here / fname
            rel = full.relative_to(root).as_posix()
            display = f"{prefix}{rel}"
            try:
                st = full.lstat()
            except OSError as exc:
                bundle.issues.append(FileIssue(display, f"cannot read: {exc.strerror or exc}"))
                continue
            if stat.S_ISLNK(st.st_mode):
                bundle.issues.append(FileIssue(display, "symbolic link: not followed"))
                continue
            if not stat.S_ISREG(st.st_mode):
                bundle.issues.append(FileIssue(display, "not a regular file"))
                continue
            if not os.access(full, os.R_OK):
                bundle.issues.append(FileIssue(display, "cannot read: permission denied"))
                continue
            if fname.lower().endswith(".zip"):
                _open_zip_file(bundle, full, f"{display}!", limits)
                continue
            if problem := _too_big(st.st_size, limits):
                bundle.issues.append(FileIssue(display, problem))
                continue
            bundle.members.append(_disk_member(full, rel, display))


def _open_zip_file(bundle: Bundle, path: Path, prefix: str, limits: Limits) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        bundle.issues.append(FileIssue(prefix.rstrip("!/") or str(path), _zip_problem(path, exc)))
        return
    bundle._zips.append(zf)
    if not zf.infolist():
        bundle.issues.append(FileIssue(prefix.rstrip("!/") or str(path), "zip holds no files"))
    _add_zip_members(bundle, zf, prefix, limits, depth=1)


def _zip_problem(path: Path, exc: Exception) -> str:
    """Why a zip cannot be opened; a file that starts like a zip but lacks its directory at the end was
    cut short (an interrupted download or copy), which the reader can fix by fetching it again."""
    try:
        with path.open("rb") as handle:
            starts_like_zip = handle.read(4) == b"PK\x03\x04"
    except OSError:
        starts_like_zip = False
    if starts_like_zip and isinstance(exc, zipfile.BadZipFile):
        return (f"the zip is incomplete (truncated download?): its directory at the end is missing ({exc}); "
                "download or copy it again")
    return f"corrupt zip: {exc}"


def _add_zip_members(bundle: Bundle, zf: zipfile.ZipFile, prefix: str, limits: Limits, depth: int) -> None:
    try:
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # pragma: no cover - infolist is in memory
        bundle.issues.append(FileIssue(prefix.rstrip("!"), f"corrupt zip: {exc}"))
        return
    for info in infos:
        if info.is_dir():
            continue
        name, unsafe = normalise_name(info.filename)
        display = f"{prefix}{name}"
        if not name:
            bundle.issues.append(FileIssue(f"{prefix}{info.filename}", "zip member with an empty name"))
            continue
        if unsafe:
            reason = f"zip member name {info.filename!r} points outside the bundle: read as {name!r}"
            bundle.issues.append(FileIssue(display, reason))
        problem = _member_problem(info, limits)
        if problem:
            bundle.issues.append(FileIssue(display, problem))
            continue
        if name.lower().endswith(".zip"):
            _open_nested_zip(bundle, zf, info, f"{display}!", limits, depth)
            continue
        bundle.members.append(
            Member(name=name, display=display, size=info.file_size, _reader=_zip_reader(zf, info, limits),
                   _opener=_zip_opener(zf, info), _whole=_zip_whole(zf, info))
        )


def _member_problem(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    if info.flag_bits & 0x1:
        return "encrypted zip member: cannot be read without its password"
    if info.file_size > limits.max_member_bytes:
        return f"member of {info.file_size:,} bytes exceeds the {limits.max_member_bytes:,}-byte limit"
    if info.file_size > 1024**2 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        return (f"compression ratio {info.file_size / max(info.compress_size, 1):,.0f}:1 exceeds "
                f"{limits.max_ratio:,.0f}:1 (possible zip bomb)")
    return None


def _zip_reader(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> Callable[[int | None], bytes]:
    def reader(limit: int | None) -> bytes:
        cap = limits.max_member_bytes if limit is None else min(limit, limits.max_member_bytes)
        with zf.open(info) as fh:
            data = fh.read(cap + 1 if limit is None else cap)
        if limit is None and len(data) > cap:
            raise ValueError(f"member grows beyond the {cap:,}-byte limit while reading (declared size lies)")
        return data

    return reader


def _zip_whole(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[int], bytes | None] | None:
    """One positioned read of a member's compressed bytes and one inflate, checked against the size and
    CRC of the zip's directory; None (the caller takes :mod:`zipfile`'s path, which names any damage)
    for anything unusual: another compression, a bad local header, a size or CRC that does not match."""
    on_disk = isinstance(getattr(zf, "fp", None), io.BufferedReader)
    if not hasattr(os, "pread") or not on_disk:
        return None  # a zip inside a zip (in memory), or a platform without positioned reads
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
        return None

    def whole(limit: int) -> bytes | None:
        if zf.fp is None or info.file_size > limit:
            return None
        fd = zf.fp.fileno()
        local = os.pread(fd, 30, info.header_offset)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            return None
        name_len, extra_len = int.from_bytes(local[26:28], "little"), int.from_bytes(local[28:30], "little")
        raw = os.pread(fd, info.compress_size, info.header_offset + 30 + name_len + extra_len)
        if len(raw) != info.compress_size:
            return None
        if info.compress_type == zipfile.ZIP_STORED:
            data = raw
        else:
            inflate = zlib.decompressobj(-15)
            try:
                data = inflate.decompress(raw, info.file_size + 1)
            except zlib.error:
                return None
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            return None
        return data

    return whole


def _zip_opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    return lambda: zf.open(info)


def _open_nested_zip(
    bundle: Bundle, zf: zipfile.ZipFile, info: zipfile.ZipInfo, prefix: str, limits: Limits, depth: int
) -> None:
    where = prefix.rstrip("!")
    if depth >= limits.max_depth:
        reason = f"zip nested deeper than {limits.max_depth} levels: not opened"
        bundle.issues.append(FileIssue(where, reason))
        return
    if info.file_size > limits.max_nested_zip_bytes:
        reason = "zip inside a zip larger than the nested-zip limit: not opened"
        bundle.issues.append(FileIssue(where, reason))
        return
    try:
        data = zf.read(info)
        inner = zipfile.ZipFile(io.BytesIO(data))
    except READ_ERRORS as exc:
        bundle.issues.append(FileIssue(where, f"corrupt zip: {exc}"))
        return
    bundle._zips.append(inner)
    _add_zip_members(bundle, inner, prefix, limits, depth + 1)


def iter_json_dumps(bundle: Bundle) -> Iterator[tuple[str, Member]]:
    """Top-level ``<Name>_<guid>.json`` Log Collector dumps as (Name, member)."""
    for member in bundle.members:  # names are normalised: top level means no "/"
        if "/" not in member.name and member.name.lower().endswith(".json") and "_" in member.name:
            yield member.name.rsplit("_", 1)[0], member
