"""One site in a few numbers: the object of ``qslogs fleet --json`` and the row of ``fleet.html``.

Built from the analysis results of the site (nothing is judged here: a monitoring app's ``verdict`` is
the reloads analysis' own, carried as is, null where the analysis gives none), so ``qslogs fleet`` and
``qslogs reloads``/``license`` never disagree about a site.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from qslogs.analyses.base import AnyResult
from qslogs.analyses.input_result import InputResult
from qslogs.findings import Severity

#: An HTTP 401 in a root-cause line (``HTTP protocol error 401``, ``(401) Unauthorized``): the
#: connection's stored credentials were refused. A sub-case of the ``auth`` error class.
HTTP_401 = re.compile(r"(?<![0-9])401(?![0-9])")
#: The monitoring apps a fleet page shows a column for, and their key in the ``sites`` table.
MONITORS = {"License Monitor": "license_monitor", "Operations Monitor": "operations_monitor"}
#: Keys of each monitoring app in the summary (absent upstream → null).
MONITOR_KEYS = ("name", "verdict", "last_success", "last_attempt", "last_status", "failures_since_success",
                "stale_at", "failing_since")
FAILED = ("failed", "aborted")


def site_summary(site: str, bundle: str, report: str | None, results: Mapping[str, AnyResult],
                 error: str | None) -> dict[str, Any]:
    """The ``--json`` object of one site (``error`` set and everything else empty when it failed)."""
    reloads = results["reloads"].tables if "reloads" in results else {}
    runs = reloads.get("runs", [])
    failed = [r for r in runs if r["outcome"] in FAILED]
    manual_failed = [m for m in reloads.get("manual_reloads", []) if m["outcome"] == "failed"]
    counts = Counter(str(f.severity) for result in results.values() for f in result.findings)
    return {
        "site": site,
        "bundle": bundle,
        "report": report,
        "error": error,
        "monitoring_apps": [_monitor(app) for app in reloads.get("monitoring_apps", [])],
        "runs": len(runs),
        "failed_runs": len(failed),
        "failed_manual_reloads": len(manual_failed),
        "error_classes": dict(sorted(Counter(r["error_class"] or "unclassified" for r in failed).items(),
                                     key=lambda kv: (-kv[1], kv[0]))),
        "connections_401": _connections_401([*failed, *manual_failed]),
        "findings": {s.value: counts.get(s.value, 0) for s in Severity},
        "licenses": _licenses(results["licenses"].tables if "licenses" in results else {}),
        "bad_input": _bad_input(results.get("input")),
    }


def _bad_input(quality: AnyResult | None) -> dict[str, int]:
    """Bad lines, files with bad lines and unreadable files, as the input analysis counted them (zeros
    without it: a site that failed)."""
    if not isinstance(quality, InputResult):
        return {"bad_lines": 0, "files_with_bad_lines": 0, "unreadable_files": 0}
    return {
        "bad_lines": quality.bad_lines,
        "files_with_bad_lines": quality.bad_files.height,
        "unreadable_files": quality.unreadable_files,
    }


def _monitor(app: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: app.get(key) for key in MONITOR_KEYS}
    root = app.get("root_cause") or {}
    out["root_cause"] = {k: root.get(k) for k in ("class", "connection", "text")} if root else None
    return out


def _connections_401(failed: list[Mapping[str, Any]]) -> dict[str, int]:
    """Failed reloads per data connection whose root cause is an HTTP 401."""
    hits = Counter(r["connection"] or "(no connection named)" for r in failed
                   if r.get("root_cause") and HTTP_401.search(r["root_cause"]))
    return dict(sorted(hits.items()))


def _licenses(tables: Mapping[str, Any]) -> dict[str, Any]:
    """Per access type what is left and when it runs out; ``runway`` is the type that runs out first."""
    by_type = {
        f["access_type"]: {k: f.get(k) for k in ("capacity", "in_use", "remaining", "months_to_exhaustion",
                                                  "exhaustion_date", "status")}
        for f in tables.get("forecast", [])
    }
    ending = [(v["months_to_exhaustion"], k) for k, v in by_type.items() if v["months_to_exhaustion"] is not None]
    runway = None
    if ending:
        months, kind = min(ending)
        runway = {"access_type": kind, "months": months, "date": by_type[kind]["exhaustion_date"]}
    return {"by_type": by_type, "runway": runway}


def site_row(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The site's row of the ``sites`` table (flat columns for SQL, plus the whole summary as JSON)."""
    verdicts = {app["name"]: app["verdict"] for app in summary["monitoring_apps"]}
    runway = summary["licenses"]["runway"] or {}
    return {
        "bundle": summary["bundle"],
        "status": "error" if summary["error"] else "ok",
        "error": summary["error"],
        "runs": summary["runs"],
        "failed_runs": summary["failed_runs"],
        "failed_manual_reloads": summary["failed_manual_reloads"],
        "failed_runs_401": sum(summary["connections_401"].values()),
        "bad_lines": summary["bad_input"]["bad_lines"],
        "unreadable_files": summary["bad_input"]["unreadable_files"],
        **summary["findings"],
        "connections_401": sorted(summary["connections_401"]),
        **{key: verdicts.get(name) for name, key in MONITORS.items()},
        "runway_access_type": runway.get("access_type"),
        "runway_months": runway.get("months"),
        "runway_date": runway.get("date"),
        "summary_json": json.dumps(summary, sort_keys=True, ensure_ascii=False),
    }
