"""Recognise license tables in QVD frames by their fields, and turn mapped rows into license events.

A QVD is a license table when its fields hold a **user** (a ``DIR\\user`` field, or a user-directory field
plus a user-id field; GUIDs do not count), an **access type** (values such as ``Professional``,
``AnalyzerAccess``, ``Login pass``) and a **date/time** (typed as such by the QVD reader). An
``Operation``-like field (``UsageGranted``, ``Add``, …) makes it an event table; otherwise a date field
named like ``Allocated…``/``Assigned…`` makes it an allocation table (with ``…Removed…`` and
``LastUsed…`` fields when present); otherwise each row is a use.
"""

from __future__ import annotations

import re
from dataclasses import replace

import polars as pl

from qslogs.analyses.licenses.events import (
    EVENT_SCHEMA,
    LAST_USED,
    OPERATION_RULES,
    SOURCE_QVD,
    access_type_expr,
)
from qslogs.analyses.licenses.qvd_map import TableMap
from qslogs.errors import QvdError


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


#: Recognition looks at the first rows only (the loader reads just these to decide what else to read).
SAMPLE_ROWS = 5000
_DIRECTORY_NAMES = ("userdirectory", "directory", "userdir", "domain")
_USER_ID_NAMES = ("userid", "username", "user", "login", "account")
_ACCESS_VALUE = r"(?i)^\s*(professional|analyzer|user|login)\s*(access|pass)?\s*(type|capacity|time)?\s*$"
_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_OPERATIONS = set(OPERATION_RULES)


def _mean(flags: pl.Series) -> float:
    """Share of true values (0 for no values)."""
    return float(flags.sum()) / flags.len() if flags.len() else 0.0


def _share(s: pl.Series, pattern: str) -> float:
    return _mean(s.drop_nulls().str.contains(pattern))


def user_named(name: str) -> bool:
    """Whether :func:`recognise` would look at a field as the user, user directory or user id, by its name."""
    norm = _norm(name)
    return "user" in norm or norm in _DIRECTORY_NAMES or norm in _USER_ID_NAMES


def recognise(frame: pl.DataFrame) -> tuple[TableMap | None, str]:
    """Guess a QVD frame's mapping from its fields; (None, what is missing) for other tables.

    Only the text and date/time columns count, and of those only the first :data:`SAMPLE_ROWS` rows.
    """
    text = [c for c, t in frame.schema.items() if t == pl.String]
    temporal = [c for c, t in frame.schema.items() if t == pl.Date or isinstance(t, pl.Datetime)]
    sample = frame.head(SAMPLE_ROWS)
    user = next((c for c in text if "user" in _norm(c) and _share(sample[c], r"\\") >= 0.8), None)
    directory = next((c for c in text if _norm(c) in _DIRECTORY_NAMES), None)
    user_id = next(
        (
            c
            for c in text
            if _norm(c) in _USER_ID_NAMES
            and c != directory
            and _share(sample[c], _GUID) < 0.5
        ),
        None,
    )
    taken = {user, directory, user_id}
    access = sorted(
        (c for c in text if c not in taken and _share(sample[c], _ACCESS_VALUE) >= 0.8),
        key=lambda c: not re.search("type|access|licen", _norm(c)),
    )
    ops = [
        c
        for c in text
        if c not in taken
        and c not in access
        and _mean(sample[c].drop_nulls().str.to_lowercase().str.replace_all(" ", "").is_in(_OPERATIONS))
        >= 0.5
    ]
    missing = [
        what
        for what, ok in (
            ("a user field", user or (directory and user_id)),
            ("an access-type field", access),
            ("a date/time field", temporal),
        )
        if not ok
    ]
    if missing:
        return None, "missing " + ", ".join(missing)

    def pick(pattern: str) -> str | None:
        return next((c for c in temporal if re.search(pattern, _norm(c))), None)

    mapping = TableMap(
        user=user,
        user_directory=None if user else directory,
        user_id=None if user else user_id,
        access_type=access[0],
    )
    if ops:
        time = pick("timestamp") or pick("time") or temporal[0]
        return replace(mapping, kind="events", operation=ops[0], time=time), "recognised by fields"
    allocated = pick("alloc|assign|added|created|granted")
    if allocated:
        return replace(
            mapping,
            kind="allocation",
            time=allocated,
            end_time=pick("remov|dealloc|delet|revok|end"),
            last_used=pick("lastuse|lastaccess|lastlogin"),
        ), "recognised by fields"
    time = pick("timestamp") or pick("time") or pick("date") or temporal[0]
    return replace(mapping, kind="usage", time=time), "recognised by fields"


#: Day serial of 1970-01-01 (QVD serials count days since 1899-12-30, formats.md §8.4).
_UNIX_EPOCH_SERIAL = 25569


def _text(column: str, dtype: pl.DataType) -> pl.Expr:
    """Any QVD column as text (user names, access types): durations by their ISO 8601 form."""
    if isinstance(dtype, pl.Duration):
        return pl.col(column).dt.to_string("iso")
    return pl.col(column).cast(pl.String)


def _utc(column: str, dtype: pl.DataType, tz: str, display: str) -> pl.Expr:
    """A QVD date/time column → UTC, reading naive values in ``tz``.

    Dates and naive timestamps are cast; text is parsed as a fallback; plain numbers are read as Qlik day
    serials (an untagged date field). A time of day or a duration has no date, so a mapping that points the
    time at one is refused with the reason (never a crash, never a time on 1970-01-01).
    """
    if dtype == pl.String:
        col = pl.col(column).str.to_datetime(time_unit="ms", strict=False)
    elif isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return pl.col(column).dt.convert_time_zone("UTC").cast(pl.Datetime("ms", "UTC"))
    elif isinstance(dtype, pl.Datetime) or dtype == pl.Date:
        col = pl.col(column).cast(pl.Datetime("ms"))
    elif dtype.is_numeric():
        serial = pl.col(column).cast(pl.Float64)
        ms = ((serial - _UNIX_EPOCH_SERIAL) * 86_400_000).round()
        col = pl.when(ms.is_finite() & (ms.abs() < 2.5e14)).then(ms).cast(pl.Int64).cast(pl.Datetime("ms"))
    elif dtype == pl.Null:
        col = pl.lit(None, pl.Datetime("ms"))
    else:
        raise QvdError(display, f"field {column!r} holds {dtype} values, not dates: it cannot be the time of a "
                                "license event (map a DATE or TIMESTAMP field instead)")
    return col.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


def to_events(
    frame: pl.DataFrame, m: TableMap, display: str, fields: tuple[str, ...] | None = None
) -> pl.DataFrame:
    """Rows of a mapped QVD → :data:`EVENT_SCHEMA` events (``source`` = qvd, ``line_no`` = row number).

    ``fields``: every field of the QVD (default: the frame's columns), named when the mapping asks for
    one that is not there; the frame may hold only the fields the mapping names.
    """
    missing = [
        f
        for f in (
            m.user,
            m.user_directory,
            m.user_id,
            m.access_type,
            m.time,
            m.operation,
            m.end_time,
            m.last_used,
        )
        if f is not None and f not in frame.columns
    ]
    if missing:
        raise QvdError(
            display, f"the mapping names fields it does not have: {missing} (fields: {list(fields or frame.columns)})"
        )
    if (
        m.time is None
        or not (m.user or (m.user_directory and m.user_id))
        or not (m.access_type or m.access_type_value)
    ):
        raise QvdError(
            display,
            "the mapping must name a user (or user_directory + user_id), an access type "
            "(or access_type_value) and a time",
        )
    def text(name: str) -> pl.Expr:
        return _text(name, frame.schema[name])

    user = text(m.user) if m.user else text(str(m.user_directory)) + "\\" + text(str(m.user_id))
    access = text(m.access_type) if m.access_type else pl.lit(m.access_type_value)
    base = frame.with_row_index("line_no", offset=1).select(
        user.str.strip_chars().alias("user"),
        access_type_expr(access).alias("access_type"),
        pl.col("line_no").cast(pl.Int64),
        *(
            _utc(c, frame.schema[c], m.timezone, display).alias(c)
            for c in dict.fromkeys((m.time, m.end_time, m.last_used))
            if c
        ),
        *([text(m.operation).str.strip_chars().alias("operation")] if m.operation else []),
    )

    def part(time: str, operation: pl.Expr) -> pl.DataFrame:
        low = operation.str.to_lowercase().str.replace_all(" ", "")
        rules = {k: v[0] for k, v in OPERATION_RULES.items()}
        changes = {k: v[1] for k, v in OPERATION_RULES.items()}
        return base.filter(pl.col(time).is_not_null()).select(
            pl.col(time).alias("time"),
            "access_type",
            operation.alias("operation"),
            low.replace_strict(rules, default="other", return_dtype=pl.String).alias("category"),
            low.replace_strict(changes, default=0, return_dtype=pl.Int8).alias("change"),
            "user",
            "line_no",
        )

    kind = m.kind or ("events" if m.operation else "usage")
    if kind == "events":
        if not m.operation:
            raise QvdError(display, "an events mapping needs an operation field")
        parts = [part(m.time, pl.col("operation"))]
    elif kind == "allocation":
        parts = [part(m.time, pl.lit("Add"))]
        parts += [part(m.end_time, pl.lit("Delete"))] if m.end_time else []
        parts += [part(m.last_used, pl.lit(LAST_USED))] if m.last_used else []
    else:
        parts = [part(m.time, pl.lit("UsageDenied" if kind == "denial" else "UsageGranted"))]
    out = pl.concat(parts).filter(pl.col("user").is_not_null() & (pl.col("user") != ""))
    return out.with_columns(
        pl.col("user").str.to_lowercase().alias("user_key"),
        pl.lit(None, pl.String).alias("session_id"),
        pl.lit(None, pl.String).alias("command"),
        pl.lit(None, pl.String).alias("reason"),
        pl.lit(None, pl.String).alias("by"),
        pl.lit(SOURCE_QVD).alias("source"),
        pl.lit(display).alias("source_file"),
        pl.lit(None, pl.String).alias("host"),
    ).select([pl.col(c).cast(t) for c, t in EVENT_SCHEMA.items()])
