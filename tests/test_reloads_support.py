"""A builder of small, realistic Log folders with task runs, for the reloads tests (and checks that it is).

No public bundle holds a failing task run (fixtures/SOURCES.md), so the reloads tests write their own:
``TaskExecution_Scheduler``, ``System_Scheduler`` (the lifecycle of formats.md §5.3, in the real loggers and
order of the QLIKSERVER1 fixture), ``AuditActivity_Scheduler`` (§5.4), ``AuditActivity_Engine`` (``Reload
app``) and script logs from :mod:`tests.script_log_builder`, with BOM, CRLF and ``±hhmm`` local times.
The tests at the bottom prove the files parse without a single bad line.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.logfiles import TASK_EXECUTION, dotnet_file
from tests.script_log_builder import ScriptLogBuilder

SYSTEM_SCHEDULER = (
    "Sequence#\tTimestamp\tLevel\tHostname\tLogger\tThread\tId\tServiceUser\tMessage\tException\t"
    "StackTrace\tProxySessionId\tTaskName\tTaskId\tUser\tExecutionId\tAppName\tAppId\tId2"
)
AUDIT_SCHEDULER = (
    "Sequence#\tProductVersion\tTimestamp\tHostname\tId\tDescription\tProxySessionId\tProxyPackageId\t"
    "RequestSequenceId\tUserDirectory\tUserId\tObjectId\tObjectName\tService\tOrigin\tContext\tCommand\t"
    "Result\tMessage\tId2"
)
AUDIT_ENGINE = (
    "Sequence#\tProductVersion\tTimestamp\tHostname\tId\tEngineTimestamp\tEngineVersion\tDescription\t"
    "ProxySessionId\tProxyPackageId\tRequestSequenceId\tUserDirectory\tUserId\tSessionId\tObjectId\t"
    "ObjectName\tService\tOrigin\tContext\tCommand\tResult\tMessage\tId2"
)
SYSTEM_ENGINE = (
    "Sequence#\tTimestamp\tLevel\tHostname\tLogger\tThread\tId\tServiceUser\tMessage\tProxySessionId\t"
    "ActiveUserDirectory\tActiveUserId\tEngineTimestamp\tEngineThread\tProcessId\tSessionId\t"
    "Server Started\tId2"
)
SERVICE_USER = "CORP\\svc_qlik"
SCHEDULER_USER = "INTERNAL\\sa_scheduler"
_S = "System.Scheduler.Scheduler."


def guid(label: str) -> str:
    """A stable GUID per label, so tests can name the ids they expect."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qslogs-test:{label}"))


@dataclass(frozen=True)
class Task:
    """A reload task and its app."""

    name: str
    app: str

    @property
    def task_id(self) -> str:
        return guid(f"task:{self.name}")

    @property
    def app_id(self) -> str:
        return guid(f"app:{self.app}")


LICENSE_MONITOR = Task("Reload License Monitor", "License Monitor")
OPERATIONS_MONITOR = Task("Reload Operations Monitor", "Operations Monitor")
SALES = Task("Reload Sales Overview", "Sales Overview")

#: A script log body, given its naive local start time.
Script = Callable[[datetime], ScriptLogBuilder]


def const_offset(minutes: int) -> Callable[[datetime], int]:
    return lambda _t: minutes


def eu_offset(t: datetime) -> int:
    """Central European time with the 2024 DST changes (31 March, 27 October at 01:00 UTC)."""
    summer = datetime(2024, 3, 31, 1, tzinfo=UTC) <= t < datetime(2024, 10, 27, 1, tzinfo=UTC)
    return 120 if summer else 60


@dataclass
class Node:
    """One node's host spellings and clock."""

    netbios: str = "SENSE01"
    offset: Callable[[datetime], int] = field(default=const_offset(120))

    @property
    def hostname(self) -> str:
        return self.netbios.capitalize()

    @property
    def fqdn(self) -> str:
        return f"{self.netbios.lower()}.corp.example"

    def stamp(self, t: datetime) -> str:
        """``20240304T020005.123+0200``: the .NET form in this node's local time."""
        minutes = self.offset(t)
        local = t + timedelta(minutes=minutes)
        sign = "+" if minutes >= 0 else "-"
        hh, mm = divmod(abs(minutes), 60)
        return local.strftime("%Y%m%dT%H%M%S.") + f"{local.microsecond // 1000:03d}{sign}{hh:02d}{mm:02d}"

    def local(self, t: datetime) -> datetime:
        """Naive local wall-clock time, as script logs write it (whole seconds)."""
        return (t + timedelta(minutes=self.offset(t))).replace(tzinfo=None, microsecond=0)


class LogFolder:
    """Accumulates records per file; :meth:`write` lays them out as a Log Collector ``Log`` folder."""

    def __init__(self, central: Node | None = None) -> None:
        self.central = central or Node()
        self.rows: dict[tuple[str, str], list[tuple[datetime, list[str]]]] = {}
        self.scripts: dict[str, bytes] = {}
        self.n = 0

    # -- low level ------------------------------------------------------------------------------------------
    def _id(self) -> str:
        self.n += 1
        return guid(f"row:{self.n}")

    def _add(self, path: str, header: str, t: datetime, fields: list[str]) -> None:
        self.rows.setdefault((path, header), []).append((t, fields))

    def system(
        self,
        t: datetime,
        logger: str,
        message: str,
        task: Task | None = None,
        execution_id: str = "",
        user: str = "",
        level: str = "INFO",
        with_app: bool = True,
        node: Node | None = None,
    ) -> None:
        """One System_Scheduler record (TaskName|TaskId|User|ExecutionId|AppName|AppId)."""
        node = node or self.central
        rid = self._id()
        fields = [
            node.stamp(t),
            level,
            node.hostname,
            _S + logger,
            "45",
            rid,
            SERVICE_USER,
            message,
            "",
            "",
            "0",
            task.name if task else "",
            task.task_id if task else "",
            user,
            execution_id,
            task.app if task and with_app else "",
            task.app_id if task and with_app else "",
            rid,
        ]
        self._add(f"Scheduler/Trace/{node.netbios}_System_Scheduler.txt", SYSTEM_SCHEDULER, t, fields)

    def audit(self, t: datetime, task: Task, execution_id: str, command: str, message: str) -> None:
        """One AuditActivity_Scheduler record (ProxySessionId = ExecutionId, ObjectId = TaskId|AppId)."""
        rid = self._id()
        fields = [
            "16.5.0.0",
            self.central.stamp(t),
            self.central.hostname,
            rid,
            f"Command={command};Result=0;ResultText=Success",
            execution_id,
            "0",
            "0",
            "INTERNAL",
            "sa_scheduler",
            f"{task.task_id}|{task.app_id}",
            f"{task.name}|{task.app}",
            "Scheduler",
            "Not available",
            "Not available",
            command,
            "0",
            message,
            rid,
        ]
        self._add(
            f"Scheduler/Audit/{self.central.netbios}_AuditActivity_Scheduler.txt", AUDIT_SCHEDULER, t, fields
        )

    def engine_reload(
        self,
        t: datetime,
        app_id: str,
        app: str,
        user: str,
        result: str = "0",
        result_text: str = "Success",
        node: Node | None = None,
    ) -> None:
        """An Engine audit ``Reload app`` record (written when the reload ends)."""
        node = node or self.central
        directory, user_id = user.split("\\")
        rid = self._id()
        fields = [
            "31.14.2.0",
            node.stamp(t),
            node.hostname,
            rid,
            node.stamp(t),
            "14.187.4.0",
            f"Command=Reload app;Result={result};ResultText={result_text}",
            "0",
            "0",
            "260",
            directory,
            user_id,
            guid(f"session:{rid}"),
            app_id,
            app,
            "Engine",
            "Not available",
            "Doc::DoReloadEx",
            "Reload app",
            result,
            result_text if result != "0" else "Success",
            rid,
        ]
        self._add(f"Engine/Audit/{node.netbios}_AuditActivity_Engine.txt", AUDIT_ENGINE, t, fields)

    def engine_system(self, t: datetime, message: str, node: Node) -> None:
        """A System_Engine record: gives a node its clock offsets without any scheduler lines."""
        rid = self._id()
        fields = [
            node.stamp(t),
            "INFO",
            node.hostname,
            "System.Engine.Engine",
            "12",
            rid,
            SERVICE_USER,
            message,
            "0",
            "",
            "",
            node.stamp(t),
            "12",
            "4412",
            "",
            node.stamp(t - timedelta(days=3)),
            rid,
        ]
        self._add(f"Engine/Trace/{node.netbios}_System_Engine.txt", SYSTEM_ENGINE, t, fields)

    def script_log(self, app_id: str, builder: ScriptLogBuilder, local_start: datetime) -> str:
        """Store a script log under ``Script/<AppId>.<local start>.<hex>.log``; returns its bundle path."""
        hex20 = uuid.uuid5(uuid.NAMESPACE_OID, app_id + str(local_start)).hex[:20].upper()
        name = f"{app_id}.{local_start:%Y_%m_%d_%H_%M_%S}.{hex20}.log"
        self.scripts[name] = builder.build()
        return f"Log/Script/{name}"

    # -- a whole task run -----------------------------------------------------------------------------------
    def run(
        self,
        task: Task,
        start: datetime,
        seconds: float = 12.094,
        outcome: str = "success",
        script: Script | None = None,
        script_delay_s: float = 0.6,
        node: Node | None = None,
        task_execution: bool = True,
        system_lines: bool = True,
        audit_lines: bool = True,
        label: str | None = None,
    ) -> str:
        """One execution of ``task`` starting at ``start`` (UTC); returns its ExecutionId.

        ``outcome``: success, script (fails in the script: needs ``script``), initiation (no session, no
        script log) or aborted. The script log, if any, starts ``script_delay_s`` after StartTime on the
        executing node's clock.
        """
        node = node or self.central
        ex = guid(f"exec:{label or task.name + start.isoformat()}")
        stop = start + timedelta(seconds=seconds)
        status = {
            "success": "FinishedSuccess",
            "script": "FinishedFail",
            "initiation": "FinishedFail",
            "aborted": "Aborted",
        }[outcome]
        ms = timedelta(milliseconds=1)
        if system_lines:
            self.system(start - 15 * ms, "Master.Task.Task", "Starting task", task)
            self.system(start - 15 * ms, "Master.Task.Task", "Initializing session", task)
            self.system(start, "Master.Task.Task", "Starting session", task)
            self.system(start, "Master.Task.TaskSession", "Starting Session", task, user=SCHEDULER_USER)
        if audit_lines:
            self.audit(start + 391 * ms, task, ex, "Start task", "Changing task state to Triggered")
        if outcome == "initiation":
            if system_lines:
                self.system(
                    start + 297 * ms, "Master.Task.Task", "Failed to start session", task, level="ERROR"
                )
                self.system(
                    stop,
                    "Master.Task.TaskSession",
                    f"Execution State Change to {status}",
                    task,
                    ex,
                    SCHEDULER_USER,
                )
                self.system(
                    stop + 16 * ms, "Master.Task.TaskSession", "Max retries reached", task, ex, SCHEDULER_USER
                )
        else:
            if system_lines:
                self.system(
                    start + 297 * ms,
                    "Master.Task.TaskSession",
                    "Sending task to slave scheduler",
                    task,
                    user=SCHEDULER_USER,
                )
                self.system(
                    start + 438 * ms,
                    "Monitoring.Metrics.Metrics",
                    "Attempting to start task",
                    task,
                    ex,
                    SCHEDULER_USER,
                )
                self.system(
                    start + 532 * ms,
                    "Slave.Execution.Executor",
                    "Starting task",
                    task,
                    ex,
                    SCHEDULER_USER,
                    with_app=False,
                    node=node,
                )
                self.system(
                    start + 532 * ms,
                    "Slave.Tasks.ReloadTask",
                    "Requesting reload",
                    task,
                    ex,
                    SCHEDULER_USER,
                    node=node,
                )
                self.system(
                    start + 579 * ms,
                    "Master.Task.TaskSession",
                    "Execution State Change to Started",
                    task,
                    ex,
                    SCHEDULER_USER,
                )
                self.system(
                    start + 1329 * ms,
                    "EngineWrapper.ReloadProvider",
                    f"{task.app} opened",
                    task,
                    ex,
                    SCHEDULER_USER,
                    node=node,
                )
            if audit_lines:
                self.audit(
                    start + 454 * ms,
                    task,
                    ex,
                    "Start task",
                    f"Sending task {task.name} to slave-node {node.fqdn} (Slavenode id: {guid(node.fqdn)})",
                )
                self.audit(start + 532 * ms, task, ex, "Start task", "Task sent to execution node")
                self.audit(
                    start + 579 * ms,
                    task,
                    ex,
                    "Task execution",
                    "Changing task state from Triggered to Started",
                )
            if script is not None:
                local = node.local(start + timedelta(seconds=script_delay_s))
                self.script_log(task.app_id, script(local), local)
            if system_lines:
                if outcome == "success":
                    self.system(
                        stop - 94 * ms,
                        "EngineWrapper.ReloadProvider",
                        f"{task.app} reloaded",
                        task,
                        ex,
                        SCHEDULER_USER,
                        node=node,
                    )
                    self.system(
                        stop - 62 * ms,
                        "Master.Task.TaskSession",
                        f"Execution script log archived: {guid(ex + 'log')}",
                        task,
                        ex,
                        SCHEDULER_USER,
                    )
                elif outcome == "script":
                    self.system(
                        stop - 94 * ms,
                        "EngineWrapper.ReloadProvider",
                        "Reload failed in Engine. Check engine or script logs.",
                        task,
                        ex,
                        SCHEDULER_USER,
                        level="ERROR",
                        node=node,
                    )
                    self.system(
                        stop - 62 * ms,
                        "Master.Task.TaskSession",
                        f"Execution script log archived: {guid(ex + 'log')}",
                        task,
                        ex,
                        SCHEDULER_USER,
                    )
                else:
                    self.system(
                        stop - 500 * ms,
                        "Master.Task.TaskSession",
                        "Execution State Change to Aborting",
                        task,
                        ex,
                        SCHEDULER_USER,
                    )
                self.system(
                    stop,
                    "Master.Task.TaskSession",
                    f"Execution State Change to {status}",
                    task,
                    ex,
                    SCHEDULER_USER,
                )
                if outcome == "script":
                    self.system(
                        stop + 16 * ms,
                        "Master.Task.TaskSession",
                        "Max retries reached",
                        task,
                        ex,
                        SCHEDULER_USER,
                    )
            if outcome == "success":
                self.engine_reload(stop - 750 * ms, task.app_id, task.app, SCHEDULER_USER, node=node)
        if audit_lines:
            before = "Triggered" if outcome == "initiation" else "Started"
            self.audit(
                stop + 78 * ms, task, ex, "Task execution", f"Changing task state from {before} to {status}"
            )
            self.audit(stop + 157 * ms, task, ex, "Finished task", f"Task finished with state {status}")
        if task_execution:
            rid = self._id()
            fields = [
                self.central.stamp(stop + 94 * ms),
                "INFO",
                self.central.hostname,
                "TaskExecution.Scheduler.Scheduler.Master.Task.TaskSessionState",
                "45",
                rid,
                SERVICE_USER,
                "Task execution finished",
                "",
                "",
                "0",
                task.task_id,
                task.name,
                task.app_id,
                task.app,
                ex,
                guid(node.fqdn),
                node.fqdn,
                status,
                self.central.stamp(start),
                self.central.stamp(stop),
                str(round(seconds * 1000)),
                "",
                rid,
            ]
            self._add(
                f"Scheduler/Trace/{self.central.netbios}_TaskExecution_Scheduler.txt",
                TASK_EXECUTION,
                stop + 94 * ms,
                fields,
            )
        return ex

    def manual(
        self,
        app: str,
        user: str,
        start: datetime,
        script: Script,
        node: Node | None = None,
        seconds: float = 9.0,
        audit: bool = True,
    ) -> str:
        """A reload from the hub or data load editor by ``user`` (``CORP\\anna.berg``); returns its path."""
        node = node or self.central
        local = node.local(start)
        directory, user_id = user.split("\\")
        builder = script(local)
        path = self.script_log(guid(f"app:{app}"), builder, local)
        failed = b"Execution Failed" in builder.build()
        if audit:
            self.engine_reload(
                start + timedelta(seconds=seconds),
                guid(f"app:{app}"),
                app,
                user,
                result="1" if failed else "0",
                result_text="Error" if failed else "Success",
                node=node,
            )
        assert directory and user_id
        return path

    def write(self, root: Path, scripts: bool = True) -> Path:
        """Write the ``Log`` folder under ``root``; ``scripts=False`` leaves out ``Script/``."""
        log = root / "Log"
        for (path, header), rows in self.rows.items():
            rows.sort(key=lambda r: r[0])
            lines = ["\t".join([str(i + 1), *fields]) for i, (_, fields) in enumerate(rows)]
            target = log / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(dotnet_file(header, lines))
        if scripts and self.scripts:
            (log / "Script").mkdir(parents=True, exist_ok=True)
            for name, data in self.scripts.items():
                (log / "Script" / name).write_bytes(data)
        return log


# -- script bodies -------------------------------------------------------------------------------------------

MONITOR_401 = (
    "QVX_UNEXPECTED_END_OF_DATA: HTTP protocol error 401 (Unauthorized): The server refused the request."
)


def license_monitor_ok(local: datetime) -> ScriptLogBuilder:
    """A successful License Monitor reload through its REST connections."""
    return (
        ScriptLogBuilder(start=local)
        .connect("monitor_apps_REST_license_user")
        .rest_select("RestConnectorMasterTable", ["id", "userDirectory", "userId", "__FK_user"], rows=57)
        .connect("monitor_apps_REST_license_access")
        .rest_select("RestConnectorMasterTable", ["id", "createdDate", "modifiedDate"], rows=12)
        .finish()
    )


def license_monitor_401(local: datetime) -> ScriptLogBuilder:
    """The License Monitor refused with HTTP 401 on ``monitor_apps_REST_license_user``."""
    return (
        ScriptLogBuilder(start=local)
        .load_qvd(
            "LicenseLog",
            ["Timestamp", "UserId", "AccessType"],
            "lib://ServerLogFolder/Repository/Trace/License_Repository.qvd",
            1480,
        )
        .connect("monitor_apps_REST_license_user")
        .rest_select("RestConnectorMasterTable", ["id", "userDirectory", "userId", "__FK_user"])
        .error(MONITOR_401)
    )


def sales_ok(local: datetime) -> ScriptLogBuilder:
    return (
        ScriptLogBuilder(start=local)
        .connect("SQL_Sales (corp_svc_qlik)")
        .sql_select("Orders", ["OrderId", "CustomerId", "Amount"], "dbo.Orders", 48_211)
        .finish()
    )


def error_line_no(data: bytes) -> int:
    """1-based physical line of the first ``Error:`` message in a built log (independent of the parser)."""
    lines = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8").split("\r\n")
    return next(i for i, line in enumerate(lines, 1) if line[19:].lstrip().startswith("Error:"))


# -- the builder itself writes what the parsers accept -------------------------------------------------------

T0 = datetime(2024, 3, 4, 1, 0, 5, 6000, tzinfo=UTC)


def test_built_folder_parses_without_bad_lines(tmp_path: Path) -> None:
    from qslogs.loader import load_frames

    logs = LogFolder()
    logs.run(LICENSE_MONITOR, T0, outcome="script", script=license_monitor_401)
    logs.run(SALES, T0 + timedelta(hours=1), outcome="initiation")
    logs.run(SALES, T0 + timedelta(hours=2), script=sales_ok)
    logs.manual("Sales Overview", "CORP\\anna.berg", T0 + timedelta(hours=3), sales_ok)
    frames = load_frames([logs.write(tmp_path)])
    assert frames.bad_lines.height == 0 and not frames.file_issues
    assert frames.frames["Scheduler/TaskExecution"].height == 3
    assert frames.frames["Script/Summary"].height == 3
    assert set(frames.offsets["offset_minutes"].to_list()) == {120}
    te = frames.frames["Scheduler/TaskExecution"].row(0, named=True)
    assert (te["StartTime"], te["Status"], te["ExecutingNodeName"]) == (
        T0,
        "FinishedFail",
        "sense01.corp.example",
    )


def test_node_stamp_is_the_dotnet_form() -> None:
    assert Node().stamp(T0) == "20240304T030005.006+0200"
    assert (
        Node(offset=eu_offset).stamp(datetime(2024, 10, 27, 0, 59, tzinfo=UTC)) == "20241027T025900.000+0200"
    )
    assert (
        Node(offset=eu_offset).stamp(datetime(2024, 10, 27, 1, 0, tzinfo=UTC)) == "20241027T020000.000+0100"
    )
