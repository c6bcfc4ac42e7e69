"""The license story: a year of Professional/Analyzer allocation and use (formats.md §7).

- Professional stays flat at 12 (one removal and one addition that net to zero).
- Analyzer starts with 5 allocations made before the history and grows linearly by 30 adds in the year
  (2.5 users/month) to 35 of 40, so capacity runs out about two months after the bundle's end.
- Users use the site; a few allocated users have not used it for more than 90 days; unallocated users
  are denied.  Each event is written to ``License_Repository`` and ``AuditSecurity_Repository`` (and the
  denials to ``Service_Repository``); visits in the last week also get proxy/engine rows.
"""

from __future__ import annotations

from typing import Any

from qslogs_synth.activity import Session, proxy_session
from qslogs_synth.clock import DAY, HOUR, local
from qslogs_synth.context import Ctx, iso
from qslogs_synth.license_events import ACCESS, Allocation, allocate, deny, maintenance, remove, use
from qslogs_synth.site import App, User, business_hours_ms, local_at

PROFESSIONAL_CAPACITY = 15
ANALYZER_CAPACITY = 40


def _office(ctx: Ctx, t: int) -> int:
    """A business-hours instant on the (local) day of ``t``."""
    return business_hours_ms(ctx.rng, local(t).date())


def _visit_times(ctx: Ctx, a: Allocation, lo: int, hi: int, per_week: float) -> list[int]:
    out: list[int] = []
    t = lo
    while True:
        t += int(ctx.rng.expovariate(per_week / 7) * DAY)
        if t >= hi:
            return out
        day = local(t).date()
        if day.weekday() < 5:
            out.append(business_hours_ms(ctx.rng, day))


def generate(ctx: Ctx, apps: list[App]) -> tuple[dict[str, Any], list[Allocation]]:
    """Write the year of license history plus last-week visits; return the truth and the allocations."""
    site, rng = ctx.site, ctx.rng
    start, end, win = site.license_start_ms, site.end_ms, site.story_start_ms
    pros = [u for u in site.users if u.kind == "professional"]
    anas = [u for u in site.users if u.kind == "analyzer"]
    nobody = [u for u in site.users if u.kind == "none"]
    allocs: list[Allocation] = []
    for i, u in enumerate(pros[:12]):
        allocs.append(
            Allocation(u, "professional", ctx.ids.guid(), _office(ctx, start - (200 + 37 * i) * DAY))
        )
    swap_day = local(start + 165 * DAY).date()
    allocs[10].removed = local_at(swap_day, 10, 2, 41) + 318
    allocs.append(Allocation(pros[12], "professional", ctx.ids.guid(), local_at(swap_day, 10, 7, 3) + 771))
    for i, u in enumerate(anas[:5]):
        allocs.append(Allocation(u, "analyzer", ctx.ids.guid(), _office(ctx, start - (90 + 41 * i) * DAY)))
    step = 365 * DAY / 30
    for i, u in enumerate(anas[5:]):
        day = local(start + int((i + 0.5) * step) + rng.randint(-2, 2) * DAY).date()
        allocs.append(Allocation(u, "analyzer", ctx.ids.guid(), _office(ctx, local_at(day, 12))))
    by_user = {a.user.user_id: a for a in allocs if a.removed is None}
    unused_cfg = {pros[9].user_id: 130, anas[2].user_id: 150, anas[12].user_id: 100, anas[6].user_id: None}
    for uid, days in unused_cfg.items():
        a = by_user[uid]
        a.use_until = a.added if days is None else end - days * DAY
    for a in allocs:
        if a.added >= start:
            allocate(ctx, a)
        if a.removed is not None:
            remove(ctx, a)
    maintenance(ctx)
    visits: list[tuple[int, Allocation | None, User]] = []
    for a in allocs:
        hi = min(x for x in (a.removed, a.use_until, win) if x is not None)
        rate = rng.uniform(0.5, 1.0) if a.kind == "professional" else rng.uniform(0.2, 0.6)
        visits += [(t, a, a.user) for t in _visit_times(ctx, a, max(a.added, start), hi, rate)]
        if a.user.user_id in unused_cfg and unused_cfg[a.user.user_id] is not None and hi > start:
            visits.append(
                (_office(ctx, hi - rng.randint(1, 3) * DAY), a, a.user)
            )  # last use near the cut-off
        if a.removed is None and a.use_until is None and rng.random() < 0.7:
            for _ in range(rng.randint(1, 3)):
                day = local(win + rng.randint(0, 6) * DAY + 10 * HOUR).date()
                t = business_hours_ms(rng, day)
                if win < t < end - HOUR:
                    visits.append((t, a, a.user))
    denied: list[dict[str, str]] = []
    for u in nobody:
        for _ in range(rng.randint(4, 8)):
            t = business_hours_ms(rng, local(end - rng.randint(1, 90) * DAY).date())
            visits.append((t, None, u))
    visits.sort(key=lambda v: v[0])
    sessions: list[Session] = []
    for t, visitor, u in visits:
        app = rng.choice(apps)
        if t >= win:
            s = proxy_session(ctx, site.central, u, t, rng.randint(4, 70), app, denied=visitor is None)
            psid, ppid = s.psid, s.ppid
            sessions.append(s)
        else:
            psid, ppid = ctx.ids.guid(), ctx.ids.guid()
        if visitor is None:
            deny(ctx, u, t + 310, psid, ppid)
            denied.append({"user": u.qualified, "utc": iso(t + 310)})
        else:
            use(ctx, visitor, t + 330, psid, ppid)
    return _truth(ctx, allocs, denied, sessions), allocs


def _truth(
    ctx: Ctx, allocs: list[Allocation], denied: list[dict[str, str]], sessions: list[Session]
) -> dict[str, Any]:
    site = ctx.site
    start, end = site.license_start_ms, site.end_ms

    def count(kind: str, t: int) -> int:
        return sum(
            1 for a in allocs if a.kind == kind and a.added <= t and (a.removed is None or a.removed > t)
        )

    unused = []
    for a in allocs:
        last = max(a.uses) if a.uses else None
        if a.removed is None and (last or a.added) < end - 90 * DAY:
            unused.append(
                {
                    "user": a.user.qualified,
                    "access_type": ACCESS[a.kind],
                    "allocated_utc": iso(a.added),
                    "last_used_utc": iso(last) if last else None,
                }
            )
    current = [a for a in allocs if a.removed is None]
    return {
        "capacity": {"professional": PROFESSIONAL_CAPACITY, "analyzer": ANALYZER_CAPACITY},
        "history_start_utc": iso(start),
        "history_end_utc": iso(end),
        "professional": {
            "allocated_at_start": count("professional", start),
            "allocated_at_end": count("professional", end),
            "used_at_end": sum(1 for a in current if a.kind == "professional" and a.uses),
            "added": [
                {"user": a.user.qualified, "utc": iso(a.added)}
                for a in allocs
                if a.kind == "professional" and a.added >= start
            ],
            "removed": [{"user": a.user.qualified, "utc": iso(a.removed)} for a in allocs if a.removed],
        },
        "analyzer": {
            "allocated_at_start": count("analyzer", start),
            "allocated_at_end": count("analyzer", end),
            "used_at_end": sum(1 for a in current if a.kind == "analyzer" and a.uses),
            "adds_in_history": sum(1 for a in allocs if a.kind == "analyzer" and a.added >= start),
            "growth_users_per_month": 2.5,
            "projected_exhaustion_utc": iso(
                end + int((ANALYZER_CAPACITY - count("analyzer", end)) / 2.5 * 30.44 * DAY)
            ),
            "added": [
                {"user": a.user.qualified, "utc": iso(a.added)}
                for a in allocs
                if a.kind == "analyzer" and a.added >= start
            ],
        },
        "unused_over_90_days": unused,
        "usage_denied": denied,
        "usage_granted_rows": sum(len(a.uses) for a in allocs),
        "last_week_distinct_users": len({s.user.user_id for s in sessions}),
        "last_week_users": sorted({s.user.qualified for s in sessions}),
        "last_used_quirk": (
            "AuditSecurity 'Last used' values are UTC wall time labelled with the local offset"
        ),
    }
