"""Plain-language findings of the reloads analysis: stale monitoring apps, failing tasks, failed hub reloads.

Titles say what is wrong in one line an admin can act on ("License Monitor has not reloaded successfully
for 2 days: HTTP 401 from data connection monitor_apps_REST_license_user"); details carry the hint from
:mod:`qslogs.error_classes` and where the evidence is (script log and line).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import polars as pl

from qslogs.analyses.reload_health import age_words, hours_between
from qslogs.analyses.run_outcome import NOTE_NOT_COLLECTED
from qslogs.export import to_jsonable
from qslogs.findings import Finding, Severity
from qslogs.words import plural

#: The monitoring app whose staleness is critical (license allocation depends on it).
CRITICAL_APP = "License Monitor"


def short_time(value: datetime | str | None) -> str:
    """``2026-10-03 04:00 UTC`` for titles (ISO strings accepted)."""
    if value is None:
        return "?"
    if isinstance(value, str):
        return re.sub(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}).*$", r"\1 \2 UTC", value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


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


def _monitor_finding(analysis: str, m: dict[str, Any], has_scheduler: bool) -> Finding:
    name, root = m["name"], m["root_cause"] or {}
    data = to_jsonable(
        {
            k: m[k]
            for k in (
                "name",
                "last_success",
                "last_attempt",
                "last_status",
                "stale",
                "age_hours",
                "failures_since_success",
                "now",
                "root_cause",
            )
        }
    )
    if m["verdict"] == "unknown":
        return Finding(
            analysis,
            Severity.WARNING if has_scheduler else Severity.INFO,
            f"No reload of the {name} found in the bundle",
            f"No task run or manual reload of a task or app named like '{name}' is in the bundle, so "
            "its freshness cannot be judged. Check in the QMC that the app exists and its reload "
            "task is scheduled, or collect logs covering a longer period.",
            data,
        )
    cause = cause_phrase(root.get("class"), root.get("text"), root.get("connection")) if root else ""
    last_ok = m["last_success"]
    if m["stale"]:
        severity = Severity.CRITICAL if name == CRITICAL_APP else Severity.WARNING
        if isinstance(last_ok, datetime) and isinstance(m["now"], datetime):
            title = f"{name} has not reloaded successfully for {age_words(hours_between(last_ok, m['now']))}"
        else:
            title = f"{name} has not reloaded successfully in the period of the bundle"
        detail = (
            f"{root.get('hint') or ''} Last successful reload: {short_time(last_ok) if last_ok else 'none'}; "
            f"{m['failures_since_success']} failed attempt(s) since, the last at "
            f"{short_time(m['last_attempt'])} ({m['last_status']})."
        )
        if root.get("text"):
            detail += f" Root cause: {root['text']}{_where(root)}."
        return Finding(analysis, severity, f"{title}: {cause}" if cause else title, detail.strip(), data)
    if m["last_status"] and root:
        return Finding(
            analysis,
            Severity.WARNING,
            f"The last reload of the {name} failed: {cause}",
            f"{root.get('hint') or ''} It last succeeded at {short_time(last_ok)}, within "
            f"{m['stale_hours']:g} hours, so its data is not stale yet. Root cause: "
            f"{root.get('text')}{_where(root)}.".strip(),
            data,
        )
    return Finding(
        analysis,
        Severity.OK,
        f"{name} reloaded successfully {age_words(m['age_hours'] or 0)} before {short_time(m['now'])}",
        f"Last successful reload: {short_time(last_ok)}.",
        data,
    )


def _task_findings(analysis: str, runs: pl.DataFrame, tasks: pl.DataFrame) -> list[Finding]:
    out = []
    for t in tasks.filter(pl.col("failures") > 0).iter_rows(named=True):
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
        detail = (
            f"Last failure {short_time(last['start'])} on {last['node'] or '?'} {kind}: "
            f"{last['root_cause'] or 'no error text in the bundle'}"
        )
        if last["root_cause_file"] and last["root_cause_line"]:
            detail += f" ({last['root_cause_file']}, line {last['root_cause_line']})"
        detail += f". {last['error_hint'] or ''}"
        if not still and t["last_success"] is not None:
            detail += f" It succeeded again at {short_time(t['last_success'])}."
        out.append(
            Finding(
                analysis,
                Severity.WARNING if still else Severity.INFO,
                f"Task '{t['task']}' failed {t['failures']} of {t['runs']} runs: {cause}",
                detail.strip(),
                to_jsonable(
                    {
                        k: t[k]
                        for k in (
                            "task",
                            "task_id",
                            "app",
                            "runs",
                            "failures",
                            "failure_rate",
                            "last_outcome",
                            "last_run",
                            "last_success",
                        )
                    }
                    | {
                        "last_failure": {
                            k: last[k]
                            for k in (
                                "execution_id",
                                "start",
                                "node",
                                "failure_kind",
                                "error_class",
                                "root_cause",
                                "connection",
                                "script_log",
                                "root_cause_line",
                            )
                        }
                    }
                ),
            )
        )
    return out


def _manual_findings(analysis: str, manual: pl.DataFrame) -> list[Finding]:
    out = []
    for r in manual.filter(pl.col("outcome") == "failed").iter_rows(named=True):
        cause = cause_phrase(r["error_class"], r["root_cause"], r["connection"])
        where = (
            f" ({r['script_log']}, line {r['root_cause_line']})"
            if r["script_log"] and r["root_cause_line"]
            else ""
        )
        out.append(
            Finding(
                analysis,
                Severity.WARNING,
                f"Manual reload of '{r['app'] or r['app_id']}' by {r['user'] or 'an unknown user'} "
                f"failed: {cause}",
                f"Started {short_time(r['time'])} from the hub or the data load editor, not by a task. "
                f"Root cause: {r['root_cause'] or 'no error text in the bundle'}{where}. "
                f"{r['error_hint'] or ''}".strip(),
                to_jsonable(
                    {
                        k: r[k]
                        for k in (
                            "time",
                            "app",
                            "app_id",
                            "user",
                            "error_class",
                            "root_cause",
                            "connection",
                            "script_log",
                            "root_cause_line",
                        )
                    }
                ),
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
    found = [_monitor_finding(analysis, m, has_scheduler) for m in monitors]
    found += _task_findings(analysis, runs, tasks)
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
            )
        )
    order = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2, Severity.OK: 3}
    return sorted(found, key=lambda f: order[f.severity])
