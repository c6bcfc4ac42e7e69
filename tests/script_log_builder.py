"""Build realistic Qlik Sense reload script logs as bytes, for tests of the parser and of the analyses.

No public failed script log exists (fixtures/SOURCES.md), so failure cases are written here, shaped like
the real files in ``../shared/fixtures/real/script-logs`` and formats.md §6: UTF-8 BOM, CRLF, the header
block with keys padded to 30 columns, numbered statement lines (one per physical script line, without the
closing ``;``), engine messages with four spaces instead of the number, and at the end ``Error:`` lines,
``Execution Failed`` and ``Execution finished.``.

Example::

    log = (ScriptLogBuilder()
           .connect("monitor_apps_REST_license_user")
           .rest_select("license_user", ["userId", "userDirectory"])
           .error("QVX_UNEXPECTED_END_OF_DATA: HTTP protocol error 401 (Unauthorized): ...")
           .build())
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Self

SCHEDULER = "UserDirectory=INTERNAL; UserId=sa_scheduler"
#: Header keys and values as a Qlik Sense (Engine 12.x) node writes them, in the real order.
HEADER: tuple[tuple[str, str], ...] = (
    ("Qlik Sense Server Version", "12.1581.3+Build:0.local.Component.Version"),
    ("CPU Target", "x64"),
    ("Operating System", "Windows Server 2019 Datacenter  (64 bit edition)"),
    ("Wow64 mode", "Not using Wow64"),
    ("Language", "0409 English (United States) English"),
    ("Country", "1 United States United States"),
    ("MDAC Version", "6.3.9600.16384"),
    ("MDAC Full Install Version", "6.3.9600.16384"),
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
    ("SequentialThreadCount", "13"),
    ("NumberOfCores (effective)", "8"),
    ("ReloadCodebase", "Classic"),
)
_SET_LINES = (
    "SET ThousandSep=','", "SET DecimalSep='.'", "SET MoneyThousandSep=','", "SET MoneyDecimalSep='.'",
    "SET MoneyFormat='$#,##0.00;-$#,##0.00'", "SET TimeFormat='h:mm:ss TT'", "SET DateFormat='M/D/YYYY'",
    "SET TimestampFormat='M/D/YYYY h:mm:ss[.fff] TT'",
)


class ScriptLogBuilder:
    """Accumulates the lines of one script log; every call returns the builder for chaining."""

    def __init__(
        self,
        start: datetime = datetime(2024, 3, 4, 2, 0, 5),
        executed_by: str = SCHEDULER,
        process_id: int = 7312,
        with_set_lines: bool = True,
        utc_offset_minutes: int | None = None,
    ) -> None:
        """``utc_offset_minutes`` writes the modern form (``20200227T121011.881+0100``, releases since late
        2019): local time with milliseconds and that offset; ``None`` the classic ``2019-10-23 10:08:50``."""
        self.offset = utc_offset_minutes
        self.time = start
        self.script_line = 1
        self.lines: list[str] = []
        self._message("Execution started.")
        for key, value in (*HEADER, ("Reload Executed By", executed_by), ("Process Executing",
                                                                           "Qlik Sense Server"),
                           ("Process ID", str(process_id))):
            self._message(f"{key.ljust(30)}{value}")
        if with_set_lines:
            self.statements(*_SET_LINES)

    # -- low level -------------------------------------------------------------------------------------
    def _stamp(self) -> str:
        if self.offset is None:
            return self.time.strftime("%Y-%m-%d %H:%M:%S")
        sign = "-" if self.offset < 0 else "+"
        hh, mm = divmod(abs(self.offset), 60)
        return self.time.strftime("%Y%m%dT%H%M%S.") + f"{self.time.microsecond // 1000:03d}{sign}{hh:02d}{mm:02d}"

    def _message(self, text: str) -> None:
        self.lines.append(f"{self._stamp()}      {text}")

    def tick(self, seconds: float = 1) -> Self:
        """Let time pass (a slow query, a long load)."""
        self.time += timedelta(seconds=seconds)
        return self

    def statement(self, *physical_lines: str) -> Self:
        """One statement over one or more script lines, each logged with its own number."""
        for text in physical_lines:
            self.lines.append(f"{self._stamp()} {self.script_line:04d} {text}")
            self.script_line += 1
        self.script_line += 1  # the blank line most scripts keep between statements
        return self

    def statements(self, *one_line_statements: str) -> Self:
        """Several one-line statements on consecutive script lines."""
        for text in one_line_statements:
            self.lines.append(f"{self._stamp()} {self.script_line:04d} {text}")
            self.script_line += 1
        return self

    def trace(self, text: str) -> Self:
        """``TRACE text``: the statement line, then its output on a line with the same number."""
        self.lines.append(f"{self._stamp()} {self.script_line:04d} TRACE {text}")
        self.lines.append(f"{self._stamp()} {self.script_line:04d} {text}")
        self.script_line += 1
        return self

    def message(self, text: str) -> Self:
        """An engine message (four spaces instead of a script line number)."""
        self._message(text)
        return self

    def raw(self, text: str) -> Self:
        """A physical line written as is (no prefix): continuations, damage."""
        self.lines.append(text)
        return self

    # -- realistic building blocks ------------------------------------------------------------------------
    def connect(self, name: str, quote: str = "'") -> Self:
        """``LIB CONNECT TO 'name'`` (``quote`` ``"`` or ``[``); the engine logs nothing else for it."""
        closing = "]" if quote == "[" else quote
        return self.statement(f"LIB CONNECT TO {quote}{name}{closing}")

    def fetched(self, fields: list[str], rows: int, seconds: float = 1) -> Self:
        """The engine's ``N fields found`` and ``N lines fetched`` messages after a load."""
        self.tick(seconds)
        self._message("\t" + f"{len(fields)} fields found: " + "".join(f"{f}, " for f in fields))
        self._message(f"{rows} lines fetched")
        return self

    def load_qvd(self, label: str, fields: list[str], path: str, rows: int | None) -> Self:
        """``Label:`` + ``LOAD f1, f2 FROM [lib://…] (qvd)``; ``rows=None`` stops before the fetch lines."""
        body = [f"{label}:", "LOAD"] + [f"    {f}," for f in fields[:-1]] + [f"    {fields[-1]}"]
        self.statement(*body, f"FROM [{path}]", "(qvd)")
        return self if rows is None else self.fetched(fields, rows)

    def sql_select(self, label: str, fields: list[str], table: str, rows: int | None) -> Self:
        """A preceding LOAD over ``SQL SELECT … FROM table``."""
        names = ", ".join(fields)
        self.statement(f"{label}:", f"LOAD {names};", f"SQL SELECT {names}", f"FROM {table}")
        return self if rows is None else self.fetched(fields, rows, seconds=3)

    def rest_select(self, label: str, fields: list[str], rows: int | None = None) -> Self:
        """The monitoring apps' REST pattern: ``RestConnectorMasterTable: SQL SELECT … FROM JSON``."""
        self.statement(
            f"{label}:", "SQL SELECT", *[f'    "{f}",' for f in fields[:-1]], f'    "{fields[-1]}"',
            'FROM JSON (wrap on) "root" PK "__KEY_root"',
        )
        return self if rows is None else self.fetched(fields, rows, seconds=2)

    def error(self, *texts: str) -> Self:
        """The failure tail: ``Error: <text>`` lines, then ``Execution Failed``.

        A LF inside a text is written as is, like a driver message with a raw line break, so the next
        physical line has no prefix.
        """
        self.tick(1)
        for text in texts:
            self._message(f"Error: {text}")
        self._message("Execution Failed")
        return self

    def finish(self, search_index: bool = True) -> Self:
        """The success tail of a scheduled reload (search index, then ``Execution finished.``)."""
        if search_index:
            self._message("Creating search index")
            self._message("Search index creation completed successfully")
        return self

    def build(self, finished: bool = True, bom: bool = True, newline: str = "\r\n") -> bytes:
        """The file's bytes; ``finished=False`` cuts the log before ``Execution finished.``."""
        lines = list(self.lines)
        if finished:
            lines.append(f"{self._stamp()}      Execution finished.")
        text = newline.join(lines) + newline
        return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


# -- the License Monitor failing on its REST connections (formats.md §6.4), reusable by analysis tests -----

MONITOR_401 = (
    "QVX_UNEXPECTED_END_OF_DATA: HTTP protocol error 401 (Unauthorized): The server refused the request."
)


def license_monitor_start() -> ScriptLogBuilder:
    """The License Monitor's first steps: a QVD of earlier license log rows, loaded fine."""
    return ScriptLogBuilder().load_qvd(
        "LicenseLog", ["Timestamp", "UserId", "AccessType"],
        "lib://ServerLogFolder/Repository/Trace/License_Repository.qvd", 1480,
    )


def license_monitor_401() -> ScriptLogBuilder:
    """The License Monitor refused with HTTP 401 on ``monitor_apps_REST_license_user`` (a failed reload)."""
    return (
        license_monitor_start()
        .connect("monitor_apps_REST_license_user")
        .rest_select("RestConnectorMasterTable", ["id", "userDirectory", "userId", "__FK_user"])
        .error(MONITOR_401)
    )


def license_monitor_401_multiline() -> ScriptLogBuilder:
    """Two REST connections, the second refused; the 401 message continues on an unprefixed line."""
    return (
        license_monitor_start()
        .connect("monitor_apps_REST_license_access")
        .rest_select("RestConnectorMasterTable", ["id", "createdDate", "modifiedDate"], rows=57)
        .connect("monitor_apps_REST_task")
        .rest_select("RestConnectorMasterTable", ["id", "name", "taskType"])
        .error("QVX_UNEXPECTED_END_OF_DATA: HTTP protocol error 401 (Unauthorized):\n"
               "Requested resource requires authentication.")
    )
