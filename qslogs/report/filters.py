"""Jinja filters of the report: plain functions from JSON-ready values to display text.

Tables arrive as JSON (datetimes as ISO strings, see :func:`qslogs.export.to_jsonable`), so each filter
accepts the JSON form, tolerates ``None`` (shown as an en dash) and never raises on odd input: a
report must render whatever a bundle holds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from qslogs import words

DASH = "–"


def parse_ts(value: Any) -> datetime | None:
    """An ISO string (``Z`` or offset, or naive), a date or a datetime → aware UTC datetime, else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def fmt_ts(value: Any, precision: str = "minute") -> str:
    """``2019-10-23 08:09 UTC`` (precision ``second``, ``minute``, ``hour`` or ``day``); naive → as is."""
    if (
        isinstance(value, str)
        and value
        and "T" in value
        and not value.endswith("Z")
        and "+" not in value[10:]
    ):
        naive = True  # a naive local time (script logs): no zone is claimed
    else:
        naive = False
    parsed = parse_ts(value)
    if parsed is None:
        return DASH if value in (None, "") else str(value)
    pattern = {
        "second": "%Y-%m-%d %H:%M:%S",
        "minute": "%Y-%m-%d %H:%M",
        "hour": "%Y-%m-%d %H:00",
        "day": "%Y-%m-%d",
    }.get(precision, "%Y-%m-%d %H:%M")
    text = parsed.strftime(pattern)
    return text if naive or precision == "day" else f"{text} UTC"


def ts_ms(value: Any) -> int | None:
    """Milliseconds since the epoch (UTC), for ``data-ts`` attributes; None when not a time."""
    parsed = parse_ts(value)
    return int(parsed.timestamp() * 1000) if parsed else None


def fmt_int(value: Any) -> str:
    """``12,345``; non-numbers pass through, None is a dash."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{round(value):,}" if float(value).is_integer() or isinstance(value, int) else f"{value:,.1f}"
    return str(value)


def fmt_num(value: Any, digits: int = 1) -> str:
    """A number with ``digits`` decimals (``+`` sign kept when asked via :func:`fmt_signed`)."""
    if value is None:
        return DASH
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.{digits}f}"
    return str(value)


def fmt_signed(value: Any, digits: int = 1) -> str:
    """``+2.5`` / ``−0.3`` (a real minus sign), for growth rates."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return DASH if value is None else str(value)
    text = f"{abs(value):,.{digits}f}"
    return f"+{text}" if value >= 0 else f"−{text}"


def fmt_pct(value: Any, digits: int = 0) -> str:
    """A ratio 0..1 → ``42 %`` (the thin no-break space of typography); None → dash."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return DASH if value is None else str(value)
    return f"{value * 100:.{digits}f}\u202f%"


def fmt_bytes(value: Any) -> str:
    """``1.5 MB`` (powers of 1024, one decimal above bytes)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return DASH if value is None else str(value)
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def fmt_duration(seconds: Any) -> str:
    """Seconds → ``45 s``, ``12 min 05 s``, ``3 h 04 min``, ``2 d 03 h``."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return DASH if seconds is None else str(seconds)
    total = int(round(seconds))
    sign = "−" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours:02d} h"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    if minutes:
        return f"{sign}{minutes} min {secs:02d} s"
    return f"{sign}{secs} s"


plural = words.plural
"""``1 file`` / ``3 files`` (the one helper, from :mod:`qslogs.words`)."""


def severity_rank(severity: Any) -> int:
    """Sort key: critical < warning < info < ok < anything else."""
    order = {"critical": 0, "warning": 1, "info": 2, "ok": 3}
    return order.get(str(severity), 4)


FILTERS = {
    "fmt_ts": fmt_ts,
    "ts_ms": ts_ms,
    "fmt_int": fmt_int,
    "fmt_num": fmt_num,
    "fmt_signed": fmt_signed,
    "fmt_pct": fmt_pct,
    "fmt_bytes": fmt_bytes,
    "fmt_duration": fmt_duration,
    "plural": plural,
}
"""Every filter registered on the report's Jinja environment."""
