"""The Log Collector's own files (formats.md §1.3): JSON dumps, ``SenseCollector.log``, the zip.

:func:`write_collector_zip` packs a bundle folder the way .NET ``ZipFile.CreateFromDirectory`` does:
member names with backslashes, files only, in a stable order and with fixed timestamps so that the
same folder always gives the same zip bytes.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from qslogs_synth.clock import DAY, fmt_qlik_iso_utc, local
from qslogs_synth.context import Ctx

_NAMES = (
    "AboutComponents",
    "AboutSystemInfo",
    "AppList",
    "CalInfo",
    "DataConnections",
    "dataconnectionList",
    "HotFixes",
    "LicenseAgent",
    "PageFile",
    "ProxyService",
    "QrsAbout",
    "ServiceCluster",
    "Services",
    "StdInfo",
    "SystemInfo",
    "WindowsEventLogs",
    "WindowsServiceInfovi",
    "WmiWin32",
    "qlikSenseMachineInfo",
    "qlikSenseServiceInfo",
)


def _calinfo(pro: tuple[int, int, int], ana: tuple[int, int, int]) -> dict[str, float]:
    """CalInfo counters; ``pro``/``ana`` are (capacity, allocated, used)."""
    out: dict[str, float] = {"TotalTokens": 0.0, "AvailableTokens": 0.0}
    for x in ("User", "Login", "Application"):
        out[f"{x}AllocatedTokens"] = 0.0
        out[f"{x}UsedTokens"] = 0.0
        out[f"{x}QuarantinedTokens" if x != "Login" else "LoginUnavailableTokens"] = 0.0
    for x, (cap, alloc, used) in (("Professional", pro), ("Analyzer", ana)):
        out[f"{x}AllocatedTokens"] = float(alloc)
        out[f"{x}UsedTokens"] = float(used)
        out[f"{x}QuarantinedTokens"] = 0.0
        out[f"{x}TotalTokens"] = float(
            cap
        )  # [inf] capacity: not in the observed key list, added for the demo
        out[f"{x}AvailableTokens"] = float(cap - alloc)
    return out


def write_dumps(
    ctx: Ctx, root: Path, pro: tuple[int, int, int], ana: tuple[int, int, int], data_connections: list[str]
) -> dict[str, str]:
    """Write the top-level ``<Name>_<guid>.json`` dumps and the collector's text files; return name → file."""
    site = ctx.site
    c = site.central
    end = site.end_ms
    nodes = [
        {"id": n.node_id, "name": n.fqdn, "hostName": n.fqdn, "isCentral": n.central} for n in site.nodes
    ]
    content: dict[str, Any] = {
        "CalInfo": _calinfo(pro, ana),
        "LicenseAgent": {
            "ExpireDate": fmt_qlik_iso_utc(end + 214 * DAY),
            "LicenseSerialNo": "9999000012345678",
            "IsExpired": False,
            "ExpiredReason": "",
            "IsBlacklisted": False,
        },
        "QrsAbout": {
            "BuildVersion": "31.14.2.0",
            "BuildDate": "9/20/2025 12:00:00 AM",
            "DatabaseProvider": "Devart.Data.PostgreSql",
            "NodeType": 1,
            "SharedPersistence": True,
            "RequiresBootstrap": False,
            "SingleNodeOnly": False,
            "SchemaPath": "About",
        },
        "ServiceCluster": {
            "id": site.apps["License Monitor"].app_id[:8] + "-0c1a-4b5c-8d9e-0123456789ab",
            "name": "ServiceCluster",
            "settings": {
                "sharedPersistenceProperties": {
                    "rootFolder": "\\\\fs01.corp.example\\QlikShare",
                    "appFolder": "\\\\fs01.corp.example\\QlikShare\\Apps",
                    "staticContentRootFolder": "\\\\fs01.corp.example\\QlikShare\\StaticContent",
                    "archivedLogsRootFolder": "\\\\fs01.corp.example\\QlikShare\\ArchivedLogs",
                }
            },
        },
        "AboutComponents": [
            {"component": "Engine", "version": "14.187.4"},
            {"component": "Hub", "version": "4.62.3"},
        ],
        "AboutSystemInfo": {"releaseLabel": "November 2025", "productName": "Qlik Sense", "nodes": nodes},
        "AppList": [{"id": a.app_id, "name": a.name} for a in site.apps.values()],
        "DataConnections": [
            {"name": n, "type": "QvRestConnector.exe" if "REST" in n else "QvOdbcConnectorPackage.exe"}
            for n in data_connections
        ],
        "dataconnectionList": sorted(data_connections),
        # Not JSON in real bundles: the hotfix list is written as plain comma-separated text (see below).
        "HotFixes": "KB5034439, KB5034129, KB5033118, KB5032198",
        "PageFile": {"AllocatedBaseSize": 16384, "CurrentUsage": 412},
        "ProxyService": [{"serverNodeConfiguration": n} for n in nodes],
        "Services": [
            {"name": s, "status": "Running", "node": c.fqdn}
            for s in (
                "QlikSenseRepositoryService",
                "QlikSenseProxyService",
                "QlikSenseEngineService",
                "QlikSenseSchedulerService",
                "QlikSensePrintingService",
                "QlikSenseServiceDispatcher",
            )
        ],
        "StdInfo": {
            "MachineName": c.netbios,
            "Domain": "corp.example",
            "TimeZone": "W. Europe Standard Time",
        },
        "SystemInfo": {
            "OsName": "Microsoft Windows Server 2022 Standard",
            "Processors": 8,
            "TotalMemoryGB": 64,
        },
        "WindowsEventLogs": [],
        "WindowsServiceInfovi": [],
        "WmiWin32": {"Manufacturer": "VMware, Inc.", "Model": "VMware7,1"},
        "qlikSenseMachineInfo": nodes,
        "qlikSenseServiceInfo": [
            {"serviceType": s, "serviceState": 2}
            for s in ("Repository", "Proxy", "Engine", "Scheduler", "Printing")
        ],
    }
    written: dict[str, str] = {}
    for name in _NAMES:
        fname = f"{name}_{ctx.ids.guid()}.json"
        value = content[name]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
        (root / fname).write_text(text, encoding="utf-8")
        written[name] = fname
    stamp = local(end + 4 * 60_000).strftime("%Y-%m-%d %H:%M:%S")
    log = [
        f"{stamp} INFO Qlik Sense Log Collector started on {c.fqdn}",
        f"{stamp} INFO Collecting active logs from C:\\ProgramData\\Qlik\\Sense\\Log",
        f"{stamp} INFO Collecting archived logs from \\\\fs01.corp.example\\QlikShare\\ArchivedLogs",
        f"{stamp} INFO Script logs included",
        f"{stamp} INFO Done",
    ]
    (root / "SenseCollector.log").write_bytes(("\r\n".join(log) + "\r\n").encode())
    (root / "location.txt").write_bytes(b"C:\\ProgramData\\Qlik\\Sense\\Log\r\n")
    for n in site.nodes:
        cfg = {
            "configuration": {
                "appSettings": {
                    "ArchivedLogsRootFolder": "\\\\fs01.corp.example\\QlikShare\\ArchivedLogs",
                    "HostName": n.fqdn,
                }
            }
        }
        folder = root / n.fqdn
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"Repository.exe.config_{ctx.ids.guid()}.json").write_text(
            json.dumps(cfg, indent=2), encoding="utf-8"
        )
    return written


def write_collector_zip(folder: Path, zip_path: Path) -> Path:
    """Zip ``folder`` like the Log Collector: backslash member names, files only, sorted, fixed times."""
    folder, zip_path = Path(folder), Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for p in files:
            info = zipfile.ZipInfo("\\".join(p.relative_to(folder).parts), date_time=(2026, 10, 31, 19, 4, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # MS-DOS/Windows, as .NET writes it
            with p.open("rb") as src, zf.open(info, "w") as dst:
                while chunk := src.read(1 << 22):
                    dst.write(chunk)
    return zip_path
