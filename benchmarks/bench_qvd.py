"""QVD read speed: bare qvdrs vs the qslogs adapter (target: within 10 %) vs pyqvd, on a generated QVD.

Run on demand (never by ``make test``)::

    .venv/bin/pip install -e '.[bench]'      # pyqvd is a bench extra, not a runtime dependency
    .venv/bin/python benchmarks/bench_qvd.py [--rows 2000000] [--runs 3] [--duals] [--no-pyqvd]

The file is written once with :func:`qslogs_synth.qvd_writer.write_qvd` into ``benchmarks/data/`` (git
ignores it): 8 columns shaped like a monitoring-app table (event id, timestamp, date, user, access type,
duration, count, nullable node).  ``--duals`` writes the two integer columns as dual ints (type 5 with
their digits as text), as Qlik does for numbers loaded from text files: that exercises the adapter's
symbol-table scan, which the plain-int layout skips with one strided comparison.
Each reader's time is the median of ``--runs`` runs, all on a warm page cache.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import numpy as np
import polars as pl
import qvd

from qslogs.parsers.qvd import read_qvd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the development generator beside the package
from qslogs_synth.qvd_writer import QvdColumn, frame_column, pack_symbols, write_qvd, write_qvd_columns  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


def make_frame(rows: int) -> pl.DataFrame:
    """A deterministic monitoring-app-like frame with ``rows`` rows and 8 columns."""
    rng = np.random.default_rng(20240101)
    seconds = np.sort(rng.integers(0, 365 * 86_400, rows))
    millis = rng.integers(0, 1000, rows) * (rng.random(rows) < 0.5)  # half of them on whole seconds
    stamps = pl.Series(np.datetime64("2024-01-01T00:00:00", "ms") + seconds * 1000 + millis)
    access = pl.Series(["Professional", "Analyzer", "User", "Login"])
    return pl.DataFrame({
        "EventId": np.arange(rows, dtype=np.int64),
        "Timestamp": stamps.cast(pl.Datetime("ms")),
        "Date": stamps.cast(pl.Datetime("ms")).dt.date(),
        "UserId": "CORP\\user" + pl.Series(rng.integers(0, 5000, rows)).cast(pl.String),
        "AccessType": access.gather(rng.integers(0, 4, rows)),
        "DurationSec": np.round(rng.exponential(30.0, rows), 3),
        "Sessions": rng.integers(0, 50, rows),
        "Node": pl.Series(["NODE1", "NODE2", "NODE3", None]).gather(rng.integers(0, 4, rows)),
    })  # fmt: skip


def dual_int_column(name: str, series: pl.Series) -> QvdColumn:
    """An integer column as Qlik writes numbers read from text: type-5 duals whose text is the digits."""
    plain = frame_column(name, series)
    uniq = series.drop_nulls().unique().sort()
    symbols = pack_symbols(5, uniq.to_numpy(), uniq.cast(pl.String))
    return QvdColumn(name, symbols, plain.n_symbols, plain.codes, "UNKNOWN", ("$numeric", "$integer"))


def ensure_file(rows: int, duals: bool) -> Path:
    """Write the benchmark QVD unless it already exists."""
    path = DATA / f"bench_{rows}{'_duals' if duals else ''}.qvd"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        frame = make_frame(rows)
        started = time.perf_counter()
        stamp = datetime(2024, 1, 1, tzinfo=UTC)
        if duals:
            cols = [dual_int_column(c, frame[c]) if frame[c].dtype == pl.Int64 else frame_column(c, frame[c])
                    for c in frame.columns]  # fmt: skip
            write_qvd_columns(path, cols, "Events", create_utc_time=stamp)
        else:
            write_qvd(path, frame, "Events", create_utc_time=stamp)
        took = time.perf_counter() - started
        print(f"wrote {path.name}: {path.stat().st_size / 1e6:.1f} MB in {took:.2f} s")
    return path


def median_times(readers: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median wall time of each reader over ``runs`` rounds; readers alternate within a round, so drift in
    machine speed hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(runs):
        for name, fn in readers.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def adapter_overhead(path: Path, runs: int) -> float:
    """Median time of the adapter's own work (header, checks, fix-ups), qvdrs' frame served from memory."""
    frame = qvd.read_qvd_to_polars(str(path))
    with mock.patch.object(qvd, "read_qvd_to_polars", lambda _path: frame):
        return median_times({"overhead": lambda: read_qvd(path)}, runs)["overhead"]


def main(argv: list[str] | None = None) -> int:
    """Time the readers and print one table."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duals", action="store_true", help="integer columns as type-5 duals")
    parser.add_argument("--no-pyqvd", action="store_true", help="skip pyqvd (about 30 s per million rows)")
    args = parser.parse_args(argv)
    path = ensure_file(args.rows, args.duals)
    qvd.read_qvd_to_polars(str(path))  # warm the page cache
    readers: dict[str, Callable[[], object]] = {
        "qvdrs read_qvd_to_polars": lambda: qvd.read_qvd_to_polars(str(path)),
        "qslogs read_qvd (adapter)": lambda: read_qvd(path),
    }
    if not args.no_pyqvd:
        try:
            from pyqvd import QvdTable
        except ImportError:
            print("pyqvd is not installed: pip install -e '.[bench]'", file=sys.stderr)
        else:
            readers["pyqvd QvdTable.from_qvd"] = lambda: QvdTable.from_qvd(str(path))
    results = median_times(readers, args.runs)
    results["adapter overhead alone"] = adapter_overhead(path, args.runs)
    bare = results["qvdrs read_qvd_to_polars"]
    print(f"\n{path.name}: {args.rows:,} rows x 8 columns, median of {args.runs} runs")
    print(f"{'reader':<28} {'seconds':>9} {'vs qvdrs':>9}")
    for name, seconds in results.items():
        print(f"{name:<28} {seconds:>9.3f} {seconds / bare - 1:>+9.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
