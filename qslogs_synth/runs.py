"""One scheduled reload execution, written into every log that sees it (formats.md §5).

:func:`run_task` emits the master scheduler's lines (central node), the slave scheduler's and engine's
lines (executing node), the AuditActivity_Scheduler and TaskExecution rows, and the script log; it returns
the execution's truth record.
"""

from __future__ import annotations

from typing import Any

from qslogs_synth.clock import fmt_mdy, fmt_net, fmt_script
from qslogs_synth.context import Ctx, Outcome, ScriptFile, iso, script_path
from qslogs_synth.engine_session import engine_close, engine_open
from qslogs_synth.scriptlog import SCRIPTS, render
from qslogs_synth.site import Node, Task

SA = "INTERNAL\\sa_scheduler"


def run_task(ctx: Ctx, task: Task, trigger: int, outcome: Outcome, attempt: int = 1) -> dict[str, Any]:
    """Write one scheduled execution of ``task`` triggered at ``trigger``; return its truth record."""
    r, add, rng, ids = ctx.rows, ctx.sink.add, ctx.rng, ctx.ids
    m, x = ctx.site.central, task.node
    ex = ids.guid()
    app = task.app
    obj_id, obj_name = f"{task.task_id}|{app.app_id}", f"{task.name}|{app.name}"
    th_m, th_s = ids.thread(), ids.thread()

    def ms(
        t: int,
        logger: str,
        msg: str,
        *,
        user: str = SA,
        exec_id: str = "",
        level: str = "INFO",
        exc: str = "",
        stack: str = "",
        node: Node = m,
        app_cols: bool = True,
        plain: bool = False,
    ) -> None:
        text = r.sched(
            t,
            node,
            logger,
            msg,
            None if plain else task,
            user=user,
            exec_id=exec_id,
            app=app_cols,
            level=level,
            exc=exc,
            stack=stack,
            thread=th_m if node is m else th_s,
        )
        add(node, "Scheduler", "System", t, text)

    def sa(t: int, command: str, message: str) -> None:
        add(
            m,
            "Scheduler",
            "AuditActivity",
            t,
            r.audit(
                t,
                m,
                "Scheduler",
                command,
                psid=ex,
                udir="INTERNAL",
                uid="sa_scheduler",
                obj_id=obj_id,
                obj_name=obj_name,
                message=message,
            ),
        )

    ms(
        trigger - 141,
        "Master.Schedule.SchemaEvent",
        f"Schema {task.name} Schema with Id {task.schema_id} for task "
        f"{task.name} with Id {task.task_id} activated",
        plain=True,
    )
    ms(
        trigger - 141,
        "Master.Schedule.SchemaEvent",
        f"Next Target for Task (Name/Id) {task.name}/{task.task_id} set to {fmt_mdy(trigger)}",
        plain=True,
    )
    start = trigger + 15
    ms(trigger, "Master.Task.Task", "Starting task", user="")
    ms(trigger, "Master.Task.Task", "Initializing session", user="")
    ms(start, "Master.Task.Task", "Starting session", user="")
    ms(start, "Master.Task.TaskSession", "Starting Session")
    ms(start + 297, "Master.Task.TaskSession", "Sending task to slave scheduler")
    sa(start + 391, "Start task", "Changing task state to Triggered")
    ms(start + 438, "Monitoring.Metrics.Metrics", "Attempting to start task", exec_id=ex)
    record: dict[str, Any] = {
        "execution_id": ex,
        "task_id": task.task_id,
        "task_name": task.name,
        "app_id": app.app_id,
        "app_name": app.name,
        "executing_node": x.fqdn,
        "attempt": attempt,
        "status": outcome.status,
        "failure_phase": None,
        "error_class": outcome.error_class,
        "root_cause": None,
        "connection": None,
        "script_log": None,
        "script_log_name_shift_hours": None,
        "script_started_local": None,
    }
    if outcome.initiation is not None:
        t = start + rng.randint(25_000, 40_000)
        ms(t, "Master.Task.TaskSession", outcome.initiation, level="WARN", exec_id=ex)
        ms(
            t + 6,
            "Master.Task.Task",
            "Failed to start session",
            level="ERROR",
            exec_id=ex,
            exc=f"System.InvalidOperationException: {outcome.initiation}",
            stack="   at Qlik.Sense.Scheduler.Master.Task.TaskSession.ReserveExecutor(Guid taskId)↵↓"
            "   at Qlik.Sense.Scheduler.Master.Task.Task.StartSession()",
        )
        stop = t + 61
        sa(stop - 30, "Task execution", f"Changing task state from Triggered to {outcome.status}")
        ms(stop, "Master.Task.TaskSession", f"Execution State Change to {outcome.status}", exec_id=ex)
        record.update(failure_phase="initiation", root_cause=outcome.initiation)
        reason = outcome.initiation
    else:
        sa(
            start + 455,
            "Start task",
            f"Sending task {task.name} to slave-node {x.fqdn} (Slavenode id: {x.node_id})",
        )
        t = start + 533
        ms(t, "Slave.Execution.Executor", "Starting task", exec_id=ex, node=x, app_cols=False)
        sa(t, "Start task", "Task sent to execution node")
        ms(t, "Slave.Tasks.ReloadTask", "Entering execute of reload request", exec_id=ex, node=x)
        handle = ids.guid()
        ms(
            t,
            "Slave.Tasks.ReloadTask",
            f"Engine connection requested for reloadprovider. EngineConnectionHandle: {handle}",
            exec_id=ex,
            node=x,
        )
        ms(t, "Slave.Tasks.ReloadTask", "Requesting reload", exec_id=ex, node=x)
        ms(
            t + 15,
            "EngineWrapper.ReloadProvider",
            f"Engine connected for reloadprovider. EngineConnectionHandle: {handle}",
            exec_id=ex,
            node=x,
        )
        ms(t + 15, "Slave.Tasks.ReloadTask", "Exiting execute of reload request", exec_id=ex, node=x)
        ms(
            t + 15,
            "EngineWrapper.ReloadProvider",
            f"Entering execute of reload sequence using EngineConnectionHandle: {handle}",
            exec_id=ex,
            node=x,
        )
        ms(start + 579, "Master.Task.TaskSession", "Execution State Change to Started", exec_id=ex)
        sa(start + 579, "Task execution", "Changing task state from Triggered to Started")
        session_id = ids.guid()
        opened = engine_open(ctx, x, start + 690, app, "INTERNAL", "sa_scheduler", session_id, "0")
        ms(opened + 16, "EngineWrapper.ReloadProvider", f"{app.name} opened", exec_id=ex, node=x)
        script_start = start + rng.randint(2_000, 5_000)
        pid, _ = r.engine_run(x, script_start)
        rendered = render(
            rng,
            script_start,
            task.script,
            "UserDirectory=INTERNAL; UserId=sa_scheduler",
            pid,
            outcome.failure,
            modern=ctx.site.modern_script_log(x.index, script_start),
        )
        rel, shift = script_path(ctx, x, app, script_start)
        ctx.scripts.append(ScriptFile(rel, rendered.lines))
        end = rendered.end_ms + rng.randint(5, 60)
        add(
            x,
            "Engine",
            "AuditActivity",
            end,
            r.engine_audit(
                end,
                x,
                "Reload app",
                "Doc::DoReloadEx",
                obj_id=app.app_id,
                obj_name=app.name,
                session_id=session_id,
            ),
        )
        ms(
            end + 12,
            "EngineWrapper.ReloadProgressManager",
            f"{end - script_start} milliseconds of reload elapsed from Engine",
            exec_id=ex,
            node=x,
        )
        done = SCRIPTS[task.script][: outcome.failure.block if outcome.failure else None]
        progress = "".join(
            f"{b.table} << {b.source.rsplit('/', 1)[-1]} {b.rows} Lines fetched↓" for b in done
        )
        ms(
            end + 12,
            "EngineWrapper.ReloadProgressManager",
            f"Persistent progress from Engine: Connected↓{progress}",
            exec_id=ex,
            node=x,
        )
        ok = outcome.failure is None
        if ok:
            ms(end + 12, "EngineWrapper.ReloadProvider", f"{app.name} reloaded", exec_id=ex, node=x)
            ms(end + 620, "EngineWrapper.ReloadProvider", f"{app.name} saved", exec_id=ex, node=x)
        else:
            first = rendered.errors[0]
            ms(
                end + 40,
                "EngineWrapper.ReloadProvider",
                f"Reload failed for {app.name}",
                exec_id=ex,
                node=x,
                level="ERROR",
                exc=f"Qlik.Engine.MethodInvocationException: {first}",
                stack="   at Qlik.Sense.Scheduler.EngineWrapper.ReloadProvider.DoReload(IApp app)↵↓"
                "   at Qlik.Sense.Scheduler.EngineWrapper.ReloadProvider.ExecuteReloadSequence()",
            )
        verb = "successful" if ok else "unsuccessful"
        ms(
            end + 621,
            "EngineWrapper.ReloadProvider",
            f"Exiting reload sequence for engine connection with handle: {handle}",
            exec_id=ex,
            node=x,
        )
        ms(
            end + 668,
            "EngineWrapper.ReloadProvider",
            f"Reload sequence was {verb} for engine connection with handle: {handle}",
            exec_id=ex,
            node=x,
            level="INFO" if ok else "ERROR",
        )
        ms(
            end + 668,
            "Slave.Tasks.ReloadTask",
            "Reload complete" if ok else "Reload failed",
            exec_id=ex,
            node=x,
            level="INFO" if ok else "ERROR",
        )
        ms(end + 668, "Slave.Execution.Executor", "Task finished", exec_id=ex, node=x, app_cols=False)
        engine_close(ctx, x, end + 700, app, "INTERNAL", "sa_scheduler", session_id, "0", "", start + 690, 9)
        ms(end + 684, "Master.Task.TaskSession", f"Execution script log archived: {ids.guid()}", exec_id=ex)
        stop = end + 746
        sa(stop - 1, "Task execution", f"Changing task state from Started to {outcome.status}")
        ms(stop, "Master.Task.TaskSession", f"Execution State Change to {outcome.status}", exec_id=ex)
        record.update(
            script_log=rel,
            script_log_name_shift_hours=shift,
            script_started_local=fmt_script(script_start),
            connections=rendered.connections,
        )
        if not ok:
            record.update(
                failure_phase="script",
                root_cause=f"Error: {rendered.errors[0]}",
                connection=rendered.failed_connection,
                errors=[f"Error: {e}" for e in rendered.errors],
            )
        reason = ""
    if outcome.max_retries:
        ms(stop + 4, "Master.Task.TaskSession", "Max retries reached", exec_id=ex)
    sa(stop + 157, "Finished task", f"Task finished with state {outcome.status}")
    add(
        m,
        "Scheduler",
        "TaskExecution",
        stop + 94,
        r.trace_id2(
            stop + 94,
            m,
            "TaskExecution.Scheduler.Scheduler.Master.Task.TaskSessionState",
            "Task execution finished",
            (
                "",
                "",
                "0",
                task.task_id,
                task.name,
                app.app_id,
                app.name,
                ex,
                x.node_id,
                x.fqdn,
                outcome.status,
                fmt_net(start),
                fmt_net(stop),
                str(stop - start),
                reason,
            ),
        ),
        tag=f"te:{ex}",
    )
    record.update(
        start_time=fmt_net(start),
        stop_time=fmt_net(stop),
        start_utc=iso(start),
        stop_utc=iso(stop),
        duration_ms=stop - start,
    )
    return record
