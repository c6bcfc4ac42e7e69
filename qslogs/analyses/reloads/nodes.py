"""Upgrades and restarts per node: post-mortems start with "what changed, and when did it restart".

- **Versions**: every Audit/Service-family row carries the ``ProductVersion`` of the service that wrote
  it, and engine Session/Performance rows the ``Exe Version``. Per node and log, each version seen
  with its first and last time; a node whose service shows two versions in the bundle was upgraded (or
  downgraded) inside it, which gets a finding (sites upgrade node by node, so a mixed site is common).
- **Restarts**: the start-up lines of the .NET services (Service-family ``The service is starting``) and
  each distinct ``Server Started`` stamp of the engine's System log.
"""

from __future__ import annotations

import polars as pl

from qslogs.findings import Finding, Severity
from qslogs.frames import Frames
from qslogs.jsonable import to_jsonable
from qslogs.timeutil import UTC_DATETIME, qlik_ts
from qslogs.words import plural, when

#: A start-up line of a .NET service (Service family ``Message``; seen in real bundles).
STARTUP_MESSAGE = r"(?i)^\s*the service is starting"
_VERSION_SCHEMA: dict[str, pl.DataType] = {
    "host": pl.String(),
    "service": pl.String(),
    "version": pl.String(),
    "first": UTC_DATETIME,
    "last": UTC_DATETIME,
    "rows": pl.UInt32(),
}
_START_SCHEMA: dict[str, pl.DataType] = {"host": pl.String(), "service": pl.String(), "time": UTC_DATETIME}


def _kinds(frames: Frames, families: tuple[str, ...]) -> list[str]:
    known = frames.files.filter(pl.col("family").is_in(list(families)) & (pl.col("status") == "parsed"))
    return sorted(set(known["kind"].to_list()))


def versions_query(frames: Frames) -> pl.LazyFrame:
    """``host, service, version, first, last, rows`` over every row that names its product version."""
    parts = []
    for kind in _kinds(frames, ("audit", "service")) + ["Engine/Session", "Engine/Performance"]:
        cols = frames.columns(kind)
        column = "ProductVersion" if "ProductVersion" in cols else "Exe Version" if "Exe Version" in cols else None
        if column is None or "Timestamp" not in cols:
            continue
        parts.append(
            frames.lazy(kind).select(
                pl.col("host").cast(pl.String),
                pl.lit(kind if column == "ProductVersion" else f"{kind} ({column})").alias("service"),
                pl.col(column).cast(pl.String).str.strip_chars().alias("version"),
                pl.col("Timestamp").alias("time"),
            )
        )
    if not parts:
        return pl.LazyFrame(schema=_VERSION_SCHEMA)
    return (
        pl.concat(parts, how="vertical_relaxed")
        .filter(pl.col("version").is_not_null() & (pl.col("version") != "") & pl.col("time").is_not_null())
        .group_by("host", "service", "version")
        .agg(pl.col("time").min().alias("first"), pl.col("time").max().alias("last"), pl.len().alias("rows"))
    )


def startups_query(frames: Frames) -> pl.LazyFrame:
    """``host, service, time`` of each start-up seen (service start lines, engine ``Server Started``)."""
    parts = []
    for kind in _kinds(frames, ("service",)):
        if {"Message", "Timestamp"} <= set(frames.columns(kind)):
            parts.append(
                frames.lazy(kind)
                .filter(pl.col("Message").str.contains(STARTUP_MESSAGE))
                .select(pl.col("host").cast(pl.String), pl.lit(kind.split("/", 1)[0]).alias("service"),
                        pl.col("Timestamp").alias("time"))
            )
    if "Server Started" in frames.columns("Engine/System"):
        parts.append(
            frames.lazy("Engine/System")
            .select(pl.col("host").cast(pl.String), pl.lit("Engine").alias("service"),
                    qlik_ts(pl.col("Server Started")).alias("time"))
            .unique()
        )
    if not parts:
        return pl.LazyFrame(schema=_START_SCHEMA)
    return pl.concat(parts, how="vertical_relaxed").filter(pl.col("time").is_not_null()).unique()


def version_changes(versions: pl.DataFrame) -> pl.DataFrame:
    """One row per node and log whose version changed: from, to, and when the new one appeared.

    A change needs the old version's last row to come before the new version's first: two versions that
    overlap in time are two writers (e.g. files of another install copied in), not an upgrade.
    """
    group = ["host", "service"]
    return (
        versions.sort("host", "service", "first", "version", nulls_last=False)
        .with_columns(
            pl.col("version").shift(1).over(group).alias("from"),
            pl.col("last").shift(1).over(group).alias("last_old"),
        )
        .filter(pl.col("from").is_not_null() & (pl.col("last_old") <= pl.col("first")))
        .select(
            pl.col("host").cast(pl.String),
            "service",
            "from",
            pl.col("version").alias("to"),
            pl.col("last_old").cast(UTC_DATETIME),
            pl.col("first").cast(UTC_DATETIME).alias("first_new"),
        )
        .sort("first_new", "host", "service", nulls_last=False)
    )


def restarts_by_node(startups: pl.DataFrame) -> pl.DataFrame:
    """Per node: how many start-up lines, per service (by name), first and last, and every time."""
    per_service = (
        startups.group_by("host", "service")
        .agg(pl.len().cast(pl.UInt32).alias("startups"))
        .sort("host", "service")
        .group_by("host", maintain_order=True)
        .agg(pl.struct("service", "startups").alias("services"))
    )
    return (
        startups.sort("time")
        .group_by("host", maintain_order=True)
        .agg(
            pl.len().cast(pl.UInt32).alias("startups"),
            pl.col("time").min().alias("first"),
            pl.col("time").max().alias("last"),
            pl.col("time").alias("times"),
        )
        .join(per_service, on="host", how="left", nulls_equal=True)
        .select(pl.col("host").cast(pl.String), "startups", "services", "first", "last", "times")
        .sort("host", nulls_last=False)
    )


def findings(analysis: str, changes: pl.DataFrame, restarts: pl.DataFrame) -> list[Finding]:
    """An info finding per node whose product version changed inside the bundle (with its restarts)."""
    out = []
    starts_of = {row["host"]: row for row in restarts.iter_rows(named=True)}
    for (host,), group in changes.group_by("host", maintain_order=True):
        rows = group.to_dicts()
        what = "; ".join(f"{r['service']} {r['from']} → {r['to']}" for r in rows)
        first_new = min(r["first_new"] for r in rows)
        starts = starts_of.get(host)
        if starts is not None:
            starts = {**starts, "services": {s["service"]: s["startups"] for s in starts["services"] or []}}
        restart_text = (
            f" {plural(starts['startups'], 'service start-up line')} on this node in the bundle." if starts else ""
        )
        out.append(
            Finding(
                analysis,
                Severity.INFO,
                f"{host} was upgraded inside the bundle: {what}",
                f"The new version first appears at {when(first_new)}. Failures that start around an upgrade "
                "often come from it (changed connectors, credentials, settings); other nodes may still run "
                f"the old version.{restart_text}",
                to_jsonable({"host": host, "changes": rows, "restarts": starts}),
                table="version_changes",
                keys=(str(host),),
            )
        )
    return out
