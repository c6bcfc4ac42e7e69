"""The reload story of the last week (formats.md §5–6) and its truth.

Planted facts:

- *Reload License Monitor* (daily 05:30) fails on the two days after the engine-upgrade night with an
  HTTP 401 from ``monitor_apps_REST_license_user`` (one retry each day, then ``Max retries reached``),
  after an admin edited that connection; the connection is fixed the second afternoon and the task
  recovers.  *Reload Operations Monitor* succeeds every day.
- *Reload HR Headcount* fails at initiation once (no executor: status ``Error``, no script log).
- *Reload Finance Ledger* fails once with a connector error, *Reload Sales Overview* once with a missing
  file; *Reload Warehouse Stock* runs on the rim node.
- A user's hub reload of *Customer Churn* fails on a missing field (no task, no TaskExecution row).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from qslogs_synth import monitoring
from qslogs_synth.activity import proxy_session
from qslogs_synth.clock import MINUTE, local
from qslogs_synth.context import Ctx, Outcome, iso
from qslogs_synth.engine_session import manual_reload
from qslogs_synth.license_events import Allocation, use
from qslogs_synth.runs import run_task
from qslogs_synth.scriptlog import Failure
from qslogs_synth.site import Node, Task, local_at

HTTP_401 = "HTTP protocol error 401 (Unauthorized): The server refused the request."
HTTP_401_QVX = (
    "QVX_UNEXPECTED_END_OF_DATA: HTTP protocol error 401 (Unauthorized): Requested resource "
    "requires authentication."
)
CONNECTOR = (
    "Connector reply error: SQL##f - SqlState: 08001, ErrorCode: 53, ErrorMsg: [Microsoft][ODBC Driver 18 "
    "for SQL Server]Named Pipes Provider: Could not open a connection to SQL Server [53]."
)
NO_EXECUTOR = "Could not reserve an executor for task"
LM_CONNECTION = "monitor_apps_REST_license_user"

#: key → (task name, app name, script, rim?, local trigger times (h, m), weekdays only?)
TASKS: dict[str, tuple[str, str, str, bool, tuple[tuple[int, int], ...], bool]] = {
    "hr": ("Reload HR Headcount", "HR Headcount", "hr", False, ((2, 5),), False),
    "om": ("Reload Operations Monitor", "Operations Monitor", "operations_monitor", False, ((5, 0),), False),
    "lm": ("Reload License Monitor", "License Monitor", "license_monitor", False, ((5, 30),), False),
    "finance": ("Reload Finance Ledger", "Finance Ledger", "finance", False, ((6, 10),), False),
    "sales": (
        "Reload Sales Overview",
        "Sales Overview",
        "sales",
        False,
        ((8, 15), (11, 15), (14, 15), (17, 15)),
        True,
    ),
    "warehouse": (
        "Reload Warehouse Stock",
        "Warehouse Stock",
        "warehouse",
        True,
        ((0, 40), (6, 40), (12, 40), (18, 40)),
        False,
    ),
}


def schedule(ctx: Ctx, times: Iterable[tuple[int, int]], weekdays: bool, lo: int, hi: int) -> list[int]:
    """Trigger instants of a local-time schedule between ``lo`` and ``hi`` (UTC ms), with second jitter."""
    out: list[int] = []
    day = local(lo).date()
    while day <= local(hi).date():
        if not weekdays or day.weekday() < 5:
            for hh, mm in times:
                t = local_at(day, hh, mm) + ctx.rng.randint(200, 1500)
                if lo <= t < hi:
                    out.append(t)
        day += timedelta(days=1)
    return out


def make_tasks(ctx: Ctx) -> dict[str, Task]:
    """The story's tasks with their trigger times in the last week."""
    site = ctx.site
    tasks: dict[str, Task] = {}
    for key, (name, app, script, rim, times, weekdays) in TASKS.items():
        node: Node = site.rim if rim else site.central
        trig = schedule(ctx, times, weekdays, site.story_start_ms, site.end_ms - 10 * MINUTE)
        tasks[key] = Task(ctx.ids.guid(), name, site.apps[app], node, ctx.ids.guid(), script, tuple(trig))
    site.tasks.update(tasks)
    return tasks


def _on(day: date, times: tuple[int, ...]) -> int:
    """The first run on or after local ``day`` (the last run if none)."""
    return next((t for t in times if local(t).date() >= day), times[-1])


def _connection_change(ctx: Ctx, t: int, what: str) -> dict[str, str]:
    """Repository audit row for an admin editing the License Monitor's REST connection."""
    c, admin = ctx.site.central, ctx.site.admin
    conn_id = ctx.site.apps["License Monitor"].app_id[:8] + "-5e1a-4c2b-9d3e-7f00c0ffee01"
    ctx.sink.add(
        c,
        "Repository",
        "AuditActivity",
        t,
        ctx.rows.audit(
            t,
            c,
            "Repository",
            "Update dataconnection",
            psid=ctx.ids.guid(),
            ppid=ctx.ids.guid(),
            udir="CORP",
            uid=admin.user_id,
            obj_id=conn_id,
            obj_name=LM_CONNECTION,
            origin="ManagementAccess",
            context=f"/qrs/dataconnection/{conn_id}",
            message=f"Data connection '{LM_CONNECTION}' updated: {what} (HTTP code: 200)",
        ),
    )
    return {"utc": iso(t), "user": admin.qualified, "connection": LM_CONNECTION, "change": what}


def generate(ctx: Ctx, allocations: list[Allocation], scenario: str | None = None) -> dict[str, Any]:
    """Write the week of reloads; return the reload truth (every execution and every planted failure).

    ``scenario`` (see :mod:`qslogs_synth.monitoring`) replaces the License Monitor story; None keeps it.
    """
    site, rng = ctx.site, ctx.rng
    tasks = make_tasks(ctx)
    up_day = local(site.upgrade_ms).date()
    lm_fail_days = [up_day + timedelta(days=1), up_day + timedelta(days=2)]
    plan: dict[int, tuple[str, Outcome]] = {}
    if scenario is None:
        lm = tasks["lm"]
        for n, day in enumerate(lm_fail_days):
            err = HTTP_401 if n == 0 else HTTP_401_QVX
            plan[_on(day, lm.times)] = ("lm", Outcome("FinishedFail", Failure(3, (err,)), error_class="auth"))
    else:
        plan.update(monitoring.plan(ctx, tasks, scenario, schedule, HTTP_401_QVX))
    hr_day = up_day - timedelta(days=2)  # the DST-change Sunday: 02:05 local happens twice
    plan[_on(hr_day, tasks["hr"].times)] = (
        "hr",
        Outcome("Error", initiation=NO_EXECUTOR, error_class="initiation"),
    )
    plan[_on(up_day - timedelta(days=1), tasks["finance"].times)] = (
        "finance",
        Outcome("FinishedFail", Failure(0, (CONNECTOR,)), error_class="connector"),
    )
    later = [t for t in tasks["sales"].times if local(t).date() > up_day + timedelta(days=2)]
    sales_fail = (later or list(tasks["sales"].times))[min(1, len(later) - 1) if later else -1]
    plan[sales_fail] = (
        "sales",
        Outcome(
            "FinishedFail", Failure(0, ("Cannot open file: 'lib://DataFiles/sales.qvd'",)), error_class="file"
        ),
    )
    runs = sorted((t, key) for key, task in tasks.items() for t in task.times)
    executions: list[dict[str, Any]] = []
    for t, key in runs:
        _, outcome = plan.get(t, (key, Outcome()))
        rec = run_task(ctx, tasks[key], t, outcome)
        executions.append(rec)
        if scenario is None and key == "lm" and outcome.failure is not None:  # a retry a minute after
            retry = Outcome("FinishedFail", outcome.failure, max_retries=True, error_class="auth")
            stop = int(rec["duration_ms"]) + t + 15
            executions.append(
                run_task(ctx, tasks[key], stop + 60_000 + rng.randint(0, 900), retry, attempt=2)
            )
    changes = [
        _connection_change(ctx, local_at(up_day, 14, 12, 37) + 412, "credentials changed"),
        _connection_change(ctx, local_at(lm_fail_days[-1], 15, 40, 9) + 87, "credentials changed"),
    ]
    manual = _manual(ctx, allocations, local_at(lm_fail_days[-1], 13, 47, 20))
    monitor_starts = sorted(t for t, k in runs if k in ("lm", "om"))
    truth: dict[str, Any] = {
        "window": {"start_utc": iso(site.story_start_ms), "end_utc": iso(site.end_ms)},
        "tasks": [
            {
                "key": k,
                "task_id": v.task_id,
                "name": v.name,
                "app_id": v.app.app_id,
                "app_name": v.app.name,
                "node": v.node.fqdn,
                "executions": len(v.times),
            }
            for k, v in tasks.items()
        ],
        "executions": executions,
        "license_monitor": _lm_truth(tasks.get("lm"), executions, scenario),
        "operations_monitor": {"task_id": tasks["om"].task_id, "all_succeeded": True},
        "connection_changes": changes,
        "manual_reload": manual,
        "failures": [e for e in executions if e["status"] != "FinishedSuccess"] + [manual],
    }
    if scenario is not None:
        truth["scenario"] = scenario
        truth["service_denials"] = monitoring.service_denials(ctx, monitor_starts)
    return truth


def _lm_truth(lm: Task | None, executions: list[dict[str, Any]], scenario: str | None) -> dict[str, Any]:
    """What was planted for the License Monitor, and the verdict qslogs must reach at the bundle's end."""
    if lm is None:
        return {
            "task_id": None,
            "connection": LM_CONNECTION,
            "failed_local_dates": [],
            "failed_execution_ids": [],
            "runs": 0,
            "expected_verdict": "missing",
            "explanation": "no License Monitor reload task on the site (renamed or deleted)",
        }
    lm_runs = [e for e in executions if e["task_id"] == lm.task_id]
    lm_failed = [e for e in lm_runs if e["status"] != "FinishedSuccess"]
    ok = [e for e in lm_runs if e["status"] == "FinishedSuccess"]
    last_fail = max((e["stop_utc"] for e in lm_failed), default=None)
    out: dict[str, Any] = {
        "task_id": lm.task_id,
        "app_id": lm.app.app_id,
        "connection": LM_CONNECTION,
        "failed_local_dates": sorted(
            {f"{e['start_time'][:4]}-{e['start_time'][4:6]}-{e['start_time'][6:8]}" for e in lm_failed}
        ),
        "failed_execution_ids": [e["execution_id"] for e in lm_failed],
        "errors": [f"Error: {HTTP_401}", f"Error: {HTTP_401_QVX}"],
        "last_failure_utc": last_fail,
        "recovered_execution_id": next(
            (e["execution_id"] for e in ok if last_fail is not None and e["start_utc"] > last_fail), None
        ),
        "last_status": lm_runs[-1]["status"],
        "runs": len(lm_runs),
        "explanation": "HTTP 401 from a monitor_apps_REST_* connection: its stored credentials were changed",
    }
    if scenario is not None:
        out["last_success_utc"] = max((e["stop_utc"] for e in ok), default=None)
        out["expected_verdict"] = {"healthy": "ok", "failing": "failing", "stale": "stale"}[scenario]
        out["failures_since_success"] = sum(
            1 for e in lm_failed if out["last_success_utc"] is None or e["start_utc"] > out["last_success_utc"]
        )
    return out


def _manual(ctx: Ctx, allocations: list[Allocation], t: int) -> dict[str, Any]:
    """A professional user opens Customer Churn in the hub and reloads it from the data load editor."""
    site = ctx.site
    a = next(
        x for x in allocations if x.kind == "professional" and x.user is not site.admin and x.removed is None
    )
    app = site.apps["Customer Churn"]
    s = proxy_session(ctx, site.central, a.user, t, 25, app)
    use(ctx, a, t + 330, s.psid, s.ppid)
    rec = manual_reload(
        ctx,
        site.central,
        app,
        a.user.user_id,
        s.psid,
        s.ppid,
        t + 95_000,
        Failure(1, ("Field 'SessionId' not found",)),
    )
    rec["connection"] = None
    return rec

