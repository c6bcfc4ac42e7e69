"""File-level corpus cases: one base log file mutated per case, next to an intact companion file."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from pathlib import Path

from tests.corpus import REAL, REAL_LOG, SAMPLE_BUNDLE, Built, Case
from tests.logfiles import GUID, LICENSE, NODE, TASK_EXECUTION, TRACE_SYSTEM, dotnet_file, trace_row

#: Real files mutated one at a time: every family and trap (Checksum trailer, \r\r\n, raw tabs, access, …).
REAL_BASES: tuple[str, ...] = (
    "Scheduler/Trace/QLIKSERVER1_TaskExecution_Scheduler.txt",
    "Repository/Trace/QLIKSERVER1_License_Repository.txt",
    "Repository/Trace/QLIKSERVER1_System_Repository.txt",
    "Scheduler/System/QLIKSERVER1_Service_Scheduler.txt",
    "Engine/Engine/QLIKSERVER1_Start_Engine_2019-01-31.log",
    "Engine/Audit/QLIKSERVER1_QixCounter_Engine.txt",
    "Engine/Trace/QLIKSERVER1_Session_Engine.txt",
    "Proxy/Audit/QLIKSERVER1_AuditSecurity_Proxy.txt",
    "HubService/201901311636599400100.log",
    "HubService/201901311636599400100-access.log",
    "OdagService/201901311637020500100_System.log",
    "DataProfiling/1548949025536_System.log",
)
REAL_SCRIPTS: tuple[str, ...] = (
    "disabled_2.txt",
    "iberia_ivan_5afb19a5-54df-4987-8a3b-ca4ed5811683.2016_11_15_01_12_03.11BD4F0BF21DFEFEC220.log.2",
)
SCRIPT_NAME = "Script/3f7c2a1e-9b4d-4c8e-a1f2-6d5e4c3b2a10.2019_10_23_10_08_50.4F1A2B3C4D5E6F708192.log"



# --- base files ---------------------------------------------------------------------------------------

def _ts(minute: int, offset: str = "+0200") -> str:
    return f"20191023T10{minute // 60:02d}{minute % 60:02d}.{minute * 7 % 1000:03d}{offset}"


TASK_LOGGER = "Scheduler.Scheduler.Master.Task.TaskSessionState"


def _task_row(seq: int, minute: int, status: str) -> str:
    failed = status != "FinishedSuccess"
    return "\t".join([
        str(seq), _ts(minute), "INFO", "Sense01", f"TaskExecution.{TASK_LOGGER}", "12", GUID,
        "INTERNAL\\sa_scheduler", "Task execution finished", "", "", "0", GUID, f"Reload Sales {seq}", GUID,
        "Sales", GUID, GUID, "sense01.corp.example", status, _ts(minute - 1), _ts(minute), "60000",
        "Script error" if failed else "", GUID])


def _license_row(seq: int) -> str:
    return "\t".join([
        str(seq), _ts(seq), "INFO", "Sense01", "License.Repository.Repository.Core.Resource.X", "5", GUID,
        "CORP\\qlik", f"UsageID: {GUID}, SessionCount: 1", "0", "1", "ProfessionalAccess", "UsageGranted",
        f"CORP\\user{seq}", f"user{seq}", "ab" * 20])


def _script_log() -> bytes:
    head = ["Execution started.", "Qlik Sense Server Version     12.1581.3",
            "Reload Executed By            UserDirectory=INTERNAL; UserId=sa_scheduler"]
    body = ["SET ThousandSep=','", "LIB CONNECT TO 'Sales_DB'", "Sales:", "LOAD * FROM [lib://x/s.qvd] (qvd)"]
    tail = ["\t2 fields found: A, B, ", "1234 Lines fetched", "Creating search index", "Execution finished."]
    lines = [f"2019-10-23 10:08:5{i}      {t}" for i, t in enumerate(head)]
    lines += [f"2019-10-23 10:09:0{i} 000{i} {t}" for i, t in enumerate(body, 1)]
    lines += [f"2019-10-23 10:09:1{i}      {t}" for i, t in enumerate(tail)]
    return b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode()


def synthetic_bases() -> dict[str, bytes]:
    """Small files of each family, written like Qlik writes them (always available, no fixtures needed)."""
    messages = ["Started", 'Hostname: "::1" user \'x\'', "Müller ↵↓ encoded break", "Stopping"] * 5
    system = dotnet_file(TRACE_SYSTEM, [trace_row(i, _ts(i), m) for i, m in enumerate(messages, start=1)])
    statuses = ["FinishedFail" if i % 4 == 0 else "FinishedSuccess" for i in range(1, 13)]
    tasks = dotnet_file(TASK_EXECUTION, [_task_row(i, 10 + i, s) for i, s in enumerate(statuses, start=1)])
    signature = b"Signature:\t" + b"0123456789" * 4 + b"\r\n"
    lic = dotnet_file(LICENSE, [_license_row(i) for i in range(1, 9)]) + signature
    node_rows = [f"{i}\t{_ts(i)}\tSense01.corp.example\t1.2.3\tqlik-hub\tinfo\tmsg {i}" for i in range(1, 9)]
    node_rows.insert(4, "raw continuation line of message 4")
    return {
        "Repository/Trace/SENSE01_System_Repository.txt": system,
        "Scheduler/Trace/SENSE01_TaskExecution_Scheduler.txt": tasks,
        "Repository/Trace/SENSE01_License_Repository_2019-10-23T08.14.02Z.log": lic,
        "HubService/201910231008512340200.log": ("\r\n".join([NODE, *node_rows]) + "\r\n").encode(),
        SCRIPT_NAME: _script_log(),
    }


@cache
def real_bases() -> dict[str, bytes]:
    """The real fixture files used as bases (empty when ../shared is absent)."""
    if not REAL_LOG.is_dir():
        return {}
    files = {rel: (REAL_LOG / rel).read_bytes() for rel in REAL_BASES}
    files.update({f"Script/{name}": (REAL / "script-logs" / name).read_bytes() for name in REAL_SCRIPTS})
    return files


#: One file of each important kind of ``sample_data/bundle`` (the first match of each pattern).
SAMPLE_PATTERNS: tuple[str, ...] = (
    "Log/Scheduler/Trace/*_TaskExecution_Scheduler.txt", "Log/Repository/Trace/*_License_Repository.txt",
    "Log/Repository/Audit/*_AuditSecurity_Repository.txt", "Log/Repository/Trace/*_System_Repository.txt",
    "Log/Engine/Engine/*_Start_Engine_*.log", "Log/HubService/*[0-9].log", "Log/HubService/*-access.log",
    "Log/OdagService/*_System.log", "*/Engine/Trace/*_Session_Engine_*Z.log", "CalInfo_*.json",
)


def sample_base_names() -> tuple[str, ...]:
    """Files of ``sample_data/bundle`` to mutate (once that bundle exists), plus one failed script log."""
    if not SAMPLE_BUNDLE.is_dir():
        return ()
    picked = [min(found) for pattern in SAMPLE_PATTERNS if (found := list(SAMPLE_BUNDLE.glob(pattern)))]
    scripts = sorted(SAMPLE_BUNDLE.glob("Log/Script/*.log"))
    failed = [p for p in scripts if b"Execution Failed" in p.read_bytes()]
    return tuple(p.relative_to(SAMPLE_BUNDLE).as_posix() for p in picked + failed[:1])


def base_bytes(needs: str, rel: str) -> bytes:
    if needs == "real":
        return real_bases()[rel]
    if needs == "sample":
        return (SAMPLE_BUNDLE / rel).read_bytes()
    return synthetic_bases()[rel]


def companion(needs: str, rel: str) -> tuple[str, bytes]:
    """An intact file that goes with every mutated one, so the bundle stays usable (exit 0)."""
    pool = real_bases() if needs == "real" else synthetic_bases()
    names = [n for n in ("Repository/Trace/QLIKSERVER1_System_Repository.txt",
                         "Scheduler/Trace/QLIKSERVER1_TaskExecution_Scheduler.txt",
                         "Repository/Trace/SENSE01_System_Repository.txt",
                         "Scheduler/Trace/SENSE01_TaskExecution_Scheduler.txt") if n in pool and n != rel]
    return names[0], pool[names[0]]


# --- byte mutations -----------------------------------------------------------------------------------

def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, len(data))] if len(data) > 1 else b""


def bitflip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def drop_header(data: bytes, rng: random.Random) -> bytes:
    return data.split(b"\n", 1)[1] if b"\n" in data else b""


def dup_header(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    lines.insert(rng.randrange(1, max(2, len(lines))), lines[0].removeprefix(b"\xef\xbb\xbf"))
    return b"\n".join(lines)


def mixed_eol(data: bytes, rng: random.Random) -> bytes:
    lines = [line.rstrip(b"\r") for line in _lines(data)]
    ends = [rng.choice([b"\n", b"\r\n", b"\r\r\n", b"\r"]) for _ in lines[:-1]]
    return b"".join(line + end for line, end in zip(lines, ends, strict=False)) + lines[-1]


def _text(data: bytes, rng: random.Random) -> str:
    """The file as text with a non-ASCII name put into one line (so a re-encoding changes bytes)."""
    lines = data.decode("utf-8-sig", errors="replace").split("\n")
    at = rng.randrange(1, len(lines)) if len(lines) > 1 else 0
    lines[at] = lines[at].replace("\r", "") + " Müller-Åström é" + ("\r" if lines[at].endswith("\r") else "")
    return "\n".join(lines)


def utf16le(data: bytes, rng: random.Random) -> bytes:
    return _text(data, rng).encode("utf-16")  # BOM + little endian, as Notepad "Unicode" saves


def utf16be(data: bytes, rng: random.Random) -> bytes:
    return b"\xfe\xff" + _text(data, rng).encode("utf-16-be")


def utf16_no_bom(data: bytes, rng: random.Random) -> bytes:
    return _text(data, rng).encode("utf-16-le")


def latin1(data: bytes, rng: random.Random) -> bytes:
    return _text(data, rng).encode("latin-1", errors="replace")


def nul_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        at = rng.randrange(len(out) + 1)
        out[at:at] = b"\x00" * rng.randint(1, 64)
    return bytes(out)


def header_only(data: bytes, rng: random.Random) -> bytes:
    first = data.split(b"\n", 1)[0]
    return first + (b"\n" if rng.random() < 0.5 else b"")


def empty(data: bytes, rng: random.Random) -> bytes:
    return b""


def shuffle_body(data: bytes, rng: random.Random) -> bytes:
    """Records out of order: timestamps go backwards (and Sequence# with them)."""
    lines = _lines(data)
    body = [line for line in lines[1:] if line]
    rng.shuffle(body)
    return b"\n".join([lines[0], *body]) + b"\n"


def junk_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    for _ in range(rng.randint(1, 5)):
        junk = bytes(rng.choice([b for b in range(256) if b != 0x0A]) for _ in range(rng.randint(1, 300)))
        lines.insert(rng.randrange(1, len(lines) + 1), junk)
    return b"\n".join(lines)


def dup_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    for _ in range(3):
        at = rng.randrange(1, max(2, len(lines) - 1))
        lines.insert(at, lines[at])
    return b"\n".join(lines)


def long_line(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    lines.insert(rng.randrange(1, len(lines) + 1), b"9\t" + b"x\t" * 8 + b"y" * 1_100_000 + b"\r")
    return b"\n".join(lines)


def cut_mid_reload(data: bytes, rng: random.Random) -> bytes:
    """A script log cut at a line boundary after its header and before ``Execution finished.``."""
    lines = data.split(b"\n")
    last = max(i for i, line in enumerate(lines) if line.strip())
    return b"\n".join(lines[: rng.randrange(max(2, last // 2), last)]) + b"\n"


#: Mutation name → function, and whether its output must be reported as bad input.
MUTATIONS: dict[str, tuple[Callable[[bytes, random.Random], bytes], bool]] = {
    "truncate": (truncate, False), "bitflip": (bitflip, False), "drop_header": (drop_header, True),
    "dup_header": (dup_header, True), "mixed_eol": (mixed_eol, False), "utf16le": (utf16le, False),
    "utf16be": (utf16be, False), "utf16_no_bom": (utf16_no_bom, True), "latin1": (latin1, False),
    "nul": (nul_bytes, False), "header_only": (header_only, False), "empty": (empty, True),
    "shuffle": (shuffle_body, False), "junk": (junk_lines, True), "dup_lines": (dup_lines, False),
    "long_line": (long_line, True), "cut_mid_reload": (cut_mid_reload, False),
}
FULL = ("truncate", "truncate", "bitflip", "bitflip", "drop_header", "dup_header", "mixed_eol", "utf16le",
        "latin1", "nul", "header_only", "shuffle", "junk")
SHORT = ("truncate", "bitflip", "utf16le", "junk")
EXTRA: tuple[tuple[str, str], ...] = (
    ("utf16be", "Scheduler/Trace/QLIKSERVER1_TaskExecution_Scheduler.txt"),
    ("utf16be", "Repository/Trace/QLIKSERVER1_License_Repository.txt"),
    ("utf16_no_bom", "Repository/Trace/QLIKSERVER1_System_Repository.txt"),
    ("empty", "Scheduler/Trace/QLIKSERVER1_TaskExecution_Scheduler.txt"),
    ("dup_lines", "Repository/Trace/QLIKSERVER1_License_Repository.txt"),
    ("long_line", "Scheduler/System/QLIKSERVER1_Service_Scheduler.txt"),
    ("cut_mid_reload", f"Script/{REAL_SCRIPTS[0]}"),
    ("cut_mid_reload", f"Script/{REAL_SCRIPTS[1]}"),
)


def lenient(rel: str) -> bool:
    """Files where an odd line may rightly join the record above it (node.js, DataProfiling, script logs:
    formats.md §4, §6) or that have no header line (access logs, script logs)."""
    name = rel.rsplit("/", 1)[-1]
    return is_script(rel) or name.endswith("-access.log") or name[:13].isdigit()


def is_script(rel: str) -> bool:
    return rel.startswith("Script/") or "/Script/" in rel


def must_report(rel: str, mutation: str) -> bool:
    """Whether a mutation of this file is always visible as bad input in the output."""
    if not MUTATIONS[mutation][1]:
        return False
    if mutation == "drop_header":
        return not (is_script(rel) or rel.endswith("-access.log"))
    if mutation in ("dup_header", "junk"):
        return not lenient(rel)
    return True


def _file_case(needs: str, rel: str, mutation: str, n: int) -> Case:
    func = MUTATIONS[mutation][0]
    must = must_report(rel, mutation)

    def build(root: Path, rng: random.Random) -> Built:
        data = func(base_bytes(needs, rel), rng)
        mate, mate_data = companion(needs, rel)
        written = {rel: data, mate: mate_data}
        for name, content in written.items():
            (root / "Log" / name).parent.mkdir(parents=True, exist_ok=True)
            (root / "Log" / name).write_bytes(content)
        cut = (rel,) if mutation == "cut_mid_reload" else ()
        logs = {k: v for k, v in written.items() if not k.endswith(".json")}  # dumps are not line-oriented
        return Built([root / "Log"], 0, must, logs, incomplete_scripts=cut)

    return Case(f"{mutation}-{n}:{needs}:{rel}", needs, build)


def file_cases() -> list[Case]:
    """One case per (base file, mutation): real bases get every mutation, others a short list."""
    cases: list[Case] = []
    for needs, names, mutations in (("real", (*REAL_BASES, *(f"Script/{s}" for s in REAL_SCRIPTS)), FULL),
                                    ("none", tuple(synthetic_bases()), SHORT),
                                    ("sample", sample_base_names(), SHORT)):
        for rel in names:
            seen: dict[str, int] = {}
            for mutation in mutations:
                seen[mutation] = seen.get(mutation, 0) + 1
                cases.append(_file_case(needs, rel, mutation, seen[mutation]))
    cases += [_file_case("real", rel, mutation, 1) for mutation, rel in EXTRA]
    cases.append(_file_case("none", SCRIPT_NAME, "cut_mid_reload", 1))
    return cases


