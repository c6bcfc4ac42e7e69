"""Numbers and times in sentences: the one place that says ``1 file`` / ``3 files`` and ``… 04:00 UTC``.

Findings (analyses) and the report both write sentences; both use these helpers so a count is never
``1 lines`` or ``file(s)`` and a time inside a sentence is never a raw ISO string.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def count_text(count: Any) -> str:
    """``12,345``; a float with a fraction keeps one decimal; anything else as text."""
    if isinstance(count, bool) or not isinstance(count, int | float):
        return str(count)
    return f"{round(count):,}" if float(count).is_integer() else f"{count:,.1f}"


def plural(count: Any, singular: str, plural_form: str | None = None) -> str:
    """``1 file`` / ``3 files`` / ``1,204 lines`` / ``1 distinct user`` (``plural_form`` for irregular words)."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count_text(count)} {word}"


def when(value: object) -> str:
    """A time for a sentence: ``2026-10-29 09:18 UTC`` (ISO strings and datetimes; naive means UTC)."""
    if value is None or value == "":
        return "an unknown time"
    stamp = value
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(stamp, datetime):
        return str(value)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
