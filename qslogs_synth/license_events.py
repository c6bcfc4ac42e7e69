"""License events (formats.md §7): allocation, removal, use, denial and maintenance rows.

Each event goes to ``License_Repository`` (Trace family, per-row ``Checksum``) and to
``AuditSecurity_Repository`` with ``SecurityClass`` License; denials also reach ``Service_Repository``.
Analyzer events mirror the observed Professional ones (``Add analyzer access``, ``License analyzer access``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from qslogs_synth.activity import client_ip
from qslogs_synth.clock import MINUTE, fmt_net_colon, local, offset_minutes
from qslogs_synth.context import Ctx
from qslogs_synth.site import User, local_at

LIC = "License.Repository.Repository.Core."
ACCESS = {"professional": "ProfessionalAccess", "analyzer": "AnalyzerAccess"}
WORD = {"professional": "Professional", "analyzer": "Analyzer"}


@dataclass
class Allocation:
    """One user's allocation: who, which kind, its access id, and when it was added/removed (UTC ms)."""

    user: User
    kind: str
    access_id: str
    added: int
    removed: int | None = None
    uses: list[int] = field(default_factory=list)
    use_until: int | None = None  # usage stops here (the "unused > 90 days" users)


def _lic_row(
    ctx: Ctx,
    t: int,
    logger: str,
    msg: str,
    psid: str,
    access_id: str,
    access: str,
    op: str,
    user: User | None,
    tag: str | None = None,
) -> None:
    c = ctx.site.central
    tail = (psid, access_id, access, op, user.qualified if user else "", user.guid if user else "")
    ctx.sink.add(
        c, "Repository", "License", t, ctx.rows.trace_checksum(t, c, LIC + logger, msg, tail), tag=tag
    )


def _sec(
    ctx: Ctx,
    t: int,
    command: str,
    msg: str,
    *,
    psid: str = "0",
    ppid: str = "0",
    udir: str = "CORP",
    uid: str = "",
    origin: str = "AppAccess",
    context: str = "/qrs/requestaccesstype",
    result: int = 0,
    obj_id: str = "0",
    obj_name: str = "Not available",
    client: str = "Not available",
) -> None:
    c = ctx.site.central
    text = "Error: Access denied" if result else "Success"
    ctx.sink.add(
        c,
        "Repository",
        "AuditSecurity",
        t,
        ctx.rows.security(
            t,
            c,
            "Repository",
            command,
            result=result,
            result_text=text,
            psid=psid,
            ppid=ppid,
            udir=udir,
            uid=uid,
            obj_id=obj_id,
            obj_name=obj_name,
            client=client,
            origin=origin,
            context=context,
            message=msg,
        ),
    )
    if result:
        ctx.sink.add(
            c,
            "Repository",
            "Service",
            t,
            ctx.rows.audit(
                t,
                c,
                "Repository",
                command,
                result=result,
                result_text=text,
                psid=psid,
                ppid=ppid,
                udir=udir,
                uid=uid,
                origin=origin,
                context=context,
                message=msg,
                severity="ERROR",
            ),
        )


def _last_used_text(t: int) -> str:
    """The ``Last used`` value as the repository writes it: UTC wall time labelled with the local offset."""
    return fmt_net_colon(t - offset_minutes(t) * MINUTE)


def allocate(ctx: Ctx, a: Allocation) -> None:
    """The allocation events of ``a`` (QMC action by the admin)."""
    admin, t, word = ctx.site.admin, a.added, WORD[a.kind]
    psid, ppid = ctx.ids.guid(), ctx.ids.guid()
    repo = f"{word}AccessTypeRepository"
    _lic_row(
        ctx,
        t,
        f"Repository.{repo}",
        f"{word} access type {a.access_id} added for user {a.user.qualified}",
        psid,
        a.access_id,
        ACCESS[a.kind],
        "Add",
        a.user,
    )
    low = word.lower()
    _sec(
        ctx,
        t - 40,
        f"Add {low} access",
        f"User access, User: '{a.user.qualified}', License{word}AccessTypeId: "
        f"'{a.access_id}', Added by: '{admin.qualified}'",
        psid=psid,
        ppid=ppid,
        uid=admin.user_id,
        origin="ManagementAccess",
        context=f"/qrs/add{low}access",
        obj_id=a.user.guid,
        obj_name=a.user.qualified,
    )
    _sec(
        ctx,
        t + 14,
        f"Add {low} access from license",
        f"Access id '{a.access_id}' with  license 'Corp Example AB' "
        f"linked to organisation 'Corp Example AB' for user with id '{a.user.guid}' "
        f"and name '{a.user.qualified}' was added (HTTP code: 201)",
        psid=psid,
        ppid=ppid,
        uid=admin.user_id,
        origin="ManagementAccess",
        context=f"/qrs/selection/{ctx.ids.guid()}/user/license/{low}accesstype",
        client=f"[fe80::1c4e:9a2f:7b10:42d1%12]:{ctx.rng.randint(49200, 65000)}",
    )


def remove(ctx: Ctx, a: Allocation) -> None:
    """The removal events of ``a``."""
    assert a.removed is not None
    admin, t, word = ctx.site.admin, a.removed, WORD[a.kind]
    psid = ctx.ids.guid()
    _lic_row(
        ctx,
        t,
        f"Repository.{word}AccessTypeRepository",
        f"{word} access type {a.access_id} deleted for user {a.user.qualified}",
        psid,
        a.access_id,
        ACCESS[a.kind],
        "Delete",
        a.user,
    )
    _sec(
        ctx,
        t - 25,
        f"Delete {word.lower()} access",
        f"{word} access '{a.access_id}' for user '{a.user.qualified}' deleted (HTTP code: 204)",
        psid=psid,
        ppid=ctx.ids.guid(),
        uid=admin.user_id,
        origin="ManagementAccess",
        context=f"/qrs/license/{word.lower()}accesstype/{a.access_id}",
        obj_id=a.user.guid,
        obj_name=a.user.qualified,
    )


def use(ctx: Ctx, a: Allocation, t: int, psid: str, ppid: str) -> None:
    """License rows of one visit by an allocated user (request/update, then usage granted)."""
    word, ip = WORD[a.kind], client_ip(ctx, a.user)
    usage = ctx.ids.guid()
    _sec(
        ctx,
        t - 41,
        f"License {word.lower()} access request",
        f"User access, User: '{a.user.qualified}', "
        f"Last used: '{_last_used_text(t)}', License{word}AccessTypeId: '{a.access_id}', Updated by: "
        f"'{a.user.qualified}', OperationType: 'Update'",
        psid=psid,
        ppid=ppid,
        uid=a.user.user_id,
        context=f"/qrs/{word.lower()}accessupdate",
        obj_id=a.user.guid,
        obj_name=a.user.qualified,
    )
    if a.kind == "professional":
        _lic_row(
            ctx,
            t - 38,
            f"Repository.{word}AccessTypeRepository",
            f"Last used updated for access type {a.access_id}",
            psid,
            a.access_id,
            ACCESS[a.kind],
            "Update",
            a.user,
        )
    _lic_row(
        ctx,
        t,
        "Resource.RequestAccessTypeResource",
        f"UsageID: {usage}, SessionID: {psid}, SessionCount: 1, Hostname: '{ip}'",
        psid,
        a.access_id,
        ACCESS[a.kind],
        "UsageGranted",
        a.user,
    )
    _sec(
        ctx,
        t,
        f"License {word.lower()} access",
        f"{word} access granted for User: '{a.user.qualified}' with "
        f"UsageID: '{usage}', SessionID: '{psid}', SessionCount: '1', Hostname: '{ip}', OperationType: "
        "'UsageGranted'",
        psid=psid,
        ppid=ppid,
        uid=a.user.user_id,
    )
    a.uses.append(t)
    if a.kind == "professional" and ctx.rng.random() < 0.15:  # usage deleted by the next maintenance run
        tm = maintenance_at(local(t).date() + timedelta(days=1)) + ctx.rng.randint(20, 90)
        if tm < ctx.site.end_ms:
            _lic_row(
                ctx,
                tm,
                "Licensing.LicenseMaintenance",
                f"Usage timed out, UsageID: {usage}, SessionID: {psid}",
                "0",
                a.access_id,
                ACCESS[a.kind],
                "Timedout",
                a.user,
            )
            _sec(
                ctx,
                tm,
                "License maintenance",
                f"{word} access usages. User: '{a.user.qualified}' OperationType: "
                f"'Timedout', UsageID: '{usage}', SessionID: '{psid}' deleted by 'INTERNAL\\bootstrap'",
                udir="INTERNAL",
                uid="System",
                origin="Not available",
                context="/qrs/licensemaintenance",
                obj_id=a.user.guid,
                obj_name=a.user.qualified,
            )


def deny(ctx: Ctx, user: User, t: int, psid: str, ppid: str, ip: str | None = None) -> None:
    """License rows of a visit by a user without an allocation (``UsageDenied``), from ``ip``."""
    ip = ip or client_ip(ctx, user)
    _lic_row(
        ctx,
        t,
        "Resource.RequestAccessTypeResource",
        f'No available access type, SessionID: {psid}, Hostname: "{ip}"',
        psid,
        "",
        "",
        "UsageDenied",
        user,
    )
    _sec(
        ctx,
        t + 1,
        "License user access",
        f"Login access denied for SessionID: '{psid}', Hostname: \"{ip}\", OperationType: 'UsageDenied'",
        psid=psid,
        ppid=ppid,
        uid=user.user_id,
        result=403,
    )


def maintenance_at(day: date) -> int:
    """When the daily license maintenance runs on local ``day`` (04:38 plus a day-dependent jitter)."""
    return local_at(day, 4, 38) + (day.toordinal() * 7919) % 55_000


def maintenance(ctx: Ctx) -> None:
    """The repository's daily license maintenance, over the whole year."""
    day = local(ctx.site.license_start_ms).date() + timedelta(days=1)
    while (t := maintenance_at(day)) < ctx.site.end_ms:
        _lic_row(
            ctx,
            t,
            "Licensing.LicenseMaintenance",
            "Starting license and access usage maintenance",
            "",
            "",
            "",
            "",
            None,
        )
        _lic_row(
            ctx,
            t + 109,
            "Licensing.LicenseMaintenance",
            "License maintenance completed",
            "",
            "",
            "",
            "",
            None,
        )
        day += timedelta(days=1)
