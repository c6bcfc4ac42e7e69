"""Damaged and hostile QVD files through ``qslogs qvd`` and ``qslogs license``: a table or exit code 3 with
the reason, never a traceback, a made-up table or a huge allocation from a lying header; and a QVD inside a
zip is read without being written to disk.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.corpus import REAL, SAMPLE_BUNDLE, SEED
from tests.corpus.files import synthetic_bases
from tests.test_robustness import _WRITES, run

SEEDS = ("qvdfile_tab1.qvd", "qvdutils_test_qvd_null.qvd", "ctrlq_empty_qvd.qvd", "pyqvd_small_2024.qvd")
#: Header values a hostile file can lie about, and the lies.
HEADER_LIES = (("NoOfRecords", "4000000000"), ("NoOfRecords", "-1"), ("RecordByteSize", "0"),
               ("Length", "999999999999"), ("Offset", "-40"), ("BitWidth", "64"), ("BitOffset", "100000"),
               ("NoOfSymbols", "2147483647"), ("Bias", "-99999999"), ("Compression", "zip"))


def seed_bytes(name: str) -> bytes:
    if name == "sample":
        return (SAMPLE_BUNDLE.parent / "qvd" / "license_allocation_history.qvd").read_bytes()
    return (REAL / "qvd" / name).read_bytes()


def mutations() -> list[tuple[str, str, str]]:
    """(case id, seed file, mutation) for every seed: cuts, bit flips, and each header lie."""
    out = []
    for name in (*SEEDS, "sample"):
        out += [(f"{m}-{i}:{name}", name, m) for m in ("truncate", "bitflip") for i in range(3)]
        out += [(f"lie-{field}={value}:{name}", name, f"lie:{field}={value}") for field, value in HEADER_LIES]
        out += [(f"header-only:{name}", name, "header-only"), (f"empty:{name}", name, "empty")]
    return out


def mutate(data: bytes, mutation: str, rng: random.Random) -> bytes:
    end = data.find(b"</QvdTableHeader>") + len(b"</QvdTableHeader>")
    if mutation == "truncate":
        return data[: rng.randrange(1, len(data))]
    if mutation == "bitflip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 12)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    if mutation == "header-only":
        return data[:end]
    if mutation == "empty":
        return b""
    field, value = mutation.removeprefix("lie:").split("=")
    head = re.sub(rf"<{field}>[^<]*</{field}>".encode(), f"<{field}>{value}</{field}>".encode(), data[:end])
    return head + data[end:]


MUTATIONS = mutations()
#: Lies that made the qvdrs decoder allocate what the header claims (SIGABRT, "memory allocation of
#: 85899345880 bytes failed") before the header check refused them. Still run in a child process.
ABORTS = ("lie:NoOfSymbols=",)


def _params() -> list[object]:
    return [pytest.param(*m, id=m[0]) for m in MUTATIONS]


def run_isolated(args: list[str]) -> tuple[int, str, str]:
    """The CLI in a child process, for inputs that can kill the process: a signal is a failure here. Its
    TMPDIR is the test's folder, so a killed child leaves nothing in the system's temporary folder."""
    env = {**os.environ, "TMPDIR": str(Path(args[1]).parent)}
    done = subprocess.run([sys.executable, "-m", "qslogs", *args], capture_output=True, text=True,
                          timeout=300, check=False, env=env)
    assert done.returncode >= 0, f"qslogs {args[0]} was killed by signal {-done.returncode}"
    assert "Traceback" not in done.stdout + done.stderr
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(("case_id", "seed", "mutation"), _params())
def test_damaged_qvd_is_read_or_refused(case_id: str, seed: str, mutation: str, tmp_path: Path) -> None:
    if seed == "sample" and not SAMPLE_BUNDLE.is_dir() or seed != "sample" and not (REAL / "qvd").is_dir():
        pytest.skip("the QVD fixtures are not present")
    path = tmp_path / "x.qvd"
    path.write_bytes(mutate(seed_bytes(seed), mutation, random.Random(f"{SEED}:{case_id}")))
    cli = run_isolated if mutation.startswith(ABORTS) else run
    code, out, err = cli(["qvd", str(path), "--json"])
    assert code in (0, 3), err
    if code == 3:
        assert err.startswith("Error:") and "x.qvd" in err
    else:
        table = json.loads(out)
        assert table
    log = tmp_path / "Log" / "Repository" / "Trace" / "SENSE01_System_Repository.txt"
    log.parent.mkdir(parents=True)
    log.write_bytes(synthetic_bases()["Repository/Trace/SENSE01_System_Repository.txt"])
    code, out, err = cli(["license", str(tmp_path / "Log"), "--qvd", str(path), "--json"])
    assert code in (0, 3), err
    if code == 3:  # a QVD named with --qvd that cannot be read is an input error that names it
        assert err.startswith("Error:") and "x.qvd" in err
    else:
        mapping = {row["file"]: row for row in json.loads(out)["qvd_mapping"]}
        assert mapping[str(path)]["status"] in ("used", "not a license table", "skipped", "error")


def test_a_qvd_inside_a_zip_is_not_written_to_disk(tmp_path: Path) -> None:
    if not (REAL / "qvd").is_dir():
        pytest.skip("the QVD fixtures are not present")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in synthetic_bases().items():
            zf.writestr("Log\\" + rel.replace("/", "\\"), data)
        zf.writestr("LicenseMonitor\\license.qvd", seed_bytes("pyqvd_small_2024.qvd"))
    path = tmp_path / "SenseCollector_1.zip"
    path.write_bytes(buf.getvalue())
    _WRITES.clear()
    code, out, err = run(["license", str(path), "--json"])
    assert code == 0, err
    assert "license.qvd" in out  # the member was looked at
    assert not _WRITES, f"written to disk while reading the bundle: {_WRITES}"
