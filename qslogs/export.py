"""Frames and findings → JSON-ready dicts, Parquet datasets and CSV.

The JSON shapes printed by ``--json`` are built here, so the CLI stays a thin shell and a Python
caller gets the same objects. Output is deterministic: the same input gives byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from qslogs.analyses.result import Result
from qslogs.findings import Finding
from qslogs.frames import Frames
from qslogs.jsonable import iso_duration, result_tables, to_jsonable
from qslogs.schemas import TIME_COLUMN, Family

__all__ = [
    "dumps", "finding_json", "inventory_summary", "iso_duration", "kind_dir", "result_json", "to_jsonable",
    "write_parquet",
]

#: ``qslogs inspect --json`` keys of each file object, in order.
INSPECT_FILE_KEYS = ("path", "kind", "host", "records", "bad_lines", "first", "last")


def dumps(obj: Any) -> str:
    """The one JSON encoding of qslogs output: sorted where order carries no meaning, 2-space indent."""
    return json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False)


def finding_json(finding: Finding) -> dict[str, Any]:
    """One finding as ``--json`` prints it."""
    return {
        "severity": str(finding.severity), "title": finding.title, "detail": finding.detail,
        "data": to_jsonable(finding.data),
    }


def result_json(result: Result) -> dict[str, Any]:
    """The ``--json`` object of one analysis: its fields marked ``json`` (frames as row objects), in
    declaration order, then its ``findings`` (unless the result class says otherwise)."""
    out = result_tables(result, json_only=True)
    if type(result).JSON_FINDINGS:
        out["findings"] = [finding_json(f) for f in result.findings]
    return out


def inventory_summary(frames: Frames) -> dict[str, Any]:
    """The ``qslogs inspect --json`` object: ``files`` (one per file) and ``kinds`` (totals per kind)."""
    files = frames.files.sort("path")
    kinds: dict[str, dict[str, int]] = {}
    for row in files.group_by("kind").agg(pl.len().alias("files"), pl.col("records").sum()).sort("kind").iter_rows(
            named=True):
        kinds[row["kind"]] = {"files": int(row["files"]), "records": int(row["records"])}
    first, last = frames.time_span
    return {
        "files": [{k: row[k] for k in (*INSPECT_FILE_KEYS, "status", "note")} for row in files.iter_rows(named=True)],
        "kinds": kinds,
        "totals": {
            "files": files.height,
            "records": int(files["records"].sum()),
            "bad_lines": frames.bad_lines.height,
            "file_issues": len(frames.file_issues),
            "first": first,
            "last": last,
            "hosts": sorted(h for h in files["host"].drop_nulls().unique().to_list()),
        },
        "file_issues": [{"path": i.path, "reason": i.reason} for i in frames.file_issues],
    }


def kind_dir(kind: str) -> str:
    """Folder name of a kind's dataset: ``Scheduler/TaskExecution`` → ``Scheduler.TaskExecution``."""
    return kind.replace("/", ".")


def write_parquet(frames: Frames, out_dir: str | Path, *, site: str | None = None) -> list[Path]:
    """Write ``frames`` as a qslogs dataset in ``out_dir`` with the safety rules of :mod:`qslogs.dataset`.

    Raises :class:`~qslogs.errors.ReportError` (nothing touched) for a folder that is or lies inside an
    input, or that is not empty and was not written by qslogs.
    """
    from qslogs.dataset import check_target, write_dataset

    out = Path(out_dir)
    check_target(out, [Path(s) for s in frames.sources], site)
    return write_dataset(frames, out, site=site)


def write_parquet_files(frames: Frames, folder: Path) -> list[Path]:
    """One hive-partitioned dataset per kind (``<kind>/host=<node>/date=<YYYY-MM-DD>/*.parquet``) in an
    empty ``folder``, plus ``bad_lines.parquet`` and ``files.parquet`` (the inventory). Returns the
    top-level entries written; raises OSError (callers name the output folder)."""
    written: list[Path] = []
    for kind in sorted(frames.frames):
        frame = frames.frames[kind]
        if kind == "Script/Summary":  # the parser reports facts; the dataset also carries the diagnosis
            from qslogs.analyses.reloads.script_link import classify_scripts

            frame = classify_scripts(frame.lazy()).collect()
        target = folder / kind_dir(kind)
        _with_partitions(frame).write_parquet(target, partition_by=["host", "date"], mkdir=True)
        if target.exists():  # a kind without records writes no partition
            written.append(target)
    for name, frame in (("bad_lines", frames.bad_lines), ("files", frames.files)):
        path = folder / f"{name}.parquet"
        frame.write_parquet(path)
        written.append(path)
    return written


def _with_partitions(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the ``date`` partition column from the record time; sort for deterministic files."""
    time_cols = [c for c in (*{TIME_COLUMN[f] for f in Family}, "start") if c in frame.columns]
    if "host" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("host"))
    frame = frame.with_columns(pl.col("host").fill_null("unknown"))
    day = pl.col(time_cols[0]).dt.strftime("%Y-%m-%d").fill_null("unknown") if time_cols else pl.lit("unknown")
    frame = frame.with_columns(day.alias("date"))
    order = [c for c in ("source_file", "line_no") if c in frame.columns]
    return frame.sort(order) if order else frame
