"""node.js service logs, access logs and legacy engine daily files of the central node (formats.md §3.4).

These are written straight to disk (no ``Sequence#`` rolling) with their own traps: no BOM, CRLF record
ends with raw LF continuation lines (Hub, AppMigration), raw TABs in OdagService messages, ``+01:00``
offsets (Odag), ISO dates (DataProfiling), LF-only access logs, and ``\\r\\r\\n`` in the engine Start file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qslogs_synth.clock import MINUTE, fmt_clf, fmt_iso, fmt_net, fmt_net_colon, fmt_nodejs_name, local
from qslogs_synth.context import Ctx
from qslogs_synth.headers import (
    DATAPROFILING,
    ENGINE_DAILY_PERFORMANCE,
    ENGINE_DAILY_SERVICE,
    ENGINE_DAILY_SSE,
    ENGINE_DAILY_START,
    ENGINE_DAILY_SYSTEM,
    NODEJS,
)
from qslogs_synth.site import NODEJS_VERSION, Node

_PORTS = {
    "AboutService": 9032,
    "AppMigration": 9030,
    "BrokerService": 9031,
    "CapabilityService": 9099,
    "ConnectorRegistryProxy": 3005,
    "ConverterService": 9035,
    "DepGraphService": 9051,
    "DownloadPrepService": 9090,
    "HubService": 9028,
    "OdagService": 9098,
    "WebExtensionService": 9080,
}
_ACCESS = (
    "AboutService",
    "BrokerService",
    "CapabilityService",
    "DepGraphService",
    "HubService",
    "WebExtensionService",
)
_PATHS = (
    "/api/hub/v1/apps",
    "/api/hub/v1/user/info",
    "/api/hub/about",
    "/api/hub/v1/streams",
    "/api/hub/v1/privileges",
)


def _write(path: Path, text: str, *, bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((("\ufeff" if bom else "") + text).encode())


def _service_file(ctx: Ctx, node: Node, svc: str, t0: int, hi: int) -> tuple[str, list[str], dict[str, int]]:
    """Records of one node.js process started at ``t0``; returns (file name, records, planted lines)."""
    odag = svc == "OdagService"
    ts = fmt_net_colon if odag else fmt_net
    ver = NODEJS_VERSION[svc]
    name = fmt_nodejs_name(t0) + ("_System.log" if odag else ".log")
    recs: list[str] = []
    planted: dict[str, int] = {}

    def rec(t: int, host: str, logger: str, sev: str, msg: str) -> None:
        recs.append(f"{len(recs) + 1}\t{ts(t)}\t{host}\t{ver}\t{logger}\t{sev}\t{msg}")

    rec(
        t0,
        "127.0.0.1",
        "Config" if odag else "Global",
        "INFO",
        "[startup]:\tinit:\tWaiting for certificates and hostname..."
        if odag
        else "Waiting for certificates and hostname...",
    )
    if odag:
        planted["odag_tabs"] = len(recs) + 1
    rec(t0 + 2_600, "127.0.0.1", "Global", "INFO", "Certificates and hostname received")
    if svc == "HubService":
        planted["nodejs_continuation"] = len(recs) + 2  # header is line 1
        rec(
            t0 + 5_700,
            node.fqdn_mixed,
            "Global",
            "WARN",
            "endpoint plugin C:/Program Files/Qlik/Sense/HubService/"
            "endpoint-plugins/openapi/index.js failed to load, Error: Cannot find module "
            "'../../../public/api-docs.json'\n"
            "    at Function.Module._resolveFilename (node:internal/modules/cjs/loader:1140:15)\n"
            "    at Module.require (node:internal/modules/cjs/loader:1231:19)",
        )
    if svc == "AppMigration":
        rec(
            t0 + 6_900,
            node.fqdn_mixed,
            "Request",
            "WARN",
            f"Request 0 failed: Error: connect ECONNREFUSED "
            f"{node.ip}:4242\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
        )
    if odag:
        rec(
            t0 + 4_000,
            node.fqdn_mixed,
            "QrsRest",
            "INFO",
            f"API-ID [startup]:\tGET\thttps://{node.fqdn_mixed}:4242"
            f"/qrs/about/\tError: connect ECONNREFUSED {node.ip}:4242",
        )
    rec(t0 + 6_100, node.fqdn_mixed, "Global", "INFO", f"{svc} listening on: https://:::{_PORTS[svc]}")
    t = t0 + 6 * 3_600_000
    while t < hi:
        rec(t, node.fqdn_mixed, "Global", "INFO", "Health check: ok")
        t += 24 * 3_600_000
    return name, recs, planted


def write_nodejs(ctx: Ctx, root: Path, sessions_ips: list[str]) -> dict[str, Any]:
    """Write node.js logs for the last two process starts of the central node; return planted locations."""
    site, rng = ctx.site, ctx.rng
    node = site.central
    starts = site.restarts[node.index][-2:]
    planted: dict[str, Any] = {}
    for svc in NODEJS_VERSION:
        for i, t0 in enumerate(starts):
            t0 += 40_000 + rng.randint(0, 20_000)
            hi = starts[i + 1] if i + 1 < len(starts) else site.end_ms
            name, recs, lines = _service_file(ctx, node, svc, t0, hi)
            rel = f"Log/{svc}/{name}"
            _write(root / rel, NODEJS + "\r\n" + "".join(r + "\r\n" for r in recs))
            for key, line in lines.items():
                planted[key] = f"{rel}:{line}"
            if svc in _ACCESS and i == len(starts) - 1:
                out = []
                for _ in range(40 if svc == "HubService" else 6):
                    t = rng.randint(t0, site.end_ms - MINUTE)
                    out.append(
                        (
                            t,
                            f'{rng.choice(sessions_ips)} - - [{fmt_clf(t)}] "GET {rng.choice(_PATHS)} '
                            f'HTTP/1.1" 200 {rng.randint(60, 4000)} "https://{node.fqdn}/hub/" "Mozilla/5.0 '
                            '(Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"',
                        )
                    )
                _write(root / f"Log/{svc}/{name[:-4]}-access.log", "".join(x[1] + "\n" for x in sorted(out)))
    for t0 in starts:
        t0 += 35_000
        dp = [
            f"System\tINFO\t{fmt_iso(t0 + k * 7)}\t{1476883994.39 + k * 1862.7:.3f}\t{m}"
            for k, m in enumerate(
                (
                    "Starting DataPrep Service",
                    "Waiting for certificates",
                    "Certificates received",
                    "Creating secure server",
                )
            )
        ]
        _write(
            root / f"Log/DataProfiling/{t0}_System.log",
            DATAPROFILING + "\r\n" + "".join(x + "\r\n" for x in dp),
        )
    return planted


def write_engine_daily(ctx: Ctx, root: Path) -> dict[str, str]:
    """Legacy engine daily files for the engine-upgrade restart (``Start`` uses ``\\r\\r\\n``)."""
    site, node = ctx.site, ctx.site.central
    r = site.restarts[node.index][-1]
    day = local(r).date().isoformat()
    pid, started = ctx.rows.engine_run(node, r + 95_000)
    old_pid, _ = ctx.rows.engine_run(node, r - 1)
    h = node.netbios
    tid = 4372
    start = [
        f"INFO\t{fmt_net(r + 90_000 + k * 180)}\t{pid}\t{tid}\t{m}"
        for k, m in enumerate(
            ("Invalid parameter handler set", f"ComputerName is {h}", "Locale(s) set", "Server started")
        )
    ]
    files = {
        f"Log/Engine/{h}_Start_Engine_{day}.log": (ENGINE_DAILY_START, start, "\r\r\n"),
        f"Log/Engine/Engine/{h}_Start_Engine_{day}.log": (ENGINE_DAILY_START, start, "\r\n"),
        f"Log/Engine/Engine/{h}_Exit_Engine_{day}.log": (
            ENGINE_DAILY_START,
            [
                f"INFO\t{fmt_net(r - 58_000 + k * 2)}\t{old_pid}\t{tid + 4}\t{m}"
                for k, m in enumerate(
                    ("Spawning KillerThread", "ServerExit entered", "Kill child processes still running")
                )
            ],
            "\r\n",
        ),
        f"Log/Engine/Engine/{h}_System_Engine_{day}.log": (
            ENGINE_DAILY_SYSTEM,
            [
                f"INFO\t{fmt_net(r + 91_000 + k * 300)}\t{pid}\t{tid}\t0\tInternal\tEngine\t"
                f"{fmt_net(started)}\t{m}"
                for k, m in enumerate(
                    (
                        "WorkingSet: Configured Working Set Size is 25.6-28.8 GB (setting 70%-90%)",
                        "CNTService: The service (Engine) was started.",
                        "GlobalContext: Initiating Broker default port 4900",
                    )
                )
            ],
            "\r\n",
        ),
        f"Log/Engine/Engine/{h}_SSE_Engine_{day}.log": (
            ENGINE_DAILY_SSE,
            [f"INFO\t{fmt_net(r + 91_500)}\t{pid}\t{tid}\t0\tInternal\tEngine\t-\t-\t-\t-\tSSE GRPC enabled"],
            "\r\n",
        ),
        f"Log/Engine/Engine/{h}_Performance_Engine_{day}.log": (
            ENGINE_DAILY_PERFORMANCE,
            [
                f"INFO\t{fmt_net(r + 92_000)}\t{pid}\t{tid}\t0\tInternal\tEngine\t"
                f"{ctx.rows.exe_version(r + 92_000, node)}\t"
                f"{fmt_net(started)}\tServer starting\t"
                + "\t".join(["0"] * 19)
                + "\t15\t164\t4335\t4335\t0\t0\t0\t0"
                "\t0.000000\t0"
            ],
            "\r\n",
        ),
        f"Log/Engine/Engine/System/{h}_Service_Engine_{day}.log": (
            ENGINE_DAILY_SERVICE,
            [
                f"INFO\t31.14.2.0\t{fmt_net(r + 90_500 + k)}\t"
                "Command=Start engine;Result=0;ResultText=Success\t0\t0\t0\t"
                f"System\tSystem\t\t\tEngine\tNot available\tINI\tStart engine\t0\tCurrent setting for {s}"
                for k, s in enumerate(
                    ("CpuThrottlePercentage=0.0, default=0", "AllowDataLineage=1, default=0")
                )
            ],
            "\r\n",
        ),
    }
    for rel, (header, lines, eol) in files.items():
        _write(root / rel, header + eol + "".join(x + eol for x in lines), bom=True)
    return {"engine_start_crcrlf": f"Log/Engine/{h}_Start_Engine_{day}.log"}
