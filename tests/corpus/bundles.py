"""Bundle-level corpus cases: hostile zips and folders around otherwise good log files.

Log files come from the real fixtures when present, else from the synthetic bases, so every case runs
everywhere; the robustness test checks the exit code, the reported issues, and that nothing was written
or extracted outside the output path (the zip-slip targets are listed in ``Built.outside``).
"""

from __future__ import annotations

import io
import os
import random
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.corpus import Built, Case
from tests.corpus.files import SCRIPT_NAME, _ts, real_bases, synthetic_bases
from tests.logfiles import TRACE_SYSTEM, dotnet_file, trace_row

Builder = Callable[[Path, random.Random], Built]
CASES: list[Case] = []
ABSOLUTE_TARGET = Path("/tmp/qslogs-corpus-evil-absolute.txt")


def case(name: str, count: int = 1) -> Callable[[Builder], Builder]:
    """Register a builder as ``count`` cases (``name-1`` … ``name-N``; each gets its own seed)."""
    def register(func: Builder) -> Builder:
        CASES.extend(Case(f"bundle-{name}-{i}" if count > 1 else f"bundle-{name}", "none", func)
                     for i in range(1, count + 1))
        return func
    return register


def bundle_cases() -> list[Case]:
    return list(CASES)


def pool(rng: random.Random, n: int = 3) -> dict[str, bytes]:
    """``n`` log files (real ones when the fixtures are present), chosen by the case's generator."""
    files = {k: v for k, v in (real_bases() or synthetic_bases()).items() if not k.startswith("Script/")}
    return {name: files[name] for name in sorted(rng.sample(sorted(files), n))}


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (2019, 10, 23, 10, 8, 50)), data, compress_type=method)
    return buf.getvalue()


def collector_zip(files: dict[str, bytes], **extra: bytes) -> bytes:
    """A Log Collector zip: ``Log\\…`` members with backslashes, plus top-level extras (JSON dumps, …)."""
    return _zip({"Log\\" + rel.replace("/", "\\"): data for rel, data in files.items()} | extra)


def patch_member(data: bytes, name: str, *, flag: int = 0, method: int | None = None,
                 size: int | None = None) -> bytes:
    """Set flag bits / compression method / uncompressed size of a member in its local and central headers."""
    out = bytearray(data)
    raw = name.encode()
    headers = ((b"PK\x03\x04", 30, 6, 8, 22), (b"PK\x01\x02", 46, 8, 10, 24))  # local, central
    for sig, name_at, flag_at, method_at, size_at in headers:
        at = out.find(sig)
        while at >= 0:
            if bytes(out[at + name_at: at + name_at + len(raw)]) == raw:
                out[at + flag_at] |= flag
                if method is not None:
                    out[at + method_at: at + method_at + 2] = method.to_bytes(2, "little")
                if size is not None:
                    out[at + size_at: at + size_at + 4] = size.to_bytes(4, "little")
            at = out.find(sig, at + 4)
    return bytes(out)


def _write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _good_folder(root: Path, rng: random.Random, n: int = 2) -> dict[str, bytes]:
    files = pool(rng, n)
    for rel, data in files.items():
        _write(root / "in" / "Log", rel, data)
    return {f"Log/{rel}": data for rel, data in files.items()}


def _zip_case(root: Path, data: bytes, logs: dict[str, bytes], expect: int | None = 0,
              must: bool = True) -> Built:
    path = _write(root, "in/SenseCollector_1.zip", data)
    return Built([path], expect, must, logs)


@case("zip-clean")
def zip_clean(root: Path, rng: random.Random) -> Built:
    files = pool(rng, 4) | {SCRIPT_NAME: synthetic_bases()[SCRIPT_NAME]}
    dump = b'{"TotalTokens": 0.0, "ProfessionalAllocatedTokens": 15.0}'
    data = collector_zip(files, **{"CalInfo_0a1b2c.json": dump})
    return _zip_case(root, data, {f"Log/{k}": v for k, v in files.items()}, must=False)


@case("zip-truncated", 8)
def zip_truncated(root: Path, rng: random.Random) -> Built:
    data = collector_zip(pool(rng))
    return _zip_case(root, data[: rng.randrange(1, len(data) - 1)], {}, expect=3)


@case("zip-bitflip", 8)
def zip_bitflip(root: Path, rng: random.Random) -> Built:
    data = bytearray(collector_zip(pool(rng)))
    for _ in range(rng.randint(1, 16)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return _zip_case(root, bytes(data), {}, expect=None, must=False)


@case("zip-central-directory-garbage", 3)
def zip_cd_garbage(root: Path, rng: random.Random) -> Built:
    data = bytearray(collector_zip(pool(rng)))
    start, end = data.find(b"PK\x01\x02"), data.rfind(b"PK\x05\x06")
    data[start:end] = rng.randbytes(end - start)
    return _zip_case(root, bytes(data), {}, expect=3)


@case("folder-with-broken-zip")
def folder_broken_zip(root: Path, rng: random.Random) -> Built:
    logs = _good_folder(root, rng)
    data = collector_zip(pool(rng))
    _write(root, "in/Log/SenseCollector_2.zip", data[: len(data) // 2])
    _write(root, "in/Log/notes.zip", b"this is a text file named .zip")
    return Built([root / "in" / "Log"], 0, True, {k.removeprefix("Log/"): v for k, v in logs.items()})


@case("encrypted-member")
def encrypted_member(root: Path, rng: random.Random) -> Built:
    files = pool(rng, 2)
    secret = next(iter(files))
    data = patch_member(collector_zip(files), "Log\\" + secret.replace("/", "\\"), flag=0x1)
    return _zip_case(root, data, {})


@case("zip-slip-names")
def zip_slip(root: Path, rng: random.Random) -> Built:
    log = dotnet_file(TRACE_SYSTEM, [trace_row(1, _ts(1), "payload")])
    names = ["../../evil.txt", "..\\..\\evil2.txt", str(ABSOLUTE_TARGET), "C:\\qslogs-evil-drive.txt",
             "Log/../../../evil3.txt", "Log\\Repository\\Trace\\..\\..\\..\\..\\evil4.txt"]
    data = _zip({n: log + n.encode() for n in names})
    built = _zip_case(root, data, {})
    built.expect_exit = 0
    targets = ("evil.txt", "evil2.txt", "evil3.txt", "evil4.txt", "qslogs-evil-drive.txt")
    built.outside = (*(root.parent / n for n in targets), *(root / n for n in targets), ABSOLUTE_TARGET)
    return built


def _bomb(size: int = 50 * 1024**2) -> bytes:
    return b"\0" * size


@case("zip-bomb")
def zip_bomb(root: Path, rng: random.Random) -> Built:
    files = pool(rng, 2)
    return _zip_case(root, collector_zip(files, **{"Log\\Engine\\Trace\\BOMB_System_Engine.txt": _bomb()}),
                     {f"Log/{k}": v for k, v in files.items()})


@case("nested-zip-bomb")
def nested_bomb(root: Path, rng: random.Random) -> Built:
    files = pool(rng, 2)
    return _zip_case(root, collector_zip(files, **{"inner.zip": _zip({"x.log": _bomb(8 * 1024**2)})}),
                     {f"Log/{k}": v for k, v in files.items()})


@case("member-lies-about-its-size")
def liar(root: Path, rng: random.Random) -> Built:
    files = pool(rng, 2)
    victim = "Log\\" + next(iter(files)).replace("/", "\\")
    return _zip_case(root, patch_member(collector_zip(files), victim, size=100), {})


@case("unsupported-compression", 2)
def unsupported(root: Path, rng: random.Random) -> Built:
    files = pool(rng, 2)
    victim = "Log\\" + next(iter(files)).replace("/", "\\")
    return _zip_case(root, patch_member(collector_zip(files), victim, method=rng.choice([14, 99, 12, 7])), {})


@case("nested-zip-loop")
def zip_loop(root: Path, rng: random.Random) -> Built:
    files = pool(rng, 1)
    payload = collector_zip(files)
    for level in range(6):
        payload = _zip({f"level{level}.zip": payload, f"copy{level}.zip": payload})
    return _zip_case(root, payload, {}, expect=None)


@case("nested-zip-corrupt")
def nested_corrupt(root: Path, rng: random.Random) -> Built:
    files = pool(rng, 2)
    inner = bytearray(collector_zip(pool(rng, 1)))
    inner[len(inner) // 3] ^= 0xFF
    return _zip_case(root, collector_zip(files, **{"nested.zip": bytes(inner)}),
                     {f"Log/{k}": v for k, v in files.items()}, must=False)


@case("duplicate-member-names")
def dup_names(root: Path, rng: random.Random) -> Built:
    a, b = pool(rng, 2).values()
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": the point of the case
        for data in (a, b):
            with zf.open("Log\\Repository\\Trace\\SENSE01_System_Repository.txt", "w") as fh:
                fh.write(data)
    return _zip_case(root, buf.getvalue(), {}, must=False)


@case("zip-without-logs", 3)
def no_logs(root: Path, rng: random.Random) -> Built:
    members = [{}, {"Log\\": b"", "Log\\Engine\\": b""},
               {"readme.txt": b"hello", "photo.jpg": rng.randbytes(500)}]
    return _zip_case(root, _zip(members[rng.randrange(3)]), {}, expect=3)


@case("json-dumps-not-json")
def json_dumps(root: Path, rng: random.Random) -> Built:
    logs = _good_folder(root, rng)
    _write(root, "in/CalInfo_0a1b2c.json", b'{"TotalTokens": 40.0, "ProfessionalAllocatedTokens": ')
    _write(root, "in/LicenseAgent_0a1b2c.json", b"[" * 100_000 + b"]" * 100_000)
    _write(root, "in/QrsAbout_0a1b2c.json", rng.randbytes(300))
    _write(root, "in/ServiceCluster_0a1b2c.json", b'{"settings": {"x": NaN}}')
    return Built([root / "in"], 0, True, logs)


@case("symlinks-and-fifo")
def symlinks(root: Path, rng: random.Random) -> Built:
    logs = _good_folder(root, rng)
    outside = _write(root, "secret/SENSE09_System_Repository.txt", next(iter(logs.values())))
    folder = root / "in" / "Log" / "Repository" / "Trace"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SENSE09_System_Repository.txt").symlink_to(outside)
    (folder / "up").symlink_to(root / "in")
    (folder / "dangling.txt").symlink_to(root / "nope.txt")
    os.mkfifo(folder / "pipe.log")
    return Built([root / "in" / "Log"], 0, True, {k.removeprefix("Log/"): v for k, v in logs.items()})


@case("unreadable-file")
def unreadable(root: Path, rng: random.Random) -> Built:
    logs = _good_folder(root, rng, 3)
    locked = root / "in" / next(iter(logs))
    locked.chmod(0)
    shown = {k.removeprefix("Log/"): v for k, v in logs.items()}
    return Built([root / "in" / "Log"], 0, os.geteuid() != 0, shown)  # root reads it anyway


@case("same-log-twice")
def same_log_twice(root: Path, rng: random.Random) -> Built:
    logs = _good_folder(root, rng, 2)
    for rel, data in list(logs.items()):
        inner = rel.removeprefix("Log/")
        _write(root / "in" / "sense01.corp.example", inner, data)  # archive copy
        stem, dot, ext = inner.rpartition(".")
        _write(root / "in" / "Log", f"{stem}_x7Gq2{dot}{ext}", data)  # Log Collector collision copy
    return Built([root / "in"], 0, True, logs)


@case("dst-and-backwards-time")
def dst(root: Path, rng: random.Random) -> Built:
    stamps = ["20191027T015900.000+0200", "20191027T025930.000+0200", "20191027T020010.000+0100",
              "20191027T021500.000+0100", "20191027T013000.000+0200", "20191027T030000.000+0100"]
    rows = [trace_row(i % 3 + 1, ts, f"row {i}") for i, ts in enumerate(stamps)]
    data = dotnet_file(TRACE_SYSTEM, rows)
    _write(root / "in" / "Log", "Repository/Trace/SENSE01_System_Repository.txt", data)
    return Built([root / "in" / "Log"], 0, False, {"Repository/Trace/SENSE01_System_Repository.txt": data})


@case("single-file-and-several-inputs")
def several(root: Path, rng: random.Random) -> Built:
    logs = _good_folder(root, rng, 2)
    files = pool(rng, 2)
    zipped = _write(root, "in/SenseCollector_9.zip", collector_zip(files))
    single = root / "in" / next(iter(logs))
    shown = {f"SenseCollector_9.zip!Log/{k}": v for k, v in files.items()}
    shown |= logs | {single.name: logs[next(iter(logs))]}
    return Built([root / "in" / "Log", zipped, single], 0, False, shown)


@case("zip-in-zip")
def zip_in_zip(root: Path, rng: random.Random) -> Built:
    files = pool(rng, 3)
    data = _zip({"SenseCollector_1.zip": collector_zip(files)}, zipfile.ZIP_STORED)
    return _zip_case(root, data, {f"SenseCollector_1.zip!Log/{k}": v for k, v in files.items()}, must=False)
