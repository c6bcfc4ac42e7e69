"""Activity: log levels per service × host × hour, the most frequent errors, sessions and users per day.

Every log kind whose family has a level column (``Level`` for the trace family, ``Severity`` for the
service, node.js, DataProfiling and engine daily families; see :data:`qslogs.schemas.LEVEL_COLUMN`) is
counted per hour, so a support engineer sees *where* and *when* errors cluster. User sessions and
distinct users per day come from ``Proxy/AuditActivity`` ("Start session" commands) and
``Engine/Session`` (one record per ended engine session); built-in ``INTERNAL`` accounts (the
scheduler's reloads, the repository's service user) are counted apart, as they are not people.
"""

from __future__ import annotations

import polars as pl

from qslogs.analyses.activity_result import (
    ERROR_TIMES_SCHEMA,
    LEVELS_SCHEMA,
    MESSAGES_SCHEMA,
    SESSIONS_SCHEMA,
    TOP_MESSAGES,
    ActivityResult,
)
from qslogs.analyses.base import Analysis, AnalysisOptions, time_filter
from qslogs.findings import Finding, Severity
from qslogs.frames import Frames
from qslogs.jsonable import to_jsonable
from qslogs.schemas import LEVEL_COLUMN, TIME_COLUMN, Family
from qslogs.words import plural

NAME = ActivityResult.NAME

#: Canonical level names; anything else is kept upper-cased as it was written.
LEVEL_ALIASES: dict[str, str] = {
    "WARNING": "WARN",
    "ERR": "ERROR",
    "CRITICAL": "FATAL",
    "INFORMATION": "INFO",
}
ERROR_LEVELS = ("ERROR", "FATAL")
WARN_LEVELS = ("WARN",)
#: The user directory of Qlik's built-in service accounts.
INTERNAL_DIRECTORY = "internal"

_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"


def _level_kinds(frames: Frames) -> dict[str, Family]:
    """Kinds of the bundle whose family carries a level column, with that family."""
    known = (
        frames.files.filter(pl.col("family").is_not_null() & (pl.col("status") == "parsed"))
        .select("kind", "family")
        .unique()
        .sort("kind")
    )
    out: dict[str, Family] = {}
    for kind, family in known.iter_rows():
        fam = Family(family)
        columns = frames.columns(kind)
        if fam in LEVEL_COLUMN and LEVEL_COLUMN[fam] in columns and TIME_COLUMN[fam] in columns:
            out[kind] = fam
    return out


def _level_expr(column: str) -> pl.Expr:
    raw = pl.col(column).str.strip_chars().str.to_uppercase().fill_null("NONE")
    return raw.replace(LEVEL_ALIASES).alias("level")


def _normalised_message(column: str) -> pl.Expr:
    """First line of a message with GUIDs and numbers masked, so repeats of one error group together."""
    first = pl.col(column).str.extract(r"^\s*([^\n]*)", 1).str.slice(0, 240)
    return (
        first.str.replace_all(_GUID, "<id>").str.replace_all(r"\d+", "#").str.strip_chars().alias("message")
    )


def queries(frames: Frames, options: AnalysisOptions) -> dict[str, pl.LazyFrame]:
    """Hourly level counts, error/warning messages, and session counts, as lazy queries."""
    levels: list[pl.LazyFrame] = []
    messages: list[pl.LazyFrame] = []
    error_times: list[pl.LazyFrame] = []
    for kind, family in _level_kinds(frames).items():
        time_col, level_col = TIME_COLUMN[family], LEVEL_COLUMN[family]
        service = kind.split("/", 1)[0]
        lazy = time_filter(frames.lazy(kind), time_col, options).filter(pl.col(time_col).is_not_null())
        base = lazy.select(
            pl.lit(kind).alias("kind"),
            pl.lit(service).alias("service"),
            pl.col("host").cast(pl.String),
            pl.col(time_col).alias("time"),
            _level_expr(level_col),
            *([pl.col("Message")] if "Message" in frames.columns(kind) else []),
        )
        levels.append(
            base.select("kind", "service", "host", pl.col("time").dt.truncate("1h").alias("hour"), "level")
        )
        error_times.append(base.filter(pl.col("level").is_in(ERROR_LEVELS)).select("service", "host", "time"))
        if "Message" in frames.columns(kind):
            messages.append(
                base.filter(
                    pl.col("level").is_in([*ERROR_LEVELS, *WARN_LEVELS]) & pl.col("Message").is_not_null()
                ).select(
                    "service",
                    "host",
                    "time",
                    "level",
                    _normalised_message("Message"),
                    pl.col("Message").str.slice(0, 2000).alias("example"),
                )
            )
    out: dict[str, pl.LazyFrame] = {}
    if levels:
        out["levels"] = (
            pl.concat(levels)
            .group_by("kind", "service", "host", "hour", "level")
            .agg(pl.len().cast(pl.UInt32).alias("count"))
        )
    if error_times:  # the real first/last error times (the hourly levels only know their hour)
        out["error_times"] = (
            pl.concat(error_times)
            .group_by("service", "host")
            .agg(pl.col("time").min().alias("first_error"), pl.col("time").max().alias("last_error"))
        )
    if messages:
        out["messages"] = (
            pl.concat(messages)
            .sort("time")
            .group_by("service", "level", "message")
            .agg(
                pl.len().cast(pl.UInt32).alias("count"),
                pl.col("host").drop_nulls().unique().sort().str.join(", ").alias("hosts"),
                pl.col("time").min().alias("first"),
                pl.col("time").max().alias("last"),
                pl.col("example").first(),
            )
        )
    sessions = _session_queries(frames, options)
    if sessions:
        out["sessions"] = pl.concat(sessions)
    return out


def _session_queries(frames: Frames, options: AnalysisOptions) -> list[pl.LazyFrame]:
    parts: list[pl.LazyFrame] = []
    sources = (
        ("proxy", "Proxy/AuditActivity", "UserDirectory", "UserId"),
        ("engine", "Engine/Session", "ActiveUserDirectory", "ActiveUserId"),
    )
    for source, kind, dir_col, user_col in sources:
        columns = set(frames.columns(kind))
        if not {dir_col, user_col, "Timestamp"} <= columns:
            continue
        lazy = time_filter(frames.lazy(kind), "Timestamp", options).filter(pl.col("Timestamp").is_not_null())
        if source == "proxy":
            if "Command" not in columns:
                continue
            lazy = lazy.filter(pl.col("Command").str.to_lowercase().str.starts_with("start session"))
        internal = pl.col(dir_col).str.to_lowercase().str.strip_chars() == INTERNAL_DIRECTORY
        user = pl.concat_str(
            pl.col(dir_col).str.to_uppercase(), pl.lit("\\"), pl.col(user_col).str.to_lowercase()
        )
        parts.append(
            lazy.select(
                pl.col("Timestamp").dt.date().alias("day"),
                internal.fill_null(False).alias("internal"),
                user.alias("user"),
            )
            .group_by("day")
            .agg(
                (~pl.col("internal")).sum().cast(pl.UInt32).alias("sessions"),
                pl.col("user")
                .filter(~pl.col("internal"))
                .drop_nulls()
                .n_unique()
                .cast(pl.UInt32)
                .alias("users"),
                pl.col("internal").sum().cast(pl.UInt32).alias("internal_sessions"),
            )
            .select(pl.lit(source).alias("source"), "day", "sessions", "users", "internal_sessions")
        )
        parts.append(
            lazy.filter(~internal.fill_null(False)).select(
                pl.lit(f"{source}:total").alias("source"),
                pl.lit(None, pl.Date).alias("day"),
                pl.len().cast(pl.UInt32).alias("sessions"),
                user.drop_nulls().n_unique().cast(pl.UInt32).alias("users"),
                pl.lit(0, pl.UInt32).alias("internal_sessions"),
            )
        )
    return parts


def build(results: dict[str, pl.DataFrame], frames: Frames, options: AnalysisOptions) -> ActivityResult:
    """Levels per hour, their sums per service × node, day and hour, the top messages and the sessions."""
    levels = results.get("levels", pl.DataFrame(schema=LEVELS_SCHEMA)).sort(
        "hour", "service", "host", "kind", "level"
    )
    is_err = pl.col("level").is_in(ERROR_LEVELS)
    is_warn = pl.col("level").is_in(WARN_LEVELS)
    counts = (
        pl.col("count").filter(is_err).sum().alias("errors"),
        pl.col("count").filter(is_warn).sum().alias("warnings"),
    )
    by_sh = (
        levels.group_by("service", "host")
        .agg(*counts, pl.col("count").sum().alias("records"))
        .join(results.get("error_times", pl.DataFrame(schema=ERROR_TIMES_SCHEMA)), on=["service", "host"], how="left")
        .sort(
            ["errors", "warnings", "service", "host"], descending=[True, True, False, False], nulls_last=True
        )
    )
    daily = (
        levels.group_by(pl.col("hour").dt.date().alias("day"), "service", "host")
        .agg(*counts, pl.col("count").sum().alias("records"))
        .sort("day", "service", "host")
    )
    hourly = (
        levels.group_by("service", "host", "hour")
        .agg(*counts, pl.col("count").sum().alias("records"))
        .sort("service", "host", "hour")
    )
    messages = results.get("messages", pl.DataFrame(schema=MESSAGES_SCHEMA))
    denials = _denial_errors(messages)
    sessions = results.get("sessions", pl.DataFrame(schema=SESSIONS_SCHEMA))
    totals = (
        sessions.filter(pl.col("source").str.ends_with(":total"))
        .with_columns(pl.col("source").str.replace(":total", "", literal=True))
        .drop("day", "internal_sessions")
        .sort("source")
    )
    sessions = sessions.filter(~pl.col("source").str.ends_with(":total")).sort("source", "day")
    return ActivityResult(
        levels=levels,
        by_service_host=by_sh,
        daily=daily,
        hourly_totals=levels.group_by("hour").agg(*counts).sort("hour"),
        daily_totals=daily.group_by("day").agg(pl.col("errors").sum(), pl.col("warnings").sum()).sort("day"),
        messages=messages.sort(
            ["count", "service", "level", "message"], descending=[True, False, False, False]
        ).head(TOP_MESSAGES),
        sessions=sessions,
        session_totals=totals,
        hourly=hourly,
        findings=_findings(by_sh, sessions, totals, denials),
    )


#: Error messages that are license denials (Repository logs each refused access request as an error).
DENIAL_MESSAGE = r"(?i)usagedenied|no available access type|access denied for"


def _denial_errors(messages: pl.DataFrame) -> dict[str, int]:
    """Per service, how many of its errors are license denials (told apart in the findings)."""
    den = messages.filter(
        pl.col("level").is_in(ERROR_LEVELS) & pl.col("message").str.contains(DENIAL_MESSAGE)
    )
    return {str(r["service"]): int(r["count"]) for r in den.group_by("service").agg(pl.col("count").sum()).to_dicts()}


def _findings(
    by_sh: pl.DataFrame, sessions: pl.DataFrame, totals: pl.DataFrame, denials: dict[str, int]
) -> tuple[Finding, ...]:
    """The errors-and-warnings summary (about the worst service × node) and one finding per session source."""
    findings: list[Finding] = []
    errors, warnings = int(by_sh["errors"].sum()), int(by_sh["warnings"].sum())
    if errors or warnings:
        worst = by_sh.row(0, named=True)
        services = by_sh.filter(pl.col("errors") > 0)["service"].n_unique()
        findings.append(
            Finding(
                NAME,
                Severity.INFO,
                f"{plural(errors, 'error')} and {plural(warnings, 'warning')} logged by "
                f"{plural(services, 'service')}; most in {worst['service']} on {worst['host']} "
                f"({plural(worst['errors'], 'error')}"
                + (
                    f", {denials[worst['service']]:,} of them license denials)"
                    if denials.get(worst["service"])
                    else ")"
                ),
                "Qlik services log many errors that are harmless; look at the hours where they cluster "
                "(Activity section) and at the most frequent messages before anything else."
                + (
                    f" {denials[worst['service']]:,} of the {worst['service']} errors are license denials "
                    "(refused access requests): the Licenses section groups them by user and tells the "
                    "service account's internal calls apart from people."
                    if denials.get(worst["service"])
                    else ""
                ),
                {
                    "errors": errors,
                    "warnings": warnings,
                    "worst": to_jsonable(worst),
                    "license_denial_errors": denials,
                },
                table="by_service_host",
                keys=(f"{worst['service']}|{worst['host']}",),
            )
        )
    for row in totals.iter_rows(named=True):
        days = sessions.filter(pl.col("source") == row["source"]).height
        label = "Proxy sessions" if row["source"] == "proxy" else "Engine sessions"
        findings.append(
            Finding(
                NAME,
                Severity.INFO,
                f"{label}: {row['sessions']:,} by {plural(row['users'], 'distinct user')} over {plural(days, 'day')}",
                "Counts exclude Qlik's built-in INTERNAL accounts (scheduled reloads, service users).",
                {"source": row["source"], "sessions": row["sessions"], "users": row["users"], "days": days},
                table="session_totals",
                keys=(row["source"],),
            )
        )
    return tuple(findings)


ANALYSIS = Analysis(NAME, queries, build)
