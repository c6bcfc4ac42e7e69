"""Reload script logs (formats.md §6): header block, statements, engine messages and the outcome.

A script is a list of :class:`Block` loads.  :func:`render` turns one into timed lines in the real
layout (``<local time> <4-digit line no | 4 spaces> <text>``), optionally failing inside a block with
the given ``Error:`` lines, followed by ``Execution Failed`` and — always — ``Execution finished.``.

Two timestamp forms, as in the field (formats.md §4, §6.1): the classic ``2019-10-23 10:08:50`` (naive
local time, whole seconds) of releases up to 2019, and the modern ``20200227T121011.881+0100`` (local time
with milliseconds and its own UTC offset) of later releases: ``modern=True``. A site upgraded node by node
holds both, even in one ``Script`` folder (old logs stay there).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from qslogs_synth.clock import fmt_net, fmt_script

_NBSP = "\u00a0"
_HEADER = (
    ("Qlik Sense Server Version", "14.187.4"),
    ("CPU Target", "x64"),
    ("Operating System", "Windows Server 2022 Standard  (64 bit edition)"),
    ("Wow64 mode", "Not using Wow64"),
    ("Language", "0409 English (United States) English"),
    ("Country", "46 Sweden Sweden"),
    ("MDAC Version", "10.0.20348.1"),
    ("MDAC Full Install Version", "10.0.20348.1"),
    ("PreferredCompression", "2"),
    ("EnableParallelReload", "1"),
    ("ParallelizeQvdLoads", "1"),
    ("EnableFlushLog", "0"),
    ("UserLogfileCharset", "65001"),
    ("OdbcLoginTimeout", "-1"),
    ("OdbcConnectionTimeout", "-1"),
    ("LongestPossibleLine", "1048576"),
    ("ScriptWantsDbWrite", "false"),
    ("ScriptWantsExe", "false"),
    ("LogFile CodePage Used:", "65001"),
    ("UseMemoryFillPattern", "1"),
    ("ScriptMode", "Standard (limits system access)"),
    ("SequentialThreadCount", "6"),
    ("NumberOfCores (effective)", "8"),
    ("ReloadCodebase", "Classic"),
)
_PROLOGUE = (
    f"SET ThousandSep='{_NBSP}'",
    "SET DecimalSep=','",
    f"SET MoneyThousandSep='{_NBSP}'",
    "SET MoneyDecimalSep=','",
    f"SET MoneyFormat='#{_NBSP}##0,00 kr;-#{_NBSP}##0,00 kr'",
    "SET TimeFormat='hh:mm:ss'",
    "SET DateFormat='YYYY-MM-DD'",
    "SET TimestampFormat='YYYY-MM-DD hh:mm:ss[.fff]'",
    "SET FirstWeekDay=0",
    "SET BrokenWeeks=0",
    "SET ReferenceDay=4",
    "SET FirstMonthOfYear=1",
    "SET CollationLocale='sv-SE'",
    "SET CreateSearchIndexOnReload=1",
    "SET MonthNames='jan.;feb.;mars;apr.;maj;juni;juli;aug.;sep.;okt.;nov.;dec.'",
    "SET DayNames='mån;tis;ons;tors;fre;lör;sön'",
    "SET LongDayNames='måndag;tisdag;onsdag;torsdag;fredag;lördag;söndag'",
)


@dataclass(frozen=True)
class Block:
    """One table load: ``rest``/``sql`` read through connection ``source``, ``file`` from a lib:// path."""

    kind: str
    table: str
    source: str
    fields: tuple[str, ...]
    rows: int
    url: str = ""


@dataclass(frozen=True)
class Failure:
    """The script stops in block ``block`` with these ``Error:`` texts (without the ``Error: `` prefix)."""

    block: int
    errors: tuple[str, ...]


@dataclass
class Rendered:
    """A rendered script log and what it says."""

    lines: list[str]
    end_ms: int
    connections: list[str] = field(default_factory=list)
    failed_connection: str | None = None
    errors: list[str] = field(default_factory=list)


def _lib_name(path: str) -> str | None:
    """The folder connection of a ``lib://<name>/…`` path, else None."""
    return path[len("lib://"):].split("/", 1)[0] if path.lower().startswith("lib://") else None


def _rest(table: str, conn: str, path: str, fields: tuple[str, ...], rows: int) -> Block:
    return Block("rest", table, conn, fields, rows, f"https://localhost/qrs/{path}")


_USER_FIELDS = ("id", "userDirectory", "userId", "name", "inactive", "removedExternally")
_LIC_FIELDS = ("id", "user.userDirectory", "user.userId", "lastUsed", "quarantined", "deleted")

SCRIPTS: dict[str, tuple[Block, ...]] = {
    "license_monitor": (
        _rest(
            "LicenseAccess",
            "monitor_apps_REST_license_access",
            "license/accesstypeinfo",
            ("allocatedTokens", "usedTokens", "quarantinedTokens", "totalTokens"),
            1,
        ),
        _rest(
            "ProfessionalAccess",
            "monitor_apps_REST_license_professional",
            "license/professionalaccesstype/full",
            _LIC_FIELDS,
            12,
        ),
        _rest(
            "AnalyzerAccess",
            "monitor_apps_REST_license_analyzer",
            "license/analyzeraccesstype/full",
            _LIC_FIELDS,
            35,
        ),
        _rest("LicenseUser", "monitor_apps_REST_license_user", "user/full", _USER_FIELDS, 58),
        _rest(
            "LoginAccess",
            "monitor_apps_REST_license_login",
            "license/loginaccesstype/full",
            ("id", "name", "assignedTokens", "overage"),
            0,
        ),
        Block(
            "file",
            "LicenseLog",
            "lib://ServerLogFolder/Repository/Trace/*_License_Repository*.txt",
            ("Timestamp", "AccessType", "Operation", "UserName", "UserId"),
            3912,
        ),
    ),
    "operations_monitor": (
        _rest("Apps", "monitor_apps_REST_app", "app/full", ("id", "name", "publishTime", "stream.name"), 24),
        _rest(
            "Tasks",
            "monitor_apps_REST_task",
            "reloadtask/full",
            ("id", "name", "enabled", "app.id", "operational.lastExecutionResult.status"),
            11,
        ),
        _rest("Users", "monitor_apps_REST_user", "user/full", _USER_FIELDS, 58),
        _rest(
            "AppObjects",
            "monitor_apps_REST_appobject",
            "app/object/full",
            ("id", "objectType", "app.id", "published"),
            1733,
        ),
        Block(
            "file",
            "SchedulerLog",
            "lib://ServerLogFolder/Scheduler/Trace/*_System_Scheduler*.txt",
            ("Timestamp", "Level", "Message", "TaskName", "ExecutionId"),
            48210,
        ),
    ),
    "sales": (
        Block(
            "file",
            "Sales",
            "lib://DataFiles/sales.qvd",
            ("OrderId", "OrderDate", "CustomerId", "ProductId", "Quantity", "NetAmount", "Region"),
            48213,
        ),
        Block(
            "file",
            "Customers",
            "lib://DataFiles/customers.qvd",
            ("CustomerId", "CustomerName", "Segment"),
            3120,
        ),
    ),
    "finance": (
        Block("sql", "GeneralLedger", "Finance_SQL", ("AccountId", "Period", "Amount", "CostCenter"), 182311),
        Block("sql", "Accounts", "Finance_SQL", ("AccountId", "AccountName", "AccountType"), 644),
    ),
    "hr": (
        Block(
            "file",
            "Headcount",
            "lib://DataFiles/hr_headcount.xlsx",
            ("EmployeeId", "Department", "FTE"),
            1210,
        ),
    ),
    "warehouse": (
        Block("sql", "Stock", "WMS_ODBC", ("Sku", "Warehouse", "OnHand", "Reserved"), 22840),
        Block("sql", "Locations", "WMS_ODBC", ("Warehouse", "City"), 6),
    ),
    "churn": (
        Block("sql", "Customers", "Churn_DB", ("CustomerId", "Segment", "SignupDate"), 3120),
        Block(
            "file",
            "WebSessions",
            "lib://DataFiles/web_sessions.qvd",
            ("SessionId", "CustomerId", "SessionStart", "PageViews"),
            0,
        ),
    ),
    "generic": (
        Block("sql", "Facts", "DWH_SQL", ("Key", "Date", "Measure", "Dimension1", "Dimension2"), 91244),
        Block("file", "Dims", "lib://DataFiles/dimensions.qvd", ("Key", "Name", "Group"), 812),
    ),
}


class _Out:
    """Collects script-log lines; ``t`` is the current (UTC ms) time, advanced by the caller."""

    def __init__(self, t: int, modern: bool = False) -> None:
        self.t = t
        self.lines: list[str] = []
        self.stamp = fmt_net if modern else fmt_script

    def msg(self, text: str) -> None:
        """An engine message line (four spaces instead of a line number)."""
        self.lines.append(f"{self.stamp(self.t)}      {text}")

    def stmt(self, no: int, text: str) -> None:
        """A statement line with its 4-digit script line number."""
        self.lines.append(f"{self.stamp(self.t)} {no:04d} {text}")


def render(
    rng: random.Random, start_ms: int, script: str, executed_by: str, pid: int, failure: Failure | None = None,
    *, modern: bool = False,
) -> Rendered:
    """Lines of one script log starting at ``start_ms``: classic form (naive local, whole seconds) or
    ``modern`` (local with milliseconds and the UTC offset)."""
    out = _Out(start_ms, modern)
    out.msg("Execution started.")
    for key, value in _HEADER:
        out.msg(f"{key.ljust(30)}{value}")
    out.msg(f"{'Reload Executed By'.ljust(30)}{executed_by}")
    out.msg(f"{'Process Executing'.ljust(30)}Qlik Sense Server")
    out.msg(f"{'Process ID'.ljust(30)}{pid}")
    no = 2
    for line in _PROLOGUE:
        out.stmt(no, line)
        no += 1
    no += 1
    out.stmt(no, "LET vReloadStart = Timestamp(Now(1),")
    out.stmt(no, "'YYYY-MM-DD hh:mm:ss')")  # a multi-line statement repeats its number (formats.md §6.2)
    no += 2
    out.stmt(no, f"TRACE Reload of {script.replace('_', ' ')} started")
    out.stmt(no, f"Reload of {script.replace('_', ' ')} started")
    result = Rendered(out.lines, start_ms)
    for i, block in enumerate(SCRIPTS[script]):
        no += rng.randint(2, 4)
        out.t += rng.randint(50, 900)
        if block.kind in ("rest", "sql"):
            out.stmt(no, f"LIB CONNECT TO '{block.source}'")
            result.connections.append(block.source)
            no += 2
        out.stmt(no, f"[{block.table}]:")
        no += 1
        if block.kind == "rest":
            out.stmt(no, "SQL SELECT")
            for j, name in enumerate(block.fields):
                no += 1
                out.stmt(no, f'\t"{name}"' + ("," if j < len(block.fields) - 1 else ""))
            out.stmt(no + 1, 'FROM JSON (wrap on) "root" PK "__KEY_root"')
            out.stmt(no + 2, f'WITH CONNECTION (URL "{block.url}")')
            no += 2
            out.t += rng.randint(400, 3500)
        elif block.kind == "sql":
            out.stmt(no, "LOAD *;")
            out.stmt(no + 1, f"SQL SELECT {', '.join(block.fields)}")
            out.stmt(no + 2, f"FROM dbo.{block.table}")
            no += 2
            out.t += rng.randint(300, 2000)
        else:
            out.stmt(no, "LOAD " + ", ".join(block.fields))
            out.stmt(no + 1, f"FROM [{block.source}]")
            out.stmt(
                no + 2,
                "(qvd)"
                if block.source.endswith(".qvd")
                else "(txt, utf8, embedded labels, delimiter is '\\t', no quotes)",
            )
            no += 2
        if failure is not None and failure.block == i:
            out.t += rng.randint(200, 1500)
            for err in failure.errors:
                out.msg(f"Error: {err}")
            result.errors.extend(failure.errors)
            # A lib:// path names its folder connection (lib://DataFiles/sales.qvd → DataFiles).
            result.failed_connection = block.source if block.kind in ("rest", "sql") else _lib_name(block.source)
            out.msg("Execution Failed")
            out.msg("Execution finished.")
            result.end_ms = out.t
            return result
        out.t += block.rows // 40 + rng.randint(100, 900)
        out.msg(f"\t{len(block.fields)} fields found: {', '.join(block.fields)}, ")
        out.msg(f"{block.rows} lines fetched")
    out.t += rng.randint(300, 1500)
    out.msg("Creating search index")
    out.t += rng.randint(200, 1200)
    out.msg("Search index creation completed successfully")
    out.msg("Execution finished.")
    result.end_ms = out.t
    return result
