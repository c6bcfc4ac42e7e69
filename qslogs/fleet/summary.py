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

import polars as pl

from qslogs.analyses.input_result import InputResult
from qslogs.analyses.licenses.result import LicensesResult
from qslogs.analyses.reloads import ReloadsResult
from qslogs.analyses.reloads.aggregates import FAILED
from qslogs.analyses.result import Result
from qslogs.findings import Severity
from qslogs.jsonable import frame_rows, to_jsonable

#: An HTTP 401 in a root-cause line (``HTTP protocol error 401``, ``(401) Unauthorized``): the
#: connection's stored credentials were refused. A sub-case of the ``auth`` error class.
HTTP_401 = re.compile(r"(?:^|[^0-9])401(?:[^0-9]|$)")
#: The columns of a failed run or manual reload that say its cause.
CAUSE = ("error_class", "root_cause", "connection")
#: The monitoring apps a fleet page shows a column for, and their key in the ``sites`` table.
MONITORS = {"License Monitor": "license_monitor", "Operations Monitor": "operations_monitor"}
#: Keys of each monitoring app in the summary (absent upstream → null).
MONITOR_KEYS = ("name", "verdict", "last_success", "last_attempt", "last_status", "failures_since_success",
                "stale_at", "failing_since")


def site_summary(site: str, bundle: str, report: str | None, results: Mapping[str, Result],
                 error: str | None) -> dict[str, Any]:
    """The ``--json`` object of one site (``error`` set and everything else empty when it failed)."""
    reloads = results.get("reloads")
    if not isinstance(reloads, ReloadsResult):
        reloads = None
    runs = reloads.runs if reloads else ReloadsResult.empty_frame("runs")
    failed = runs.filter(pl.col("outcome").is_in(FAILED))
    manual = reloads.manual_reloads if reloads else ReloadsResult.empty_frame("manual_reloads")
    manual_failed = manual.filter(pl.col("outcome") == "failed")
    counts = Counter(str(f.severity) for result in results.values() for f in result.findings)
    return {
        "site": site,
        "bundle": bundle,
        "report": report,
        "error": error,
        "monitoring_apps": [_monitor(app) for app in frame_rows(reloads.monitoring_apps)] if reloads else [],
        "runs": runs.height,
        "failed_runs": failed.height,
        "failed_manual_reloads": manual_failed.height,
        "error_classes": _error_classes(failed),
        "connections_401": _connections_401(pl.concat([failed.select(CAUSE), manual_failed.select(CAUSE)])),
        "findings": {s.value: counts.get(s.value, 0) for s in Severity},
        "licenses": _licenses(results.get("licenses")),
        "bad_input": _bad_input(results.get("input")),
    }


def _bad_input(quality: Result | None) -> dict[str, int]:
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
    """A ``monitoring_apps`` row (JSON values) in the summary's keys."""
    out = {key: app[key] for key in MONITOR_KEYS}
    root = app["root_cause"]
    out["root_cause"] = {k: root[k] for k in ("class", "connection", "text")} if root else None
    return out


def _error_classes(failed: pl.DataFrame) -> dict[str, int]:
    """Failed runs per error class (``unclassified`` without one), most first."""
    cls = pl.when(pl.col("error_class") != "").then(pl.col("error_class")).otherwise(pl.lit("unclassified"))
    per = failed.group_by(cls.alias("class")).len().sort(["len", "class"], descending=[True, False])
    return dict(zip(per["class"].to_list(), per["len"].to_list(), strict=True))


def _connections_401(failed: pl.DataFrame) -> dict[str, int]:
    """Failed reloads per data connection whose root cause is an HTTP 401."""
    named = pl.when(pl.col("connection") != "").then(pl.col("connection")).otherwise(pl.lit("(no connection named)"))
    hits = (
        failed.filter(pl.col("root_cause").str.contains(HTTP_401.pattern).fill_null(False))
        .group_by(named.alias("connection"))
        .len()
        .sort("connection")
    )
    return dict(zip(hits["connection"].to_list(), hits["len"].to_list(), strict=True))


def _licenses(result: Result | None) -> dict[str, Any]:
    """Per access type what is left and when it runs out; ``runway`` is the type that runs out first (the
    analysis' own :attr:`~qslogs.analyses.licenses.result.LicensesResult.runway`)."""
    if not isinstance(result, LicensesResult):
        return {"by_type": {}, "runway": None}
    by_type = {
        f["access_type"]: {k: f[k] for k in ("capacity", "in_use", "remaining", "months_to_exhaustion",
                                             "exhaustion_date", "status")}
        for f in frame_rows(result.forecast)
    }
    return {"by_type": by_type, "runway": to_jsonable(result.runway)}


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
