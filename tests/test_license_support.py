"""Builders for license test data (License_Repository, AuditSecurity, CalInfo, bundles), and their own checks.

The rows follow formats.md §7 and the real QLIKSERVER1 files byte for byte in shape: BOM, CRLF, the
Trace/Audit headers, local timestamps with an offset, ``Key: 'value'`` messages.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from qslogs.loader import load_frames

LICENSE_HEADER = (
    "Sequence#\tTimestamp\tLevel\tHostname\tLogger\tThread\tId\tServiceUser\tMessage\tProxySessionId\t"
    "AccessTypeId\tAccessType\tOperation\tUserName\tUserId\tChecksum"
)
AUDIT_SECURITY_HEADER = (
    "Sequence#\tProductVersion\tTimestamp\tHostname\tId\tDescription\tProxySessionId\t"
    "ProxyPackageId\tRequestSequenceId\tUserDirectory\tUserId\tObjectId\tObjectName\tSecurityClass\t"
    "ClientHostAddress\tService\tOrigin\tContext\tCommand\tResult\tMessage\tChecksum"
)
PROXY_AUDIT_HEADER = (
    "Sequence#\tProductVersion\tTimestamp\tHostname\tId\tDescription\tProxySessionId\t"
    "ProxyPackageId\tRequestSequenceId\tUserDirectory\tUserId\tObjectId\tObjectName\tService\t"
    "Origin\tContext\tCommand\tResult\tMessage\tId2"
)
CET = timezone(timedelta(hours=1))
LOGGER = "License.Repository.Repository.Core."


def qlik_ts(t: datetime) -> str:
    """``yyyyMMddTHHmmss.fff+hhmm`` in CET, as a Sense node in Central Europe writes it."""
    local = t.astimezone(CET)
    return local.strftime("%Y%m%dT%H%M%S.") + f"{local.microsecond // 1000:03d}+0100"


def _guid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, seed))


@dataclass(frozen=True)
class Ev:
    """One planted license event (UTC time)."""

    time: datetime
    op: str  # Add, Delete, UsageGranted, UsageDenied, Timedout
    user: str  # DIR\\user
    access: str = "AnalyzerAccess"  # Qlik's AccessType text; "" for denials


@dataclass
class History:
    """A planted license history plus the facts a test checks against."""

    events: list[Ev] = field(default_factory=list)
    end: datetime = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    start: datetime = datetime(2025, 10, 31, 17, 0, tzinfo=UTC)
    analyzer_at_start: int = 0
    analyzer_rate: float = 0.0
    professional: int = 0


def license_file(events: list[Ev]) -> bytes:
    """``<HOST>_License_Repository.txt`` for these events."""
    rows = []
    for i, e in enumerate(sorted(events, key=lambda e: e.time)):
        session = _guid(f"s{i}")
        if e.op == "UsageDenied":
            logger, msg = (
                "Resource.RequestAccessTypeResource",
                f'No available access type, SessionID: {session}, Hostname: "::1"',
            )
        elif e.op == "UsageGranted":
            logger = "Resource.RequestAccessTypeResource"
            usage = _guid(f"u{i}")
            msg = f"UsageID: {usage}, SessionID: {session}, SessionCount: 1, Hostname: '::ffff:10.0.0.5'"
        elif e.op == "Timedout":
            logger, msg, session = (
                "Licensing.LicenseMaintenance",
                f"UsageID: {_guid(f'u{i}')}, SessionID: {session}",
                "0",
            )
        elif e.op == "Add":
            logger, msg = "Repository.ProfessionalAccessTypeRepository", "Added by: CORP\\admin"
        else:
            logger, msg = "Repository.ProfessionalAccessTypeRepository", "Deleted by: CORP\\admin"
        rows.append(
            "\t".join(
                [
                    str(i + 1),
                    qlik_ts(e.time),
                    "INFO",
                    "Sense01",
                    LOGGER + logger,
                    "54",
                    _guid(f"id{i}"),
                    "CORP\\qvservice",
                    msg,
                    session,
                    _guid(e.user) if e.access else "",
                    e.access,
                    e.op,
                    e.user,
                    _guid("uid" + e.user),
                    "0" * 40,
                ]
            )
        )
    return ("\ufeff" + "\r\n".join([LICENSE_HEADER, *rows]) + "\r\n").encode()


def audit_security_file(rows: list[tuple[datetime, str, str, str, str]]) -> bytes:
    """``<HOST>_AuditSecurity_Repository.txt`` rows: (time, user DIR\\id, command, result, message)."""
    out = []
    for i, (t, user, command, result, message) in enumerate(rows):
        d, u = user.split("\\")
        text = "Success" if result == "0" else "Error: Access denied"
        out.append(
            "\t".join(
                [
                    str(i + 1),
                    "20.4.1",
                    qlik_ts(t),
                    "Sense01",
                    _guid(f"a{i}"),
                    f"Command={command};Result={result};ResultText={text}",
                    _guid(f"p{i}"),
                    _guid(f"k{i}"),
                    "0",
                    d,
                    u,
                    "0",
                    "Not available",
                    "License",
                    "Not available",
                    "Repository",
                    "AppAccess",
                    "/qrs/requestaccesstype",
                    command,
                    result,
                    message,
                    "0" * 40,
                ]
            )
        )
    return ("\ufeff" + "\r\n".join([AUDIT_SECURITY_HEADER, *out]) + "\r\n").encode()


def proxy_file(visits: list[tuple[datetime, str]]) -> bytes:
    """``<HOST>_AuditActivity_Proxy.txt`` with one ``Start session`` row per (time, DIR\\user)."""
    out = []
    for i, (t, user) in enumerate(visits):
        d, u = user.split("\\")
        out.append(
            "\t".join(
                [
                    str(i + 1),
                    "11.4.2",
                    qlik_ts(t),
                    "Sense01",
                    _guid(f"v{i}"),
                    "Command=Start session;Result=201;ResultText=Success",
                    _guid(f"ps{i}"),
                    "0",
                    "0",
                    d,
                    u,
                    "0",
                    "Not available",
                    "Proxy",
                    "AppAccess",
                    "/",
                    "Start session",
                    "201",
                    "Session started",
                    _guid(f"v{i}"),
                ]
            )
        )
    return ("\ufeff" + "\r\n".join([PROXY_AUDIT_HEADER, *out]) + "\r\n").encode()


def calinfo(professional: tuple[int, int] | None, analyzer: tuple[int, int] | None) -> dict[str, float]:
    """A CalInfo dump: (capacity, allocated) per type, capacity as ``<X>TotalTokens`` (see licenses.py)."""
    out = {
        "TotalTokens": 0.0,
        "AvailableTokens": 0.0,
        "UserAllocatedTokens": 0.0,
        "LoginAllocatedTokens": 0.0,
    }
    for name, value in (("Professional", professional), ("Analyzer", analyzer)):
        if value is not None:
            out[f"{name}TotalTokens"] = float(value[0])
            out[f"{name}AllocatedTokens"] = float(value[1])
            out[f"{name}UsedTokens"] = float(value[1])
    return out


def write_bundle(
    root: Path,
    history: History,
    *,
    cal: dict[str, float] | None = None,
    visits: list[tuple[datetime, str]] | None = None,
    audit: list[tuple[datetime, str, str, str, str]] | None = None,
) -> Path:
    """A Log Collector-like folder: ``Log/Repository/Trace`` license log (+ AuditSecurity, Proxy, CalInfo)."""
    trace = root / "Log" / "Repository" / "Trace"
    trace.mkdir(parents=True, exist_ok=True)
    (trace / "SENSE01_License_Repository.txt").write_bytes(license_file(history.events))
    if audit:
        folder = root / "Log" / "Repository" / "Audit"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "SENSE01_AuditSecurity_Repository.txt").write_bytes(audit_security_file(audit))
    if visits:
        folder = root / "Log" / "Proxy" / "Audit"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "SENSE01_AuditActivity_Proxy.txt").write_bytes(proxy_file(visits))
    if cal is not None:
        (root / "CalInfo_0b6f1d3e-8c4a-4d8e-9f00-123456789abc.json").write_text(json.dumps(cal))
    return root


def planted(
    analyzer_start: int = 20, rate: float = 2.5, professional: int = 12, months: int = 12, denials: int = 5
) -> History:
    """Analyzer: ``analyzer_start`` users allocated before the logs, then adds evenly spaced at ``rate`` per
    month; Professional: flat (one removal and one addition); every allocated user uses the site every
    week or two, except ``CORP\\ana001`` (not since the first days) and ``CORP\\ana002`` (never in the logs
    after its first use, 40 days before the end); a few denials for ``CORP\\guest0/1``."""
    h = History(analyzer_at_start=analyzer_start, analyzer_rate=rate, professional=professional)
    h.start = h.end - timedelta(days=round(months * 365.2425 / 12))
    span = h.end - h.start
    ev = h.events
    since: dict[str, datetime] = {f"CORP\\ana{i:03d}": h.start for i in range(analyzer_start)}
    n_adds = round(rate * months)
    for i in range(n_adds):
        t = h.start + span * ((i + 0.5) / n_adds) + timedelta(hours=i % 5)
        since[f"CORP\\new{i:03d}"] = t
        ev.append(Ev(t, "Add", f"CORP\\new{i:03d}"))
    pros = {f"CORP\\pro{i:02d}": h.start for i in range(professional)}
    swap = h.start + span / 2
    gone = f"CORP\\pro{professional - 1:02d}"
    ev += [
        Ev(swap, "Delete", gone, "ProfessionalAccess"),
        Ev(swap + timedelta(hours=1), "Add", "CORP\\pro99", "ProfessionalAccess"),
    ]
    pros["CORP\\pro99"] = swap + timedelta(hours=1)
    for n, (u, t0) in enumerate([*since.items(), *pros.items()]):
        access = "ProfessionalAccess" if "pro" in u else "AnalyzerAccess"
        t = t0 + timedelta(days=1 + n % 9, minutes=5)
        stop = (
            h.start + timedelta(days=3)
            if u == "CORP\\ana001"
            else h.end - timedelta(days=40)
            if u == "CORP\\ana002"
            else swap
            if u == gone
            else h.end - timedelta(days=1)
        )
        while t < stop:
            ev.append(Ev(t, "UsageGranted", u, access))
            t += timedelta(days=7 + (n * 3 + int(t.timestamp()) // 86400) % 8)
    for i in range(denials):
        ev.append(Ev(h.end - timedelta(days=3 + i, hours=2), "UsageDenied", f"CORP\\guest{i % 2}", ""))
    return h


def test_license_file_parses_with_every_row_and_utc_times(tmp_path: Path) -> None:
    h = planted(analyzer_start=3, rate=1.0, professional=2, months=2, denials=2)
    root = write_bundle(tmp_path, h)
    frame = load_frames([root]).frames["Repository/License"]
    assert frame.height == len(h.events)
    first = min(e.time for e in h.events)
    assert frame["Timestamp"].min() == first.replace(microsecond=first.microsecond // 1000 * 1000)
    assert frame.filter(pl.col("Operation") == "UsageDenied")["AccessType"].null_count() == 2


def test_audit_security_and_proxy_files_parse(tmp_path: Path) -> None:
    t = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    root = write_bundle(
        tmp_path,
        History(),
        visits=[(t, "CORP\\bob")],
        audit=[
            (
                t,
                "CORP\\bob",
                "License user access",
                "403",
                "Login access denied for SessionID: 'x', Hostname: \"::1\", OperationType: 'UsageDenied'",
            )
        ],
    )
    frames = load_frames([root])
    assert frames.frames["Repository/AuditSecurity"]["Command"].to_list() == ["License user access"]
    assert frames.frames["Proxy/AuditActivity"]["UserId"].to_list() == ["bob"]
