"""Canonical license events → allocation state, daily and monthly timelines, and the lists of issue 4.

Allocation is a set per access type: a user is allocated after an ``Add`` (+1) and no longer after a
removal (-1); repeats change nothing. A user whose first event for a per-user access type is a use or
a removal held the allocation before the logs begin, so is counted from the first day (the logs
rarely reach back to the original allocation). Days are UTC days; months are UTC calendar months. The
timeline's columns are declared once, in :data:`qslogs.analyses.licenses.result.TIMELINE_SCHEMA`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from qslogs.analyses.licenses.events import LAST_USED, PER_USER_TYPES, UNASSIGNED

#: Label of the all-users rows: active = anyone with a license use or a Proxy/Engine session.
ALL_USERS = "All users"

#: Events that make a user active on their day (a bare "last used" stamp does not: see LAST_USED).
_active_use = (pl.col("category") == "usage") & (pl.col("operation").fill_null("") != LAST_USED)


def allocation_state(events: pl.DataFrame) -> pl.DataFrame:
    """Per (access type, user) allocation over time: one row per event with ``state`` and ``delta``.

    ``initial`` is 1 when the user already held the allocation before the first event (first event is
    a use, an update or a removal), ``state`` the allocation after the event (0/1), ``delta`` the change
    of the allocated count it caused.
    """
    group = ["access_type", "user_key"]
    ev = events.filter(
        pl.col("access_type").is_in(PER_USER_TYPES)
        & pl.col("user_key").is_not_null()
        & pl.col("category").is_in(["allocation", "usage"])
    ).sort([*group, "time"])
    raw = pl.when(pl.col("change") > 0).then(1).when(pl.col("change") < 0).then(0).otherwise(None)
    initial = (pl.col("change").first().over(group) <= 0).cast(pl.Int32)
    ev = ev.with_columns(initial.alias("initial"), raw.cast(pl.Int32).alias("_raw"))
    ev = ev.with_columns(
        pl.col("_raw").forward_fill().over(group).fill_null(pl.col("initial")).alias("state")
    )
    prev = pl.col("state").shift(1).over(group).fill_null(pl.col("initial"))
    return ev.with_columns((pl.col("state") - prev).alias("delta")).drop("_raw")


def _calendar(first: date, last: date) -> pl.DataFrame:
    return pl.DataFrame({"day": pl.date_range(first, last, "1d", eager=True)})


def daily_timeline(events: pl.DataFrame, activity: pl.DataFrame, first: date, last: date) -> pl.DataFrame:
    """Per day and access type: allocated at the end of the day, distinct active users, denials."""
    state = allocation_state(events)
    cal = _calendar(first, last)
    types = sorted({t for t in events["access_type"].drop_nulls().unique().to_list()})
    if events.filter(pl.col("category") == "denial")["access_type"].null_count():
        types.append(UNASSIGNED)
    parts: list[pl.DataFrame] = []
    day = pl.col("time").dt.date().alias("day")
    usage = events.filter(_active_use).with_columns(day)
    denial = events.filter(pl.col("category") == "denial").with_columns(
        day, pl.col("access_type").fill_null(UNASSIGNED)
    )
    for access_type in types:
        frame = cal.with_columns(pl.lit(access_type).alias("access_type"))
        if access_type in PER_USER_TYPES:
            mine = state.filter(pl.col("access_type") == access_type)
            baseline = int(mine.group_by("user_key").agg(pl.col("initial").first())["initial"].sum() or 0)
            deltas = mine.with_columns(day).group_by("day").agg(pl.col("delta").sum())
            frame = (
                frame.join(deltas, on="day", how="left")
                .with_columns(
                    (pl.col("delta").fill_null(0).cum_sum() + baseline).cast(pl.Int64).alias("allocated")
                )
                .drop("delta")
            )
        else:
            frame = frame.with_columns(pl.lit(None, pl.Int64).alias("allocated"))
        act = (
            usage.filter(pl.col("access_type") == access_type)
            .group_by("day")
            .agg(pl.col("user_key").n_unique().alias("active"))
        )
        den = (
            denial.filter(pl.col("access_type") == access_type).group_by("day").agg(pl.len().alias("denied"))
        )
        frame = frame.join(act, on="day", how="left").join(den, on="day", how="left")
        parts.append(frame)
    users = pl.concat([usage.select("day", "user_key"), activity.select("day", "user_key")])
    act_all = (
        users.filter(pl.col("user_key").is_not_null())
        .group_by("day")
        .agg(pl.col("user_key").n_unique().alias("active"))
    )
    den_all = denial.group_by("day").agg(pl.len().alias("denied"))
    parts.append(
        cal.with_columns(pl.lit(ALL_USERS).alias("access_type"), pl.lit(None, pl.Int64).alias("allocated"))
        .join(act_all, on="day", how="left")
        .join(den_all, on="day", how="left")
    )
    out = pl.concat(parts, how="diagonal_relaxed").with_columns(
        pl.col("active").fill_null(0).cast(pl.Int64), pl.col("denied").fill_null(0).cast(pl.Int64)
    )
    return out.select(
        pl.lit("day").alias("granularity"),
        pl.col("day").dt.strftime("%Y-%m-%d").alias("period"),
        pl.col("day").alias("start"),
        pl.col("day").alias("end"),
        pl.lit(1.0).alias("coverage"),
        "access_type",
        "allocated",
        "active",
        "denied",
    ).sort("access_type", "period")


def monthly_timeline(daily: pl.DataFrame, events: pl.DataFrame, activity: pl.DataFrame) -> pl.DataFrame:
    """Per month: allocated at the month's last day in the data, distinct users active in it, denials."""
    month = pl.col("day").dt.strftime("%Y-%m").alias("period")
    d = daily.with_columns(pl.col("start").alias("day"))
    base = (
        d.sort("day")
        .group_by("access_type", month)
        .agg(
            pl.col("day").min().alias("start"),
            pl.col("day").max().alias("end"),
            pl.col("allocated").last(),
            pl.col("denied").sum(),
            pl.len().alias("_days"),
        )
    )
    usage = events.filter(_active_use).with_columns(pl.col("time").dt.date().alias("day"))
    act = usage.group_by("access_type", month).agg(pl.col("user_key").n_unique().alias("active"))
    users = pl.concat([usage.select("day", "user_key"), activity.select("day", "user_key")])
    act_all = (
        users.filter(pl.col("user_key").is_not_null())
        .group_by(month)
        .agg(pl.col("user_key").n_unique().alias("active"))
        .with_columns(pl.lit(ALL_USERS).alias("access_type"))
    )
    act = pl.concat([act, act_all], how="diagonal_relaxed")
    days_in_month = (pl.col("start").dt.month_end() - pl.col("start").dt.month_start()).dt.total_days() + 1
    return (
        base.join(act, on=["access_type", "period"], how="left")
        .with_columns(
            pl.col("active").fill_null(0).cast(pl.Int64), (pl.col("_days") / days_in_month).alias("coverage")
        )
        .select(
            pl.lit("month").alias("granularity"),
            "period",
            "start",
            "end",
            "coverage",
            "access_type",
            "allocated",
            "active",
            pl.col("denied").cast(pl.Int64),
        )
        .sort("access_type", "period")
    )


def allocated_users(events: pl.DataFrame) -> pl.DataFrame:
    """Users holding each per-user access type at the end, and since when (None: before the logs)."""
    state = allocation_state(events)
    if state.is_empty():
        return pl.DataFrame(
            schema={
                "access_type": pl.String,
                "user_key": pl.String,
                "user": pl.String,
                "allocated_since": pl.Datetime("ms", "UTC"),
            }
        )
    since = pl.col("time").filter(pl.col("delta") > 0).last()
    return (
        state.group_by("access_type", "user_key")
        .agg(pl.col("state").last(), pl.col("user").drop_nulls().last(), since.alias("allocated_since"))
        .filter(pl.col("state") == 1)
        .drop("state")
        .sort("access_type", "user_key")
    )


def unused_allocations(
    events: pl.DataFrame, activity: pl.DataFrame, end: datetime, days: tuple[int, int] = (30, 90)
) -> pl.DataFrame:
    """Allocated users without any use (license use or Proxy/Engine session) in the last ``days[0]`` days.

    ``idle_days`` counts from the last use, or from the allocation when it came later (a fresh allocation is
    not idle yet); it is None when the user was allocated before the logs and never seen using it.

    ``suggestion``: release when idle for ``days[1]`` days; a Professional idle for ``days[0]`` days is a
    candidate to downgrade to Analyzer (or release); an idle Analyzer/User pass a candidate to release.
    """
    short, long_ = days
    uses = (
        pl.concat(
            [
                events.filter(pl.col("category") == "usage").select("user_key", pl.col("time").alias("last")),
                activity.select("user_key", "last"),
            ]
        )
        .filter(pl.col("last") <= end)
        .group_by("user_key")
        .agg(pl.col("last").max().alias("last_used"))
    )
    held = allocated_users(events).join(uses, on="user_key", how="left")
    idle_expr = (pl.lit(end) - pl.max_horizontal("last_used", "allocated_since")).dt.total_seconds() / 86400.0
    since_use = (pl.lit(end) - pl.col("last_used")).dt.total_seconds() / 86400.0
    idle = pl.col("idle_days")
    out = (
        held.with_columns(
            idle_expr.floor().cast(pl.Int64).alias("idle_days"),
            since_use.floor().cast(pl.Int64).alias("days_since_use"),
        )
        .with_columns(
            (idle.is_null() | (idle >= short)).alias(f"no_use_{short}d"),
            (idle.is_null() | (idle >= long_)).alias(f"no_use_{long_}d"),
        )
        .filter(pl.col(f"no_use_{short}d"))
    )
    suggestion = (
        pl.when(pl.col(f"no_use_{long_}d"))
        .then(pl.lit("release"))
        .when(pl.col("access_type") == "Professional")
        .then(pl.lit("downgrade to Analyzer or release"))
        .otherwise(pl.lit("release if still idle"))
    )
    return (
        out.with_columns(suggestion.alias("suggestion"))
        .select(
            "user",
            "access_type",
            "allocated_since",
            "last_used",
            "days_since_use",
            "idle_days",
            f"no_use_{short}d",
            f"no_use_{long_}d",
            "suggestion",
        )
        .sort("access_type", "idle_days", "user", descending=[False, True, False], nulls_last=False)
    )


def recent_changes(events: pl.DataFrame, end: datetime, days: int = 7) -> pl.DataFrame:
    """Allocation events (adds, removals, updates) in the last ``days`` days before ``end``."""
    start = end - timedelta(days=days)
    return (
        events.filter(
            (pl.col("category") == "allocation") & (pl.col("time") > start) & (pl.col("time") <= end)
        )
        .select("time", "user", "access_type", "operation", "change", "by", "command", "source")
        .sort("time")
    )


def denial_list(events: pl.DataFrame, limit: int = 1000) -> tuple[pl.DataFrame, int]:
    """Denials (who, when, access type, reason), newest ``limit`` of them in time order, and the total."""
    den = events.filter(pl.col("category") == "denial").with_columns(
        pl.col("access_type").fill_null(UNASSIGNED)
    )
    rows = (
        den.sort("time").tail(limit).select("time", "user", "access_type", "reason", "session_id", "source")
    )
    return rows, den.height
