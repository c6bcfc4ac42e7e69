"""What the licenses analysis returns: :class:`LicensesResult`, its frames schema-checked, every field explained.

``qslogs license --json`` is made from it at the edge (:func:`qslogs.export.result_json`): the fields marked
``json`` in declaration order (capacity, timeline, fits, forecast, changes_7d, unused, denials,
denials_by_user, warnings, qvd_mapping), no findings. The chart data (fitted lines with their band, the
projections) and the data window are for the report only (``json=False``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar

import polars as pl

from qslogs.analyses.licenses.qvd import MAPPING_SCHEMA
from qslogs.analyses.result import Result, frame_field, value_field
from qslogs.timeutil import UTC_DATETIME

__all__ = [
    "CHANGE_SCHEMA", "DENIAL_SCHEMA", "DENIAL_USER_SCHEMA", "FIT_LINE_SCHEMA", "FIT_SCHEMA", "FORECAST_SCHEMA",
    "PROJECTION_SCHEMA", "TIMELINE_SCHEMA", "UNUSED_SCHEMA", "Capacity", "CapacityDetail", "LicensesResult", "Runway",
]

#: ``timeline``: one row per access type and day, and per access type and month.
TIMELINE_SCHEMA = pl.Schema({
    "granularity": pl.String(), "period": pl.String(), "access_type": pl.String(), "allocated": pl.Int64(),
    "active": pl.Int64(), "denied": pl.Int64(), "start": pl.Date(), "end": pl.Date(), "coverage": pl.Float64(),
})
#: ``fits``: one row per fitted series (allocated or active users of one access type).
FIT_SCHEMA = pl.Schema({
    "access_type": pl.String(), "series": pl.String(), "slope_per_month": pl.Float64(), "ci_low": pl.Float64(),
    "ci_high": pl.Float64(), "r2": pl.Float64(), "n_points": pl.Int64(), "method": pl.String(),
    "granularity": pl.String(), "flat": pl.Boolean(), "outliers": pl.Int64(), "start": pl.Date(), "end": pl.Date(),
})
#: ``in_use_other`` of a forecast row: the other source of the allocated count when it disagrees.
IN_USE_OTHER = pl.Struct({"source": pl.String(), "value": pl.Float64(), "note": pl.String()})
#: ``forecast``: one row per access type that can run out (Professional, Analyzer).
FORECAST_SCHEMA = pl.Schema({
    "access_type": pl.String(), "capacity": pl.Float64(), "in_use": pl.Float64(), "remaining": pl.Float64(),
    "months_to_exhaustion": pl.Float64(), "exhaustion_date": pl.Date(), "status": pl.String(),
    "months_low": pl.Float64(), "months_high": pl.Float64(), "date_low": pl.Date(), "date_high": pl.Date(),
    "in_use_source": pl.String(), "in_use_other": IN_USE_OTHER, "capacity_source": pl.String(),
    "as_of": pl.Date(), "interval": pl.String(), "no_fit_reason": pl.String(), "statement": pl.String(),
})
#: ``changes_7d``: allocation events of the last 7 days.
CHANGE_SCHEMA = pl.Schema({
    "time": UTC_DATETIME, "user": pl.String(), "access_type": pl.String(), "operation": pl.String(),
    "change": pl.Int8(), "by": pl.String(), "command": pl.String(), "source": pl.String(),
})
#: ``unused``: allocated users idle for 30 days or more.
UNUSED_SCHEMA = pl.Schema({
    "user": pl.String(), "access_type": pl.String(), "allocated_since": UTC_DATETIME, "last_used": UTC_DATETIME,
    "days_since_use": pl.Int64(), "idle_days": pl.Int64(), "no_use_30d": pl.Boolean(), "no_use_90d": pl.Boolean(),
    "suggestion": pl.String(),
})
#: ``denials``: one row per license denial (the newest 1,000).
DENIAL_SCHEMA = pl.Schema({
    "time": UTC_DATETIME, "user": pl.String(), "access_type": pl.String(), "reason": pl.String(),
    "session_id": pl.String(), "source": pl.String(),
})
#: ``denials_by_user``: denials grouped by user, service accounts told apart.
DENIAL_USER_SCHEMA = pl.Schema({
    "user": pl.String(), "count": pl.Int64(), "first": UTC_DATETIME, "last": UTC_DATETIME,
    "sources": pl.List(pl.String()), "service_account": pl.Boolean(),
})
#: ``fit_lines``: each point a fit used, with the fitted value and the band around it.
FIT_LINE_SCHEMA = pl.Schema({
    "access_type": pl.String(), "series": pl.String(), "granularity": pl.String(), "date": pl.Date(),
    "value": pl.Float64(), "fitted": pl.Float64(), "band_low": pl.Float64(), "band_high": pl.Float64(),
})
#: ``projection``: the allocated count projected past the end of the data, with its band.
PROJECTION_SCHEMA = pl.Schema({
    "access_type": pl.String(), "date": pl.Date(), "months": pl.Float64(), "projected": pl.Float64(),
    "low": pl.Float64(), "high": pl.Float64(), "capacity": pl.Float64(),
})


@dataclass(frozen=True, kw_only=True)
class CapacityDetail:
    """Licenses bought and in use for one access type (Professional, Analyzer, Tokens)."""

    access_type: str = field(metadata={"help": "Professional, Analyzer or Tokens"})
    capacity: float | None = field(metadata={"help": "licenses (tokens) bought; None when unknown"})
    source: str = field(metadata={"help": "where capacity came from: command line, bundle CalInfo or unknown"})
    in_use: float | None = field(
        metadata={"help": "allocations held by users, from CalInfo (<X>AllocatedTokens); None when absent"}
    )
    used: float | None = field(metadata={"help": "allocations that have been used (CalInfo <X>UsedTokens)"})
    quarantined: float | None = field(metadata={"help": "allocations in quarantine (CalInfo <X>QuarantinedTokens)"})


@dataclass(frozen=True, kw_only=True)
class Capacity:
    """What was bought per access type and where each number came from (the ``capacity`` object of ``--json``)."""

    source: str = field(metadata={"help": "the sources of the capacities, joined with ' + ' (or unknown)"})
    professional: float | None = field(metadata={"help": "Professional licenses bought; None when unknown"})
    analyzer: float | None = field(metadata={"help": "Analyzer licenses bought; None when unknown"})
    tokens: float | None = field(metadata={"help": "tokens bought; None when unknown or no token license"})
    details: tuple[CapacityDetail, ...] = field(metadata={"help": "Professional, Analyzer and Tokens, in order"})
    calinfo: dict[str, float] | None = field(
        metadata={"help": "the numeric counters of the bundle's CalInfo dump as found; None without one"}
    )

    def detail(self, access_type: str) -> CapacityDetail | None:
        """The detail of one access type (None when it has none)."""
        return next((d for d in self.details if d.access_type == access_type), None)


@dataclass(frozen=True, kw_only=True)
class Runway:
    """The access type whose licenses run out first, and when (the fleet's one-line license answer)."""

    access_type: str = field(metadata={"help": "Professional or Analyzer"})
    months: float = field(metadata={"help": "months from the end of the data (0: at or over capacity)"})
    date: date | None = field(metadata={"help": "the exhaustion date; None beyond the forecast horizon"})


@dataclass(frozen=True, kw_only=True)
class LicensesResult(Result):
    """Allocation against what was bought, growth per month, the runway, and the lists behind them."""

    NAME: ClassVar[str] = "licenses"
    #: ``qslogs license --json`` has never printed the findings (they are the report's and the fleet's).
    JSON_FINDINGS: ClassVar[bool] = False

    capacity: Capacity = value_field("licenses bought and in use per access type, with where each came from")
    timeline: pl.DataFrame = frame_field(
        TIMELINE_SCHEMA,
        "per access type (and 'All users') and per UTC day and month: allocated at the end of the period, "
        "distinct active users, denials; start/end are the period's first and last day inside the data, "
        "coverage the share of the period's days inside the data",
    )
    fits: pl.DataFrame = frame_field(
        FIT_SCHEMA,
        "growth fits: slope in users per month with its 95 % interval, R², points, method (ols or theil-sen), "
        "monthly or daily points, flat lines marked",
    )
    forecast: pl.DataFrame = frame_field(
        FORECAST_SCHEMA,
        "per access type: capacity, allocated, remaining, months and date of exhaustion with the prediction "
        "interval, status (unknown-capacity, over-capacity, at-capacity, no-fit, never, beyond-horizon, "
        "exhausts), where the numbers came from, and the forecast in one sentence",
    )
    changes_7d: pl.DataFrame = frame_field(
        CHANGE_SCHEMA, "allocation changes (adds, removals, updates) in the 7 days before the end of the data"
    )
    unused: pl.DataFrame = frame_field(
        UNUSED_SCHEMA,
        "allocated users without a use for 30 days or more: idle days (None: allocated before the logs and "
        "never seen using it), and a suggestion (release, downgrade)",
    )
    denials: pl.DataFrame = frame_field(DENIAL_SCHEMA, "license denials, the newest 1,000 in time order")
    denials_by_user: pl.DataFrame = frame_field(
        DENIAL_USER_SCHEMA,
        "denials per user, most first: count, first and last, client addresses named by the messages, and "
        "whether the user is a service account (internal calls, not a person)",
    )
    warnings: tuple[str, ...] = value_field(
        "what limits the numbers (short history, unknown capacity, QVDs not used, CalInfo disagreeing), in "
        "plain sentences", ()
    )
    qvd_mapping: pl.DataFrame = frame_field(
        MAPPING_SCHEMA,
        "one row per QVD looked at: used, not a license table, skipped or error, and which fields were read",
    )
    fit_lines: pl.DataFrame = frame_field(
        FIT_LINE_SCHEMA, "the points of each fit with the fitted line and its 95 % band (chart data)", json=False
    )
    projection: pl.DataFrame = frame_field(
        PROJECTION_SCHEMA,
        "the allocated count projected past the end of the data at the fitted slope, with the interval's "
        "slopes as the band, up to the exhaustion date or a horizon (chart data)",
        json=False,
    )
    runway: Runway | None = value_field(
        "the access type that runs out first (fewest months to exhaustion, then by name); None when none does",
        None,
        json=False,
    )
    start: datetime | None = value_field(
        "the first license event or site activity (UTC); None without license events", None, json=False
    )
    end: datetime | None = value_field(
        "the 'now' of the lists and forecasts (UTC): --until, else the end of the data; None without license "
        "events",
        None,
        json=False,
    )
