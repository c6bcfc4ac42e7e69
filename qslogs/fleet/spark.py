"""``--engine spark``: one bundle per Spark task; Spark writes the site-partitioned dataset.

The bundle list becomes an RDD with one partition per bundle (``parallelize(numSlices=n)``), so each
bundle is one task, scheduled wherever Spark has a free core. A task runs qslogs' own pipeline
(:func:`~qslogs.fleet.site.analyse_site`, the calls of ``qslogs report``) and returns each fleet table
as Arrow IPC bytes (``mapInArrow``); that result is cached, and each table is then decoded back to
Arrow batches (``mapInArrow`` with the table's schema from :mod:`qslogs.fleet.tables`) and written by
Spark with ``partitionBy("site")``. The driver collects only the small ``sites`` table.

Executors read the bundles and write the site reports themselves: on a cluster, the fleet folder and
the output folder must be on storage every executor sees at the same path (a shared mount), and
qslogs must be installed in the executors' Python (see docs/scale.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from functools import partial
from typing import Any

import pyarrow as pa

from qslogs.fleet.discover import Site
from qslogs.fleet.output import data_dir
from qslogs.fleet.site import FleetOptions, analyse_site, single_worker_env
from qslogs.fleet.tables import TABLES, schema

BLOB = pa.schema([("site", pa.string()), ("table", pa.string()), ("ipc", pa.binary())])
#: Session settings qslogs relies on: UTC times, TIMESTAMP_MICROS (not INT96) so every engine reads
#: the same UTC instants, and plain (not large) Arrow strings in mapInArrow.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.execution.arrow.useLargeVarTypes": "false",
}


def ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _analyse_batches(batches: Iterator[pa.RecordBatch], options: FleetOptions) -> Iterator[pa.RecordBatch]:
    """The task: each (site, path) row → one (site, table, ipc) row per fleet table of that site."""
    single_worker_env()
    for batch in batches:
        for row in batch.to_pylist():
            tables = analyse_site(Site(row["site"], row["path"]), options)
            names = [name for name in TABLES if name in tables]
            yield pa.RecordBatch.from_pydict(
                {"site": [row["site"]] * len(names), "table": names,
                 "ipc": [ipc_bytes(tables[name]) for name in names]}, schema=BLOB)


def _decode_batches(batches: Iterator[pa.RecordBatch], table: str) -> Iterator[pa.RecordBatch]:
    """IPC bytes → the table's own Arrow batches."""
    target = schema(table)
    for batch in batches:
        for blob in batch.column("ipc").to_pylist():
            decoded = pa.ipc.open_stream(blob).read_all().cast(target)
            yield from decoded.to_batches()


def session(master: str | None) -> tuple[Any, bool]:
    """The active SparkSession (spark-submit, a notebook, tests) or a new one; True when new."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    builder = SparkSession.builder.appName("qslogs fleet").config("spark.ui.showConsoleProgress", "false")
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit
        master = "local[*]"
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")  # Spark's WARN chatter would bury qslogs' own messages
    return spark, True


def run_spark(sites: list[Site], options: FleetOptions, master: str | None) -> list[tuple[Site, dict[str, pa.Table]]]:
    """Analyse every site as one Spark task each, write the dataset, and return each site's ``sites`` table."""
    from pyspark import StorageLevel
    from pyspark.sql.functions import col
    from pyspark.sql.pandas.types import from_arrow_schema

    spark, created = session(master)
    try:
        for key, value in SESSION_CONF.items():
            spark.conf.set(key, value)
        rows = spark.sparkContext.parallelize([(s.name, s.path) for s in sites], numSlices=len(sites))
        bundles = spark.createDataFrame(rows, "site string, path string")
        blobs = bundles.mapInArrow(partial(_analyse_batches, options=options), from_arrow_schema(BLOB))
        blobs = blobs.persist(StorageLevel.MEMORY_AND_DISK)
        # The tables are small next to the analysis: read them back in as many tasks as there are cores,
        # not one per bundle, so each of the nine writes costs a few tasks, not a few per site.
        cores = max(1, min(len(sites), spark.sparkContext.defaultParallelism))
        try:
            for table in TABLES:
                (blobs.filter(col("table") == table).select("ipc").coalesce(cores)
                 .mapInArrow(partial(_decode_batches, table=table), from_arrow_schema(schema(table)))
                 .write.mode("overwrite").partitionBy("site").parquet(data_dir(options.out, table)))
            collected = blobs.filter(col("table") == "sites").select("site", "ipc").collect()
        finally:
            blobs.unpersist()
    finally:
        if created:
            spark.stop()
    by_name = {s.name: s for s in sites}
    return [(by_name[r["site"]], {"sites": pa.ipc.open_stream(r["ipc"]).read_all()}) for r in collected]
