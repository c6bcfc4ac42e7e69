"""Service restarts, periodic counters and the odd warning: the logs' background noise.

Also plants the bundle's single deliberately broken row (a truncated write in ``System_Repository``).
"""

from __future__ import annotations

from typing import Any

from qslogs_synth.clock import DAY, HOUR, MINUTE, fmt_net
from qslogs_synth.context import Ctx
from qslogs_synth.restarts import restart
from qslogs_synth.site import SERVICE_USER, Node


def _counters(ctx: Ctx, node: Node, lo: int, hi: int) -> None:
    add, rows, rng = ctx.sink.add, ctx.rows, ctx.rng
    t = lo - lo % (15 * MINUTE) + 15 * MINUTE + 9_363
    while t < hi:
        busy = 7 <= (t // HOUR + 1) % 24 <= 17
        sessions = rng.randint(2, 14) if busy else rng.randint(0, 2)
        add(
            node,
            "Proxy",
            "Performance",
            t,
            rows.trace_id2(
                t,
                node,
                "Performance.Proxy.Proxy.Monitoring.PerformanceLogger",
                "Proxy performance counters",
                (
                    "0",
                    str(sessions + 1),
                    "0",
                    str(sessions),
                    "0",
                    "0",
                    "0",
                    str(sessions),
                    str(sessions),
                    "16",
                    str(rng.randint(780, 1300)),
                ),
            ),
        )
        te = t + 611
        pid, started = rows.engine_run(node, te)
        counters = [
            sessions,
            sessions * 3,
            0,
            0,
            0,
            0,
            rng.randint(0, 9),
            min(sessions, 5),
            min(sessions, 5),
            min(sessions, 5),
            rng.randint(0, 3),
            0,
            rng.randint(0, 4000),
            rng.randint(0, 300),
            sessions,
            sessions * 2,
            sessions,
            sessions * 2,
            rng.randint(0, 35),
            rng.randint(900, 4200),
            rng.randint(800, 4000),
            rng.randint(20_000, 28_000),
            rng.randint(20_000, 28_000),
            rng.randint(0, 900),
            rng.randint(0, 1500),
            rng.randint(0, 300),
            rng.randint(0, 90_000_000),
        ]
        cells = "\t".join(map(str, counters)) + f"\t{rng.uniform(0, 2):.6f}\t0"
        add(
            node,
            "Engine",
            "Performance",
            te,
            rows.trace_id2(
                te,
                node,
                "Performance.Engine.Engine",
                "",
                (
                    "0",
                    "Internal",
                    "Engine",
                    fmt_net(te),
                    str(rng.randint(900, 9000)),
                    str(pid),
                    rows.exe_version(te, node),
                    fmt_net(started),
                    "Normal",
                    cells,
                ),
            ),
        )
        if t % HOUR < 15 * MINUTE:
            tq = t - t % HOUR + 22
            for name in ("Reload", "Clear"):
                add(
                    node,
                    "Engine",
                    "QixCounter",
                    tq,
                    rows.trace_checksum(
                        tq,
                        node,
                        "QixCounter.Engine.Engine",
                        "",
                        ("", "", "", fmt_net(tq + 1), "3200", str(pid), name, str(rng.randint(0, 4))),
                    ),
                )
        t += 15 * MINUTE


def _housekeeping(ctx: Ctx, node: Node, lo: int, hi: int) -> None:
    add, rows = ctx.sink.add, ctx.rows
    t = lo - lo % (4 * HOUR) + 4 * HOUR + 629
    clean = "System.Repository.Repository.Core.Agent.Actions.InMemoryCleaningAction"
    while t < hi:
        add(
            node,
            "Repository",
            "System",
            t,
            rows.simple(t, node, "INFO", clean, "Executing in memory cleaning action"),
        )
        add(
            node,
            "Repository",
            "System",
            t + 78,
            rows.simple(t + 78, node, "INFO", clean, "In memory Cleaning action finished"),
        )
        if t % DAY < 4 * HOUR:
            add(
                node,
                "Engine",
                "System",
                t + 15_000,
                rows.engine_system(t + 15_000, node, "System: Starting purge of temporary files."),
            )
        t += 4 * HOUR


def _warnings(ctx: Ctx) -> list[dict[str, Any]]:
    site, add, rows = ctx.site, ctx.sink.add, ctx.rows
    c = site.central
    out = []
    t = site.upgrade_ms + 2 * MINUTE
    add(
        c,
        "Repository",
        "System",
        t,
        rows.simple(
            t,
            c,
            "WARN",
            "System.Repository.Repository.Core.Cluster.NodeMonitor",
            f"Node {site.rim.fqdn} did not answer the heartbeat within 30 seconds, retrying",
        ),
        tag="warn_heartbeat",
    )
    out.append({"tag": "warn_heartbeat", "level": "WARN", "service": "Repository"})
    app = site.apps["Executive Dashboard"]
    t = site.end_ms - 2 * DAY + 3 * HOUR + 12 * MINUTE
    sid = ctx.ids.guid()
    add(
        c,
        "Engine",
        "System",
        t,
        rows.engine_system(
            t,
            c,
            f"Document Load: The document {app.app_id} failed to load because file couldn't be loaded "
            "[3002].",
            level="WARN",
            session_id=sid,
        ),
    )
    add(
        c,
        "Engine",
        "System",
        t + 18,
        rows.engine_system(
            t + 18,
            c,
            f"DOC loading: LoadDocument caught exception -2 while loading document {app.app_id.upper()}.",
            level="ERROR",
            session_id=sid,
        ),
        tag="error_docload",
    )
    add(
        c,
        "Engine",
        "Service",
        t + 90,
        rows.engine_service(
            t + 90,
            c,
            "Open app",
            app.app_id,
            severity="ERROR",
            result=3002,
            result_text="Error: File corrupted",
            session_id=sid,
            obj_id=app.app_id,
            context="Global::OpenApp",
        ),
    )
    out.append({"tag": "error_docload", "level": "ERROR", "service": "Engine", "app_id": app.app_id})
    return out


def broken_line(ctx: Ctx) -> None:
    """The one row with a wrong field count: a ``System_Repository`` write cut off mid-message."""
    c, t = ctx.site.central, ctx.site.end_ms - DAY - 5 * HOUR + 1_234
    text = (
        f"{fmt_net(t)}\tINFO\t{c.hostname}\tSystem.Repository.Repository.Core.Agent.Actions.InMemoryCleaningAction"
        f"\t57\t{ctx.ids.guid()}\t{SERVICE_USER}\tExecuting in memory cl"
    )
    ctx.sink.add(c, "Repository", "System", t, text, tag="broken_line")


def generate(ctx: Ctx) -> list[dict[str, Any]]:
    """Write restarts, counters, housekeeping and warnings for every node; return the warnings' truth."""
    site = ctx.site
    for node in site.nodes:
        for r in site.restarts[node.index]:
            if r >= site.story_start_ms - 16 * DAY:
                restart(ctx, node, r)
        hi = site.end_ms if node.central else site.restarts[node.index][-1]
        _counters(ctx, node, site.story_start_ms, hi)
        _housekeeping(ctx, node, site.story_start_ms - 14 * DAY, hi)
    broken_line(ctx)
    return _warnings(ctx)
