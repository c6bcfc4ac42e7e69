"""Size filler for ``target_mb`` bundles: realistic extra traffic that leaves the planted story intact.

The budget left after the story is split between

- extra *successful* reloads of four filler tasks (full lifecycle plus script logs, like the story's);
- lazy, time-ordered row generators (engine system and performance rows, proxy audit rows, repository
  audit rows, scheduler schema events) that the sink merges into the same streams while writing, so a
  1 GB bundle never sits in memory.

User-identifying filler (proxy and repository audit) stays *before* the story week, so the week's user
counts in TRUTH.json hold; rim-node filler stops at the rim's last restart, whose active files the
collector does not copy.  Row counts come from a measured mean row size, so the total lands close to
the target.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from qslogs_synth.clock import DAY, MINUTE, fmt_net
from qslogs_synth.context import Ctx, Outcome
from qslogs_synth.ids import Ids
from qslogs_synth.rows import Rows
from qslogs_synth.runs import run_task
from qslogs_synth.sink import Row
from qslogs_synth.site import App, Node, Task, User


@dataclass(frozen=True)
class Pool:
    """What filler rows pick from, listed once (apps, users with an allocation, tasks)."""

    apps: list[App]
    users: list[User]
    tasks: list[Task]


Builder = Callable[[Rows, Pool, Node, int, random.Random], str]

_ENGINE_MSGS = (
    "CGenericConnection: Terminate call status = OK, response = QVX_OK",
    "NotificationManagement: Received internal app notification for app [{app}], sending to 1 subscribers",
    "TheServer: Registering new server session",
    "QvSocket: Connected to server as user: 'UserDirectory=INTERNAL; UserId=sa_repository' "
    "for document: '{app}' on socket {ip}:4747 <-> {ip}:{port}",
    "Session stop reason: Socket closed by client",
    "DOC loading: Unloading document {app}, state UNLOADING.",
    "Document Load: The document {app} was loaded.",
)
_PROXY_CMDS = (
    ("Start session", "Start session for user: '{q}'", "/qps/sessionstart/{u}"),
    (
        "Open connection",
        "Backend web socket connection Opened for session '{s}'. App id: '{app}'.",
        "/app/{app}",
    ),
    (
        "Close connection",
        "Backend web socket connection Closed for session '{s}'. App id: '{app}.",
        "/app/{app}",
    ),
    (
        "Stop session",
        "Stop session for user '{q}' . Session id = '{s}' and all dependents will be deleted.",
        "/qps/sessionstop",
    ),
)


def _engine_system(r: Rows, pool: Pool, node: Node, t: int, rng: random.Random) -> str:
    app = rng.choice(pool.apps).app_id
    msg = rng.choice(_ENGINE_MSGS).format(app=app, ip=node.ip, port=r.ids.between(49200, 65000))
    return r.engine_system(t, node, msg)


def _engine_perf(r: Rows, pool: Pool, node: Node, t: int, rng: random.Random) -> str:
    pid, started = r.engine_run(node, t)
    b = r.ids.between
    cells = "\t".join([str(rng.getrandbits(5)) for _ in range(18)])
    cells += (
        f"\t{b(0, 60)}\t{b(900, 4200)}\t{b(800, 4000)}\t{b(20_000, 28_000)}\t{b(20_000, 28_000)}\t{b(0, 900)}"
        f"\t{b(0, 1500)}\t{b(0, 300)}\t{b(0, 90_000_000)}\t{rng.random() * 2:.6f}\t0"
    )
    return r.trace_id2(
        t,
        node,
        "Performance.Engine.Engine",
        "",
        (
            "0",
            "Internal",
            "Engine",
            fmt_net(t),
            str(b(900, 9000)),
            str(pid),
            r.exe_version(t, node),
            fmt_net(started),
            "Normal",
            cells,
        ),
    )


def _proxy_activity(r: Rows, pool: Pool, node: Node, t: int, rng: random.Random) -> str:
    u = rng.choice(pool.users)
    app = rng.choice(pool.apps).app_id
    cmd, msg, context = rng.choice(_PROXY_CMDS)
    s = r.ids.guid()
    return r.audit(
        t,
        node,
        "Proxy",
        cmd,
        psid=s,
        ppid=r.ids.guid(),
        udir="CORP",
        uid=u.user_id,
        origin="AppAccess",
        context=context.format(u=u.user_id, app=app),
        message=msg.format(q=u.qualified, s=s, app=app),
    )


def _proxy_trace(r: Rows, pool: Pool, node: Node, t: int, rng: random.Random) -> str:
    u = rng.choice(pool.users)
    ticket = r.ids.ticket()
    return r.trace_checksum(
        t,
        node,
        "Audit.Proxy.Proxy.SessionEstablishment.Authentication.TicketValidator",
        f"Issued ticket '{ticket}' for user, valid for 1 minute(s)",
        ("0", "", "CORP", u.user_id, ticket, "", "", "", ""),
    )


def _repo_activity(r: Rows, pool: Pool, node: Node, t: int, rng: random.Random) -> str:
    u = rng.choice(pool.users)
    app = rng.choice(pool.apps)
    return r.audit(
        t,
        node,
        "Repository",
        "Open app",
        psid=r.ids.guid(),
        ppid=r.ids.guid(),
        rsid=f"{r.ids.between(1, 40)}.0",
        udir="CORP",
        uid=u.user_id,
        obj_id=app.app_id,
        obj_name=app.name,
        origin="AppAccess",
        context=f"/qrs/app/{app.app_id}/open/full",
        message="Success (HTTP code: 200)",
    )


def _scheduler(r: Rows, pool: Pool, node: Node, t: int, rng: random.Random) -> str:
    task = rng.choice(pool.tasks)
    return r.sched(
        t,
        node,
        "Master.Schedule.SchemaEvent",
        f"Schema {task.name} Schema with Id {task.schema_id} for "
        f"task {task.name} with Id {task.task_id} activated",
    )


#: (service, logtype, share of the lazy budget, builder, user-identifying?)
KINDS: tuple[tuple[str, str, float, Builder, bool], ...] = (
    ("Engine", "System", 0.36, _engine_system, False),
    ("Engine", "Performance", 0.12, _engine_perf, False),
    ("Proxy", "AuditActivity", 0.18, _proxy_activity, True),
    ("Proxy", "Audit", 0.10, _proxy_trace, True),
    ("Repository", "AuditActivity", 0.16, _repo_activity, True),
    ("Scheduler", "System", 0.08, _scheduler, False),
)


def _stream(
    rows: Rows, pool: Pool, build: Builder, node: Node, lo: int, hi: int, n: int, rng: random.Random
) -> Iterator[Row]:
    step = max((hi - lo) / max(n, 1), 1.0)
    for i in range(n):
        t = lo + int(i * step + rng.random() * step * 0.5)
        yield (t, -1, build(rows, pool, node, t, rng), None)


def _mean_size(ctx: Ctx, pool: Pool, build: Builder, node: Node) -> float:
    rng = random.Random(1)
    r = Rows(ctx.site, Ids(rng))
    t = ctx.site.story_start_ms
    return sum(len(build(r, pool, node, t + i * 997, rng).encode()) + 9 for i in range(64)) / 64


def _filler_tasks(ctx: Ctx) -> list[Task]:
    site = ctx.site
    names = ("Inventory Snapshot", "Web Analytics", "Marketing Leads", "Supply Chain KPIs")
    return [
        Task(
            ctx.ids.guid(),
            f"Reload {n}",
            site.apps[n],
            site.nodes[i % len(site.nodes)],
            ctx.ids.guid(),
            "generic",
        )
        for i, n in enumerate(names)
    ]


def _reloads(ctx: Ctx, budget: int, lo: int) -> int:
    """Successful filler reloads until ``budget`` bytes are used; returns how many were written."""
    site = ctx.site
    tasks = _filler_tasks(ctx)
    site.tasks.update({f"filler{i}": t for i, t in enumerate(tasks)})
    step = max((site.story_start_ms - lo) // max(budget // 30_000, 1), MINUTE)
    before, script_bytes, n, t = ctx.sink.queued_bytes, 0, 0, lo
    while ctx.sink.queued_bytes - before + script_bytes < budget and t < site.end_ms - 30 * MINUTE:
        task = tasks[n % len(tasks)]
        if task.node.central or t < site.restarts[task.node.index][-1] - 10 * MINUTE:
            k = len(ctx.scripts)
            run_task(ctx, task, t + ctx.rng.randint(0, 30_000), Outcome())
            script_bytes += sum(len(line) + 2 for s in ctx.scripts[k:] for line in s.lines)
            n += 1
        t += step
    return n


def add_bulk(ctx: Ctx, budget: int, seed: int) -> dict[str, Any]:
    """Spend about ``budget`` bytes on filler; return a summary for TRUTH.json."""
    site = ctx.site
    days = int(min(max(budget / 15e6, 14), 90))
    lo = site.end_ms - days * DAY
    reload_budget = int(budget * 0.15)
    n_reloads = _reloads(ctx, reload_budget, lo)
    lazy = budget - reload_budget
    shares = {n.index: (0.65 if n.central else 0.35 / max(len(site.nodes) - 1, 1)) for n in site.nodes}
    if len(site.nodes) == 1:
        shares = {0: 1.0}
    pool = Pool(
        list(site.apps.values()), [u for u in site.users if u.kind != "none"], list(site.tasks.values())
    )
    rows_total = 0
    for service, logtype, share, build, personal in KINDS:
        for node in site.nodes:
            hi = site.end_ms if node.central else site.restarts[node.index][-1] - MINUTE
            if personal:
                hi = min(hi, site.story_start_ms)
            n = int(lazy * share * shares[node.index] / _mean_size(ctx, pool, build, node))
            rng = random.Random(f"{seed}:bulk:{service}:{logtype}:{node.index}")
            rows = Rows(site, Ids(rng))
            ctx.sink.add_bulk(node, service, logtype, _stream(rows, pool, build, node, lo, hi, n, rng))
            rows_total += n
    return {
        "days": days,
        "filler_reload_executions": n_reloads,
        "filler_rows": rows_total,
        "filler_tasks": [
            t.name for t in site.tasks.values() if t.name.startswith("Reload ") and t.script == "generic"
        ],
        "all_filler_reloads_succeed": True,
    }
