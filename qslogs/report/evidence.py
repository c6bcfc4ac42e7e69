"""Evidence anchors: stable HTML ids for the rows, charts and tables that prove a finding.

Each id is built from what identifies the thing in the logs (a run's execution id, a script log's
path, a service and node), never from its position, so two renders of one bundle give the same ids and
a link pasted into a ticket keeps pointing at the same run. :func:`evidence_for` says, for one finding,
which elements prove it (most specific first); the health summary links to the first that is in the
page, else to the finding's section.
"""

from __future__ import annotations

import re
from typing import Any

from qslogs.findings import Finding

_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "x"


def run_anchor(execution_id: Any) -> str:
    """Row of a task run (the failed-runs table), from its execution id."""
    return f"run-{_slug(str(execution_id))}" if execution_id else ""


def context_anchor(row_anchor: str) -> str:
    """The error context (root-cause line and its neighbours) inside a row."""
    return f"ctx-{row_anchor}" if row_anchor else ""


def manual_anchor(key: str) -> str:
    """Row of a manual reload, from its key (:func:`~qslogs.analyses.reloads.findings.manual_reload_key`:
    its script log, whose file name is used, else its start time and app id)."""
    name = key.replace("\\", "/").rsplit("/", 1)[-1]
    return f"manual-{_slug(name)}"


def monitor_anchor(name: Any) -> str:
    """Row of a monitoring app (License Monitor, Operations Monitor)."""
    return f"monitor-{_slug(str(name or ''))}"


def service_anchor(service: Any, host: Any) -> str:
    """Row of a service on a node (errors and warnings)."""
    return f"svc-{_slug(f'{service}-{host}')}"


def bad_file_anchor(source_file: Any) -> str:
    """Row of a file with bad lines (its first bad lines, file:line)."""
    return f"bad-{_slug(str(source_file or ''))}"


def chart_anchor(section: str, name: str) -> str:
    """A chart's figure."""
    return f"chart-{section}-{_slug(name)}"


def evidence_for(finding: Finding) -> list[tuple[str, str]]:
    """(element id, what it is) pairs that prove ``finding``, most specific first."""
    data: dict[str, Any] = finding.data if isinstance(finding.data, dict) else {}
    found = {"reloads": _reloads, "licenses": _licenses, "activity": _activity, "input": _input}
    pick = found.get(finding.analysis)
    return pick(finding, data) if pick else []


def _reloads(finding: Finding, data: dict[str, Any]) -> list[tuple[str, str]]:
    """The rows a reloads finding names (``table``/``keys``): a run (a task's last failure; the first of the
    runs a bundle finding lists), a manual reload, a monitoring app; else the monitoring apps."""
    key = finding.keys[0] if finding.keys else None
    if finding.table == "runs" and key:
        return [(run_anchor(key), "failed run" if finding.about == "bundle" else "last failed run")]
    if finding.table == "manual_reloads" and key:
        return [(manual_anchor(key), "manual reload")]
    if finding.table == "monitoring_apps" and key:
        return [(monitor_anchor(key), "monitoring app"), ("t-reloads-monitors", "monitoring apps")]
    return [("t-reloads-monitors", "monitoring apps")]


def _licenses(finding: Finding, data: dict[str, Any]) -> list[tuple[str, str]]:
    """By the rows the finding is about: an access type's forecast, denials, idle users; else the history."""
    if finding.table == "forecast" and finding.keys:
        return [
            (chart_anchor("licenses", finding.keys[0]), "forecast chart"),
            ("t-licenses-capacity", "capacity table"),
        ]
    if finding.table == "denials_by_user":
        return [("t-licenses-denials", "denials")]
    if finding.table == "unused":
        return [("t-licenses-unused", "idle users")]
    return [("licenses-timeline", "license history")]


def _activity(finding: Finding, data: dict[str, Any]) -> list[tuple[str, str]]:
    worst = data.get("worst")
    if isinstance(worst, dict):
        return [(service_anchor(worst.get("service"), worst.get("host")), "service and node")]
    if data.get("source"):
        return [("t-activity-sessions", "sessions per day")]
    return []


def _input(finding: Finding, data: dict[str, Any]) -> list[tuple[str, str]]:
    top = data.get("top")
    if isinstance(top, list) and top and isinstance(top[0], dict):
        return [(bad_file_anchor(top[0].get("source_file")), "bad lines")]
    if isinstance(data.get("files"), list):
        return [("t-bundle-issues", "unreadable files")]
    if "days" in data:
        return [("bundle-span", "time span")]
    return []
