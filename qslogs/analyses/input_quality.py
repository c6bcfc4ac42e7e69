"""Input: what the bundle holds and what could not be read, so every conclusion can be weighed.

Nothing is dropped silently (style.md §4): lines that did not fit their file's format are counted per
file with their first few lines (``file:line``), unreadable files are named with the reason, and the
inventory (files and records per kind × host), the time span and the product versions (from the
``QrsAbout`` and ``AboutSystemInfo`` dumps and the ``ProductVersion``-style columns) frame the rest.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import polars as pl

from qslogs.analyses.base import Analysis, AnalysisOptions
from qslogs.analyses.input_result import BAD_FILES_SCHEMA, VERSIONS_SCHEMA, InputResult
from qslogs.findings import Finding, Severity
from qslogs.frames import Frames
from qslogs.jsonable import to_jsonable
from qslogs.words import plural

NAME = InputResult.NAME

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


def build(results: dict[str, pl.DataFrame], frames: Frames, options: AnalysisOptions) -> InputResult:
    """The inventory, bad input, time span, versions and totals of the bundle; findings for bad lines,
    unreadable files and short coverage."""
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
    bad_files = results.get("bad_files", pl.DataFrame(schema=BAD_FILES_SCHEMA))
    bad_files = bad_files.sort(["count", "source_file"], descending=[True, False])
    versions = (
        results.get("versions", pl.DataFrame(schema=VERSIONS_SCHEMA))
        .group_by("component", "host", "column", "version")  # one row across the kinds of a service
        .agg(pl.col("records").sum(), pl.col("first").min(), pl.col("last").max())
        .sort("component", "host", "first", "version", nulls_last=True)
        .select(list(VERSIONS_SCHEMA))
    )
    first, last = frames.time_span
    hours = (last - first).total_seconds() / 3600 if first and last else None
    issues = pl.DataFrame(
        {"path": [i.path for i in frames.file_issues], "reason": [i.reason for i in frames.file_issues]},
        schema=InputResult.empty_frame("file_issues").schema,
    )
    result = InputResult(
        inventory=inventory,
        status=files.group_by("status")
        .agg(pl.len().alias("files"), pl.col("size").sum().alias("bytes"))
        .sort("status"),
        bad_files=bad_files,
        file_issues=issues,
        unknown_files=files.filter(pl.col("status").is_in(["unknown", "empty", "duplicate"]))
        .select("path", "status", "note", "size")
        .sort("path"),
        span_first=first,
        span_last=last,
        span_hours=round(hours, 1) if hours is not None else None,
        span_days=round(hours / 24, 1) if hours is not None else None,
        versions=versions,
        about=pl.DataFrame(about(frames.meta), schema=InputResult.empty_frame("about").schema),
        hosts=tuple(sorted(h for h in parsed["host"].drop_nulls().unique().to_list())),
        files_total=files.height,
        files_parsed=parsed.height,
        records=int(parsed["records"].sum()),
        size_bytes=int(files["size"].sum()),
        bad_lines=frames.bad_lines.height,
        unreadable_files=len(frames.file_issues),
    )
    return replace(result, findings=_findings(result, frames))


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


def _findings(result: InputResult, frames: Frames) -> tuple[Finding, ...]:
    """Bad lines, unreadable files, and a span too short for trends (or none at all)."""
    findings: list[Finding] = []
    bad_files = result.bad_files
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
                table="bad_files",
                keys=tuple(bad_files["source_file"].to_list()),
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
                table="file_issues",
                keys=tuple(i.path for i in frames.file_issues),
            )
        )
    days = result.span_days
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
                f"The logs cover only {result.span_hours:,} hours ({days} days): too short for trends",
                f"Failure rates and growth need weeks of history (at least {MIN_TREND_DAYS:g} days). "
                "Collect the ArchivedLogs folder or a wider Log Collector date range, or add the License "
                "Monitor QVDs (--qvd).",
                {"days": days, "first": to_jsonable(result.span_first), "last": to_jsonable(result.span_last)},
            )
        )
    return tuple(findings)


ANALYSIS = Analysis(NAME, queries, build)
