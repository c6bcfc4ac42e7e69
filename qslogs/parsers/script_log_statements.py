"""Reading the body of a script log: header block, connections, fetched tables, the running statement.

The log shows each statement's physical lines with their script line numbers but without the closing
``;``, so statement boundaries are inferred from keywords (formats.md §6.2). The rules here are
heuristics kept as named patterns, easy to adjust when a real log proves them wrong. Whole-column work
(fetched tables) is vectorised; Python only touches the header, the connect lines and the few lines
before the root-cause error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

#: Header keys of formats.md §6.1, longest first so ``MDAC Full Install Version`` beats ``MDAC Version``.
HEADER_KEYS: tuple[str, ...] = tuple(sorted((
    "Qlik Sense Server Version", "CPU Target", "Operating System", "Wow64 mode", "Language", "Country",
    "MDAC Version", "MDAC Full Install Version", "PreferredCompression", "EnableParallelReload",
    "ParallelizeQvdLoads", "EnableFlushLog", "UserLogfileCharset", "OdbcLoginTimeout",
    "OdbcConnectionTimeout", "LongestPossibleLine", "ScriptWantsDbWrite", "ScriptWantsExe",
    "LogFile CodePage Used:", "UseMemoryFillPattern", "ScriptMode", "SequentialThreadCount",
    "NumberOfCores (effective)", "ReloadCodebase", "Reload Executed By", "Process Executing", "Process ID",
), key=len, reverse=True))
_UNKNOWN_HEADER = re.compile(r"^(\S(?:.*?\S)?)\s{2,}(\S.*)$")
#: A known key at the start of a header line, followed by a space or the end (longest key first).
_KNOWN_HEADER = re.compile("^(?:" + "|".join(map(re.escape, HEADER_KEYS)) + ")(?= |$)")

# Table prefixes that may stand before LOAD/SELECT, on the same line or on lines of their own.
_PREFIX_WORDS = (
    r"MAPPING|NOCONCATENATE|CONCATENATE|JOIN|KEEP|LEFT|RIGHT|INNER|OUTER|CROSSTABLE|GENERIC|HIERARCHY"
    r"|HIERARCHYBELONGSTO|INTERVALMATCH|FIRST|SAMPLE|BUFFER|BUNDLE|INFO|IMAGE_SIZE|ADD|ONLY|REPLACE|MERGE"
    r"|SEMANTIC|DISTINCT|WHEN|UNLESS"
)
_LABEL = r"""(?:\[(?P<b>[^\]]+)\]|"(?P<q>[^"]+)"|(?P<u>[^\s:\[\]"'=(),;]+))"""
#: A table label: ``Users:`` / ``[My Users]:`` alone on its line or before a prefix or LOAD/SELECT/SQL.
LABEL_PATTERN = r"(?i)^\s*" + _LABEL + r"\s*:\s*(?:$|(?:LOAD|SQL|SELECT|" + _PREFIX_WORDS + r")\b)"
#: The target of ``Concatenate (T)``, ``Left Join ([T])``…, used when there is no label.
TARGET_PATTERN = (
    r"(?i)^\s*(?:(?:LEFT|RIGHT|INNER|OUTER)\s+)?(?:CONCATENATE|JOIN|KEEP)\s*\(\s*" + _LABEL + r"\s*\)"
)
#: A line that starts a LOAD/SELECT/SQL statement, after any label and prefixes.
LOAD_PATTERN = (
    r"(?i)^\s*(?:(?:\[[^\]]*\]|\"[^\"]*\"|[^\s:\[\]\"'=(),;]+)\s*:\s*)?"
    r"(?:(?:" + _PREFIX_WORDS + r")\s*(?:\([^)]*\)\s*|[0-9.]+\s+)?)*(?:LOAD|SELECT|SQL)\b"
)
FETCHED_PATTERN = (
    r"(?i)^\s*(?:(?P<n>[0-9][0-9,.\x{A0}\x{202F} ]*?)\s+lines\s+fetched"
    r"|lines\s+fetched\s*:?\s*(?P<m>[0-9][0-9,.\x{A0}\x{202F} ]*?))\s*$"
)
FIELDS_PATTERN = r"(?i)^\s*(?P<f>[0-9]+)\s+fields?\s+found\b"
#: ``LIB CONNECT TO 'x'``, ``ODBC CONNECT32 TO [..]``, masked ``*** CONNECT TO ***``; group 1 is the rest.
CONNECT_PATTERN = r"(?i)^\s*(?:\*{3}\s*)?(?:(?:LIB|ODBC|OLEDB|CUSTOM|SAP)\s+)?CONNECT(?:32|64)?\s+TO\b(.*)$"
_CONNECT_NAME = re.compile(r"""^\s*(?:'([^']*)'|"([^"]*)"|\[([^\]]*)\]|([^\s;'"\[*][^\s;]*))""")

# Statement starts, for finding where the running statement began (Python ``re``).
_MAIN = re.compile(
    r"(?i)^\s*(?:(?:\[[^\]]*\]|\"[^\"]*\"|[^\s:\[\]\"'=(),;]+)\s*:\s*)?(?:(?:" + _PREFIX_WORDS
    + r")\s*(?:\([^)]*\)\s*|[0-9.]+\s+)?)*(?P<kw>LOAD|SELECT|SQL)\b"
    r"|^\s*(?P<other>SET\s+\S+\s*=|LET\s+\S+\s*=|(?:(?:LIB|ODBC|OLEDB|CUSTOM)\s+)?CONNECT(?:32|64)?\s+TO\b"
    r"|DISCONNECT\b|STORE\s.*\bINTO\b|DROP\s+(?:TABLES?|FIELDS?)\b|RENAME\s+(?:TABLES?|FIELDS?)\b"
    r"|TRACE\b|IF\b.*\bTHEN\b|ELSEIF\b|ELSE\s*$|END\s*(?:IF|SUB|SWITCH)\b|FOR\s+(?:EACH\s+)?\S+\s*(?:=|IN\b)"
    r"|NEXT\b|DO\b|LOOP\b|EXIT\s+(?:SCRIPT|DO|FOR|SUB)\b|CALL\s+\S|SUB\s+\S|SWITCH\s|CASE\s|DEFAULT\s*$"
    r"|(?:UN)?QUALIFY\s|BINARY\s|DIRECTORY\b|EXECUTE\s|SLEEP\s|SECTION\s|(?:UN)?TAG\s|COMMENT\s|ALIAS\s"
    r"|(?:UN)?MAP\s|SEARCH\s|NULLAS(?:VALUE|NULL)\s|DECLARE\b|DERIVE\b|AUTONUMBER\s|FLUSHLOG\b)"
)
#: A line holding only a label or only table prefixes (``[Months]:``, ``MAPPING``, ``Left Join (T)``).
_PREFIX_LINE = re.compile(
    r"(?i)^\s*(?:" + _LABEL + r"\s*:|(?:(?:" + _PREFIX_WORDS + r")\s*(?:\([^)]*\)\s*|[0-9.]+\s+)?)+)\s*$"
)
#: Lines before the root cause that are searched for its statement (a huge INLINE is cut off).
MAX_STATEMENT_LINES = 5000


#: A line holding a ``lib://<connection>/…`` path (FROM, INTO, STORE, BINARY, DIRECTORY): the cheap polars
#: filter; :data:`_LIB` then takes the connection name (up to ``/``, ``\``, ``]``, a quote or ``;``).
LIB_PATTERN = r"(?i)\blib://[^/]"
_LIB = re.compile(r"""(?i)\blib://([^/\\\]'"`;\r\n]+)""")


@dataclass(frozen=True)
class Connect:
    """One use of a data connection: where, the name (null when masked or unreadable), whether it was
    masked, and whether it is a ``lib://name/…`` path (``lib``) rather than a ``CONNECT TO`` statement."""

    line_no: int
    name: str | None
    masked: bool
    lib: bool = False


def lib_connections(text: str) -> list[str]:
    """The folder connections named by ``lib://<name>/…`` paths in ``text``, in order, without repeats."""
    return list(dict.fromkeys(name for m in _LIB.finditer(text) if (name := m.group(1).strip())))


def parse_header(texts: list[str]) -> dict[str, str]:
    """Key/value pairs of the header block: known keys by prefix, unknown ones split at 2+ spaces."""
    header: dict[str, str] = {}
    for text in texts:
        line = text.strip()
        if line == "Execution started.":
            continue
        known = _KNOWN_HEADER.match(line)
        if known is not None:
            header[known.group(0)] = line[known.end():].strip()
            continue
        match = _UNKNOWN_HEADER.match(line)
        if match is None:
            break
        header[match.group(1)] = match.group(2).strip()
    return header


def parse_executed_by(raw: str | None) -> tuple[str | None, str | None]:
    """``UserDirectory=X; UserId=y`` (or ``X\\y``, seen in a real log) → (directory, user id)."""
    if not raw:
        return None, None
    match = re.search(r"(?i)UserDirectory\s*=\s*([^;]*);\s*UserId\s*=\s*(.*)$", raw)
    if match:
        return match.group(1).strip() or None, match.group(2).strip() or None
    if "\\" in raw:
        directory, _, user = raw.partition("\\")
        return directory.strip() or None, user.strip() or None
    return None, raw.strip() or None


def connects(lines: pl.DataFrame) -> dict[int, list[Connect]]:
    """Every connect statement of each file (``lines`` has a ``file`` column), in order; masked ones unnamed."""
    rows = lines.filter(~pl.col("continuation")).select(
        "file", "line_no", rest=pl.col("text").str.extract(CONNECT_PATTERN, 1)
    ).filter(pl.col("rest").is_not_null())
    found: dict[int, list[Connect]] = {}
    for file, line_no, rest in rows.iter_rows():
        match = _CONNECT_NAME.match(rest)
        name = next((g.strip() for g in match.groups() if g is not None), None) if match else None
        found.setdefault(file, []).append(Connect(line_no, name or None, not name and "***" in rest))
    libs = lines.filter(
        pl.col("script_line").is_not_null() & ~pl.col("continuation") & pl.col("text").str.contains(LIB_PATTERN)
    ).select("file", "line_no", "text")
    for file, line_no, text in libs.iter_rows():
        found.setdefault(file, []).extend(Connect(line_no, name, False, lib=True) for name in lib_connections(text))
    for uses in found.values():
        uses.sort(key=lambda c: c.line_no)
    return found


def tables_frame(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per ``N lines fetched`` message, tied to the label and LOAD/SELECT statement before it.

    ``lines`` has a ``file`` column; nothing is carried from one file into the next.
    """
    numbered = pl.col("script_line").is_not_null() & ~pl.col("continuation")
    message = pl.col("script_line").is_null() & ~pl.col("continuation")
    label = lines.get_column("text").str.extract_groups(LABEL_PATTERN)
    target = lines.get_column("text").str.extract_groups(TARGET_PATTERN)
    fetched = lines.get_column("text").str.extract_groups(FETCHED_PATTERN)
    return (
        lines.with_columns(
            label=pl.coalesce(label.struct.field("b"), label.struct.field("q"), label.struct.field("u"),
                              target.struct.field("b"), target.struct.field("q"), target.struct.field("u")),
            n=pl.coalesce(fetched.struct.field("n"), fetched.struct.field("m")),
            fields=pl.col("text").str.extract(FIELDS_PATTERN, 1).cast(pl.Int64, strict=False),
            is_load=pl.col("text").str.contains(LOAD_PATTERN),
        )
        .with_columns(
            label=pl.when(numbered).then(pl.col("label")),
            fetched=message & pl.col("n").is_not_null(),
            fields=pl.when(message).then(pl.col("fields")),
            statement=pl.when(numbered & pl.col("is_load")).then(pl.col("text")),
            stmt_line=pl.when(numbered & pl.col("is_load")).then(pl.col("script_line")),
        )
        # A window ends at each lines-fetched message and at the end of each file.
        .with_columns(win=(pl.col("fetched").shift(1).fill_null(False)
                           | (pl.col("file") != pl.col("file").shift(1)).fill_null(True)).cast(pl.Int64).cum_sum())
        .with_columns(_fill_within("win", c) for c in ("label", "fields", "statement", "stmt_line"))
        .filter(pl.col("fetched"))
        .select(
            "file",
            table=pl.col("label").str.strip_chars(),
            statement=pl.col("statement").str.strip_chars(),
            script_line=pl.col("stmt_line"),
            line_no=pl.col("line_no"),
            fields_found=pl.col("fields"),
            lines_fetched=pl.col("n").str.replace_all(r"[^0-9]", "").cast(pl.Int64, strict=False),
        )
    )


def _fill_within(window: str, column: str) -> pl.Expr:
    """Forward-fill ``column`` without crossing into the next ``window`` (windows are contiguous runs).

    Same result as ``forward_fill().over(window)``, without a group-by over tens of thousands of windows.
    """
    source = pl.when(pl.col(column).is_not_null()).then(pl.col(window)).forward_fill()
    return pl.when(source == pl.col(window)).then(pl.col(column).forward_fill()).alias(column)


def running_statement(lines: pl.DataFrame, before_line_no: int) -> tuple[int | None, str | None]:
    """The last numbered line before ``before_line_no`` and the text of the statement it belongs to."""
    tail = lines.filter(pl.col("line_no") < before_line_no).tail(MAX_STATEMENT_LINES)
    numbers = tail.get_column("script_line").to_list()
    texts = tail.get_column("text").to_list()
    end = len(numbers) - 1
    while end >= 0 and numbers[end] is None:
        end -= 1
    if end < 0:
        return None, None
    first = end
    while first > 0 and numbers[first - 1] is not None:
        first -= 1
    start = _statement_start(texts, numbers, first, end)
    statement = "\n".join(t.rstrip() for t in texts[start:end + 1])
    return int(numbers[end]), statement


def _statement_start(texts: list[str], numbers: list[int], first: int, end: int) -> int:
    """Index of the line starting the last statement in ``texts[first:end+1]`` (prefixes included).

    The last line that starts a known statement wins. A one-line statement (SET, LET, DROP, …) only owns
    the lines after it that repeat its number, so lines after those are an unrecognised statement of their
    own (``Lod * From …``). A SQL SELECT takes a preceding LOAD with it, and a LOAD its label and prefixes.
    """
    start = next((i for i in range(end, first - 1, -1) if _MAIN.match(texts[i])), None)
    if start is None:
        return end
    match = _MAIN.match(texts[start])
    keyword = (match.group("kw") or "").upper() if match else ""
    if not keyword:
        own = start
        while own < end and numbers[own + 1] == numbers[start]:
            own += 1
        return own + 1 if own < end else start
    if keyword in ("SQL", "SELECT"):
        previous = next((i for i in range(start - 1, first - 1, -1) if _MAIN.match(texts[i])), -1)
        prev_match = _MAIN.match(texts[previous]) if previous >= 0 else None
        if prev_match and (prev_match.group("kw") or "").upper() == "LOAD":
            start = previous
    while start > first and _PREFIX_LINE.match(texts[start - 1]):
        start -= 1
    return start
