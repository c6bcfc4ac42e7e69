"""The dates and times a person types for ``--since``/``--until``, read into UTC-aware instants.

Accepted (case-insensitive), so that whatever qslogs prints can be pasted back:

  now, today, yesterday          the current instant; 00:00 UTC of today / yesterday
  -7d, -12h, -30m, -2w, 90s      that long before now (the sign is optional; m = minutes)
  2026-10-01                     00:00 UTC of that day
  2026-10-01T14:30, 2026-10-01 14:30:05, 2026-10-01T14:30:05.123
  2026-10-01T14:30:05.000Z, 2026-10-01 14:30+02:00, 20191023T100902.094+0200 (Qlik's own form)

A time without ``Z`` or an offset is UTC. Anything else raises :class:`DateError` with a one-line
message that shows an example, which the command line prints as a usage error.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

EXAMPLES = "2026-10-01, 2026-10-01T14:30Z, '2026-10-01 14:30:00+02:00', now, today or -7d"

_ISO = re.compile(
    r"(?P<y>\d{4})-?(?P<mo>\d{2})-?(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2})(?::?(?P<mi>\d{2})(?::?(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"-?\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>w|d|h|m|min|s)", re.IGNORECASE)
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1),
          "min": timedelta(minutes=1), "s": timedelta(seconds=1)}


class DateError(ValueError):
    """A ``--since``/``--until`` value that is not a date or time qslogs understands."""


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """``text`` as a UTC-aware datetime; ``now`` (default: the clock) anchors now/today/-7d."""
    value = text.strip()
    current = (now or datetime.now(UTC)).astimezone(UTC)
    word = value.lower()
    if word == "now":
        return current
    if word in ("today", "yesterday"):
        midnight = current.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - timedelta(days=1) if word == "yesterday" else midnight
    if m := _RELATIVE.fullmatch(value):
        return current - float(m["n"]) * _UNITS[m["unit"].lower()]
    if m := _ISO.fullmatch(value):
        return _from_match(m, text)
    raise DateError(f"{text!r} is not a date or time: use e.g. {EXAMPLES}")


def _from_match(m: re.Match[str], text: str) -> datetime:
    """The instant of an ISO 8601 match; an impossible date (2026-02-30, 25:00) is a :class:`DateError`."""
    fraction = (m["f"] or "0")[:6].ljust(6, "0")
    try:
        naive = datetime(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"] or 0), int(m["mi"] or 0),
                         int(m["s"] or 0), int(fraction))
    except ValueError as exc:
        raise DateError(f"{text!r} is not a valid date or time ({exc}): use e.g. {EXAMPLES}") from None
    zone = (m["tz"] or "Z").upper()
    if zone == "Z":
        return naive.replace(tzinfo=UTC)
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise DateError(f"{text!r} has an impossible UTC offset {zone}: use e.g. {EXAMPLES}")
    offset = timedelta(hours=hours, minutes=minutes) * (-1 if zone[0] == "-" else 1)
    return naive.replace(tzinfo=timezone(offset)).astimezone(UTC)


def check_window(since: datetime | None, until: datetime | None) -> None:
    """Raise :class:`DateError` when ``since`` lies after ``until`` (an empty window is a mistake)."""
    if since is not None and until is not None and since > until:
        raise DateError(f"--since {show(since)} is after --until {show(until)}: swap them, or drop one")


def outside_bundle(since: datetime | None, until: datetime | None,
                   first: datetime | None, last: datetime | None) -> str | None:
    """A sentence when the window holds none of the bundle's records (``first``..``last``), else None."""
    if first is None or last is None:
        return None
    if since is not None and since > last:
        return f"--since {show(since)} is after the bundle's last record ({show(last)}): the window is empty"
    if until is not None and until < first:
        return f"--until {show(until)} is before the bundle's first record ({show(first)}): the window is empty"
    return None


def show(value: datetime) -> str:
    """An instant as qslogs prints it (ISO 8601 with milliseconds and ``Z``), which :func:`parse_when` reads."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
