"""The fleet output folder: what is in it, and how the local engine writes the dataset.

Layout (``OUT``)::

    fleet.html                          one row per site, linking to its report
    fleet.json                          the ``--json`` object (also marks the folder as a fleet output)
    reports/<site>.html                 each site's report (``qslogs report``)
    data/<table>/site=<site>/*.parquet  the fleet dataset, one folder per table of qslogs.fleet.tables

A re-run replaces ``fleet.html``, ``fleet.json``, ``reports/`` and ``data/``; a folder that holds
anything else and no ``fleet.json`` is refused, so qslogs never deletes what it did not write.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from qslogs.errors import ReportError
from qslogs.fleet.tables import TABLES

MARKER = "fleet.json"
OWNED = ("fleet.html", MARKER, "reports", "data")


def prepare(out: Path) -> None:
    """Make ``out`` ready: create it, or clear what an earlier fleet run wrote there (exit 5 otherwise)."""
    try:
        if out.exists() and not out.is_dir():
            raise ReportError(str(out), "exists and is not a folder")
        if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
            raise ReportError(str(out), "is not empty and holds no earlier fleet output (fleet.json): "
                                        "give an empty or new folder, so nothing of yours is replaced")
        for name in OWNED:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        (out / "reports").mkdir(parents=True, exist_ok=True)
        (out / "data").mkdir(exist_ok=True)
        (out / MARKER).write_text('{"sites": null, "note": "fleet run in progress or interrupted"}\n',
                                  encoding="utf-8")
    except OSError as exc:
        raise ReportError(str(out), exc.strerror or str(exc)) from exc


def data_dir(out: Path | str, table: str) -> str:
    """The folder of one table of the dataset."""
    return os.path.join(str(out), "data", table)


def write_site(out: Path, site: str, tables: dict[str, pa.Table]) -> None:
    """Write one site's tables as ``data/<table>/site=<site>/part-00000.parquet`` (tables without rows: no file).

    The ``site`` column becomes the folder name, as Spark's ``partitionBy`` does, so the two engines
    write the same dataset.
    """
    try:
        for name in TABLES:
            table = tables.get(name)
            folder = Path(data_dir(out, name))
            folder.mkdir(parents=True, exist_ok=True)
            if table is None or table.num_rows == 0:
                continue
            target = folder / f"site={site}"
            target.mkdir(exist_ok=True)
            pq.write_table(table.drop_columns(["site"]), target / "part-00000.parquet")
    except OSError as exc:
        raise ReportError(str(out), exc.strerror or str(exc)) from exc
