"""The ``--qvd-map`` file: which QVD fields hold the canonical license columns (formats.md §8.6).

A TOML or JSON file with ``[[tables]]`` entries (first match wins) and an optional ``[commands]`` table
re-classifying repository commands as allocation or usage (formats.md §7.3). See :func:`parse_qvd_map`.
"""

from __future__ import annotations

import fnmatch
import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from qslogs.errors import BundleError

KINDS = ("events", "usage", "allocation", "denial")


class QvdMapError(BundleError):
    """The ``--qvd-map`` file cannot be read or names things that do not exist."""


@dataclass(frozen=True)
class TableMap:
    """Which fields of a QVD hold the canonical columns (one ``[[tables]]`` entry of a ``--qvd-map``)."""

    match: str = field(default="*", metadata={"help": "glob on the file name or the QVD's TableName"})
    kind: str | None = field(default=None, metadata={"help": "events, usage, allocation or denial"})
    user: str | None = field(default=None, metadata={"help": "field holding DIR\\user"})
    user_directory: str | None = field(default=None, metadata={"help": "field holding the user directory"})
    user_id: str | None = field(default=None, metadata={"help": "field holding the user id"})
    access_type: str | None = field(default=None, metadata={"help": "field holding the access type"})
    access_type_value: str | None = field(default=None, metadata={"help": "one access type for every row"})
    time: str | None = field(default=None, metadata={"help": "date/time field of the event (or allocation)"})
    operation: str | None = field(default=None, metadata={"help": "field holding UsageGranted/Add/…"})
    end_time: str | None = field(default=None, metadata={"help": "allocation tables: when it was removed"})
    last_used: str | None = field(default=None, metadata={"help": "allocation tables: when it was last used"})
    timezone: str = field(default="UTC", metadata={"help": "zone of the QVD's naive times (IANA name)"})
    skip: bool = field(default=False, metadata={"help": "ignore matching QVDs"})


@dataclass(frozen=True)
class QvdMap:
    """A parsed ``--qvd-map`` file: table mappings (first match wins) and command re-classifications."""

    path: str
    """The file it was read from, as given (shown in the ``mapping`` column: ``map <path>``)."""
    tables: tuple[TableMap, ...] = ()
    commands: dict[str, str] = field(default_factory=dict)


def parse_qvd_map(text: str, path: str) -> QvdMap:
    """Parse and check a mapping (the text of the file ``path``: JSON when it ends in ``.json``, else TOML)::

    [[tables]]                    # or {"tables": [{...}], "commands": {...}} in JSON
    match = "*license*"
    user_directory = "UserDirectory"
    user_id = "UserId"
    access_type = "AccessType"
    time = "AllocatedDate"
    kind = "allocation"

    [commands]                    # optional: re-classify AuditSecurity commands (formats.md §7.3)
    "Add user access" = "allocation"

    Reading the file is the caller's (:func:`qslogs.pipeline.load_qvd_map`): analyses never open files.
    """
    p = Path(path)
    try:
        raw = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except ValueError as exc:
        raise QvdMapError(f"{p}: cannot read the QVD mapping: {exc}", str(p)) from exc
    if not isinstance(raw, dict) or set(raw) - {"tables", "commands"}:
        raise QvdMapError(f"{p}: a QVD mapping has only 'tables' and 'commands' at its top level", str(p))
    known = {f.name for f in fields(TableMap)}
    tables = []
    for i, entry in enumerate(raw.get("tables", [])):
        unknown = set(entry) - known if isinstance(entry, dict) else {"(not a table)"}
        if unknown:
            raise QvdMapError(
                f"{p}: tables[{i}] has unknown keys {sorted(unknown)}; known: {sorted(known)}", str(p)
            )
        table = TableMap(**entry)
        if table.kind is not None and table.kind not in KINDS:
            raise QvdMapError(
                f"{p}: tables[{i}].kind is {table.kind!r}, expected one of {list(KINDS)}", str(p)
            )
        tables.append(table)
    commands = raw.get("commands", {})
    if not isinstance(commands, dict) or any(
        v not in ("allocation", "usage", "other") for v in commands.values()
    ):
        raise QvdMapError(f"{p}: [commands] maps command names to allocation, usage or other", str(p))
    return QvdMap(str(p), tuple(tables), {str(k): str(v) for k, v in commands.items()})


def match_table(qvd_map: QvdMap | None, file_name: str, table_name: str) -> TableMap | None:
    """The first ``[[tables]]`` entry whose glob matches the QVD's file name or its TableName (no case)."""
    for table in qvd_map.tables if qvd_map else ():
        glob = table.match.lower()
        if fnmatch.fnmatch(file_name.lower(), glob) or fnmatch.fnmatch(table_name.lower(), glob):
            return table
    return None


def named_fields(table: TableMap) -> tuple[str, ...]:
    """The QVD fields an entry names (user, access type, times, operation), in that order."""
    named = (table.user, table.user_directory, table.user_id, table.access_type, table.time, table.operation,
             table.end_time, table.last_used)
    return tuple(dict.fromkeys(f for f in named if f is not None))
