"""The status strip at the top of the report: the four questions answered in one row of tiles.

Per monitoring app its verdict, last success, age and when its data goes stale; the failed reloads with
their most frequent cause; per access type allocated / bought and the runway. Every tile's colour is the
severity of the finding that tells the same thing (one rule table, :mod:`qslogs.findings`), so the strip
can never be green where the findings are red. Only arranges what the analyses computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qslogs.analyses.licenses.result import LicensesResult
from qslogs.analyses.reloads import ReloadsResult
from qslogs.analyses.reloads.health import age_words
from qslogs.analyses.result import Result
from qslogs.report.filters import fmt_int, fmt_ts
from qslogs.report.model import Fact
from qslogs.words import plural

#: The verdict of ``reloads --json`` in the words of a tile.
VERDICT_WORDS = {"ok": "OK", "failing": "Failing", "stale": "Stale", "missing": "No task", "unknown": "Unknown"}


def _severity_of(result: Result, **match: Any) -> str:
    """The severity of the first finding whose data holds every ``match`` pair ('' when none does)."""
    for f in result.findings:
        if all(f.data.get(k) == v for k, v in match.items()):
            return str(f.severity)
    return ""


def _severity_at(result: Result, table: str, key: str) -> str:
    """The severity of the first finding about row ``key`` of ``table`` ('' when none is)."""
    return next((str(f.severity) for f in result.findings if f.table == table and key in f.keys), "")


def _age(hours: float | None) -> str:
    return f"{age_words(hours)} ago" if hours is not None else "age unknown"


def monitor_tiles(result: ReloadsResult) -> list[Fact]:
    """One tile per monitoring app: verdict, last success and age, stale-at."""
    out = []
    for m in result.monitoring_apps.iter_rows(named=True):
        verdict = m["verdict"] or "unknown"
        parts = []
        if m["last_success"]:
            parts.append(f"last success {fmt_ts(m['last_success'])} ({_age(m['age_hours'])})")
        elif verdict not in ("missing", "unknown"):
            parts.append("no success in the bundle")
        if m["stale_at"]:
            word = "stale since" if verdict == "stale" else "stale at"
            parts.append(f"{word} {fmt_ts(m['stale_at'])}")
        if verdict == "failing" and m["failures_since_success"]:
            parts.append(f"{m['failures_since_success']} failed since")
        severity = _severity_at(result, "monitoring_apps", m["name"]) or "info"
        out.append(Fact(str(m["name"]), VERDICT_WORDS.get(verdict, verdict), " · ".join(parts), severity))
    return out


def failure_tile(result: ReloadsResult) -> Fact | None:
    """Failed task runs and hub reloads, with the most frequent cause (counted by the analysis)."""
    counts = result.overview.row(0, named=True)
    if not counts["failed"]:
        return Fact("Failed reloads", "0", "no failed reload in the bundle", "ok")
    severity = min(
        (str(f.severity) for f in result.findings if f.severity.value in ("critical", "warning")),
        key=("critical", "warning").index,
        default="info",
    )
    note = (
        f"in {plural(counts['tasks'], 'task or app', 'tasks or apps')}; "
        f"top cause: {counts['top_cause']} ({counts['top_count']}×)"
    )
    return Fact("Failed reloads", fmt_int(counts["failed"]), note, severity)


def license_tiles(result: LicensesResult) -> list[Fact]:
    """Per access type: allocated / bought, and the runway; coloured by the finding about that forecast row."""
    out = []
    for row in result.forecast.iter_rows(named=True):
        cap, used, access_type = row["capacity"], row["in_use"], row["access_type"]
        value = f"{fmt_int(used)} / {fmt_int(cap)}" if cap is not None else f"{fmt_int(used)} / ?"
        status, months = row["status"], row["months_to_exhaustion"]
        if status == "exhausts" and months is not None:
            lo, hi = row["date_low"], row["date_high"]
            span = f" ({str(lo)[:7]} – {str(hi)[:7]})" if lo and hi else ""
            runway = f"runs out in {months:.0f} months{span}"
        else:
            runway = {
                "never": "never runs out at this rate",
                "no-fit": "no forecast: too few monthly points",
                "over-capacity": "over capacity",
                "at-capacity": "at capacity",
                "unknown-capacity": "bought unknown: give --" + access_type.lower(),
            }.get(status, status)
        note = f"allocated / bought · {runway} · from {row['in_use_source']}"
        other = row["in_use_other"]
        if other:
            note += f" ({other['source']} say {fmt_int(other['value'])})"
        severity = next(
            (str(f.severity) for f in result.findings if f.table == "forecast" and f.keys == (access_type,)), "info"
        )
        out.append(Fact(access_type, value, note, severity))
    return out


def status_strip(results: Mapping[str, Result]) -> list[Fact]:
    """The tiles of the first screen, in the order of the four questions."""
    out: list[Fact] = []
    reloads = results.get("reloads")
    if isinstance(reloads, ReloadsResult):
        out += monitor_tiles(reloads)
        tile = failure_tile(reloads)
        if tile is not None:
            out.append(tile)
    licenses = results.get("licenses")
    if isinstance(licenses, LicensesResult):
        out += license_tiles(licenses)
    return out
