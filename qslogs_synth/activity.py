"""User sessions through the proxy and engine (formats.md §3.1–3.2): the site's everyday traffic.

:func:`proxy_session` writes one hub visit — ticket, login, session start, app websocket, engine
session, session end — into the Proxy and Engine logs, and returns the ids a caller needs to tie
license usage or a hub reload to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from qslogs_synth.clock import MINUTE
from qslogs_synth.context import Ctx
from qslogs_synth.site import App, Node, User

AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 "
    "Safari/537.36 Edg/129.0.0.0"
)
AUTH = "Audit.Proxy.Proxy.SessionEstablishment.Authentication."


@dataclass(frozen=True)
class Session:
    """A proxy session: ``psid`` is the ProxySessionId, ``ppid`` the ProxyPackageId of the app connection."""

    user: User
    start: int
    stop: int
    psid: str
    ppid: str
    ip: str
    app: App


def client_ip(ctx: Ctx, user: User) -> str:
    """A stable client address per user, written the way the proxy does (IPv4-mapped IPv6)."""
    n = int(user.guid[:4], 16)
    return f"::ffff:10.20.{40 + n % 20}.{10 + n % 200}"


def proxy_session(
    ctx: Ctx, node: Node, user: User, start: int, minutes: int, app: App, *, denied: bool = False
) -> Session:
    """Write one hub visit of ``user`` starting at ``start`` on ``node``'s proxy and engine."""
    r, add, ids, rng = ctx.rows, ctx.sink.add, ctx.ids, ctx.rng
    psid, ppid, conn, ticket = ids.guid(), ids.guid(), ids.guid(), ids.ticket()
    ip = client_ip(ctx, user)
    target = f"{node.fqdn}:4244"
    ctx_url = f"/app/{app.app_id}?reloaduri=https%3a%2f%2f{node.fqdn}%2fsense%2fapp%2f{app.app_id}"

    def audit_proxy(t: int, logger: str, msg: str, tail: tuple[str, ...]) -> None:
        add(node, "Proxy", "Audit", t, r.trace_checksum(t, node, logger, msg, tail))

    def activity(
        t: int,
        command: str,
        msg: str,
        *,
        context: str,
        origin: str = "Not available",
        command_col: str | None = None,
        pkg: str = "0",
        obj_id: str = "0",
        obj_name: str = "Not available",
        result: int = 0,
    ) -> None:
        add(
            node,
            "Proxy",
            "AuditActivity",
            t,
            r.audit(
                t,
                node,
                "Proxy",
                command,
                psid=psid,
                ppid=pkg,
                udir="CORP",
                uid=user.user_id,
                obj_id=obj_id,
                obj_name=obj_name,
                origin=origin,
                context=context,
                command_col=command_col,
                message=msg,
                result=result,
            ),
        )

    t = start
    audit_proxy(
        t,
        f"{AUTH}TicketValidator",
        f"Issued ticket '{ticket}' for user, valid for 1 minute(s)",
        ("0", "", "CORP", user.user_id, ticket, "", "", "", ""),
    )
    audit_proxy(
        t + 9,
        f"{AUTH}AbstractAuthenticationHandler",
        f"User claimed ticket: '{ticket}'",
        ("0", conn, "CORP", user.user_id, ticket, ip, "", target, "{}"),
    )
    activity(
        t + 16,
        "Start session",
        f"Start session for user: '{user.qualified}'",
        context=f"/qps/sessionstart/{user.user_id}",
        obj_name=user.qualified,
    )
    add(
        node,
        "Proxy",
        "AuditSecurity",
        t + 22,
        r.security(
            t + 22,
            node,
            "Proxy",
            "Login",
            psid=psid,
            ppid=ppid,
            udir="CORP",
            uid=user.user_id,
            security_class="Security",
            client=ip,
            origin="AppAccess",
            context="/hub/",
            message=f"User authenticated. User '{user.qualified}' used authentication method 'Windows' "
            f"and got session '{psid}'",
        ),
    )
    activity(
        t + 80,
        "Add session",
        f"Syncing user attributes for user '{user.qualified}' ",
        context="/hub/",
        origin="AppAccess",
        command_col="Add session:NotifyOfPostSession",
        pkg=ppid,
    )
    if denied:
        t2 = t + rng.randint(900, 2500)
        add(
            node,
            "Proxy",
            "Service",
            t2,
            r.audit(
                t2,
                node,
                "Proxy",
                "Add app privileges",
                result=403,
                result_text="Error: Access Denied",
                psid=psid,
                ppid=ppid,
                udir="CORP",
                uid=user.user_id,
                obj_id=app.app_id,
                origin="AppAccess",
                context=ctx_url,
                message=f"Access to app '{app.app_id}' denied, result code 'NoAvailableAccessType'",
                severity="ERROR",
            ),
        )
        audit_proxy(
            t2 + 3,
            "Audit.Proxy.System.Reflection.RuntimeConstructorInfo",
            f"Access to app '{app.app_id}' denied, result code 'NoAvailableAccessType'",
            (psid, conn, "CORP", user.user_id, "", ip, app.app_id, target, "{}"),
        )
        stop = t2 + 30 * MINUTE
    else:
        open_t = t + rng.randint(3_000, 40_000)
        msg = (
            f"Backend web socket connection Opened for session '{psid}'. App id: '{app.app_id}'. "
            f"UserAgent: '{AGENT}'"
        )
        activity(
            open_t, "Open connection", msg, context=ctx_url, origin="AppAccess", pkg=ppid, obj_id=app.app_id
        )
        engine_session = ids.guid()
        ctx.sink.add(
            node,
            "Engine",
            "System",
            open_t + 40,
            r.engine_system(
                open_t + 40,
                node,
                f"QvSocket: Connected to server as user: 'UserDirectory=CORP; UserId={user.user_id}' "
                f"for document: '/app/{app.app_id}' on socket {node.ip}:4747 <-> "
                f"{node.ip}:{rng.randint(49200, 65000)}",
                psid=psid,
                udir="CORP",
                uid=user.user_id,
                session_id=engine_session,
            ),
        )
        ctx.sink.add(
            node,
            "Engine",
            "AuditActivity",
            open_t + 300,
            r.engine_audit(
                open_t + 300,
                node,
                "Open app",
                "Global::OpenApp",
                obj_id=app.app_id,
                obj_name="Not available",
                session_id=engine_session,
                udir="CORP",
                uid=user.user_id,
                psid=psid,
                ppid=ppid,
                origin="AppAccess",
            ),
        )
        close_t = open_t + minutes * MINUTE
        activity(
            close_t,
            "Close connection",
            msg.replace("Opened", "Closed").replace(f"'{app.app_id}'.", f"'{app.app_id}."),
            context=ctx_url,
            origin="AppAccess",
            pkg=ppid,
            obj_id=app.app_id,
        )
        ctx.sink.add(
            node,
            "Engine",
            "Session",
            close_t + 50,
            r.session_engine(
                close_t + 50,
                node,
                udir="CORP",
                uid=user.user_id,
                psid=psid,
                ppid=ppid,
                session_id=engine_session,
                app_id=app.app_id,
                app_title=app.name,
                doc_ts=start - 6 * 3_600_000,
                start=open_t,
                exit_reason="Socket closed by client",
                calls=rng.randint(40, 900),
                selections=rng.randint(0, 120),
                secure="On",
            ),
        )
        stop = close_t + 30 * MINUTE
    activity(
        stop,
        "Stop session",
        f"Stop session for user '{user.qualified}' . Session id = '{psid}' and all "
        "dependents will be deleted.",
        context="/qps/sessionstop",
        obj_name=user.qualified,
    )
    audit_proxy(
        stop + 4,
        "Audit.Proxy.Proxy.SessionEstablishment.Session.MetaSession",
        f"Session {psid} has been deleted due to inactivity",
        (psid, "", "CORP", user.user_id, "", "", "", "", ""),
    )
    return Session(user, start, stop, psid, ppid, ip, app)
