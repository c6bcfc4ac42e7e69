"""Plain-language findings of the reloads analysis: stale monitoring apps, failing tasks, failed hub reloads.

Titles say what is wrong in one line an admin can act on ("License Monitor has not reloaded successfully
for 2 days: HTTP 401 from data connection monitor_apps_REST_license_user"); details carry the hint from
:mod:`qslogs.error_classes` and where the evidence is (script log and line).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

import polars as pl

from qslogs.analyses.reloads.aggregates import FAILED
from qslogs.analyses.reloads.health import age_words, hours_between
from qslogs.analyses.reloads.run_outcome import NOTE_NOT_COLLECTED
from qslogs.findings import (
    PERSISTENT,
    SEVERITY_ORDER,
    UNCLASSIFIED,
    Finding,
    Severity,
    cause_persistence,
    severity_for,
)
from qslogs.jsonable import to_jsonable
from qslogs.words import plural


def short_time(value: datetime | str | None) -> str:
    """``2026-10-03 04:00 UTC`` for titles (ISO strings accepted)."""
    if value is None:
        return "?"
    if isinstance(value, str):
        return re.sub(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}).*$", r"\1 \2 UTC", value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def manual_reload_key(script_log: str | None, time: datetime | str | None, app_id: str | None) -> str:
    """The key of a manual reload (a row of ``manual_reloads``): its script log, else its time (ISO, as in
    ``--json``) and app id."""
    return script_log or f"{to_jsonable(time)}-{app_id}"


def _short(text: str | None, limit: int = 100) -> str:
    one = re.sub(r"(?i)^error:\s*", "", " ".join((text or "").split()))
    return one if len(one) <= limit else one[: limit - 1] + "…"


def cause_phrase(error_class: str | None, text: str | None, connection: str | None) -> str:
    """A few words for a title: ``HTTP 401 from data connection X``, ``Field 'Region' not found``, …"""
    on_conn = f" from data connection {connection}" if connection else ""
    if error_class == "auth":
        code = re.search(r"\b(40[13])\b", text or "")
        return (
            f"HTTP {code.group(1)}{on_conn}" if code else f"credentials refused{on_conn}: {_short(text, 70)}"
        )
    if error_class == "connector":
        where = f" on data connection {connection}" if connection else ""
        return f"connector error{where}: {_short(text, 70)}"
    if error_class == "initiation":
        return (
            f"failed before the script ran; the scheduler said '{_short(text, 70)}'"
            if text
            else "failed before the script ran (no script log, no scheduler error line)"
        )
    if error_class == "aborted":
        return "the reload was aborted"
    return _short(text) or "no error text in the bundle"


def _where(row: dict[str, Any]) -> str:
    if row.get("script_log") and row.get("line"):
        return f" (script log {row['script_log']}, line {row['line']})"
    return ""


#: What a persistent cause needs before the reload can succeed again, by error class.
_UNTIL = {
    "auth": "the credentials of {conn} are fixed",
    "connector": "the data connection {conn} exists again (it was renamed or deleted)",
    "script": "the load script (or the source that no longer has that field or table) is fixed",
    "file": "the file or folder it reads is back where the script expects it",
}
_DATA_OF = {"License Monitor": "the license data", "Operations Monitor": "the operations data"}


def _day_words(when: datetime, now: datetime | None) -> str:
    """``04:59 UTC tomorrow``, ``16:00 UTC today`` or ``2026-11-02 04:59 UTC``."""
    clock = when.strftime("%H:%M UTC")
    if now is not None:
        days = (when.date() - now.date()).days
        if days in (0, 1):
            return f"{clock} {'today' if days == 0 else 'tomorrow'}"
    return short_time(when)


def _failures_of(runs: pl.DataFrame, tasks: list[str], after: datetime | None) -> dict[str, Any]:
    """The failed runs of ``tasks`` after ``after``: count, first and last start, and the runs seen."""
    mine = runs.filter(pl.coalesce("task", "task_id").is_in(tasks))
    failed = mine.filter(pl.col("outcome").is_in(FAILED))
    if after is not None:
        failed = failed.filter(pl.col("start") > after)
    return {
        "tasks": tasks,
        "runs": mine.height,
        "failures": failed.height,
        "first_failure": failed["start"].min() if failed.height else None,
        "last_failure": failed["start"].max() if failed.height else None,
        "nodes": sorted({n for n in failed["node"].to_list() if n}),
    }


def _missing_finding(analysis: str, m: dict[str, Any], data: dict[str, Any]) -> Finding:
    name = m["name"]
    if m["verdict"] == "unknown":
        return Finding(
            analysis,
            severity_for("monitor", "unknown"),
            f"No reload of the {name} found in the bundle (no scheduler logs)",
            f"The bundle has no scheduler logs, so whether the {name} reloads cannot be judged. Collect "
            "the Scheduler logs (TaskExecution, System, AuditActivity) of the central node.",
            data,
        )
    return Finding(
        analysis,
        severity_for("monitor", "missing"),
        f"No reload task for the {name}: it was not reloaded in the period of the bundle",
        f"The scheduler logs show other tasks but no task or app named like '{name}': its reload task was "
        "probably renamed or deleted. Recreate the reload task in the QMC (Tasks, Create new, app "
        f"'{name}', a daily or hourly trigger), or collect logs covering a longer period if it runs rarely.",
        data,
    )


def _monitor_finding(analysis: str, m: dict[str, Any], runs: pl.DataFrame) -> Finding:
    """One finding per monitoring app, carrying its task's failures too (one problem, one finding)."""
    name, root, verdict = m["name"], m["root_cause"] or {}, m["verdict"]
    last_ok, now = m["last_success"], m["now"]
    keys = ("name", "verdict", "last_success", "last_attempt", "last_status", "stale", "stale_at",
            "failing_since", "age_hours", "failures_since_success", "now", "root_cause")
    task = _failures_of(runs, m["tasks"], last_ok if isinstance(last_ok, datetime) else None)
    data = to_jsonable({k: m[k] for k in keys} | {"task_failures": task})
    if verdict in ("missing", "unknown"):
        return _missing_finding(analysis, m, data)
    if verdict == "ok":
        return Finding(
            analysis,
            severity_for("monitor", "ok"),
            f"{name} reloaded successfully {age_words(m['age_hours'] or 0)} before {short_time(now)}",
            f"Last successful reload: {short_time(last_ok)}; its data goes stale at "
            f"{short_time(m['stale_at'])} if no reload succeeds before.",
            data,
        )
    persistence = root.get("persistence") or UNCLASSIFIED
    severity = severity_for("monitor", verdict, persistence)
    cause = cause_phrase(root.get("class"), root.get("text"), root.get("connection")) if root else ""
    what = _DATA_OF.get(name, "its data")
    if verdict == "stale":
        if isinstance(last_ok, datetime) and isinstance(now, datetime):
            title = f"{name} has not reloaded successfully for {age_words(hours_between(last_ok, now))}"
        else:
            title = f"{name} has not reloaded successfully in the period of the bundle"
        outlook = (
            f"{what[0].upper()}{what[1:]} is stale since {short_time(m['stale_at'])}."
            if m["stale_at"]
            else f"{what[0].upper()}{what[1:]} was not refreshed in the period of the bundle."
        )
    else:
        n = m["failures_since_success"]
        title = f"{name} is failing since {short_time(m['failing_since'])} ({n} failed reload{'s' if n != 1 else ''})"
        stale_at = _day_words(m["stale_at"], now) if isinstance(m["stale_at"], datetime) else "?"
        outlook = f"{what[0].upper()}{what[1:]} goes stale at {stale_at}."
    if persistence == PERSISTENT and root.get("class") in _UNTIL:
        until = _UNTIL[str(root["class"])].format(conn=root.get("connection") or "the data connection")
        outlook = f"It will keep failing until {until}; {outlook[0].lower()}{outlook[1:]}"
    elif verdict == "failing":
        outlook = f"A retry may succeed (the cause is often temporary); if none does, {outlook[0].lower()}{outlook[1:]}"
    detail = f"{outlook} {root.get('hint') or ''} Last successful reload: "
    detail += f"{short_time(last_ok) if last_ok else 'none in the bundle'}; "
    detail += f"{plural(m['failures_since_success'], 'failed attempt')} since"
    if m["failing_since"]:
        detail += f", from {short_time(m['failing_since'])} to {short_time(m['last_attempt'])}"
    detail += f" (last status {m['last_status']})."
    if task["failures"] and task["nodes"]:
        detail += f" Task {', '.join(repr(t) for t in task['tasks'])} on {', '.join(task['nodes'])}."
    if root.get("text") and root.get("class"):
        detail += f" Root cause: {root['text']}{_where(root)}."
    return Finding(analysis, severity, f"{title}: {cause}" if cause else title, " ".join(detail.split()), data)


def _task_findings(
    analysis: str, runs: pl.DataFrame, tasks: pl.DataFrame, folded: set[str]
) -> list[Finding]:
    """One finding per task with failures, except those already told by a monitoring-app finding."""
    out = []
    for t in tasks.filter((pl.col("failures") > 0) & ~pl.col("task").is_in(list(folded))).iter_rows(named=True):
        last = (
            runs.filter((pl.coalesce("task", "task_id") == t["task"]) & (pl.col("outcome") == "failed"))
            .sort("start")
            .row(-1, named=True)
        )
        cause = cause_phrase(last["error_class"], last["root_cause"], last["connection"])
        still = t["last_outcome"] in ("FinishedFail", "Error")
        kind = {"script": "in the script", "initiation": "at initiation (no script log)"}.get(
            last["failure_kind"] or "",
            "(script log not collected)" if last["note"] == NOTE_NOT_COLLECTED else "",
        )
        persistence = cause_persistence(last["error_class"], last["root_cause"])
        detail = (
            f"Last failure {short_time(last['start'])} on {last['node'] or '?'} {kind}: "
            f"{last['root_cause'] or 'no error text in the bundle'}"
        )
        if last["root_cause_file"] and last["root_cause_line"]:
            detail += f" ({last['root_cause_file']}, line {last['root_cause_line']})"
        detail += f". {last['error_hint'] or ''}"
        if still and persistence == PERSISTENT:
            detail += " This cause does not go away by retrying: the task will keep failing until it is fixed."
        if not still and t["last_success"] is not None:
            detail += f" It succeeded again at {short_time(t['last_success'])}."
        task_keys = ("task", "task_id", "app", "runs", "failures", "failure_rate", "last_outcome", "last_run",
                     "last_success")
        run_keys = ("execution_id", "start", "node", "failure_kind", "error_class", "root_cause", "connection",
                    "script_log", "root_cause_line")
        at = ("runs", (str(last["execution_id"]),)) if last["execution_id"] else ("tasks", (str(t["task"]),))
        out.append(
            Finding(
                analysis,
                severity_for("task", "failing" if still else "recovered", persistence),
                f"Task '{t['task']}' failed {t['failures']} of {t['runs']} runs: {cause}",
                " ".join(detail.split()),
                to_jsonable(
                    {k: t[k] for k in task_keys}
                    | {"persistence": persistence, "last_failure": {k: last[k] for k in run_keys}}
                ),
                table=at[0],
                keys=at[1],
            )
        )
    return out


def _manual_findings(analysis: str, manual: pl.DataFrame) -> list[Finding]:
    """One finding per app and cause of failed hub reloads (the same failure retried is one problem)."""
    out = []
    failed = manual.filter(pl.col("outcome") == "failed").sort("time")
    keys = ("time", "app", "app_id", "user", "error_class", "root_cause", "connection", "script_log",
            "root_cause_line")
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in failed.iter_rows(named=True):
        groups.setdefault((r["app"] or r["app_id"], r["error_class"], r["root_cause"]), []).append(r)
    for (app, _, _), rows in groups.items():
        r = rows[-1]
        cause = cause_phrase(r["error_class"], r["root_cause"], r["connection"])
        users = sorted({x["user"] or "an unknown user" for x in rows})
        times = f"{len(rows)} times, from {short_time(rows[0]['time'])} to " if len(rows) > 1 else ""
        where = (
            f" ({r['script_log']}, line {r['root_cause_line']})"
            if r["script_log"] and r["root_cause_line"]
            else ""
        )
        out.append(
            Finding(
                analysis,
                severity_for("manual", "failing", cause_persistence(r["error_class"], r["root_cause"])),
                f"Manual reload of '{app}' by {', '.join(users)} failed: {cause}",
                f"Started {times}{short_time(r['time'])} from the hub or the data load editor, not by a task. "
                f"Root cause: {r['root_cause'] or 'no error text in the bundle'}{where}. "
                f"{r['error_hint'] or ''}".strip(),
                to_jsonable({k: r[k] for k in keys} | {"count": len(rows), "first": rows[0]["time"]}),
                table="manual_reloads",
                keys=(manual_reload_key(r["script_log"], r["time"], r["app_id"]),),
            )
        )
    return out


def findings_for(
    analysis: str,
    runs: pl.DataFrame,
    manual: pl.DataFrame,
    monitors: list[dict[str, Any]],
    tasks: pl.DataFrame,
    *,
    has_scheduler: bool,
) -> list[Finding]:
    """Every finding of the reloads analysis, most urgent first."""
    found = [
        replace(_monitor_finding(analysis, m, runs), table="monitoring_apps", keys=(str(m["name"]),))
        for m in monitors
    ]
    # A failing or stale monitoring app and its task's failures are one problem: the app's finding tells it.
    folded = {t for m in monitors if m["verdict"] in ("failing", "stale") for t in m["tasks"]}
    found += _task_findings(analysis, runs, tasks, folded)
    found += _manual_findings(analysis, manual)
    missing = runs.filter(pl.col("note") == NOTE_NOT_COLLECTED)
    if missing.height:
        found.append(
            Finding(
                analysis,
                Severity.INFO,
                f"{plural(missing.height, 'failed run')} {'has' if missing.height == 1 else 'have'} no script log "
                "in the bundle",
                "The bundle holds no script logs for their period (the Log Collector includes them only "
                "when the 'script logs' option is chosen, and only for the chosen dates), so qslogs cannot "
                "tell whether they failed in the script or at initiation. Collect again with script logs "
                "to see the root cause.",
                to_jsonable({"execution_ids": missing["execution_id"].to_list()}),
                table="runs",
                keys=tuple(missing["execution_id"].drop_nulls().to_list()),
                about="bundle",
            )
        )
    if not has_scheduler:
        found.append(
            Finding(
                analysis,
                Severity.INFO,
                "The bundle holds no scheduler logs",
                "Without TaskExecution, System or AuditActivity logs of the Scheduler, task runs "
                "cannot be listed; only manual reloads and script logs are shown.",
                {"scheduler_logs": 0},
                about="bundle",
            )
        )
    return sorted(found, key=lambda f: SEVERITY_ORDER[f.severity])
