"""The fleet dataset's tables: one Arrow schema each, and the conversion from an analysis' JSON rows.

This module is the one source of truth for the columns of ``OUT/data/<table>/site=<name>/``. Both
engines build their tables here, so the local engine and Spark write the same columns with the same
types. Types are the ones Spark round-trips unchanged: text, 64-bit integers, doubles, booleans,
dates, lists of text and UTC timestamps in microseconds (``timestamp[us, UTC]``; Spark writes them as
``TIMESTAMP_MICROS``, never INT96). Naive local times (``local_start``, a script log's ``start``) stay
text, since a naive timestamp type does not survive every engine.

A column is ``(name, type, path)``: ``path`` names the key of the analysis row it comes from, dotted for
a nested object (``root_cause.class``). A key the analysis does not have (yet) gives null, so a field
added upstream (say a monitoring app's ``failing_since``) fills in without a change here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
TEXT = pa.string()
INT = pa.int64()
FLOAT = pa.float64()
BOOL = pa.bool_()
DATE = pa.date32()
TEXTS = pa.list_(TEXT)

Column = tuple[str, pa.DataType, str]


def _cols(spec: str, kind: pa.DataType) -> list[Column]:
    return [(name, kind, name) for name in spec.split()]


#: Columns of each table (the site is the partition, not a column of the files).
COLUMNS: dict[str, list[Column]] = {
    "sites": [
        *_cols("bundle status error", TEXT),
        *_cols("runs failed_runs failed_manual_reloads failed_runs_401 bad_lines unreadable_files", INT),
        *_cols("critical warning info ok", INT),
        ("connections_401", TEXTS, "connections_401"),
        *_cols("license_monitor operations_monitor runway_access_type", TEXT),
        ("runway_months", FLOAT, "runway_months"),
        ("runway_date", DATE, "runway_date"),
        ("summary_json", TEXT, "summary_json"),
    ],
    "runs": [
        *_cols("execution_id task app app_id node status", TEXT),
        *_cols("start stop", TS),
        ("duration_s", FLOAT, "duration_s"),
        *_cols("failure_kind error_class root_cause connection script_log task_id outcome error_hint "
               "root_cause_file", TEXT),
        *_cols("root_cause_line root_cause_script_line", INT),
        *_cols("running_statement script_outcome link", TEXT),
        ("link_delta_s", FLOAT, "link_delta_s"),
        *_cols("failure_reason note source local_start", TEXT),
    ],
    "manual_reloads": [
        ("time", TS, "time"),
        *_cols("app_id app user node outcome error_class error_hint root_cause", TEXT),
        *_cols("root_cause_line root_cause_script_line", INT),
        *_cols("running_statement connection script_log", TEXT),
        ("duration_s", FLOAT, "duration_s"),
        *_cols("source audit_file", TEXT),
        ("audit_line", INT, "audit_line"),
    ],
    "monitoring_apps": [
        *_cols("name verdict", TEXT),
        ("tasks", TEXTS, "tasks"),
        *_cols("last_success last_attempt", TS),
        ("last_status", TEXT, "last_status"),
        ("stale", BOOL, "stale"),
        ("age_hours", FLOAT, "age_hours"),
        *_cols("attempts failures_since_success", INT),
        *_cols("now stale_at failing_since", TS),
        ("stale_hours", FLOAT, "stale_hours"),
        *[(f"root_cause_{k}", TEXT, f"root_cause.{k}") for k in ("class", "connection", "text", "hint")],
        *[(f"root_cause_{k}", TEXT, f"root_cause.{k}") for k in ("failure_kind", "script_log", "execution_id")],
        ("root_cause_line", INT, "root_cause.line"),
        ("root_cause_time", TS, "root_cause.time"),
    ],
    "findings": _cols("analysis severity title detail", TEXT),
    "script_logs": [
        *_cols("source_file app_id host start", TEXT),
        ("start_utc", TS, "start_utc"),
        ("duration_s", FLOAT, "duration_s"),
        *_cols("executed_by user", TEXT),
        ("is_scheduled", BOOL, "is_scheduled"),
        *_cols("outcome error_class root_cause", TEXT),
        *_cols("root_cause_line_no root_cause_script_line", INT),
        ("connection", TEXT, "connection"),
        ("connections", TEXTS, "connections"),
        ("rows_fetched_total", INT, "rows_fetched_total"),
        *_cols("server_version execution_id", TEXT),
        ("manual", BOOL, "manual"),
    ],
    "licenses": [
        ("access_type", TEXT, "access_type"),
        *_cols("capacity in_use remaining months_to_exhaustion", FLOAT),
        ("exhaustion_date", DATE, "exhaustion_date"),
        ("status", TEXT, "status"),
        *_cols("months_low months_high", FLOAT),
        *_cols("date_low date_high", DATE),
        *_cols("in_use_source capacity_source", TEXT),
        ("as_of", DATE, "as_of"),
        ("statement", TEXT, "statement"),
    ],
    "license_fits": [
        *_cols("access_type series", TEXT),
        *_cols("slope_per_month ci_low ci_high r2", FLOAT),
        ("n_points", INT, "n_points"),
        *_cols("method granularity", TEXT),
        ("flat", BOOL, "flat"),
        ("outliers", INT, "outliers"),
        *_cols("start end", DATE),
    ],
    "bad_input": [
        *_cols("path kind problem", TEXT),
        *_cols("bad_lines first_line_no", INT),
        ("reason", TEXT, "reason"),
    ],
}

#: Table names in the order they are written.
TABLES: tuple[str, ...] = tuple(COLUMNS)


def schema(table: str) -> pa.Schema:
    """The Arrow schema of ``table``'s rows, with the ``site`` column first."""
    return pa.schema([("site", TEXT), *((name, kind) for name, kind, _ in COLUMNS[table])])


def arrow_table(table: str, site: str, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """``rows`` (JSON-ready analysis rows) as an Arrow table of ``table``'s schema, ``site`` on every row."""
    rows = list(rows)
    arrays: list[pa.Array] = [pa.array([site] * len(rows), TEXT)]
    for _name, kind, path in COLUMNS[table]:
        arrays.append(pa.array([_convert(_lookup(row, path), kind) for row in rows], kind))
    return pa.Table.from_arrays(arrays, schema=schema(table))


def _lookup(row: Mapping[str, Any], path: str) -> Any:
    value: Any = row
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _convert(value: Any, kind: pa.DataType) -> Any:
    """A JSON-ready value (ISO text for times and dates) as the Python value of an Arrow type."""
    if value is None:
        return None
    if kind == TS:
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    if kind == DATE:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else value
    if kind == FLOAT:
        return float(value)
    if kind == TEXT and not isinstance(value, str):
        return str(value)
    return value
