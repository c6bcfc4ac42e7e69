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
from qslogs.analyses.licenses.result import DENIAL_USER_SCHEMA
from qslogs.findings import Finding, Severity
from qslogs.frames import Frames
from qslogs.jsonable import frame_rows
from qslogs.words import plural, when

#: Logs whose ``ServiceUser`` column names the services' Windows account (Trace family, §7.1).
SERVICE_USER_KINDS = (LICENSE_LOG, "Repository/System", "Scheduler/System")
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
    return bool(pl.select(service_account(pl.lit(user, pl.String), service)).item())


def service_account(user: pl.Expr, service: set[str]) -> pl.Expr:
    """:func:`is_service_account` as an expression over a column of user names."""
    low = user.str.strip_chars().str.to_lowercase()
    name = low.str.split("\\").list.last()
    known = pl.Series([s.strip().lower() for s in service], dtype=pl.String)
    found = low.is_in(known) | low.str.starts_with("internal\\") | name.str.starts_with("sa_")
    return (user.is_not_null() & (user != "") & found).fill_null(False)


def denials_by_user(events: pl.DataFrame, service: set[str]) -> pl.DataFrame:
    """One row per user who was denied (:data:`~qslogs.analyses.licenses.result.DENIAL_USER_SCHEMA`), most
    denials first.

    ``sources`` are the client addresses the denial messages name (``Hostname: "::1"``), sorted.
    """
    den = events.filter(pl.col("category") == "denial")
    grouped = (
        den.with_columns(pl.col("reason").str.extract(_SOURCE, 1).alias("source_ip"))
        .group_by(pl.col("user").fill_null("(unknown)"))
        .agg(
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("time").min().alias("first"),
            pl.col("time").max().alias("last"),
            pl.col("source_ip").drop_nulls().unique().sort().alias("sources"),
        )
        .sort(["count", "user"], descending=[True, False])
    )
    return grouped.with_columns(service_account(pl.col("user"), service).alias("service_account")).select(
        list(DENIAL_USER_SCHEMA)
    ).cast(DENIAL_USER_SCHEMA)


def denial_summary(by_user: pl.DataFrame) -> dict[str, Any]:
    """Counts of service-account and people's denials, for findings and the report."""
    svc = by_user.filter(pl.col("service_account"))
    people = by_user.filter(~pl.col("service_account"))
    addresses = set(svc["sources"].explode().drop_nulls().to_list())
    return {
        "service": {"count": int(svc["count"].sum()), "users": svc["user"].to_list()},
        "people": {"count": int(people["count"].sum()), "users": people["user"].to_list()},
        "loopback_only": addresses <= {"::1", "127.0.0.1"} if svc.height else False,
    }


def sources_text(sources: list[str]) -> str:
    """``::1`` or ``::1, 10.0.0.5 and 3 more`` for a sentence."""
    shown = ", ".join(sources[:3])
    return shown + (f" and {len(sources) - 3} more" if len(sources) > 3 else "") if sources else "unknown"


def denial_findings(analysis: str, by_user: pl.DataFrame) -> list[Finding]:
    """One finding for the service accounts' denials (internal calls), one for people's (they need a license);
    each points at its users' rows of ``denials_by_user``."""
    out = []
    summary = denial_summary(by_user)
    svc = by_user.filter(pl.col("service_account"))
    people = by_user.filter(~pl.col("service_account"))
    if svc.height:
        n, names = summary["service"]["count"], ", ".join(summary["service"]["users"])
        sources = sources_text(sorted(set(svc["sources"].explode().drop_nulls().to_list())))
        out.append(
            Finding(
                analysis,
                Severity.INFO,
                f"{plural(n, 'license denial')} of the service account {names}: internal calls, not a person",
                f"From {sources}, {when(svc['first'].min())} to "
                f"{when(svc['last'].max())}. These are calls made as the account the Qlik "
                "services run as (e.g. the monitoring apps' monitor_apps_REST_* connections go through the "
                "proxy as that account, at the minute they reload); the account needs no license and the "
                "denials do no harm by themselves. Check that they line up with the monitoring apps' reloads "
                "(Reloads section) and that those reloads succeed; denials from other addresses or at other "
                "times mean something else calls the proxy as the service account.",
                {"denials": n, "users": frame_rows(svc), "loopback_only": summary["loopback_only"]},
                table="denials_by_user",
                keys=tuple(summary["service"]["users"]),
            )
        )
    if people.height:
        n = summary["people"]["count"]
        out.append(
            Finding(
                analysis,
                Severity.WARNING,
                f"{plural(n, 'license denial')} for {plural(people.height, 'user')}",
                f"People were refused access (no access type available to them); the last at "
                f"{when(people['last'].max())}. Allocate them a license or check the access "
                "rules.",
                {"denials": n, "users": people.height, "by_user": frame_rows(people)},
                table="denials_by_user",
                keys=tuple(summary["people"]["users"]),
            )
        )
    return out
