"""License events from logs → one canonical frame (formats.md §7), plus who actually used the site.

Sources, each turned into :data:`EVENT_SCHEMA` rows by a lazy query:

- ``Repository/License`` (§7.1): ``Operation`` says what happened; ``AccessType`` is empty on denials.
- ``Repository/AuditSecurity`` rows with ``SecurityClass`` = ``License`` (§7.2): the command is classified
  as allocation or usage by :class:`LicenseRules` (§7.3, user-overridable), details come from the
  message's ``Key: 'value'`` pairs (either quote character).
- ``Proxy/AuditActivity`` and ``Engine/Session``: every non-internal user with a session
  (:func:`site_activity`).

Both repository logs record the same events; :func:`dedupe_events` keeps one of each (the License log's
row when both exist). Allocations are tracked as a set per access type, so a repeated ``Add`` never
counts twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import polars as pl

from qslogs.frames import Frames
from qslogs.timeutil import UTC_DATETIME

#: Canonical access types (§7.4), matched on the prefix of Qlik's names (``ProfessionalAccess`` …).
ACCESS_TYPES = ("Professional", "Analyzer", "User", "Login", "Analyzer capacity")
#: Access types allocated to a named user: they have an allocated count and can run out per user.
PER_USER_TYPES = ("Professional", "Analyzer", "User")
#: Label of denials that name no access type ("No available access type").
UNASSIGNED = "Unassigned"

#: Operation of a use known only as a "last used" stamp (allocation QVDs): it proves the user was active
#: then, but says nothing about other days, so it counts for the idle lists and not for active users.
LAST_USED = "LastUsed"

LICENSE_LOG = "Repository/License"
AUDIT_SECURITY = "Repository/AuditSecurity"
SOURCE_QVD = "qvd"

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "time": UTC_DATETIME,
    "access_type": pl.String(),
    "operation": pl.String(),
    "category": pl.String(),
    "change": pl.Int8(),
    "user": pl.String(),
    "user_key": pl.String(),
    "session_id": pl.String(),
    "command": pl.String(),
    "reason": pl.String(),
    "by": pl.String(),
    "source": pl.String(),
    "source_file": pl.String(),
    "line_no": pl.Int64(),
    "host": pl.String(),
}
"""One row per license event. ``category`` is allocation, usage, denial or other; ``change`` is +1 (a user
gets the access type), -1 (it is taken away) or 0; ``user_key`` is the lower-cased ``DIR\\user``."""

ACTIVITY_SCHEMA: dict[str, pl.DataType] = {
    "user_key": pl.String(),
    "user": pl.String(),
    "day": pl.Date(),
    "first": UTC_DATETIME,
    "last": UTC_DATETIME,
}

#: ``Repository/License`` ``Operation`` → (category, change). ``Update`` rows there stamp "Last used".
OPERATION_RULES: dict[str, tuple[str, int]] = {
    "usagegranted": ("usage", 0),
    "usagedenied": ("denial", 0),
    "timedout": ("usage", 0),
    "update": ("usage", 0),
    "lastused": ("usage", 0),
    "add": ("allocation", 1),
    "delete": ("allocation", -1),
    "remove": ("allocation", -1),
    "deallocate": ("allocation", -1),
}

#: formats.md §7.3: how the License Monitor classifies repository commands (lower-case).
DEFAULT_COMMAND_CATEGORIES: dict[str, str] = {
    "add license": "allocation",
    "update license": "allocation",
    "delete user access": "allocation",
    "update user access": "allocation",
    "add user access": "usage",
    "license maintenance": "usage",
    "license user access": "usage",
    "license user access request": "usage",
    "request access type": "usage",
}

#: Default for commands not in the table (§7.3 [inf]), tried in order:
#: (regex on the lower-case command, category).
DEFAULT_COMMAND_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^license maintenance$", "usage"),
    (r"access request$", "usage"),
    (r"^license .*access$", "usage"),
    (r"^(add|update|delete|remove)\b.*access", "allocation"),
    (r" license$", "allocation"),
)


@dataclass(frozen=True)
class LicenseRules:
    """Which repository commands are allocations and which are usage; override per command name."""

    commands: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_COMMAND_CATEGORIES),
        metadata={"help": "lower-case command → allocation | usage | other"},
    )
    patterns: tuple[tuple[str, str], ...] = field(
        default=DEFAULT_COMMAND_PATTERNS, metadata={"help": "(regex, category) for unlisted commands"}
    )

    def with_overrides(self, overrides: Mapping[str, str]) -> LicenseRules:
        """These rules with some commands re-classified (e.g. by ``[commands]`` of ``--qvd-map``)."""
        allowed = {"allocation", "usage", "other"}
        bad = {k: v for k, v in overrides.items() if v not in allowed}
        if bad:
            raise ValueError(f"command categories must be one of {sorted(allowed)}: {bad}")
        return LicenseRules(
            {**self.commands, **{k.lower().strip(): v for k, v in overrides.items()}}, self.patterns
        )

    def category_expr(self, command: pl.Expr) -> pl.Expr:
        """Vectorised: the category of each (raw) command name."""
        low = command.str.strip_chars().str.to_lowercase()
        expr: pl.Expr = pl.lit(None, pl.String)
        for pattern, category in reversed(self.patterns):
            expr = pl.when(low.str.contains(pattern)).then(pl.lit(category)).otherwise(expr)
        listed = low.replace_strict(dict(self.commands), default=None, return_dtype=pl.String)
        return pl.coalesce(listed, expr, pl.lit("other"))


def access_type_expr(raw: pl.Expr) -> pl.Expr:
    """Qlik's access-type text → a canonical name of :data:`ACCESS_TYPES` (prefix match), else as written."""
    text = raw.str.strip_chars()
    low = text.str.to_lowercase()
    return (
        pl.when(text.is_null() | (text == ""))
        .then(pl.lit(None, pl.String))
        .when(low.str.starts_with("analyzer") & low.str.contains("capacity|time"))
        .then(pl.lit("Analyzer capacity"))
        .when(low.str.starts_with("professional"))
        .then(pl.lit("Professional"))
        .when(low.str.starts_with("analyzer"))
        .then(pl.lit("Analyzer"))
        .when(low.str.starts_with("user"))
        .then(pl.lit("User"))
        .when(low.str.starts_with("login"))
        .then(pl.lit("Login"))
        .otherwise(text)
    )


def message_value(message: pl.Expr, key: str) -> pl.Expr:
    """The value of ``Key: 'value'`` (or ``"value"``, or ``Key 'value'``) in a license message."""
    pattern = rf"""(?i)\b{key}:?\s*(?:'([^']*)'|"([^"]*)")"""
    return pl.coalesce(message.str.extract(pattern, 1), message.str.extract(pattern, 2))


def _null_text(expr: pl.Expr) -> pl.Expr:
    """Qlik's placeholders for "no value" (``0``, ``Not available``, empty) → null."""
    text = expr.str.strip_chars()
    return pl.when(text.is_in(["", "0", "Not available"])).then(pl.lit(None, pl.String)).otherwise(text)


def empty_events() -> pl.LazyFrame:
    return pl.LazyFrame(schema=EVENT_SCHEMA)


def _finish(lazy: pl.LazyFrame) -> pl.LazyFrame:
    return (
        lazy.with_columns(pl.col("user").str.strip_chars())
        .with_columns(pl.col("user").str.to_lowercase().alias("user_key"))
        .select([pl.col(c).cast(t) for c, t in EVENT_SCHEMA.items()])
    )


def license_log_events(frames: Frames) -> pl.LazyFrame:
    """``Repository/License`` rows with an ``Operation`` → events (maintenance rows have none)."""
    if not frames.has(LICENSE_LOG):
        return empty_events()
    op = pl.col("Operation").str.strip_chars()
    low = op.str.to_lowercase()
    category = low.replace_strict(
        {k: v[0] for k, v in OPERATION_RULES.items()}, default="other", return_dtype=pl.String
    )
    change = low.replace_strict(
        {k: v[1] for k, v in OPERATION_RULES.items()}, default=0, return_dtype=pl.Int8
    )
    msg = pl.col("Message")
    by = msg.str.extract(
        r"(?i)(?:added|updated|deleted|removed) by:?\s*['\"]?([^,'\"]+)", 1
    ).str.strip_chars()
    return _finish(
        frames.lazy(LICENSE_LOG)
        .filter(op.is_not_null() & (op != ""))
        .select(
            pl.col("Timestamp").alias("time"),
            access_type_expr(pl.col("AccessType")).alias("access_type"),
            op.alias("operation"),
            category.alias("category"),
            change.alias("change"),
            pl.col("UserName").alias("user"),
            pl.coalesce(
                msg.str.extract(r"SessionID:\s*([0-9A-Fa-f-]{8,})", 1), _null_text(pl.col("ProxySessionId"))
            ).alias("session_id"),
            pl.col("Logger").str.split(".").list.last().alias("command"),
            pl.when(category == "denial").then(msg).otherwise(None).alias("reason"),
            by.alias("by"),
            pl.lit(LICENSE_LOG).alias("source"),
            "source_file",
            "line_no",
            "host",
        )
    )


def audit_security_events(frames: Frames, rules: LicenseRules | None = None) -> pl.LazyFrame:
    """``Repository/AuditSecurity`` rows of ``SecurityClass`` License → events, classified by ``rules``."""
    if not frames.has(AUDIT_SECURITY):
        return empty_events()
    rules = rules or LicenseRules()
    msg, command = pl.col("Message"), pl.col("Command").str.strip_chars()
    low_cmd = command.str.to_lowercase()
    op_type = message_value(msg, "OperationType")
    result = pl.col("Result").str.strip_chars()
    denied = (op_type.str.to_lowercase() == "usagedenied") | (
        result.is_not_null() & (result != "0") & msg.str.contains(r"(?i)denied")
    )
    base = rules.category_expr(command)
    category = pl.when(denied).then(pl.lit("denial")).otherwise(base)
    verb = low_cmd.str.extract(r"^(add|update|delete|remove)\b", 1)
    change = (
        pl.when((category == "allocation") & (verb == "add") & low_cmd.str.contains("access"))
        .then(1)
        .when((category == "allocation") & verb.is_in(["delete", "remove"]))
        .then(-1)
        .otherwise(0)
        .cast(pl.Int8)
    )
    derived_op = (
        pl.when(category == "denial")
        .then(pl.lit("UsageDenied"))
        .when(change == 1)
        .then(pl.lit("Add"))
        .when(change == -1)
        .then(pl.lit("Delete"))
        .when(category == "allocation")
        .then(pl.lit("Update"))
        .when(category == "usage")
        .then(pl.lit("UsageGranted"))
        .otherwise(command)
    )
    from_command = access_type_expr(low_cmd.str.extract(r"\b(professional|analyzer)\b", 1))
    from_message = access_type_expr(msg.str.extract(r"^\s*(Professional|Analyzer|User|Login) access", 1))
    from_words = access_type_expr(low_cmd.str.extract(r"\b(user|login)\b", 1))
    column_user = pl.when(
        _null_text(pl.col("UserDirectory")).is_not_null() & _null_text(pl.col("UserId")).is_not_null()
    ).then(pl.col("UserDirectory") + pl.lit("\\") + pl.col("UserId"))
    by = pl.coalesce(*(message_value(msg, f"{w} by") for w in ("Added", "Updated", "deleted", "removed")))
    return _finish(
        frames.lazy(AUDIT_SECURITY)
        .filter(pl.col("SecurityClass").str.strip_chars().str.to_lowercase() == "license")
        .select(
            pl.col("Timestamp").alias("time"),
            pl.coalesce(from_command, from_message, from_words).alias("access_type"),
            pl.coalesce(op_type, derived_op).alias("operation"),
            category.alias("category"),
            change.alias("change"),
            pl.coalesce(message_value(msg, "User"), message_value(msg, "name"), column_user).alias("user"),
            pl.coalesce(message_value(msg, "SessionID"), _null_text(pl.col("ProxySessionId"))).alias(
                "session_id"
            ),
            command.alias("command"),
            pl.when(category == "denial").then(msg).otherwise(None).alias("reason"),
            by.alias("by"),
            pl.lit(AUDIT_SECURITY).alias("source"),
            "source_file",
            "line_no",
            "host",
        )
    )


_TOLERANCE = timedelta(seconds=2)


def dedupe_events(events: pl.DataFrame, tolerance: timedelta = _TOLERANCE) -> pl.DataFrame:
    """One row per event although the License log and AuditSecurity both record it.

    An AuditSecurity row is a copy when the License log has a row with the same operation and user
    within ``tolerance`` (and, for uses and denials, the same session when both name one); it then only
    lends its access type to the License-log row (denials there have none). Within AuditSecurity, a row
    repeating the operation and user (and session, for uses and denials) of the previous one within
    ``tolerance`` is a copy too: ``Add professional access`` is followed by ``… from license``, while
    denials retried every second carry new sessions. Other sources (QVDs) are kept as they are.
    """
    if events.is_empty():
        return events
    key = ["operation_key", "user_key"]
    ev = events.with_columns(
        pl.col("operation").str.to_lowercase().alias("operation_key"), pl.col("user_key").fill_null("")
    )
    log = ev.filter(pl.col("source") == LICENSE_LOG).sort("time")
    audit = ev.filter(pl.col("source") == AUDIT_SECURITY).sort("time")
    rest = ev.filter(~pl.col("source").is_in([LICENSE_LOG, AUDIT_SECURITY]))
    if audit.height:
        sess = pl.when(pl.col("category") == "allocation").then(pl.lit("")).otherwise(pl.col("session_id"))
        audit = (
            audit.with_columns(sess.fill_null("").alias("_k"))
            .sort([*key, "_k", "time"])
            .filter(
                ~((pl.col("time") - pl.col("time").shift(1).over([*key, "_k"])) <= tolerance).fill_null(False)
            )
            .drop("_k")
            .sort("time")
        )
    if log.height and audit.height:
        probe = log.select("time", *key, pl.col("session_id").alias("_s"), pl.col("time").alias("_t"))
        matched = audit.join_asof(
            probe, on="time", by=key, strategy="nearest", tolerance=tolerance, check_sortedness=False
        )
        copy = pl.col("_t").is_not_null() & (
            (pl.col("category") == "allocation")
            | pl.col("_s").is_null()
            | pl.col("session_id").is_null()
            | (pl.col("_s") == pl.col("session_id"))
        )
        lend = (
            matched.filter(copy & pl.col("access_type").is_not_null())
            .select(pl.col("_t").alias("time"), *key, pl.col("access_type").alias("_at"))
            .unique(["time", *key])
        )
        audit = matched.filter(~copy).drop("_s", "_t")
        log = (
            log.join(lend, on=["time", *key], how="left")
            .with_columns(pl.coalesce("access_type", "_at").alias("access_type"))
            .drop("_at")
        )
    out = pl.concat([log, audit, rest], how="diagonal_relaxed").drop("operation_key")
    return (
        out.with_columns(pl.col("user_key").replace("", None))
        .select(list(EVENT_SCHEMA))
        .sort("time", "source", "line_no")
    )


def _user_expr(directory: str, user: str) -> pl.Expr:
    d, u = _null_text(pl.col(directory)), _null_text(pl.col(user))
    return pl.when(d.is_not_null() & u.is_not_null() & (d.str.to_uppercase() != "INTERNAL")).then(
        d + "\\" + u
    )


def site_activity(frames: Frames) -> pl.LazyFrame:
    """Non-internal users with a Proxy or Engine session, per UTC day (:data:`ACTIVITY_SCHEMA`)."""
    parts = []
    for kind, directory, user in (
        ("Proxy/AuditActivity", "UserDirectory", "UserId"),
        ("Engine/Session", "ActiveUserDirectory", "ActiveUserId"),
    ):
        if frames.has(kind):
            parts.append(
                frames.lazy(kind).select(
                    pl.col("Timestamp").alias("time"), _user_expr(directory, user).alias("user")
                )
            )
    if not parts:
        return pl.LazyFrame(schema=ACTIVITY_SCHEMA)
    return (
        pl.concat(parts)
        .filter(pl.col("user").is_not_null() & pl.col("time").is_not_null())
        .with_columns(
            pl.col("user").str.to_lowercase().alias("user_key"), pl.col("time").dt.date().alias("day")
        )
        .group_by("user_key", "day")
        .agg(pl.col("user").first(), pl.col("time").min().alias("first"), pl.col("time").max().alias("last"))
        .select(list(ACTIVITY_SCHEMA))
    )
