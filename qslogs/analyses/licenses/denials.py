"""License denials grouped by user, and who among them is a service account (formats.md §7.1).

In a real bundle almost every ``UsageDenied`` row is the account the Qlik services run as, hourly, from
``::1``, at the minute the monitoring apps reload: internal calls (their REST connections go through the
proxy as that account), not a person who needs a license. Advising "allocate them a license" for those
would be wrong, so each user's denials are grouped, their client addresses listed, and service accounts
told apart: a ``ServiceUser`` value of the .NET logs, an ``INTERNAL\\…`` account, or an ``sa_…`` account.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from qslogs.analyses.licenses.events import LICENSE_LOG
from qslogs.findings import Finding, Severity
from qslogs.frames import Frames
from qslogs.jsonable import to_jsonable
from qslogs.words import plural, when

#: Logs whose ``ServiceUser`` column names the services' Windows account (Trace family, §7.1).
SERVICE_USER_KINDS = (LICENSE_LOG, "Repository/System", "Scheduler/System")
#: Keys of each ``denials_by_user`` row, in order.
DENIAL_USER_KEYS = ("user", "count", "first", "last", "sources", "service_account")
_SOURCE = r"""Hostname:\s*['"]?([^'",\s]+)"""


def service_users(frames: Frames) -> pl.LazyFrame:
    """The distinct ``ServiceUser`` values of the logs that carry one (column ``service_user``)."""
    parts = [
        frames.lazy(k).select(pl.col("ServiceUser").cast(pl.String).alias("service_user"))
        for k in SERVICE_USER_KINDS
        if frames.has(k) and "ServiceUser" in frames.columns(k)
    ]
    if not parts:
        return pl.LazyFrame(schema={"service_user": pl.String})
    return pl.concat(parts).drop_nulls().unique()


def is_service_account(user: str | None, service: set[str]) -> bool:
    """True for a ``ServiceUser`` value (case-insensitive), an ``INTERNAL\\…`` or an ``sa_…`` account."""
    if not user:
        return False
    low = user.strip().lower()
    name = low.rsplit("\\", 1)[-1]
    return low in {s.strip().lower() for s in service} or low.startswith("internal\\") or name.startswith("sa_")


def denials_by_user(events: pl.DataFrame, service: set[str]) -> list[dict[str, Any]]:
    """``[{user, count, first, last, sources, service_account}]``, most denials first.

    ``sources`` are the client addresses the denial messages name (``Hostname: "::1"``), sorted.
    """
    den = events.filter(pl.col("category") == "denial")
    if den.is_empty():
        return []
    grouped = (
        den.with_columns(pl.col("reason").str.extract(_SOURCE, 1).alias("source_ip"))
        .group_by(pl.col("user").fill_null("(unknown)"))
        .agg(
            pl.len().alias("count"),
            pl.col("time").min().alias("first"),
            pl.col("time").max().alias("last"),
            pl.col("source_ip").drop_nulls().unique().sort().alias("sources"),
        )
        .sort(["count", "user"], descending=[True, False])
    )
    return [
        {k: row[k] for k in DENIAL_USER_KEYS[:-1]} | {"service_account": is_service_account(row["user"], service)}
        for row in grouped.iter_rows(named=True)
    ]


def denial_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of service-account and people's denials, for findings and the report."""
    svc = [r for r in rows if r["service_account"]]
    people = [r for r in rows if not r["service_account"]]
    return {
        "service": {"count": sum(r["count"] for r in svc), "users": [r["user"] for r in svc]},
        "people": {"count": sum(r["count"] for r in people), "users": [r["user"] for r in people]},
        "loopback_only": all(set(r["sources"]) <= {"::1", "127.0.0.1"} for r in svc) if svc else False,
    }


def sources_text(sources: list[str]) -> str:
    """``::1`` or ``::1, 10.0.0.5 and 3 more`` for a sentence."""
    shown = ", ".join(sources[:3])
    return shown + (f" and {len(sources) - 3} more" if len(sources) > 3 else "") if sources else "unknown"


def denial_findings(analysis: str, by_user: list[dict[str, Any]]) -> list[Finding]:
    """One finding for the service accounts' denials (internal calls), one for people's (they need a license)."""
    out = []
    summary = denial_summary(by_user)
    svc = [r for r in by_user if r["service_account"]]
    people = [r for r in by_user if not r["service_account"]]
    if svc:
        n, names = summary["service"]["count"], ", ".join(summary["service"]["users"])
        sources = sources_text(sorted({s for r in svc for s in r["sources"]}))
        out.append(
            Finding(
                analysis,
                Severity.INFO,
                f"{plural(n, 'license denial')} of the service account {names}: internal calls, not a person",
                f"From {sources}, {when(min(r['first'] for r in svc))} to "
                f"{when(max(r['last'] for r in svc))}. These are calls made as the account the Qlik "
                "services run as (e.g. the monitoring apps' monitor_apps_REST_* connections go through the "
                "proxy as that account, at the minute they reload); the account needs no license and the "
                "denials do no harm by themselves. Check that they line up with the monitoring apps' reloads "
                "(Reloads section) and that those reloads succeed; denials from other addresses or at other "
                "times mean something else calls the proxy as the service account.",
                to_jsonable({"denials": n, "users": svc, "loopback_only": summary["loopback_only"]}),
            )
        )
    if people:
        n = summary["people"]["count"]
        out.append(
            Finding(
                analysis,
                Severity.WARNING,
                f"{plural(n, 'license denial')} for {plural(len(people), 'user')}",
                f"People were refused access (no access type available to them); the last at "
                f"{when(max(r['last'] for r in people))}. Allocate them a license or check the access "
                "rules.",
                to_jsonable({"denials": n, "users": len(people), "by_user": people}),
            )
        )
    return out
