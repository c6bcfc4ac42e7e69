"""Column headers of every generated log type, copied from formats.md §3 (tab-separated, by name).

One constant per header variant; :func:`header_for` picks the header of a .NET stream, including the
``SessionId`` change of ``System_Engine`` / ``Service_Engine`` at the engine upgrade (formats.md §3.0), and
:func:`dropped_columns` the optional Trace columns (``Exception|StackTrace``, ``ProxySessionId``) that files
written before the upgrade lack, so parsers meet each optional column both present and absent.
"""

from __future__ import annotations

_TRACE = "Sequence#|Timestamp|Level|Hostname|Logger|Thread|Id|ServiceUser|Message"
_AUDIT = (
    "Sequence#|ProductVersion|Timestamp|Hostname|Id|Description|ProxySessionId|ProxyPackageId|"
    "RequestSequenceId|UserDirectory|UserId|ObjectId|ObjectName"
)
_ENGINE_TRACE = (
    _TRACE + "|ProxySessionId|ActiveUserDirectory|ActiveUserId|EngineTimestamp|EngineThread|ProcessId"
)
_PERF_COUNTERS = (
    "ActiveDocSessions|DocSessions|ActiveAnonymousDocSessions|AnonymousDocSessions|ActiveTunneledDocSessions|"
    "TunneledDocSessions|DocSessionStarts|ActiveDocs|RefDocs|LoadedDocs|DocLoads|DocLoadFails|Calls|Selections|"
    "ActiveIpAddrs|IpAddrs|ActiveUsers|Users|CPULoad|VMCommitted(MB)|VMAllocated(MB)|VMFree(MB)|"
    "VMLargestFreeBlock(MB)|CacheHits|CacheLookups|CacheObjectAdded|CacheBytesAdded|CacheTimeAdded|CacheReplaced"
)


def _h(spec: str) -> str:
    return spec.replace("|", "\t")


SIMPLE_TRACE = _h(_TRACE + "|Exception|StackTrace|ProxySessionId|Id2")
SYSTEM_SCHEDULER = _h(
    _TRACE + "|Exception|StackTrace|ProxySessionId|TaskName|TaskId|User|ExecutionId|AppName|AppId|Id2"
)
TASK_EXECUTION = _h(
    _TRACE + "|Exception|StackTrace|ProxySessionId|TaskId|TaskName|AppId|AppName|ExecutionId|ExecutingNodeId|"
    "ExecutingNodeName|Status|StartTime|StopTime|Duration|FailureReason|Id2"
)
LICENSE_REPOSITORY = _h(_TRACE + "|ProxySessionId|AccessTypeId|AccessType|Operation|UserName|UserId|Checksum")
AUDIT_REPOSITORY = _h(_TRACE + "|ProxySessionId|Action|ActiveUserDirectory|ActiveUserId|ResourceId|Checksum")
AUDIT_PROXY = _h(
    _TRACE
    + "|ProxySessionId|ConnectionId|ActiveUserDirectory|ActiveUserId|TicketId|IpAddress|AppId|TargetHost|"
    "VirtualProxy|Checksum"
)
PERFORMANCE_PROXY = _h(
    _TRACE + "|ProxySessionId|ActiveConnections|ActiveStreams|ActiveSessions|LoadBalancingDecisions|"
    "PrintingLoadBalancingDecisions|Tickets|ActiveClientWebsockets|ActiveEngineWebsockets|WorkerThreads|"
    "HandleCount|Id2"
)
SYSTEM_ENGINE_OLD = _h(_ENGINE_TRACE + "|Server Started|Id2")
SYSTEM_ENGINE_NEW = _h(_ENGINE_TRACE + "|SessionId|Server Started|Id2")
SESSION_ENGINE = _h(
    _ENGINE_TRACE + "|SessionId|Exe Version|Server Started|ProxyPackageId|AppId|App Title|Doc Timestamp|"
    "Exit Reason|Session Start|Session Duration|CPU Spent (s)|Bytes Received|Bytes Sent|Calls|Selections|"
    "Authenticated User|Secure Protocol|Id2"
)
PERFORMANCE_ENGINE = _h(_ENGINE_TRACE + "|Exe Version|Server Started|Entry Type|" + _PERF_COUNTERS + "|Id2")
QIXCOUNTER_ENGINE = _h(_ENGINE_TRACE + "|CounterName|CounterValue|Checksum")

AUDIT_ACTIVITY = _h(_AUDIT + "|Service|Origin|Context|Command|Result|Message|Id2")
AUDIT_SECURITY = _h(
    _AUDIT + "|SecurityClass|ClientHostAddress|Service|Origin|Context|Command|Result|Message|Checksum"
)
AUDIT_ACTIVITY_ENGINE = _h(
    "Sequence#|ProductVersion|Timestamp|Hostname|Id|EngineTimestamp|EngineVersion|Description|ProxySessionId|"
    "ProxyPackageId|RequestSequenceId|UserDirectory|UserId|SessionId|ObjectId|ObjectName|Service|Origin|Context|"
    "Command|Result|Message|Id2"
)
SERVICE = _h(
    "Sequence#|ProductVersion|Timestamp|Severity|Hostname|Id|Description|ProxySessionId|ProxyPackageId|"
    "RequestSequenceId|UserDirectory|UserId|ObjectId|ObjectName|Service|Origin|Context|Command|Result|Message|Id2"
)
_SERVICE_ENGINE = (
    "Sequence#|ProductVersion|Timestamp|Severity|Hostname|Id|EngineTimestamp|EngineVersion|Description|"
    "ProxySessionId|ProxyPackageId|RequestSequenceId|UserDirectory|UserId|{sid}ObjectId|ObjectName|Service|Origin|"
    "Context|Command|Result|Message|Id2"
)
SERVICE_ENGINE_OLD = _h(_SERVICE_ENGINE.format(sid=""))
SERVICE_ENGINE_NEW = _h(_SERVICE_ENGINE.format(sid="SessionId|"))

NODEJS = _h("Sequence#|Timestamp|Hostname|Version|Logger|Severity|Message")
DATAPROFILING = _h("Logger|Severity|Date|MicroSeconds|Message")
ENGINE_DAILY_START = _h("Severity|Timestamp|ProcessId|ThreadId|Message")
ENGINE_DAILY_SYSTEM = _h(
    "Severity|Timestamp|ProcessId|ThreadId|ProxySessionId|ActiveUserDirectory|ActiveUserId|"
    "Server Started|Message"
)
ENGINE_DAILY_SSE = _h(
    "Severity|Timestamp|ProcessId|ThreadId|ProxySessionId|ActiveUserDirectory|ActiveUserId|AppId|"
    "App Title|SSEPlugin|SSEPluginAddress|Message"
)
ENGINE_DAILY_SERVICE = _h(
    "Severity|ProductVersion|Timestamp|Description|ProxySessionId|ProxyPackageId|"
    "RequestSequenceId|UserDirectory|UserId|ObjectId|ObjectName|Service|Origin|Context|"
    "Command|Result|Message"
)
ENGINE_DAILY_PERFORMANCE = _h(
    "Severity|Timestamp|ProcessId|ThreadId|ProxySessionId|ActiveUserDirectory|"
    "ActiveUserId|Exe Version|Server Started|Entry Type|" + _PERF_COUNTERS
)

#: (logtype, service) → header of every .NET log type the generator writes.
DOTNET: dict[tuple[str, str], str] = {
    ("AuditActivity", "Repository"): AUDIT_ACTIVITY,
    ("AuditSecurity", "Repository"): AUDIT_SECURITY,
    ("Service", "Repository"): SERVICE,
    ("Audit", "Repository"): AUDIT_REPOSITORY,
    ("License", "Repository"): LICENSE_REPOSITORY,
    ("Security", "Repository"): SIMPLE_TRACE,
    ("Synchronization", "Repository"): SIMPLE_TRACE,
    ("System", "Repository"): SIMPLE_TRACE,
    ("UserManagement", "Repository"): SIMPLE_TRACE,
    ("AuditActivity", "Proxy"): AUDIT_ACTIVITY,
    ("AuditSecurity", "Proxy"): AUDIT_SECURITY,
    ("Service", "Proxy"): SERVICE,
    ("Audit", "Proxy"): AUDIT_PROXY,
    ("Performance", "Proxy"): PERFORMANCE_PROXY,
    ("Security", "Proxy"): SIMPLE_TRACE,
    ("System", "Proxy"): SIMPLE_TRACE,
    ("AuditActivity", "Scheduler"): AUDIT_ACTIVITY,
    ("Service", "Scheduler"): SERVICE,
    ("Security", "Scheduler"): SIMPLE_TRACE,
    ("System", "Scheduler"): SYSTEM_SCHEDULER,
    ("TaskExecution", "Scheduler"): TASK_EXECUTION,
    ("AuditActivity", "Engine"): AUDIT_ACTIVITY_ENGINE,
    ("QixCounter", "Engine"): QIXCOUNTER_ENGINE,
    ("Service", "Engine"): SERVICE_ENGINE_NEW,
    ("Performance", "Engine"): PERFORMANCE_ENGINE,
    ("Session", "Engine"): SESSION_ENGINE,
    ("System", "Engine"): SYSTEM_ENGINE_NEW,
    ("Service", "Printing"): SERVICE,
    ("Security", "Printing"): SIMPLE_TRACE,
    ("System", "Printing"): SIMPLE_TRACE,
}

#: The folder (Audit/System/Trace) of each log type (formats.md §1.1).
LEVEL: dict[str, str] = {
    "AuditActivity": "Audit",
    "AuditSecurity": "Audit",
    "QixCounter": "Audit",
    "Service": "System",
}

#: Log types whose rolled files sometimes end in a ``Signature:`` trailer (formats.md §4).
SIGNED: frozenset[tuple[str, str]] = frozenset({("License", "Repository"), ("AuditSecurity", "Repository")})


def level_of(logtype: str) -> str:
    """The ``Audit|System|Trace`` sub-folder a log type lives in."""
    return LEVEL.get(logtype, "Trace")


def header_for(logtype: str, service: str, *, engine_upgraded: bool) -> str:
    """The header line of a .NET file; engine System/Service files lack ``SessionId`` before the upgrade."""
    if service == "Engine" and not engine_upgraded:
        if logtype == "System":
            return SYSTEM_ENGINE_OLD
        if logtype == "Service":
            return SERVICE_ENGINE_OLD
    return DOTNET[(logtype, service)]


#: Optional Trace-family columns (formats.md §3.1) that the release before the upgrade did not write, per
#: log type: its rolled files lack them, the files written after the upgrade have them.
OLD_RELEASE_DROPS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Security", "Printing"): ("ProxySessionId",),
    ("System", "Printing"): ("ProxySessionId",),
    ("Synchronization", "Repository"): ("Exception", "StackTrace", "ProxySessionId"),
}


def dropped_columns(logtype: str, service: str, *, engine_upgraded: bool) -> tuple[int, ...]:
    """Positions (in :func:`header_for`'s header) of the optional columns a file of that time lacks."""
    if engine_upgraded or (logtype, service) not in OLD_RELEASE_DROPS:
        return ()
    names = header_for(logtype, service, engine_upgraded=False).split("\t")
    return tuple(names.index(name) for name in OLD_RELEASE_DROPS[(logtype, service)])


def without_columns(line: str, positions: tuple[int, ...], width: int) -> str:
    """A tab-separated header or row without the fields at ``positions`` (rows of another width: as is)."""
    fields = line.split("\t")
    if not positions or len(fields) != width:
        return line
    drop = set(positions)
    return "\t".join(f for i, f in enumerate(fields) if i not in drop)
