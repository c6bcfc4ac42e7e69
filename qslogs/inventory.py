"""Classify each file of a bundle: log kind, family, node, service, active or archived.

Kind comes from the file name **and** its header (formats.md §2, §3.0): the header decides the family,
the name (or folder) the service and log type. Script logs have no header: they are recognised by their
first line (either timestamp form, formats.md §6.1), whatever the file is called and wherever it sits,
and a file only *named* like a log (a crash dump in a ``Script`` folder) is not taken for one. Files that are
not Qlik logs stay in the inventory as ``unknown`` with the reason, so nothing disappears silently.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath

from qslogs.bundle import Member
from qslogs.schemas import Family, family_of_header

UNKNOWN = "unknown"
SCRIPT = "Script"

_DOTNET_NAME = re.compile(
    r"^(?P<host>[^_]+)_(?P<type>[A-Za-z]+)_(?P<svc>[A-Za-z]+)"
    r"(?:_(?P<roll>\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2})Z)?(?:_[A-Za-z0-9]{1,16})?\.(?:txt|log)$",
    re.IGNORECASE,
)
_ENGINE_DAILY_NAME = re.compile(
    r"^(?P<host>[^_]+)_(?P<type>[A-Za-z]+)_Engine_(?P<day>\d{4}-\d{2}-\d{2})(?:_[A-Za-z0-9]{1,16})?\.log$",
    re.IGNORECASE,
)
_NODE_NAME = re.compile(r"^(?P<stamp>\d{13}|\d{21})(?P<access>-access)?(?:_System)?(?:_[A-Za-z0-9]{1,16})?\.log$")
_SCRIPT_NAME = re.compile(
    r"^(?P<app>[^.]+)\.(?P<stamp>\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2})\.[0-9A-Fa-f]+\.log(\.\d+)?$"
)
_ACCESS_LINE = re.compile(rb"^\S+ \S+ \S+ \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] \"")
#: A script-log line: classic ``2019-10-23 10:08:50 0002 …`` or modern ``20200227T121011.881+0100 0549 …``
#: (statement number, or four spaces before a header/engine message). Leading blanks occur in real files.
_SCRIPT_LINE = re.compile(
    r"^[ \t]*(?:\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}|\d{8}T\d{6}(?:[.,]\d{1,9})?(?:[+-]\d{2}:?\d{2}|Z)?)"
    r"[ \t](?:\d{4,6}| {4})(?: |$)"
)
_LEVEL_FOLDERS = {"audit", "system", "trace"}
_LOG_ROOTS = {"log", "logs"}
HEAD_BYTES = 8192


@dataclass(frozen=True)
class FileEntry:
    """One file of the bundle and what it is."""

    member: Member = field(repr=False)
    path: str
    kind: str
    family: Family | None
    service: str | None
    host: str | None
    archived: bool
    header: tuple[str, ...] = ()
    reason: str = ""

    @property
    def is_log(self) -> bool:
        return self.family is not None


@lru_cache(maxsize=4096)
def node_key(value: str | None) -> str | None:
    """One key for the three spellings of a host (formats.md §1.4): lower case, first DNS label.

    IP addresses are kept whole; empty and loopback values give None.
    """
    if not value:
        return None
    text = value.strip().strip("[]")
    if not text or text.lower() == "localhost":
        return None
    try:
        addr = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return text.split(".")[0].lower() or None
    return None if addr.is_loopback else str(addr)


def sniff_family(head: bytes) -> tuple[Family | None, tuple[str, ...]]:
    """The family and header names of a file from its first bytes (BOM and CR tolerated)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # re-saved by an editor as UTF-16
        head = head[: len(head) // 2 * 2].decode("utf-16", errors="replace").encode("utf-8")
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    # Only the lines looked at are decoded (a LF byte never sits inside a UTF-8 sequence, so decoding a
    # prefix that ends at one gives the same text as decoding the whole head and cutting it there).
    first = _lines(body, 1).decode("utf-8", errors="replace").split("\n", 1)[0].rstrip("\r")
    names = [n.strip() for n in first.split("\t")]
    family = family_of_header(names)
    if family is not None:
        return family, tuple(names)
    if _ACCESS_LINE.match(head):
        return Family.ACCESS, ()
    if is_script_log(_lines(body, 8).decode("utf-8", errors="replace")):
        return Family.SCRIPT, ()
    return None, ()


def _lines(data: bytes, count: int) -> bytes:
    """The first ``count`` lines of ``data`` (with their LFs), or all of it."""
    end = -1
    for _ in range(count):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return data
    return data[:end + 1]


def is_script_log(text: str) -> bool:
    """Whether decoded text starts like a script log: its first non-blank line is a script-log line.

    Either timestamp form counts, and so does a file that starts inside the header block or among the
    numbered statements (the real ``*.log.2`` continuation file): recognition never depends on the name.
    """
    for line in text.split("\n", 8)[:8]:
        line = line.rstrip("\r")
        if line.strip():
            return _SCRIPT_LINE.match(line) is not None
    return False


def classify(member: Member, head: bytes | None = None) -> FileEntry:
    """Decide kind, family, service, node and archive state of one file."""
    parts = _parts(member.name)
    fname = parts[-1] if parts else ""
    if head is None:
        head = member.read(HEAD_BYTES)
    family, header = sniff_family(head)
    archived, host_folder, service = _folder_facts(parts[:-1])
    base = dict(member=member, path=member.display, archived=archived, header=header)

    if member.size == 0 or not head:
        return FileEntry(kind=_kind_from_name(parts), family=None, service=service,
                         host=node_key(host_folder), reason="empty file", **base)  # type: ignore[arg-type]

    if family is Family.SCRIPT:
        return FileEntry(kind=SCRIPT, family=Family.SCRIPT, service=SCRIPT, host=node_key(host_folder),
                         **base)  # type: ignore[arg-type]

    m = _ENGINE_DAILY_NAME.match(fname)
    if m and family is Family.ENGINE_DAILY:
        return FileEntry(kind=f"Engine/Daily{m['type']}",
                         family=family, service="Engine", host=node_key(m["host"]), **base)  # type: ignore[arg-type]

    m = _DOTNET_NAME.match(fname)
    if m and family in (Family.TRACE, Family.AUDIT, Family.SERVICE):
        return FileEntry(kind=f"{m['svc']}/{m['type']}", family=family, service=m["svc"],
                         host=node_key(m["host"]), **base)  # type: ignore[arg-type]

    if family in (Family.NODE, Family.DATAPROFILING, Family.ACCESS):
        svc = service or "UnknownService"
        kind = f"{svc}/Access" if family is Family.ACCESS else f"{svc}/NodeService"
        return FileEntry(kind=kind, family=family, service=svc, host=node_key(host_folder),
                         **base)  # type: ignore[arg-type]

    if family in (Family.TRACE, Family.AUDIT, Family.SERVICE, Family.ENGINE_DAILY):
        # A Qlik header under an unexpected name: classify by the header, name the kind after the folders.
        level = parts[-2] if len(parts) >= 2 and parts[-2].lower() in _LEVEL_FOLDERS else family.value
        svc = service or "UnknownService"
        return FileEntry(kind=f"{svc}/{level.capitalize()}", family=family, service=svc,
                         host=node_key(host_folder), reason=f"unexpected file name for a {family.value} log",
                         **base)  # type: ignore[arg-type]

    if _NODE_NAME.match(fname) and member.size > 0 and family is None:
        reason = "named like a node.js log, but without its header (e.g. a crash dump): not parsed"
    elif _SCRIPT_NAME.match(fname) or (service or "").lower() == "script":
        reason = "named like a script log, but its lines are not script-log lines (e.g. a crash dump): not parsed"
    elif fname.lower().endswith(".json"):
        reason = "JSON dump (bundle metadata, not a log)"
    elif fname in ("SenseCollector.log", "location.txt"):
        reason = "Log Collector's own output, not a Qlik log"
    else:
        reason = "no known Qlik Sense log header"
    return FileEntry(kind=UNKNOWN, family=None, service=service, host=node_key(host_folder), reason=reason,
                     **base)  # type: ignore[arg-type]


def _parts(name: str) -> tuple[str, ...]:
    """The folders and name of a member's ``/``-separated name, as ``PurePosixPath(name).parts`` (without
    building a path object per file: a bundle has tens of thousands)."""
    if "//" in name or "/./" in name or name.startswith("./") or name.endswith(("/", "/.")) or name == ".":
        return PurePosixPath(name).parts  # rare spellings: the path object normalises them
    if name.startswith("/"):
        return ("/", *name[1:].split("/"))
    return tuple(name.split("/")) if name else ()


@lru_cache(maxsize=4096)
def _folder_facts(dirs: tuple[str, ...]) -> tuple[bool, str | None, str | None]:
    """Archived or not, the node folder and the service folder of a file in ``dirs``: decided once per
    folder (a bundle has thousands of files in a few hundred folders)."""
    parts = (*dirs, "")
    archived, host_folder = _archive_host(parts)
    return archived, host_folder, _service_folder(parts)


def _kind_from_name(parts: tuple[str, ...]) -> str:
    """Best guess of a kind from the name alone (used for empty files, which have no header)."""
    fname = parts[-1]
    if m := _DOTNET_NAME.match(fname):
        return f"{m['svc']}/{m['type']}"
    if m := _NODE_NAME.match(fname):
        svc = _service_folder(parts) or "UnknownService"
        return f"{svc}/Access" if m["access"] else f"{svc}/NodeService"
    if _SCRIPT_NAME.match(fname):
        return SCRIPT
    return UNKNOWN


def _archive_host(parts: tuple[str, ...]) -> tuple[bool, str | None]:
    """Whether the file sits in an ``ArchivedLogs/<node>/<Service>/…`` tree, and that node's folder name."""
    idx = _service_index(parts)
    if idx is None or idx == 0:
        return False, None
    before = parts[idx - 1]
    if before.lower() in _LOG_ROOTS or before.lower() == "archivedlogs":
        return False, None
    return True, before


def _service_index(parts: tuple[str, ...]) -> int | None:
    """Index of the service folder: the folder above Audit/System/Trace, or the file's own folder."""
    dirs = parts[:-1]
    for i in range(len(dirs) - 1, 0, -1):
        if dirs[i].lower() in _LEVEL_FOLDERS and i >= 1:
            # Engine\Engine\System is a legacy level of its own: take the outermost Engine.
            j = i - 1
            while j >= 1 and dirs[j] == dirs[j - 1]:
                j -= 1
            return j
    if dirs:
        j = len(dirs) - 1
        while j >= 1 and dirs[j] == dirs[j - 1]:
            j -= 1
        return j
    return None


def _service_folder(parts: tuple[str, ...]) -> str | None:
    idx = _service_index(parts)
    return parts[idx] if idx is not None else None
