"""Builders for small, realistic log files used by the parser tests (BOM + CRLF like the real ones)."""

from __future__ import annotations

TRACE_SYSTEM = ("Sequence#\tTimestamp\tLevel\tHostname\tLogger\tThread\tId\tServiceUser\tMessage\tException\t"
                "StackTrace\tProxySessionId\tId2")
TASK_EXECUTION = ("Sequence#\tTimestamp\tLevel\tHostname\tLogger\tThread\tId\tServiceUser\tMessage\tException\t"
                  "StackTrace\tProxySessionId\tTaskId\tTaskName\tAppId\tAppName\tExecutionId\tExecutingNodeId\t"
                  "ExecutingNodeName\tStatus\tStartTime\tStopTime\tDuration\tFailureReason\tId2")
LICENSE = ("Sequence#\tTimestamp\tLevel\tHostname\tLogger\tThread\tId\tServiceUser\tMessage\tProxySessionId\t"
           "AccessTypeId\tAccessType\tOperation\tUserName\tUserId\tChecksum")
SYSTEM_ENGINE_OLD = ("Sequence#\tTimestamp\tLevel\tHostname\tLogger\tThread\tId\tServiceUser\tMessage\t"
                     "ProxySessionId\tActiveUserDirectory\tActiveUserId\tEngineTimestamp\tEngineThread\tProcessId\t"
                     "Server Started\tId2")
SYSTEM_ENGINE_NEW = SYSTEM_ENGINE_OLD.replace("ProcessId\t", "ProcessId\tSessionId\t")
NODE = "Sequence#\tTimestamp\tHostname\tVersion\tLogger\tSeverity\tMessage"

GUID = "5c0f7b7e-1f0b-4f8e-9d1e-0a1b2c3d4e5f"


def dotnet_file(header: str, rows: list[str], *, bom: bool = True, eol: str = "\r\n") -> bytes:
    """A .NET log as Qlik writes it: BOM, CRLF, header line, one record per line, final newline."""
    text = eol.join([header, *rows]) + eol
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def trace_row(seq: int, ts: str, message: str, *, level: str = "INFO", exception: str = "", stack: str = "",
              host: str = "Sense01") -> str:
    fields = [str(seq), ts, level, host, "System.Repository.Repository.Core.Foo", "42", GUID, "CORP\\qlik",
              message, exception, stack, "0", GUID]
    return "\t".join(fields)
