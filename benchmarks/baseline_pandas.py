"""The alternative: what a support engineer writes first with pandas, to compare qslogs against.

    .venv/bin/python benchmarks/baseline_pandas.py bundle.zip

It opens the Log Collector zip, reads every tab-separated log (``*.txt`` / ``*.log``, not script logs,
not access logs, not the JSON dumps) with ``pandas.read_csv``, stacks the files of one kind, parses
``Timestamp``, and prints the failed task executions. The read_csv options are the ones a first
working version needs on real bundles: ``quoting=QUOTE_NONE`` (messages hold stray ``"``),
``on_bad_lines="skip"`` (node.js messages hold tabs), ``encoding_errors="replace"`` (Windows-1252
files) and ``dtype=str`` (mixed columns). It does *less* than ``qslogs report``: no script logs, no
access logs, no bad-line accounting (skipped lines just disappear), no UTC offsets, no
header-variant mapping, no analyses beyond one filter, so the speed ratio against it is conservative.
"""

from __future__ import annotations

import csv
import sys
import zipfile
from collections import defaultdict
from pathlib import PurePosixPath

import pandas as pd


def kind_of(name: str) -> str:
    """``.../SENSE01_TaskExecution_Scheduler.txt`` → ``Scheduler/TaskExecution``; else the folder name."""
    path = PurePosixPath(name)
    parts = path.stem.split("_")
    if len(parts) >= 3 and not parts[0].isdigit():
        return f"{parts[2]}/{parts[1]}"
    return path.parent.name


def read_bundle(zip_path: str) -> dict[str, pd.DataFrame]:
    """Every tab-separated log of the zip, stacked per kind."""
    parts: dict[str, list[pd.DataFrame]] = defaultdict(list)
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            name = info.filename.replace("\\", "/")
            if not name.endswith((".txt", ".log")) or "/Script/" in name or name.endswith("-access.log"):
                continue
            if info.file_size == 0 or name.endswith("SenseCollector.log"):
                continue
            with zf.open(info) as fh:
                frame = pd.read_csv(fh, sep="\t", dtype=str, quoting=csv.QUOTE_NONE, on_bad_lines="skip",
                                    encoding="utf-8", encoding_errors="replace")
            frame.columns = [c.lstrip("\ufeff") for c in frame.columns]
            frame["source_file"] = name
            parts[kind_of(name)].append(frame)
    stacked = {kind: pd.concat(frames, ignore_index=True) for kind, frames in parts.items()}
    for frame in stacked.values():
        if "Timestamp" in frame.columns:
            frame["Timestamp"] = pd.to_datetime(frame["Timestamp"], format="%Y%m%dT%H%M%S.%f%z", utc=True,
                                                errors="coerce")
    return stacked


def main(argv: list[str]) -> int:
    """Read the bundle and print the record count and the failed task executions."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    stacked = read_bundle(argv[0])
    records = sum(len(frame) for frame in stacked.values())
    print(f"{records} records in {len(stacked)} kinds")
    tasks = stacked.get("Scheduler/TaskExecution")
    if tasks is not None and "Status" in tasks.columns:
        failed = tasks[tasks["Status"].isin(["FinishedFail", "Aborted", "Error"])]
        print(failed[["Timestamp", "TaskName", "Status"]].to_string(max_rows=20))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
