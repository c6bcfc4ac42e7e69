"""Time helpers for the generator: Europe/Stockholm offsets and every timestamp spelling Qlik writes.

All generator times are integers (milliseconds since the Unix epoch, UTC) so that rows sort and add
cheaply; these functions turn them into the text forms of formats.md §4.  The site's zone rule (EU
summer time: last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC) is implemented here
rather than read from the tz database, so output never depends on the machine's tzdata.

The hot formatter :func:`fmt_net` caches the minute prefix, because bulk generation formats millions
of timestamps and ``strftime`` per row would dominate the run time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def to_ms(moment: datetime) -> int:
    """An aware datetime → epoch milliseconds (UTC)."""
    return int((moment - _EPOCH) / timedelta(milliseconds=1))


def from_ms(ms: int) -> datetime:
    """Epoch milliseconds → aware UTC datetime."""
    return _EPOCH + timedelta(milliseconds=ms)


def _last_sunday(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@lru_cache(maxsize=64)
def dst_window(year: int) -> tuple[int, int]:
    """The UTC instants (ms) at which summer time starts and ends in ``year`` (EU rule, 01:00 UTC)."""
    start = datetime.combine(_last_sunday(year, 3), datetime.min.time(), UTC) + timedelta(hours=1)
    end = datetime.combine(_last_sunday(year, 10), datetime.min.time(), UTC) + timedelta(hours=1)
    return to_ms(start), to_ms(end)


def offset_minutes(ms: int) -> int:
    """Stockholm's UTC offset at instant ``ms``: 60 in winter, 120 in summer."""
    start, end = dst_window(from_ms(ms).year)
    return 120 if start <= ms < end else 60


def dst_changes(first_ms: int, last_ms: int) -> list[int]:
    """Every DST switch instant within ``[first_ms, last_ms]``, sorted."""
    out: list[int] = []
    for year in range(from_ms(first_ms).year, from_ms(last_ms).year + 1):
        out.extend(t for t in dst_window(year) if first_ms <= t <= last_ms)
    return sorted(out)


def local(ms: int) -> datetime:
    """The naive local (Stockholm) wall-clock time of instant ``ms``."""
    return (from_ms(ms) + timedelta(minutes=offset_minutes(ms))).replace(tzinfo=None)


def local_to_ms(wall: datetime) -> int:
    """A naive local wall-clock time → UTC ms (the summer reading wins in the repeated hour)."""
    guess = to_ms(wall.replace(tzinfo=UTC)) - 120 * MINUTE
    if offset_minutes(guess) == 120:
        return guess
    return to_ms(wall.replace(tzinfo=UTC)) - 60 * MINUTE


_hour_cache: dict[int, tuple[str, str, str]] = {}
_second_cache: dict[int, str] = {}


def _hour(ms: int) -> tuple[str, str, str]:
    """(``yyyyMMddTHH`` local, ``±hhmm``, ``±hh:mm``) for the UTC hour containing ``ms``.

    Offsets are whole hours and change only on the hour, so minutes and seconds can be added by arithmetic.
    """
    key = ms // HOUR
    hit = _hour_cache.get(key)
    if hit is None:
        if len(_hour_cache) > 200_000:
            _hour_cache.clear()
        off = offset_minutes(ms)
        hh, mm = divmod(off, 60)
        hit = (local(ms).strftime("%Y%m%dT%H"), f"+{hh:02d}{mm:02d}", f"+{hh:02d}:{mm:02d}")
        _hour_cache[key] = hit
    return hit


def fmt_net(ms: int) -> str:
    """``20191023T100902.094+0200``: the .NET / engine / Hub form, local time with offset."""
    pre, off, _ = _hour(ms)
    rest = ms % HOUR
    return f"{pre}{rest // MINUTE:02d}{rest // 1000 % 60:02d}.{rest % 1000:03d}{off}"


def fmt_net_colon(ms: int) -> str:
    """``20191023T100851.234+02:00``: OdagService and license-message form."""
    pre, _, off = _hour(ms)
    rest = ms % HOUR
    return f"{pre}{rest // MINUTE:02d}{rest // 1000 % 60:02d}.{rest % 1000:03d}{off}"


def fmt_net_utc(ms: int) -> str:
    """``20190201T035907.336Z``: the engine's ``Doc Timestamp`` column (UTC)."""
    return from_ms(ms).strftime("%Y%m%dT%H%M%S.") + f"{ms % 1000:03d}Z"


def fmt_iso(ms: int) -> str:
    """``2019-10-23T10:08:51.234+02:00``: DataProfiling ``Date`` column."""
    _, _, off = _hour(ms)
    return local(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}{off}"


def fmt_script(ms: int) -> str:
    """``2019-10-23 10:08:50``: script-log time, naive local, whole seconds (cached: lines share seconds)."""
    key = ms // 1000
    hit = _second_cache.get(key)
    if hit is None:
        if len(_second_cache) > 200_000:
            _second_cache.clear()
        hit = _second_cache[key] = local(ms).strftime("%Y-%m-%d %H:%M:%S")
    return hit


def fmt_script_name(ms: int) -> str:
    """``2019_10_23_10_08_50``: the time part of a script-log file name (local)."""
    return local(ms).strftime("%Y_%m_%d_%H_%M_%S")


def fmt_rolled(ms: int) -> str:
    """``2019-10-23T08.14.02``: the UTC closing time in a rolled .NET file name (``Z`` added by caller)."""
    return from_ms(ms).strftime("%Y-%m-%dT%H.%M.%S")


def fmt_nodejs_name(ms: int) -> str:
    """``201910231008512340200``: 17 digits of local time plus ``hhmm`` offset (node.js file names)."""
    off = offset_minutes(ms)
    return local(ms).strftime("%Y%m%d%H%M%S") + f"{ms % 1000:03d}{off // 60:02d}{off % 60:02d}"


def fmt_mdy(ms: int) -> str:
    """``02/01/2019 04:58:55``: the scheduler's "Next Target" form (local)."""
    return local(ms).strftime("%m/%d/%Y %H:%M:%S")


def fmt_clf(ms: int) -> str:
    """``23/Oct/2019:08:08:51 +0000``: access-log time, written in UTC."""
    t = from_ms(ms)
    return f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year}:{t.strftime('%H:%M:%S')} +0000"


def fmt_qlik_iso_utc(ms: int) -> str:
    """``2026-10-31T18:00:00.000Z``: ISO form used in the collector's JSON dumps."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
