"""Reload error classes: one ordered table of (regex → class → plain-language hint).

Why a table: the same rules must classify a single root-cause line (:func:`classify_error`, used by the
script-log parser) and whole columns of messages (:func:`error_class_expr`, used by the analyses), and
adding a new error text must be a one-row change. The **first** matching row wins, so specific rows come
before general ones (``SQL Server does not exist or access denied`` is a network error, not a credential
error, so its ``connector`` row sits above the ``auth`` rows).

Patterns are written in the common subset of Python ``re`` and Rust ``regex`` (polars): a leading
``(?i)``, no look-around, no back-references. Texts each class is meant to catch (all are exercised in
``tests/test_error_classes.py``), for example:

- ``auth``: ``QVX_UNEXPECTED_END_OF_DATA: HTTP protocol error 401 (Unauthorized): The server refused the
  request.``; ``The remote server returned an error: (401) Unauthorized.``; ``ErrorSource: Microsoft OLE DB
  Provider for SQL Server, ErrorMsg: Login failed for user 'CORP\\svc_qlik'.``; ``ORA-01017: invalid
  username/password; logon denied``.
- ``connector``: ``Connector reply error: ***``; ``Connector connect error: …``; ``Connection
  'Sales_DB' not found``; ``SQL##f - SqlState: 08001, ErrorCode: 53, ErrorMsg: … Named Pipes Provider …``;
  ``QVX_UNEXPECTED_END_OF_DATA: The operation has timed out.``; ``A task was canceled.`` (REST timeout).
- ``script``: ``Field 'SessionId' not found``; ``Table 'Users' not found``; ``Unknown statement: Lod``;
  ``Unexpected token: ')', expected one of: …``; ``Field names must be unique within table``.
- ``file``: ``Cannot open file: 'lib://DataFiles/Sales.qvd'``; ``The system cannot find the path
  specified.``; ``The process cannot access the file because it is being used by another process.``
- ``resource``: ``Out of memory``; ``OUT OF VIRTUAL AND/OR LOGICAL MEMORY, allocating 512 MB``; ``There is
  not enough space on the disk.``
- ``aborted``: ``Execution aborted by user``; ``Reload was cancelled by the task``.
- ``initiation`` (scheduler lines of a run that never produced a script log): ``Failed to start session``;
  ``Could not reserve an executor for task``; ``Max retries reached``; ``Engine unreachable``.
- ``unknown``: anything else; the raw text is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import polars as pl

#: Connections of the monitoring apps (formats.md §6.4); a 401 there has its own, well-known cause.
MONITOR_APPS_PREFIX = "monitor_apps_REST_"

#: Every class name the table can produce, in the order a report should list them.
CLASS_NAMES: tuple[str, ...] = (
    "auth", "connector", "script", "file", "resource", "aborted", "initiation", "unknown",
)

#: Default hint of each class (a row may carry a more specific one).
CLASS_HINTS: dict[str, str] = {
    "auth": (
        "The source refused the credentials of the data connection: they are wrong or expired, or the "
        "account lacks rights on the source. Update the user name/password of the connection in the QMC "
        "(Data connections) or grant the account access."
    ),
    "connector": (
        "The connector could not get data from the source: the source is unreachable, timed out or rejected "
        "the request, or the data connection is missing. Test the data connection and the source system."
    ),
    "script": (
        "The load script itself is wrong for the current data: a field, table or statement it refers to does "
        "not exist. Fix the script at the line shown, or the source that no longer delivers that field."
    ),
    "file": (
        "A file the script reads could not be opened: the path or lib:// folder connection is wrong, the "
        "file was moved or deleted, or it is locked by another process."
    ),
    "resource": (
        "The server ran out of memory or disk space during the reload. Check free RAM and disk on the "
        "engine node and the size of the data being loaded."
    ),
    "aborted": "The reload was stopped by a user or by the task (abort, timeout of the task, service stop).",
    "initiation": (
        "The task failed before the script ran (no script log): the scheduler could not start an engine "
        "session or reserve an executor. Check the Scheduler and Engine services and node availability."
    ),
    "unknown": "The error text is not one qslogs recognises; read the raw text shown.",
}

#: The hint for an ``auth`` error on a monitoring-app REST connection.
MONITOR_APPS_AUTH_HINT = (
    "The stored credentials of the monitoring apps' REST connections (monitor_apps_REST_*) no longer match "
    "the service account, typically after its password was changed. In the QMC, Data connections, update "
    "the user name and password of every monitor_apps_REST_* connection, then reload the app."
)


@dataclass(frozen=True)
class ErrorRule:
    """One row of the table: a case-insensitive regex, the class it implies, and an optional own hint."""

    pattern: str
    name: str
    hint: str = ""

    @property
    def effective_hint(self) -> str:
        """The row's own hint, else its class hint."""
        return self.hint or CLASS_HINTS[self.name]


@dataclass(frozen=True)
class ErrorClass:
    """The result of classifying one error text."""

    name: str
    hint: str
    pattern: str | None
    text: str


_NOT_FOUND = r"\s+(?:was\s+)?not\s+found"
_QUOTED = r"""(?:'[^']*'|"[^"]*"|\[[^\]]*\]|<[^>]*>)"""

#: The ordered table. First match wins; extend by inserting a row where it belongs.
ERROR_RULES: tuple[ErrorRule, ...] = (
    # Engine messages with a quoted name: matched first, so a name cannot steer the class.
    ErrorRule(r"(?i)\b(?:field|table)\s+" + _QUOTED + _NOT_FOUND + r"|unknown\s+statement", "script"),
    # Missing data connection (decided: a connector problem, not a script one).
    ErrorRule(r"(?i)\bconnection\s+" + _QUOTED + _NOT_FOUND, "connector",
              "The data connection named in LIB CONNECT TO / lib:// does not exist (renamed or deleted) or "
              "the user running the reload has no read access to it. Check Data connections in the QMC."),
    # Network errors phrased like credential errors.
    ErrorRule(r"(?i)does\s+not\s+exist\s+or\s+access\s+denied", "connector",
              "The database server could not be reached (wrong server name, port, firewall or service down); "
              "the driver words this like a login problem, but it is a network error."),
    # Credentials.
    ErrorRule(r"(?i)\bHTTP\b[^\n]{0,40}?\b40[13]\b|\(40[13]\)|\b40[13]\s*\(?(?:unauthori[sz]ed|forbidden)"
              r"|status(?:\s*code)?\s*[:=]?\s*40[13]\b", "auth"),
    ErrorRule(r"(?i)unauthori[sz]ed|\bforbidden\b|authentication\s+(?:has\s+)?failed|login\s+failed"
              r"|logon\s+(?:failure|denied)|access\s+(?:is\s+)?denied|bad\s+password"
              r"|invalid\s+(?:user\s*name(?:\s+or\s+|/)password|credentials|password)|ORA-01017"
              r"|password\s+(?:has\s+)?expired|account\s+(?:is\s+)?(?:locked|disabled)", "auth"),
    # Memory and disk.
    ErrorRule(r"(?i)out\s+of\s+(?:virtual\s+and/or\s+logical\s+)?memory|insufficient\s+memory"
              r"|not\s+enough\s+(?:memory|storage|space)|disk\s+(?:is\s+)?full|no\s+space\s+left"
              r"|memory\s+(?:limit|allocation)\s+(?:exceeded|failed)", "resource"),
    # Stopped on purpose.
    ErrorRule(r"(?i)\babort(?:ed|ing)?\b|cancel+ed\s+by\s+(?:the\s+)?(?:user|task|system)"
              r"|(?:reload|execution|script)\s+(?:was\s+)?cancel+ed|user\s+(?:abort|cancel)", "aborted"),
    # Scheduler side, before any script ran.
    ErrorRule(r"(?i)failed\s+to\s+start\s+session|could\s+not\s+reserve\s+an\s+executor|max\s+retries\s+reached"
              r"|engine\s+(?:is\s+)?(?:un|not\s+)reachable|(?:could\s+not|failed\s+to|unable\s+to)\s+connect"
              r"\s+to\s+(?:the\s+)?engine|no\s+(?:available\s+)?(?:slave|worker|reload)\s+nodes?"
              r"|task\s+(?:was\s+)?never\s+started", "initiation"),
    # Files.
    ErrorRule(r"(?i)cannot\s+open\s+file|could\s+not\s+(?:open|find)\s+file|(?:file|path)" + _NOT_FOUND
              + r"|(?:file|path)\s+(?:does\s+not|doesn't)\s+exist|cannot\s+find\s+the\s+(?:path|file)"
              r"|being\s+used\s+by\s+another\s+process|invalid\s+path|bad\s+file\s+format"
              r"|unknown\s+file\s+format|file\s+is\s+corrupt", "file"),
    # The rest of the script errors.
    ErrorRule(r"(?i)\b(?:field|table)\s+not\s+found\b|syntax\s+error|unexpected\s+token"
              r"|garbage\s+after\s+statement|field\s+names\s+must\s+be\s+unique|invalid\s+expression"
              r"|general\s+script\s+error|only\s+works\s+with\s+lib://\s+paths|script\s+line\s+error"
              r"|nested\s+aggregation", "script"),
    # Connectors, drivers and sources.
    ErrorRule(r"(?i)connector\s+(?:reply|connect)\s+error|QVX_[A-Z_]+|SQL##f|SqlState|ErrorSource:|ErrorMsg:"
              r"|\bODBC\b|OLE\s?DB|\bORA-\d{5}|timed?\s?out|a\s+task\s+was\s+cancel+ed"
              r"|(?:could\s+not|unable\s+to|failed\s+to)\s+connect|connection\s+(?:refused|reset|closed|failed)"
              r"|actively\s+refused|network-related|could\s+not\s+be\s+resolved|HTTP\s+protocol\s+error"
              r"|\bSSL\b|\bTLS\b|certificate", "connector"),
)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _hint(name: str, rule_hint: str, connection: str | None) -> str:
    if name == "auth" and connection and connection.lower().startswith(MONITOR_APPS_PREFIX.lower()):
        return MONITOR_APPS_AUTH_HINT
    return rule_hint


def classify_error(
    text: str, connection: str | None = None, rules: tuple[ErrorRule, ...] = ERROR_RULES
) -> ErrorClass:
    """Classify one error text (a root-cause line or a scheduler message) by the first matching rule.

    ``connection`` is the data connection in effect: an ``auth`` error on a ``monitor_apps_REST_*``
    connection gets the service-account-password hint. Unmatched text is class ``unknown``.
    """
    for rule in rules:
        if _compiled(rule.pattern).search(text):
            hint = _hint(rule.name, rule.effective_hint, connection)
            return ErrorClass(rule.name, hint, rule.pattern, text)
    return ErrorClass("unknown", CLASS_HINTS["unknown"], None, text)


def error_class_expr(text: pl.Expr, rules: tuple[ErrorRule, ...] = ERROR_RULES) -> pl.Expr:
    """Vectorised :func:`classify_error`: the class name of each text (null text → null)."""
    chain: Any = pl.when(text.is_null()).then(pl.lit(None, dtype=pl.String))
    for rule in rules:
        chain = chain.when(text.str.contains(rule.pattern)).then(pl.lit(rule.name))
    result: pl.Expr = chain.otherwise(pl.lit("unknown"))
    return result


def error_hint_expr(
    text: pl.Expr, connection: pl.Expr | None = None, rules: tuple[ErrorRule, ...] = ERROR_RULES
) -> pl.Expr:
    """Vectorised hint of each text, with the monitoring-app hint for their REST connections' auth errors."""
    chain: Any = pl.when(text.is_null()).then(pl.lit(None, dtype=pl.String))
    if connection is not None:
        monitor = connection.str.to_lowercase().str.starts_with(MONITOR_APPS_PREFIX.lower()).fill_null(False)
        chain = chain.when(monitor & (error_class_expr(text, rules) == "auth")).then(
            pl.lit(MONITOR_APPS_AUTH_HINT)
        )
    for rule in rules:
        chain = chain.when(text.str.contains(rule.pattern)).then(pl.lit(rule.effective_hint))
    result: pl.Expr = chain.otherwise(pl.lit(CLASS_HINTS["unknown"]))
    return result
