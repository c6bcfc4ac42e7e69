"""Engine-side rows of a reload session, and a user's hub reload (formats.md §5.2, §6.1).

:func:`engine_open` / :func:`engine_close` write what the engine logs when a session opens an app and
ends; :func:`manual_reload` writes a data-load-editor reload by a user: engine rows and a script log, but
no task, no scheduler rows and no TaskExecution row.
"""

from __future__ import annotations

from typing import Any

from qslogs_synth.clock import fmt_script
from qslogs_synth.context import Ctx, ScriptFile, iso, script_path
from qslogs_synth.scriptlog import Failure, render
from qslogs_synth.site import App, Node


def engine_open(ctx: Ctx, x: Node, t: int, app: App, udir: str, uid: str, session_id: str, psid: str) -> int:
    """Engine rows of a session opening ``app`` at ``t``; returns when the app is open."""
    r, add = ctx.rows, ctx.sink.add
    add(x, "Engine", "System", t, r.engine_system(t, x, "TheServer: Registering new server session"))
    add(
        x,
        "Engine",
        "System",
        t + 14,
        r.engine_system(
            t + 14,
            x,
            f"QvSocket: Connected to server as user: 'UserDirectory={udir}; UserId={uid}' for document: "
            f"'/{app.app_id}' on socket {x.ip}:4747 <-> {x.ip}:{ctx.rng.randint(49200, 65000)}",
            psid=psid,
            udir=udir,
            uid=uid,
            session_id=session_id,
        ),
    )
    add(
        x,
        "Engine",
        "System",
        t + 40,
        r.engine_system(
            t + 40, x, "Server: Document Load: Beginning open of document", session_id=session_id
        ),
    )
    add(
        x,
        "Engine",
        "System",
        t + 52,
        r.engine_system(
            t + 52, x, f"DOC loading: Beginning load of document {app.app_id.upper()}.", session_id=session_id
        ),
    )
    opened = t + ctx.rng.randint(300, 900)
    add(
        x,
        "Engine",
        "System",
        opened - 20,
        r.engine_system(
            opened - 20, x, f"Document Load: The document {app.app_id} was loaded.", session_id=session_id
        ),
    )
    add(
        x,
        "Engine",
        "AuditActivity",
        opened,
        r.engine_audit(
            opened,
            x,
            "Open app",
            "Global::OpenApp",
            obj_id=app.app_id,
            obj_name="Not available",
            session_id=session_id,
            udir=udir,
            uid=uid,
            psid=psid,
        ),
    )
    return opened


def engine_close(
    ctx: Ctx,
    x: Node,
    t: int,
    app: App,
    udir: str,
    uid: str,
    session_id: str,
    psid: str,
    ppid: str,
    start: int,
    calls: int,
) -> None:
    """Engine rows of that session ending at ``t``, including its ``Session_Engine`` row."""
    r, add = ctx.rows, ctx.sink.add
    add(
        x,
        "Engine",
        "System",
        t,
        r.engine_system(
            t, x, "CGenericConnection: Terminate call status = OK, response = QVX_OK", session_id=session_id
        ),
    )
    add(
        x,
        "Engine",
        "System",
        t + 30,
        r.engine_system(
            t + 30,
            x,
            "Session stop reason: Socket closed by client",
            psid=psid,
            udir=udir,
            uid=uid,
            session_id=session_id,
        ),
    )
    add(
        x,
        "Engine",
        "Session",
        t + 31,
        r.session_engine(
            t + 31,
            x,
            udir=udir,
            uid=uid,
            psid=psid,
            ppid=ppid,
            session_id=session_id,
            app_id=app.app_id,
            app_title=app.name,
            doc_ts=t - 700,
            start=start,
            exit_reason="Socket closed by client",
            calls=calls,
            selections=0,
        ),
    )
    add(
        x,
        "Engine",
        "System",
        t + 60,
        r.engine_system(
            t + 60,
            x,
            f"DOC loading: Unloading document {app.app_id}, state UNLOADING.",
            session_id=session_id,
        ),
    )


def manual_reload(
    ctx: Ctx, node: Node, app: App, user_id: str, psid: str, ppid: str, t: int, failure: Failure | None
) -> dict[str, Any]:
    """A hub reload by ``CORP\\user_id`` in proxy session ``psid``: engine rows and a script log only."""
    rng = ctx.rng
    session_id = ctx.ids.guid()
    opened = engine_open(ctx, node, t, app, "CORP", user_id, session_id, psid)
    script_start = opened + rng.randint(1_500, 4_000)
    pid, _ = ctx.rows.engine_run(node, script_start)
    rendered = render(rng, script_start, "churn", f"UserDirectory=CORP; UserId={user_id}", pid, failure,
                      modern=ctx.site.modern_script_log(node.index, script_start))
    rel, shift = script_path(ctx, node, app, script_start)
    ctx.scripts.append(ScriptFile(rel, rendered.lines))
    end = rendered.end_ms + 25
    ctx.sink.add(
        node,
        "Engine",
        "AuditActivity",
        end,
        ctx.rows.engine_audit(
            end,
            node,
            "Reload app",
            "Doc::DoReloadEx",
            obj_id=app.app_id,
            obj_name=app.name,
            session_id=session_id,
            udir="CORP",
            uid=user_id,
            psid=psid,
            ppid=ppid,
            origin="AppAccess",
        ),
        tag="manual_reload_audit",
    )
    engine_close(
        ctx, node, end + 5_000 + rng.randint(0, 60_000), app, "CORP", user_id, session_id, psid, ppid, t, 214
    )
    return {
        "user": f"CORP\\{user_id}",
        "app_id": app.app_id,
        "app_name": app.name,
        "node": node.fqdn,
        "proxy_session_id": psid,
        "engine_session_id": session_id,
        "script_log": rel,
        "script_log_name_shift_hours": shift,
        "script_started_local": fmt_script(script_start),
        "started_utc": iso(script_start),
        "status": "failed" if failure else "success",
        "root_cause": f"Error: {rendered.errors[0]}" if rendered.errors else None,
        "error_class": "script" if failure else None,
        "connections": rendered.connections,
    }
