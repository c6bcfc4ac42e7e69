"""The typed result of the activity analysis: levels per hour, errors per service × node, messages, sessions.

Each field's schema is the one source of truth of its table: the analysis builds it, ``qslogs activity
--json`` prints the fields marked json (in this order, then the findings), the report draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from qslogs.analyses.result import Result, frame_field
from qslogs.timeutil import UTC_DATETIME

#: How many distinct error/warning messages the ``messages`` table keeps.
TOP_MESSAGES = 50
#: Counts of records: ``pl.len()`` and its sums.
COUNT = pl.UInt32()

LEVELS_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "service": pl.String(),
    "host": pl.String(),
    "hour": UTC_DATETIME,
    "level": pl.String(),
    "count": COUNT,
}
MESSAGES_SCHEMA: dict[str, pl.DataType] = {
    "service": pl.String(),
    "level": pl.String(),
    "message": pl.String(),
    "count": COUNT,
    "hosts": pl.String(),
    "first": UTC_DATETIME,
    "last": UTC_DATETIME,
    "example": pl.String(),
}
ERROR_TIMES_SCHEMA: dict[str, pl.DataType] = {
    "service": pl.String(),
    "host": pl.String(),
    "first_error": UTC_DATETIME,
    "last_error": UTC_DATETIME,
}
SESSIONS_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "day": pl.Date(),
    "sessions": COUNT,
    "users": COUNT,
    "internal_sessions": COUNT,
}
#: Errors, warnings and records of one group (ERROR+FATAL, WARN, every level).
_COUNTS: dict[str, pl.DataType] = {"errors": COUNT, "warnings": COUNT, "records": COUNT}
BY_SERVICE_HOST_SCHEMA: dict[str, pl.DataType] = {
    "service": pl.String(),
    "host": pl.String(),
    **_COUNTS,
    "first_error": UTC_DATETIME,
    "last_error": UTC_DATETIME,
}
DAILY_SCHEMA: dict[str, pl.DataType] = {"day": pl.Date(), "service": pl.String(), "host": pl.String(), **_COUNTS}
HOURLY_SCHEMA: dict[str, pl.DataType] = {"service": pl.String(), "host": pl.String(), "hour": UTC_DATETIME, **_COUNTS}


@dataclass(frozen=True, kw_only=True)
class ActivityResult(Result):
    """Where and when services logged errors and warnings, the most frequent messages, and sessions."""

    NAME: ClassVar[str] = "activity"

    levels: pl.DataFrame = frame_field(
        LEVELS_SCHEMA,
        "records per log kind × node × UTC hour × level (levels upper-cased, WARNING→WARN, ERR→ERROR, "
        "CRITICAL→FATAL, INFORMATION→INFO; a missing level is NONE), by hour, service, node, kind, level",
    )
    by_service_host: pl.DataFrame = frame_field(
        BY_SERVICE_HOST_SCHEMA,
        "per service × node: errors (ERROR and FATAL), warnings (WARN), records of any level, and the real "
        "times of the first and last error (null without errors); most errors first",
    )
    daily: pl.DataFrame = frame_field(
        DAILY_SCHEMA, "errors, warnings and records per UTC day × service × node, by day, service, node"
    )
    hourly_totals: pl.DataFrame = frame_field(
        {"hour": UTC_DATETIME, "errors": COUNT, "warnings": COUNT},
        "errors and warnings per UTC hour, summed over every service and node (hours without records absent)",
    )
    daily_totals: pl.DataFrame = frame_field(
        {"day": pl.Date(), "errors": COUNT, "warnings": COUNT},
        "errors and warnings per UTC day, summed over every service and node (days without records absent)",
    )
    messages: pl.DataFrame = frame_field(
        MESSAGES_SCHEMA,
        f"the {TOP_MESSAGES} most frequent error and warning messages: first line with GUIDs as <id> and numbers "
        "as #, so repeats group; count, nodes (comma-separated), first and last time, and one example as logged",
    )
    sessions: pl.DataFrame = frame_field(
        SESSIONS_SCHEMA,
        "per source (proxy: 'Start session' audit records; engine: ended engine sessions) and UTC day: "
        "sessions and distinct users of people, and sessions of Qlik's built-in INTERNAL accounts apart",
    )
    session_totals: pl.DataFrame = frame_field(
        {"source": pl.String(), "sessions": COUNT, "users": COUNT},
        "per source over the whole window: sessions and distinct users, INTERNAL accounts left out",
    )
    hourly: pl.DataFrame = frame_field(
        HOURLY_SCHEMA,
        "errors, warnings and records per service × node × UTC hour (the report's sparklines and the date "
        "filter's recount when it shows hours)",
        json=False,
    )
