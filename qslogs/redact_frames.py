"""``--redact`` on the bundle itself: names learnt from every source, replaced before any analysis.

Redacting only the results leaked: the activity analysis masks digits to group messages
(``qlikserver1`` became ``qlikserver#``, which no name matches any more), the host in
``lib://ArchivedLogsFolder/<fqdn>/…`` paths of script logs was never learnt, and the report's
Source line printed the input's own path. So :func:`redact_bundle` first learns names from every
source — the structured columns (:meth:`Redactor.learn_frames`), file and folder names, archived-log
folders, UNC paths, URLs, ``DOMAIN\\user`` and e-mail addresses in any text, and the names of the
inputs — and then returns a copy of the frames in which every string (records, file inventory, bad
lines, unreadable files, JSON dumps) is already redacted; the analyses only ever see pseudonyms.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import polars as pl

from qslogs.findings import FileIssue
from qslogs.frames import Frames
from qslogs.redact import Redactor

_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*"
#: Where a host name stands in free text: archived-log folders, UNC paths, URLs.
_TEXT_HOSTS = re.compile(
    rf"lib://[^/\s'\"]*Log[^/\s'\"]*/(?P<lib>{_HOST})/"
    rf"|(?<![\\\w])\\\\(?P<unc>{_HOST})\\"
    rf"|\b(?!lib:)[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/\s'\"]+@)?(?P<url>{_HOST})",
    re.IGNORECASE,
)
#: ``DOMAIN\user`` in free text (not part of a longer path such as ``C:\ProgramData\Qlik\Sense``).
_DOMAIN_USER = re.compile(r"(?<![\w\\/.:$])(?P<dir>[A-Za-z][\w-]{1,30})\\(?P<user>[A-Za-z0-9][\w.$-]{0,63})(?![\w\\])")
_EMAIL = re.compile(r"(?<![\w.+-])(?P<local>[\w.+-]+)@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
#: A folder name that is a host's FQDN (archived logs are filed under ``<fqdn>/``).
_FQDN_FOLDER = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+){2,}")
#: Input names that say nothing about a customer (a folder called Log is not redacted everywhere).
GENERIC_INPUTS = frozenset({"", ".", "..", "log", "logs", "archivedlogs", "archived logs", "bundle", "script",
                            "scripts", "sense", "qlik", "programdata", "repository", "engine", "proxy",
                            "scheduler", "printing", "trace", "audit", "tmp", "temp", "data", "input"})
_NOT_DIRS = frozenset({"internal", "c", "d", "e", "lib", "n", "t", "r"})


def learn_text(redactor: Redactor, text: str) -> None:
    """Names that free text gives away: hosts of archived-log folders, UNC paths and URLs, DOMAIN\\user."""
    if "/" in text or "\\" in text:
        for m in _TEXT_HOSTS.finditer(text):
            redactor.add("host", m["lib"] or m["unc"] or m["url"])
        if "\\" in text:
            for m in _DOMAIN_USER.finditer(text):
                if m["dir"].lower() not in _NOT_DIRS:
                    redactor.add("dir", m["dir"])
                    redactor.add("user", m["user"])
    if "@" in text:
        for m in _EMAIL.finditer(text):
            redactor.add("domain", m["domain"])


def learn_path(redactor: Redactor, path: str) -> None:
    """Host names among the folders of a bundle path (``sense01.corp.example/Repository/…``)."""
    parts = re.split(r"[!/\\]", path)
    for folder in parts[:-1]:
        if _FQDN_FOLDER.fullmatch(folder) and not folder.lower().endswith((".zip", ".log", ".txt")):
            redactor.add("host", folder)


def learn_inputs(redactor: Redactor, sources: list[str]) -> None:
    """The inputs' own names (a zip is often named after the customer), unless generic (``Log``)."""
    for source in sources:
        name = PureWindowsPath(source).name if "\\" in source else PurePosixPath(source).name
        stem = name.rsplit(".", 1)[0] if "." in name else name
        for value in {name, stem}:
            if value.lower() not in GENERIC_INPUTS and len(value) >= 3:
                redactor.add("input", value)


def learn_frames(redactor: Redactor, frames: Frames) -> None:
    """Names from the structured columns of every frame (users of INTERNAL excluded)."""
    host_values = frames.files["host"].drop_nulls().unique().to_list()
    for name in host_values:
        redactor.add("host", name)
    for kind in frames.frames:
        _learn_kind(redactor, frames.lazy(kind), set(frames.columns(kind)))


def _learn_kind(redactor: Redactor, lazy: pl.LazyFrame, cols: set[str]) -> None:
    """Names from one kind's columns; only the distinct values of those columns are read."""

    def distinct(*names: str) -> pl.DataFrame:
        return lazy.select(*names).unique(maintain_order=True).drop_nulls().collect()

    for col in cols & {"Hostname", "ExecutingNodeName", "TargetHost", "host"}:
        for value in distinct(col).to_series().to_list():
            redactor.add("host", value)
    for col in cols & {"ClientIp", "IpAddress", "ClientHostAddress"}:
        for value in distinct(col).to_series().to_list():
            redactor.add("ip", value)
    for dir_col, user_col in (
        ("UserDirectory", "UserId"),
        ("ActiveUserDirectory", "ActiveUserId"),
        ("user_directory", "user_id"),
    ):
        if {dir_col, user_col} <= cols:
            for directory, user in distinct(dir_col, user_col).iter_rows():
                if str(directory).strip().lower() != "internal":
                    redactor.add("dir", directory)
                    redactor.add("user", user)
    for col in cols & {"UserName", "User", "AuthUser", "executed_by"}:
        for value in distinct(col).to_series().to_list():
            if not str(value).upper().startswith("INTERNAL\\"):
                redactor.add("user", value)
    for col in cols & {"ProductVersion", "Version", "EngineVersion", "Exe Version", "server_version"}:
        redactor.safe.update(v.lower() for v in distinct(col).to_series().to_list())
    if "Authenticated User" in cols:
        pairs = distinct("Authenticated User").select(
            pl.col("Authenticated User").str.extract(r"UserDirectory=([^;]+)", 1).str.strip_chars().alias("d"),
            pl.col("Authenticated User").str.extract(r"UserId=([^;]+)", 1).str.strip_chars().alias("u"),
        ).drop_nulls()
        for directory, user in pairs.iter_rows():
            if directory.lower() != "internal":
                redactor.add("dir", directory)
                redactor.add("user", user)


def learn_bundle(redactor: Redactor, frames: Frames) -> None:
    """Teach ``redactor`` every name the bundle holds (see the module docstring)."""
    learn_inputs(redactor, frames.sources)
    learn_frames(redactor, frames)
    for path in frames.files["path"].to_list():
        learn_path(redactor, path)
    for issue in frames.file_issues:
        learn_path(redactor, issue.path)
        learn_text(redactor, issue.reason)
    for value in _strings(frames.meta):
        learn_text(redactor, value)
    for kind in frames.frames:
        lazy = frames.lazy(kind)
        for col, dtype in lazy.collect_schema().items():
            if dtype == pl.String:
                for value in lazy.select(col).unique().drop_nulls().collect().to_series().to_list():
                    learn_text(redactor, value)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def redact_frame(redactor: Redactor, frame: pl.DataFrame) -> pl.DataFrame:
    """Every string column of ``frame`` with each distinct value replaced by its redacted text."""
    changes = []
    for col, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        values = frame.get_column(col).unique().drop_nulls().to_list()
        mapping = {v: r for v in values if (r := redactor.text(v)) != v}
        if mapping:
            changes.append(pl.col(col).replace(list(mapping), list(mapping.values())))
    return frame.with_columns(changes) if changes else frame


def redact_bundle(redactor: Redactor, frames: Frames) -> Frames:
    """Learn every name of ``frames``, then return a copy in which no string holds one (see module docstring)."""
    learn_bundle(redactor, frames)
    return replace(
        frames,
        frames={kind: redact_frame(redactor, frames.lazy(kind).collect()) for kind in frames.frames},
        files=redact_frame(redactor, frames.files),
        bad_lines=redact_frame(redactor, frames.bad_lines),
        file_issues=[FileIssue(redactor.text(i.path), redactor.text(i.reason)) for i in frames.file_issues],
        offsets=redact_frame(redactor, frames.offsets),
        meta=redactor.value(frames.meta),
        sources=[redactor.source(s) for s in frames.sources],
    )
