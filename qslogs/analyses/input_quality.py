"""Input: what the bundle holds and what could not be read, so every conclusion can be weighed.

Nothing is dropped silently (style.md §4): lines that did not fit their file's format are counted per
file with their first few lines (``file:line``), unreadable files are named with the reason, and the
inventory (files and records per kind × host), the time span and the product versions (from the
``QrsAbout`` and ``AboutSystemInfo`` dumps and the ``ProductVersion``-style columns) frame the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from qslogs.analyses.base import Analysis, AnalysisOptions, AnalysisResult
from qslogs.findings import Finding, Severity
from qslogs.frames import Frames
from qslogs.jsonable import to_jsonable
from qslogs.schemas import BAD_LINE_SCHEMA
from qslogs.timeutil import UTC_DATETIME
from qslogs.words import plural

NAME = "input"

#: Columns that carry a component version, in the order they are preferred.
VERSION_COLUMNS = ("ProductVersion", "Version", "EngineVersion", "Exe Version")
#: First bad lines kept per file.
FIRST_BAD_LINES = 5
#: A bundle shorter than this is too short for trends and failure rates (a coverage warning).
MIN_TREND_DAYS = 7.0
#: Keys read from the ``QrsAbout`` and ``AboutSystemInfo`` dumps (matched case-insensitively).
ABOUT_KEYS: dict[str, tuple[str, ...]] = {
    "QrsAbout": ("buildVersion", "buildDate", "databaseProvider", "nodeType"),
    "AboutSystemInfo": ("productName", "version", "releaseLabel", "deploymentType", "senseId"),
}

VERSIONS_SCHEMA: dict[str, pl.DataType] = {
    "component": pl.String(),
    "host": pl.String(),
    "column": pl.String(),
    "version": pl.String(),
    "records": pl.UInt32(),
    "first": UTC_DATETIME,
    "last": UTC_DATETIME,
}


def queries(frames: Frames, options: AnalysisOptions) -> dict[str, pl.LazyFrame]:
    """Versions per component × host, and bad lines per file (the rest is already small and in memory)."""
    out: dict[str, pl.LazyFrame] = {}
    parts = []
    for kind in sorted(frames.frames):
        columns = frames.columns(kind)
        column = next((c for c in VERSION_COLUMNS if c in columns), None)
        if column is None or "Timestamp" not in columns:
            continue
        parts.append(
            frames.lazy(kind)
            .filter(pl.col(column).is_not_null())
            .group_by("host", pl.col(column).alias("version"))
            .agg(
                pl.len().cast(pl.UInt32).alias("records"),
                pl.col("Timestamp").min().alias("first"),
                pl.col("Timestamp").max().alias("last"),
            )
            .select(
                pl.lit(kind.split("/", 1)[0]).alias("component"),
                pl.col("host").cast(pl.String),
                pl.lit(column).alias("column"),
                "version",
                "records",
                "first",
                "last",
            )
        )
    if parts:
        out["versions"] = pl.concat(parts)
    if frames.bad_lines.height:
        out["bad_files"] = (
            frames.bad_lines.lazy()
            .sort("source_file", "line_no")
            .group_by("source_file")
            .agg(
                pl.col("kind").first(),
                pl.len().cast(pl.UInt32).alias("count"),
                pl.struct("line_no", "reason", pl.col("text").str.slice(0, 500))
                .head(FIRST_BAD_LINES)
                .alias("first_lines"),
            )
        )
    return out


def build(results: dict[str, pl.DataFrame], frames: Frames, options: AnalysisOptions) -> AnalysisResult:
    """Tables ``inventory``, ``status``, ``bad_files``, ``file_issues``, ``unknown_files``, ``time_span``,
    ``versions``, ``about``; findings for bad lines, unreadable files and short coverage."""
    files = frames.files
    parsed = files.filter(pl.col("status") == "parsed")
    inventory = (
        parsed.group_by("kind", "host")
        .agg(
            pl.len().alias("files"),
            pl.col("records").sum(),
            pl.col("bad_lines").sum(),
            pl.col("size").sum().alias("bytes"),
            pl.col("first").min(),
            pl.col("last").max(),
            pl.col("archived").sum().alias("archived_files"),
        )
        .sort("kind", "host", nulls_last=True)
    )
    status = (
        files.group_by("status")
        .agg(pl.len().alias("files"), pl.col("size").sum().alias("bytes"))
        .sort("status")
    )
    unknown = (
        files.filter(pl.col("status").is_in(["unknown", "empty", "duplicate"]))
        .select("path", "status", "note", "size")
        .sort("path")
    )
    bad_files = results.get(
        "bad_files",
        pl.DataFrame(
            schema={
                "source_file": pl.String(),
                "kind": pl.String(),
                "count": pl.UInt32(),
                "first_lines": pl.List(
                    pl.Struct({k: BAD_LINE_SCHEMA[k] for k in ("line_no", "reason", "text")})
                ),
            }
        ),
    )
    bad_files = bad_files.sort(["count", "source_file"], descending=[True, False])
    versions = (
        results.get("versions", pl.DataFrame(schema=VERSIONS_SCHEMA))
        .group_by("component", "host", "column", "version")  # one row across the kinds of a service
        .agg(pl.col("records").sum(), pl.col("first").min(), pl.col("last").max())
        .sort("component", "host", "first", "version", nulls_last=True)
        .select(list(VERSIONS_SCHEMA))
    )
    first, last = frames.time_span
    span = _span(first, last)
    tables: dict[str, Any] = {
        "inventory": inventory.to_dicts(),
        "status": status.to_dicts(),
        "bad_files": bad_files.to_dicts(),
        "file_issues": [{"path": i.path, "reason": i.reason} for i in frames.file_issues],
        "unknown_files": unknown.to_dicts(),
        "time_span": span,
        "versions": versions.to_dicts(),
        "about": about(frames.meta),
        "hosts": sorted(h for h in parsed["host"].drop_nulls().unique().to_list()),
        "totals": {
            "files": files.height,
            "parsed_files": parsed.height,
            "records": int(parsed["records"].sum()),
            "bytes": int(files["size"].sum()),
            "bad_lines": frames.bad_lines.height,
            "file_issues": len(frames.file_issues),
        },
    }
    findings = _findings(bad_files, frames, span)
    return AnalysisResult(NAME, findings, to_jsonable(tables))


def _span(first: datetime | None, last: datetime | None) -> dict[str, Any]:
    hours = (last - first).total_seconds() / 3600 if first and last else None
    return {
        "first": first,
        "last": last,
        "hours": round(hours, 1) if hours is not None else None,
        "days": round(hours / 24, 1) if hours is not None else None,
    }


def about(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Scalar facts of the ``QrsAbout`` and ``AboutSystemInfo`` dumps (one dict per node where a list)."""
    out: list[dict[str, Any]] = []
    for name, keys in ABOUT_KEYS.items():
        dump = meta.get(name)
        for item in dump if isinstance(dump, list) else [dump]:
            if not isinstance(item, dict):
                continue
            lower = {str(k).lower(): v for k, v in item.items()}
            for key in keys:
                value = lower.get(key.lower())
                if isinstance(value, str | int | float | bool) and str(value) != "":
                    out.append({"source": name, "key": key, "value": str(value)})
    return out


def _findings(bad_files: pl.DataFrame, frames: Frames, span: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    if bad_files.height:
        total = int(bad_files["count"].sum())
        top = bad_files.head(3).to_dicts()
        where = "; ".join(f"{r['source_file']} ({r['count']:,})" for r in top)
        findings.append(
            Finding(
                NAME,
                Severity.WARNING,
                f"{plural(total, 'line')} in {plural(bad_files.height, 'file')} did not fit "
                f"{'its' if total == 1 else 'their'} file's format",
                f"They were set aside, not analysed; most in {where}. The Bundle section shows the first "
                "lines of each file with file:line, so you can judge whether anything important is missing.",
                {"bad_lines": total, "files": bad_files.height, "top": to_jsonable(top)},
            )
        )
    if frames.file_issues:
        names = "; ".join(f"{i.path}: {i.reason}" for i in frames.file_issues[:3])
        more = f" (and {len(frames.file_issues) - 3} more)" if len(frames.file_issues) > 3 else ""
        findings.append(
            Finding(
                NAME,
                Severity.WARNING,
                f"{plural(len(frames.file_issues), 'file')} could not be read",
                f"{names}{more}. Whatever they held is missing from this report.",
                {"files": [{"path": i.path, "reason": i.reason} for i in frames.file_issues]},
            )
        )
    days = span["days"]
    if days is None:
        findings.append(
            Finding(
                NAME,
                Severity.WARNING,
                "The bundle holds no dated log records",
                "Nothing could be placed in time: check that the right folder or zip was given.",
            )
        )
    elif days < MIN_TREND_DAYS:
        findings.append(
            Finding(
                NAME,
                Severity.WARNING,
                f"The logs cover only {span['hours']:,} hours ({span['days']} days): too short for trends",
                f"Failure rates and growth need weeks of history (at least {MIN_TREND_DAYS:g} days). "
                "Collect the ArchivedLogs folder or a wider Log Collector date range, or add the License "
                "Monitor QVDs (--qvd).",
                {"days": days, "first": to_jsonable(span["first"]), "last": to_jsonable(span["last"])},
            )
        )
    return findings


ANALYSIS = Analysis(NAME, queries, build)
