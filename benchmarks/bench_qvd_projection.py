"""License Monitor QVDs: qslogs's load with column projection vs a whole read vs ``openqvd`` (issue 16).

Run on demand (never by ``make test``)::

    .venv/bin/pip install -e '.[bench]'           # openqvd is a bench extra, not a runtime dependency
    .venv/bin/python benchmarks/bench_qvd_projection.py [--rows 1000000] [--runs 3] [--write]

Inputs: the QVDs of ``sample_data/qvd``, the real ones in ``../shared/fixtures/real/qvd`` (when present; the
timings are summed over the files, so per-file costs show), and a larger License Monitor-like event table
written with :func:`qslogs_synth.qvd_writer.write_qvd` into ``benchmarks/data/`` (git ignores it): ``--rows``
rows of 11 fields, of which the license analysis uses 4 (user, access type, operation, timestamp); the
others are what such a table also carries: a sequence number, the node, proxy session and app GUIDs, token
and duration numbers, a package id.

Readers (median and best of ``--runs`` rounds after an untimed one, warm page cache, readers alternating
within a round; the best run is shown too, as the machine is shared):

- *qslogs, license projection*: what ``qslogs license``/``report`` do: :func:`qslogs.qvd_loader.load_qvds`
  with :func:`~qslogs.analyses.licenses.qvd.license_columns` (no ``--qvd-map``: a peek at the first rows of
  the text fields to recognise the table, then the fields it uses);
- *qslogs, projection by --qvd-map*: the same with a map naming the 4 fields (no recognition);
- *qslogs, whole read*: :func:`qslogs.parsers.qvd.read_qvd` of every field (qvdrs + the adapter), as before;
- *qvdrs whole read*: ``qvd.read_qvd_to_polars``; *openqvd whole read*: ``openqvd.read``, and with
  ``columns=`` the fields qslogs's license projection ends up with (openqvd's own projection).

``--write`` puts the table into ``benchmarks/RESULTS.md`` between its ``qvd-projection`` markers (its own
section: ``benchmarks/run.py`` keeps it when it rewrites the rest of the file).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import qvd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # the development generator beside the package
from qslogs.analyses.licenses.analysis import no_logs  # noqa: E402
from qslogs.analyses.licenses.qvd import license_columns  # noqa: E402
from qslogs.analyses.licenses.qvd_map import QvdMap, TableMap  # noqa: E402
from qslogs.parsers.qvd import read_qvd  # noqa: E402
from qslogs.qvd_loader import load_qvds  # noqa: E402
from qslogs_synth.qvd_writer import write_qvd  # noqa: E402

DATA = HERE / "data"
RESULTS = HERE / "RESULTS.md"
START, END = "<!-- qvd-projection:start -->", "<!-- qvd-projection:end -->"
LICENSE_FIELDS = ["UserName", "AccessType", "Operation", "Timestamp"]
MAP = QvdMap("bench-map.toml", (TableMap(match="license_events*", kind="events", user="UserName",
                                          access_type="AccessType", operation="Operation", time="Timestamp"),))


def license_frame(rows: int) -> pl.DataFrame:
    """A deterministic License Monitor-like event table: 4 license fields among 11."""
    rng = np.random.default_rng(20261203)
    seconds = np.sort(rng.integers(0, 365 * 86_400, rows))
    stamps = pl.Series(np.datetime64("2025-12-01T00:00:00", "ms") + seconds * 1000 + rng.integers(0, 1000, rows))
    guids = pl.Series([f"{i:08x}-7d3e-4c1e-9a1e-{i * 7919 % 16**12:012x}" for i in range(max(rows // 10, 1))])
    apps = pl.Series([f"a{i:07x}-51c2-4b7a-8d0e-0000{i:08x}" for i in range(300)])
    ops = pl.Series(["UsageGranted"] * 90 + ["Add"] * 4 + ["Delete"] * 2 + ["UsageDenied"] * 4)
    return pl.DataFrame({
        "Sequence": np.arange(1, rows + 1, dtype=np.int64),
        "Timestamp": stamps.cast(pl.Datetime("ms")),
        "Hostname": pl.Series(["qs-central.corp.local", "qs-rim1.corp.local", "qs-rim2.corp.local",
                               "qs-sched.corp.local"]).gather(rng.integers(0, 4, rows)),
        "UserName": "CORP\\user" + pl.Series(rng.integers(0, 5000, rows)).cast(pl.String),
        "AccessType": pl.Series(["ProfessionalAccess", "AnalyzerAccess", "LoginAccess",
                                 "UserAccess"]).gather(rng.integers(0, 4, rows)),
        "Operation": ops.gather(rng.integers(0, len(ops), rows)),
        "ProxySessionId": guids.gather(np.arange(rows) // 10),
        "AppId": apps.gather(rng.integers(0, len(apps), rows)),
        "Tokens": np.round(rng.choice([0.0, 1.0, 6.0, 1.5], rows), 1),
        "DurationSec": np.round(rng.exponential(300.0, rows), 3),
        "ProxyPackageId": rng.integers(1000, 100_000, rows),
    })  # fmt: skip


def ensure_file(rows: int) -> Path:
    """Write the generated License Monitor QVD unless it already exists."""
    path = DATA / f"license_events_{rows}.qvd"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        write_qvd(path, license_frame(rows), "LicenseEvents", create_utc_time=datetime(2026, 12, 3, tzinfo=UTC))
        print(f"wrote {path.name}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
    return path


def readers(paths: list[Path]) -> dict[str, Callable[[], object]]:
    """Each reader reads every file of ``paths`` once."""

    def each(fn: Callable[[Path], object]) -> Callable[[], object]:
        return lambda: [fn(p) for p in paths]

    found: dict[str, Callable[[], object]] = {
        "qslogs, license projection": lambda: load_qvds(no_logs(), paths, columns=license_columns(None)),
        "qslogs, projection by --qvd-map": lambda: load_qvds(no_logs(), paths, columns=license_columns(MAP)),
        "qslogs, whole read": each(read_qvd),
        "qvdrs whole read": each(lambda p: qvd.read_qvd_to_polars(str(p))),
    }
    try:
        import openqvd
    except ImportError:
        print("openqvd is not installed (pip install -e '.[bench]'): skipped", file=sys.stderr)
        return found
    found["openqvd whole read"] = each(lambda p: openqvd.read(str(p)))
    loaded = load_qvds(no_logs(), paths, columns=license_columns(None)).qvds
    fields = {str(p): q.table.frame.columns for p, q in zip(paths, loaded, strict=True) if q.table is not None}
    found["openqvd, the fields qslogs's projection reads"] = each(
        lambda p: openqvd.read(str(p), columns=fields[str(p)]))
    return found


def median_times(found: dict[str, Callable[[], object]], runs: int) -> dict[str, tuple[float, float]]:
    """(median, best) wall time of each reader over ``runs`` rounds (readers alternate within a round)."""
    times: dict[str, list[float]] = {name: [] for name in found}
    for fn in found.values():  # one untimed round: imports, regex compilation, page cache
        fn()
    for _ in range(runs):
        for name, fn in found.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: (statistics.median(values), min(values)) for name, values in times.items()}


def readable(paths: list[Path]) -> list[Path]:
    """The files every reader can read (the real fixtures hold one that all refuse)."""
    out = []
    for p in paths:
        try:
            read_qvd(p)
            qvd.read_qvd_to_polars(str(p))
        except Exception as exc:  # a refused file is left out, and said so
            print(f"left out {p.name}: {str(exc)[:90]}", file=sys.stderr)
            continue
        out.append(p)
    return out


def section(inputs: dict[str, list[Path]], runs: int) -> list[str]:
    """The RESULTS.md section: one row per input set and reader."""
    import openqvd

    lines = [START, "## QVD: License Monitor tables, column projection (issue 16)", "",
             f"Written by `benchmarks/bench_qvd_projection.py --write` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
             f"(qvdrs {qvd.__version__ if hasattr(qvd, '__version__') else '0.7.1'}, openqvd "
             f"{getattr(openqvd, '__version__', '?')}, python {platform.python_version()}; medians of {runs} runs, "
             "warm page cache, machine shared with other work). Seconds for all the files of a set; *vs openqvd* "
             "is openqvd's whole read over the reader's time (above 1: faster than openqvd).", "",
             "| input | reader | median s | best s | vs openqvd whole read (medians) | fields read |",
             "|---|---|---:|---:|---:|---:|"]
    for label, paths in inputs.items():
        times = median_times(readers(paths), runs)
        base = times["openqvd whole read"][0] if "openqvd whole read" in times else None
        width = {
            "qslogs, license projection": _width(load_qvds(no_logs(), paths, columns=license_columns(None))),
            "qslogs, projection by --qvd-map": _width(load_qvds(no_logs(), paths, columns=license_columns(MAP))),
        }
        total = sum(len(read_qvd(p).header.fields) for p in paths)
        for name, (secs, best) in times.items():
            vs = f"{base / secs:.2f}×" if base else ""
            fields = width.get(name, width["qslogs, license projection"] if name.startswith("openqvd, the") else total)
            lines.append(f"| {label} | {name} | {secs:.3f} | {best:.3f} | {vs} | {fields} of {total} |")
        print(f"{label}: done", file=sys.stderr)
    lines += ["", "*fields read* counts the fields in the frames handed to the analysis. Without a map, a large "
              "table is recognised on the first 5,000 rows of its text and date fields first (their symbol tables "
              "are parsed: that is what decides a field's type); a file under 1 MB of tables is read whole by "
              "qvdrs and the fields chosen afterwards (`WHOLE_READ_BELOW`: field-by-field decoding pays only "
              "above it).", END]
    return lines


def _width(frames: object) -> int:
    return sum(q.table.frame.width for q in getattr(frames, "qvds", ()) if q.table is not None)


def write(lines: list[str]) -> None:
    """Replace the marked section of RESULTS.md (or add it at the end)."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    block = "\n".join(lines)
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write the section into benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    big = ensure_file(args.rows)
    real = REPO.parent / "shared" / "fixtures" / "real" / "qvd"
    inputs = {
        "sample_data/qvd (1 file, 47 rows)": sorted((REPO / "sample_data" / "qvd").glob("*.qvd")),
        "real fixtures (../shared/fixtures/real/qvd)": readable(sorted(real.glob("*.qvd"))),
        f"generated License Monitor table ({args.rows:,} rows, {big.stat().st_size / 1e6:.0f} MB)": [big],
    }
    lines = section({k: v for k, v in inputs.items() if v}, args.runs)
    print("\n".join(lines))
    if args.write:
        write(lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
