"""Log families, log kinds and their column schemas, declared once (formats.md §3).

A *family* is a header layout shared by many files (Trace, Audit, Service, node.js, …); a *kind* is
``<Service>/<LogType>`` (``Scheduler/TaskExecution``, ``Repository/License``, ``HubService/NodeService``,
``Script``). Kinds are open-ended (new Qlik releases add services), so a kind is a plain string and
unknown kinds keep every column they bring. Columns are mapped by header **name**; the known columns of
each kind are listed here so that every frame of a kind has the same schema whatever header variant a
file had (a missing optional column comes back as nulls).
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl

from qslogs.timeutil import NAIVE_DATETIME, UTC_DATETIME


class Family(StrEnum):
    """Header layouts (formats.md §3.0); decides how a file is split into records."""

    TRACE = "trace"
    AUDIT = "audit"
    SERVICE = "service"
    NODE = "node"
    DATAPROFILING = "dataprofiling"
    ENGINE_DAILY = "engine_daily"
    ACCESS = "access"
    SCRIPT = "script"


#: Header prefixes that identify a tab-separated family, most specific first.
FAMILY_HEADERS: tuple[tuple[tuple[str, ...], Family], ...] = (
    (("Sequence#", "Timestamp", "Level"), Family.TRACE),
    (("Sequence#", "ProductVersion", "Timestamp", "Hostname"), Family.AUDIT),
    (("Sequence#", "ProductVersion", "Timestamp", "Severity"), Family.SERVICE),
    (("Sequence#", "Timestamp", "Hostname", "Version"), Family.NODE),
    (("Logger", "Severity", "Date", "MicroSeconds"), Family.DATAPROFILING),
    (("Severity", "Timestamp", "ProcessId"), Family.ENGINE_DAILY),
    (("Severity", "ProductVersion", "Timestamp"), Family.ENGINE_DAILY),
)

#: Columns present in every file of a family (the record is broken without them).
FAMILY_REQUIRED: dict[Family, tuple[str, ...]] = {
    Family.TRACE: ("Sequence#", "Timestamp", "Level", "Hostname", "Logger", "Thread", "Id", "ServiceUser", "Message"),
    Family.AUDIT: ("Sequence#", "ProductVersion", "Timestamp", "Hostname", "Id", "Description"),
    Family.SERVICE: ("Sequence#", "ProductVersion", "Timestamp", "Severity", "Hostname", "Id", "Description"),
    Family.NODE: ("Sequence#", "Timestamp", "Hostname", "Version", "Logger", "Severity", "Message"),
    Family.DATAPROFILING: ("Logger", "Severity", "Date", "MicroSeconds", "Message"),
    Family.ENGINE_DAILY: ("Severity", "Timestamp"),
    Family.ACCESS: (),
    Family.SCRIPT: (),
}

#: The column holding each family's record time (parsed to a UTC datetime).
TIME_COLUMN: dict[Family, str] = {
    Family.TRACE: "Timestamp",
    Family.AUDIT: "Timestamp",
    Family.SERVICE: "Timestamp",
    Family.NODE: "Timestamp",
    Family.DATAPROFILING: "Date",
    Family.ENGINE_DAILY: "Timestamp",
    Family.ACCESS: "Timestamp",
    Family.SCRIPT: "time",
}

#: The column holding each family's level/severity, for activity counts.
LEVEL_COLUMN: dict[Family, str] = {
    Family.TRACE: "Level",
    Family.SERVICE: "Severity",
    Family.NODE: "Severity",
    Family.DATAPROFILING: "Severity",
    Family.ENGINE_DAILY: "Severity",
}

_TRACE = FAMILY_REQUIRED[Family.TRACE]
_TRACE_EXC = (*_TRACE, "Exception", "StackTrace", "ProxySessionId")
_AUDIT_TAIL = ("Service", "Origin", "Context", "Command", "Result", "Message")
_AUDIT_MID = ("Description", "ProxySessionId", "ProxyPackageId", "RequestSequenceId", "UserDirectory", "UserId")
_ENGINE_TRACE = (*_TRACE, "ProxySessionId", "ActiveUserDirectory", "ActiveUserId", "EngineTimestamp",
                 "EngineThread", "ProcessId")
_PERF_COUNTERS = ("Entry Type", "ActiveDocSessions", "DocSessions", "ActiveAnonymousDocSessions",
                  "AnonymousDocSessions", "ActiveTunneledDocSessions", "TunneledDocSessions", "DocSessionStarts",
                  "ActiveDocs", "RefDocs", "LoadedDocs", "DocLoads", "DocLoadFails", "Calls", "Selections",
                  "ActiveIpAddrs", "IpAddrs", "ActiveUsers", "Users", "CPULoad", "VMCommitted(MB)",
                  "VMAllocated(MB)", "VMFree(MB)", "VMLargestFreeBlock(MB)", "CacheHits", "CacheLookups",
                  "CacheObjectAdded", "CacheBytesAdded", "CacheTimeAdded", "CacheReplaced")

#: Known columns of the kinds qslogs analyses (formats.md §3.1–3.4), without the last Id2/Checksum.
KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "Scheduler/TaskExecution": (*_TRACE_EXC, "TaskId", "TaskName", "AppId", "AppName", "ExecutionId",
                                "ExecutingNodeId", "ExecutingNodeName", "Status", "StartTime", "StopTime",
                                "Duration", "FailureReason"),
    "Scheduler/System": (*_TRACE_EXC, "TaskName", "TaskId", "User", "ExecutionId", "AppName", "AppId"),
    "Repository/License": (*_TRACE, "ProxySessionId", "AccessTypeId", "AccessType", "Operation", "UserName",
                           "UserId"),
    "Repository/Audit": (*_TRACE, "ProxySessionId", "Action", "ActiveUserDirectory", "ActiveUserId",
                         "ResourceId"),
    "Proxy/Audit": (*_TRACE, "ProxySessionId", "ConnectionId", "ActiveUserDirectory", "ActiveUserId", "TicketId",
                    "IpAddress", "AppId", "TargetHost", "VirtualProxy"),
    "Engine/System": (*_ENGINE_TRACE, "SessionId", "Server Started"),
    "Engine/Session": (*_ENGINE_TRACE, "SessionId", "Exe Version", "Server Started", "ProxyPackageId", "AppId",
                       "App Title", "Doc Timestamp", "Exit Reason", "Session Start", "Session Duration",
                       "CPU Spent (s)", "Bytes Received", "Bytes Sent", "Calls", "Selections",
                       "Authenticated User", "Secure Protocol"),
    "Engine/Performance": (*_ENGINE_TRACE, "Exe Version", "Server Started", *_PERF_COUNTERS),
    "Engine/QixCounter": (*_ENGINE_TRACE, "CounterName", "CounterValue"),
    "Engine/AuditActivity": ("Sequence#", "ProductVersion", "Timestamp", "Hostname", "Id", "EngineTimestamp",
                             "EngineVersion", *_AUDIT_MID, "SessionId", "ObjectId", "ObjectName", *_AUDIT_TAIL),
    "Engine/Service": ("Sequence#", "ProductVersion", "Timestamp", "Severity", "Hostname", "Id", "EngineTimestamp",
                       "EngineVersion", *_AUDIT_MID, "SessionId", "ObjectId", "ObjectName", *_AUDIT_TAIL),
}
for _svc in ("Proxy", "Repository", "Scheduler"):
    KIND_COLUMNS[f"{_svc}/AuditActivity"] = ("Sequence#", "ProductVersion", "Timestamp", "Hostname", "Id",
                                             *_AUDIT_MID, "ObjectId", "ObjectName", *_AUDIT_TAIL)
for _svc in ("Proxy", "Repository"):
    KIND_COLUMNS[f"{_svc}/AuditSecurity"] = ("Sequence#", "ProductVersion", "Timestamp", "Hostname", "Id",
                                             *_AUDIT_MID, "ObjectId", "ObjectName", "SecurityClass",
                                             "ClientHostAddress", *_AUDIT_TAIL)
for _svc in ("Proxy", "Repository", "Scheduler", "Printing"):
    KIND_COLUMNS[f"{_svc}/Service"] = ("Sequence#", "ProductVersion", "Timestamp", "Severity", "Hostname", "Id",
                                       *_AUDIT_MID, "ObjectId", "ObjectName", *_AUDIT_TAIL)

#: Columns whose text carries log4net-encoded line breaks (↵ = CR, ↓ = LF) to decode.
ENCODED_TEXT_COLUMNS: frozenset[str] = frozenset({"Message", "Exception", "StackTrace", "Description"})

#: Columns typed on the way in; every other column stays text. Times are parsed by qslogs.timeutil.
TIME_COLUMNS: frozenset[str] = frozenset({"Timestamp", "StartTime", "StopTime", "Date"})
INT_COLUMNS: frozenset[str] = frozenset({"Sequence#", "Duration"})

#: Columns qslogs adds to every parsed record, so each row can be traced back to its origin.
META_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "line_no": pl.Int64(),
    "host": pl.String(),
}

#: Apache combined log format of node.js ``*-access.log`` files (no header).
ACCESS_COLUMNS: tuple[str, ...] = ("ClientIp", "Ident", "AuthUser", "Timestamp", "Method", "Path", "Protocol",
                                   "Status", "Bytes", "Referer", "UserAgent")

#: Bad lines: every line that could not become a record, with where it was and why.
BAD_LINE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "line_no": pl.Int64(),
    "kind": pl.String(),
    "reason": pl.String(),
    "text": pl.String(),
}


def column_dtype(name: str) -> pl.DataType:
    """The dtype a column of this name has in every parsed frame."""
    if name in TIME_COLUMNS:
        return UTC_DATETIME
    if name in INT_COLUMNS:
        return pl.Int64()
    if name in META_SCHEMA:
        return META_SCHEMA[name]
    if name == "time":
        return NAIVE_DATETIME
    return pl.String()


def family_of_header(names: list[str]) -> Family | None:
    """Pick the family from the first header names (formats.md §3.0), or None when none fits."""
    for prefix, family in FAMILY_HEADERS:
        if tuple(names[: len(prefix)]) == prefix:
            return family
    return None


def kind_schema(kind: str, extra: list[str] | None = None) -> dict[str, pl.DataType]:
    """The full schema of a kind: its known columns, any extra ones, then the metadata columns."""
    names: list[str] = list(KIND_COLUMNS.get(kind, ()))
    for name in extra or ():
        if name not in names:
            names.append(name)
    schema = {name: column_dtype(name) for name in names}
    schema.update(META_SCHEMA)
    return schema
