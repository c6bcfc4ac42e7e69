"""Row builders: one function per log family, returning every column after ``Sequence#``.

The builders know the column order of formats.md §3 so scenarios only say what happened.  They fill the
metadata the real services write (``Id``/``Id2`` pairs, per-row ``Checksum``, engine process ids and
``Server Started`` per engine run, ``SessionId`` only after the engine upgrade).
"""

from __future__ import annotations

import bisect
import zlib

from qslogs_synth.clock import fmt_net, fmt_net_utc
from qslogs_synth.ids import Ids
from qslogs_synth.site import (
    ENGINE_VERSION_NEW,
    ENGINE_VERSION_OLD,
    EXE_VERSION_NEW,
    EXE_VERSION_OLD,
    SERVICE_USER,
    VERSION,
    Node,
    Site,
    Task,
)

SCHED = "System.Scheduler.Scheduler."


def description(command: str, result: int, result_text: str) -> str:
    """The audit ``Description`` cell: ``Command=…;Result=…;ResultText=…``."""
    return f"Command={command};Result={result};ResultText={result_text}"


class Rows:
    """Formats rows for one site; ``ids`` supplies every GUID and checksum."""

    def __init__(self, site: Site, ids: Ids) -> None:
        self.site = site
        self.ids = ids

    # -- engine runs ---------------------------------------------------------------------------
    def engine_run(self, node: Node, t: int) -> tuple[int, int]:
        """(ProcessId, Server Started ms) of the engine process running on ``node`` at ``t``."""
        starts = self.site.restarts.get(node.index, [])
        i = bisect.bisect_right(starts, t)
        started = starts[i - 1] + 95_000 if i else self.site.license_start_ms - 3_600_000 * 24 * 9
        pid = 2000 + zlib.crc32(f"{node.index}:{i}".encode()) % 9000
        return pid, started

    def upgraded(self, t: int, node: Node) -> bool:
        """True once ``node``'s engine writes the newer headers (with ``SessionId``)."""
        return t >= self.site.upgrade_at(node.index)

    def exe_version(self, t: int, node: Node) -> str:
        """Engine ``Exe Version`` column value at ``t``."""
        return EXE_VERSION_NEW if self.upgraded(t, node) else EXE_VERSION_OLD

    def engine_version(self, t: int, node: Node) -> str:
        """Engine ``EngineVersion`` column value at ``t``."""
        return ENGINE_VERSION_NEW if self.upgraded(t, node) else ENGINE_VERSION_OLD

    # -- Trace family --------------------------------------------------------------------------
    def simple(
        self,
        t: int,
        node: Node,
        level: str,
        logger: str,
        msg: str,
        exc: str = "",
        stack: str = "",
        psid: str = "0",
    ) -> str:
        """``System_*``/``Security_*``/``Synchronization``/``UserManagement`` (…|ProxySessionId|Id2)."""
        rid = self.ids.guid()
        return (
            f"{fmt_net(t)}\t{level}\t{node.hostname}\t{logger}\t{self.ids.thread()}\t{rid}\t{SERVICE_USER}\t"
            f"{msg}\t{exc}\t{stack}\t{psid}\t{rid}"
        )

    def trace_checksum(
        self, t: int, node: Node, logger: str, msg: str, tail: tuple[str, ...], level: str = "INFO"
    ) -> str:
        """A Trace row whose type-specific ``tail`` ends in a per-row ``Checksum``."""
        return "\t".join(
            (
                fmt_net(t),
                level,
                node.hostname,
                logger,
                str(self.ids.thread()),
                self.ids.guid(),
                SERVICE_USER,
                msg,
                *tail,
                self.ids.hex40(),
            )
        )

    def trace_id2(
        self, t: int, node: Node, logger: str, msg: str, tail: tuple[str, ...], level: str = "INFO"
    ) -> str:
        """A Trace row whose type-specific ``tail`` ends in ``Id2`` (= ``Id``)."""
        rid = self.ids.guid()
        return "\t".join(
            (
                fmt_net(t),
                level,
                node.hostname,
                logger,
                str(self.ids.thread()),
                rid,
                SERVICE_USER,
                msg,
                *tail,
                rid,
            )
        )

    def sched(
        self,
        t: int,
        node: Node,
        logger: str,
        msg: str,
        task: Task | None = None,
        *,
        user: str = "",
        exec_id: str = "",
        app: bool = True,
        level: str = "INFO",
        exc: str = "",
        stack: str = "",
        thread: int | None = None,
    ) -> str:
        """A ``System_Scheduler`` row with its TaskName|TaskId|User|ExecutionId|AppName|AppId columns."""
        rid = self.ids.guid()
        if task is None:
            cols = "\t\t\t\t\t"
        else:
            app_cols = f"{task.app.name}\t{task.app.app_id}" if app else "\t"
            cols = f"{task.name}\t{task.task_id}\t{user}\t{exec_id}\t{app_cols}"
        th = thread if thread is not None else self.ids.thread()
        return (
            f"{fmt_net(t)}\t{level}\t{node.hostname}\t{SCHED}{logger}\t{th}\t{rid}\t{SERVICE_USER}\t{msg}\t"
            f"{exc}\t{stack}\t0\t{cols}\t{rid}"
        )

    def engine_system(
        self,
        t: int,
        node: Node,
        msg: str,
        *,
        level: str = "INFO",
        psid: str = "0",
        udir: str = "Internal",
        uid: str = "Engine",
        session_id: str = "",
    ) -> str:
        """A ``System_Engine`` row; the ``SessionId`` column exists only after the upgrade."""
        rid = self.ids.guid()
        pid, started = self.engine_run(node, t)
        sid = f"\t{session_id}" if self.upgraded(t, node) else ""
        return (
            f"{fmt_net(t)}\t{level}\t{node.hostname}\tSystem.Engine.Engine\t{self.ids.thread()}\t{rid}\t"
            f"{SERVICE_USER}\t{msg}\t{psid}\t{udir}\t{uid}\t{fmt_net(t + 3)}\t{self.ids.between(900, 9000)}"
            f"\t{pid}{sid}\t{fmt_net(started)}\t{rid}"
        )

    # -- Audit and Service families ------------------------------------------------------------
    def audit(
        self,
        t: int,
        node: Node,
        service: str,
        command: str,
        *,
        result: int = 0,
        result_text: str = "Success",
        psid: str = "0",
        ppid: str = "0",
        rsid: str = "0",
        udir: str = "INTERNAL",
        uid: str = "System",
        obj_id: str = "0",
        obj_name: str = "Not available",
        origin: str = "Not available",
        context: str = "Not available",
        command_col: str | None = None,
        message: str = "",
        severity: str | None = None,
    ) -> str:
        """``AuditActivity_*`` row, or ``Service_*`` row when ``severity`` is given (adds ``Severity``)."""
        rid = self.ids.guid()
        sev = f"\t{severity}" if severity is not None else ""
        return (
            f"{VERSION[service]}\t{fmt_net(t)}{sev}\t{node.hostname}\t{rid}\t"
            f"{description(command, result, result_text)}\t{psid}\t{ppid}\t{rsid}\t{udir}\t{uid}\t{obj_id}\t"
            f"{obj_name}\t{service}\t{origin}\t{context}\t{command_col or command}\t{result}\t{message}\t"
            f"{rid}"
        )

    def security(
        self,
        t: int,
        node: Node,
        service: str,
        command: str,
        *,
        result: int = 0,
        result_text: str = "Success",
        psid: str = "0",
        ppid: str = "0",
        udir: str = "INTERNAL",
        uid: str = "System",
        obj_id: str = "0",
        obj_name: str = "Not available",
        security_class: str = "License",
        client: str = "Not available",
        origin: str = "Not available",
        context: str = "Not available",
        message: str = "",
    ) -> str:
        """``AuditSecurity_*`` row (``SecurityClass``, ``ClientHostAddress``, per-row ``Checksum``)."""
        return (
            f"{VERSION[service]}\t{fmt_net(t)}\t{node.hostname}\t{self.ids.guid()}\t"
            f"{description(command, result, result_text)}\t{psid}\t{ppid}\t0\t{udir}\t{uid}\t{obj_id}\t"
            f"{obj_name}\t{security_class}\t{client}\t{service}\t{origin}\t{context}\t{command}\t{result}\t"
            f"{message}\t{self.ids.hex40()}"
        )

    def engine_audit(
        self,
        t: int,
        node: Node,
        command: str,
        context: str,
        *,
        obj_id: str,
        obj_name: str,
        session_id: str,
        udir: str = "INTERNAL",
        uid: str = "sa_scheduler",
        psid: str = "0",
        ppid: str = "0",
        result: int = 0,
        result_text: str = "Success",
        message: str = "Success",
        origin: str = "Not available",
        rsid: int | None = None,
    ) -> str:
        """``AuditActivity_Engine`` row (``EngineTimestamp``, ``EngineVersion``, ``SessionId``)."""
        rid = self.ids.guid()
        seq = rsid if rsid is not None else self.ids.between(2, 400)
        return (
            f"{VERSION['Engine']}\t{fmt_net(t)}\t{node.hostname}\t{rid}\t{fmt_net(t + 4)}\t"
            f"{self.engine_version(t, node)}\t{description(command, result, result_text)}\t{psid}\t{ppid}\t"
            f"{seq}\t"
            f"{udir}\t{uid}\t{session_id}\t{obj_id}\t{obj_name}\tEngine\t{origin}\t{context}\t{command}\t"
            f"{result}\t{message}\t{rid}"
        )

    def engine_service(
        self,
        t: int,
        node: Node,
        command: str,
        message: str,
        *,
        severity: str = "INFO",
        result: int = 0,
        result_text: str = "Success",
        psid: str = "0",
        ppid: str = "0",
        udir: str = "INTERNAL",
        uid: str = "System",
        session_id: str = "",
        obj_id: str = "0",
        obj_name: str = "Not available",
        origin: str = "Not available",
        context: str = "Not available",
    ) -> str:
        """``Service_Engine`` row; ``SessionId`` only after the upgrade, like ``System_Engine``."""
        rid = self.ids.guid()
        sid = f"{session_id}\t" if self.upgraded(t, node) else ""
        return (
            f"{VERSION['Engine']}\t{fmt_net(t)}\t{severity}\t{node.hostname}\t{rid}\t{fmt_net(t + 2)}\t"
            f"{self.engine_version(t, node)}\t{description(command, result, result_text)}\t{psid}\t{ppid}\t"
            f"1\t{udir}\t{uid}\t{sid}{obj_id}\t{obj_name}\tEngine\t{origin}\t{context}\t{command}\t{result}\t"
            f"{message}\t"
            f"{rid}"
        )

    def session_engine(
        self,
        t: int,
        node: Node,
        *,
        udir: str,
        uid: str,
        psid: str,
        ppid: str,
        session_id: str,
        app_id: str,
        app_title: str,
        doc_ts: int,
        start: int,
        exit_reason: str,
        calls: int,
        selections: int,
        secure: str = "Off",
    ) -> str:
        """``Session_Engine`` row written when an engine session ends (durations in days, as real)."""
        rid = self.ids.guid()
        pid, started = self.engine_run(node, t)
        rng = self.ids.rng
        duration = max(t - start, 1) / 86_400_000
        return (
            f"{fmt_net(t)}\tINFO\t{node.hostname}\tSession.Engine.Engine\t{self.ids.thread()}\t{rid}\t"
            f"{SERVICE_USER}\t\t{psid}\t{udir}\t{uid}\t{fmt_net(t + 1)}\t{rng.randint(900, 9000)}\t{pid}\t"
            f"{session_id}\t{self.exe_version(t, node)}\t{fmt_net(started)}\t{ppid}\t{app_id}\t{app_title}\t"
            f"{fmt_net_utc(doc_ts)}\t{exit_reason}\t{fmt_net(start - start % 1000)}\t{duration:.6f}\t"
            f"{rng.uniform(0.05, 4.0):.6f}\t{rng.randint(600, 90_000)}\t{rng.randint(5_000, 900_000)}\t"
            f"{calls}\t"
            f"{selections}\tUserDirectory={udir}; UserId={uid}\t{secure}\t{rid}"
        )
