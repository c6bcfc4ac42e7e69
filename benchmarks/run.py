"""Benchmarks side by side: the limit, the pandas alternative and qslogs, per bundle size; writes RESULTS.md.

    .venv/bin/python benchmarks/run.py                       # 100, 500, 1000 MB, 3 runs each
    .venv/bin/python benchmarks/run.py --sizes 1000 --sites n4-d15-r500,n4-d30-r500 --runs 1 \
        --baseline /tmp/qslogs-before --baseline-label dac2512   # both shapes, and the code before
    .venv/bin/python benchmarks/run.py --sizes 20,50 --runs 3 --no-qvd --out /tmp/RESULTS.md   # quick

Every measurement is a separate process run under ``/usr/bin/time -v`` (wall, user + system CPU, and the
largest process's peak RSS); a sampler also sums the RSS of the whole process tree every 50 ms, which is
what counts when qslogs parses in worker processes. Within one round the commands alternate, so drift in
machine load hits them alike; the table shows medians of ``--runs`` rounds. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from gen_bundle import BenchBundle, ensure_bundle, ensure_site, parse_sizes  # noqa: E402

PY = sys.executable
QSLOGS = [PY, "-m", "qslogs"]
TARGETS = {"vs_unzip": 2.0, "vs_pandas": 5.0, "rss_bytes": 2 * 1024**3, "growth": 11.0}


@dataclass
class Sample:
    """One run of one command."""

    wall: float
    cpu: float
    rss: int
    """Peak RSS of the largest single process (``/usr/bin/time``), bytes."""
    tree_rss: int
    """Peak of the summed RSS of the process tree (sampled), bytes."""
    stdout: str = ""


@dataclass
class Row:
    """Medians of one command on one bundle."""

    size_mb: int
    name: str
    samples: list[Sample] = field(default_factory=list)
    records: int | None = None
    bytes: int = 0
    measured: str = ""
    """When, and the load average before and after the size's rounds."""
    label: str = ""
    """The bundle: ``size 1000`` (few large files) or ``site n4-d30-r500`` (a real site's many small files)."""
    files: int = 0
    """Files in the bundle."""

    @property
    def shape(self) -> str:
        return self.label.split(" ", 1)[0] if self.label else "size"

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)


def _tree_rss(root: int) -> int:
    """Summed RSS of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            with open(f"/proc/{entry}/statm") as fh:
                pages = int(fh.read().split()[1])
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def measure(cmd: list[str] | str, *, shell: bool = False) -> Sample:
    """Run one command under /usr/bin/time -v; fail loudly if it fails."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        argv = ["/usr/bin/time", "-v", "-o", report.name]
        argv += ["sh", "-c", cmd] if shell else list(cmd)  # type: ignore[arg-type]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = [0]

        def sample() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = proc.communicate()
        sampler.join()
        text = report.read()
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {cmd}\n{err[-2000:]}")
    field_of = {k.strip(): v.strip() for k, _, v in (line.partition(": ") for line in text.splitlines())}
    wall = _clock(field_of["Elapsed (wall clock) time (h:mm:ss or m:ss)"])
    cpu = float(field_of["User time (seconds)"]) + float(field_of["System time (seconds)"])
    rss = int(field_of["Maximum resident set size (kbytes)"]) * 1024
    return Sample(wall, cpu, rss, max(peak[0], rss), out)


def _clock(text: str) -> float:
    parts = [float(p) for p in text.split(":")]
    return sum(p * 60**i for i, p in enumerate(reversed(parts)))


def has_report() -> bool:
    """Whether ``qslogs report`` exists yet (another engineer builds it)."""
    cli = (ROOT / "qslogs" / "cli.py").read_text()  # commands are attached there (qslogs.commands is plain)
    return "report.report" in cli and (ROOT / "qslogs" / "commands" / "report.py").exists()


def commands(bundle: BenchBundle, work: Path, baseline: tuple[Path, str] | None = None
             ) -> dict[str, Callable[[], Sample]]:
    """Every measured command for one bundle, by row name (``baseline``: an earlier qslogs tree to run
    ``report`` with too, side by side)."""
    z, folder = str(bundle.zip_path), str(bundle.folder)
    parsed = work / "parsed"

    def parse() -> Sample:
        shutil.rmtree(parsed, ignore_errors=True)
        return measure([*QSLOGS, "parse", "-q", z, "-o", str(parsed)])

    cmds: dict[str, Callable[[], Sample]] = {
        "limit: unzip -p > /dev/null": lambda: measure(f"unzip -p '{z}' > /dev/null", shell=True),
        "limit: Python zipfile, every member": lambda: measure([PY, str(HERE / "limit_zipfile.py"), z]),
        "limit: polars read_csv (strings)": lambda: measure([PY, str(HERE / "limit_polars.py"), folder]),
        "alternative: pandas read_csv": lambda: measure([PY, str(HERE / "baseline_pandas.py"), z]),
        "qslogs inspect": lambda: measure([*QSLOGS, "inspect", "-q", z]),
        "qslogs parse -o": parse,
    }
    if has_report():
        cmds["qslogs report"] = lambda: measure([*QSLOGS, "report", "-q", z, "-o", str(work / "report.html")])
    if baseline is not None:
        tree, label = baseline
        # -P: ``-m`` would put the working directory (this checkout) first on sys.path, ahead of PYTHONPATH,
        # and so measure this code twice under two names.
        cmds[f"qslogs report, before ({label})"] = lambda: measure(
            f"PYTHONPATH='{tree}' '{PY}' -P -m qslogs report -q '{z}' -o '{work / 'before.html'}'", shell=True)
    return cmds


def run_size(bundle: BenchBundle, runs: int, skip: set[str], label: str = "",
             baseline: tuple[Path, str] | None = None) -> list[Row]:
    """Medians of every command on one bundle; commands alternate within each round."""
    label = label or f"size {bundle.size_mb}"
    files = sum(1 for p in bundle.folder.rglob("*") if p.is_file())
    subprocess.run(["cat", str(bundle.zip_path)], stdout=subprocess.DEVNULL, check=True)  # warm page cache
    started, load = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="qslogs-bench-") as tmp:
        cmds = {k: v for k, v in commands(bundle, Path(tmp), baseline).items() if not any(s in k for s in skip)}
        rows = {name: Row(bundle.size_mb, name, bytes=bundle.bytes, label=label, files=files) for name in cmds}
        for round_no in range(runs):
            for name, fn in cmds.items():
                sample = fn()
                rows[name].samples.append(sample)
                print(f"  {label} run {round_no + 1}/{runs} {name}: {sample.wall:.2f} s wall, "
                      f"{sample.cpu:.2f} s cpu, {sample.tree_rss / 2**20:.0f} MiB", flush=True)
    records = _records(rows.get("qslogs parse -o"))
    measured = (f"{started}, load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; "
                f"`benchmarks/run.py {' '.join(sys.argv[1:])}`")
    for name, row in rows.items():
        row.measured = measured
        if name.startswith("qslogs") and "before" not in name:
            row.records = records
    return list(rows.values())


def load_previous(path: Path, replaced: set[str], measured: Callable[[str, str], bool] = lambda label, name: True
                  ) -> tuple[list[Row], dict[str, float] | None]:
    """Rows and QVD times of an earlier RESULTS.json, for ``--update``: every row but those of a bundle in
    ``replaced`` whose command is ``measured`` again (so a run with ``--skip`` keeps the skipped rows)."""
    if not path.exists():
        return [], None
    data = json.loads(path.read_text())
    rows = [Row(r["size_mb"], r["name"], [Sample(**s) for s in r["samples"]], r["records"], r["bytes"],
                r.get("measured", ""), r.get("label") or f"size {r['size_mb']}", r.get("files", 0))
            for r in data["rows"]]
    return [r for r in rows if r.label not in replaced or not measured(r.label, r.name)], data.get("qvd")


def _records(row: Row | None) -> int | None:
    match = re.search(r"([\d,]+) records", row.samples[0].stdout) if row and row.samples else None
    return int(match.group(1).replace(",", "")) if match else None


def run_qvd(rows: int, runs: int) -> dict[str, float]:
    """Adapter vs bare qvdrs vs pyqvd on the generated QVD (``bench_qvd.py``'s readers and file)."""
    import bench_qvd
    import qvd

    from qslogs.parsers.qvd import read_qvd

    path = bench_qvd.ensure_file(rows, duals=False)
    qvd.read_qvd_to_polars(str(path))  # warm the page cache
    readers: dict[str, Callable[[], object]] = {
        "bare qvdrs read_qvd_to_polars": lambda: qvd.read_qvd_to_polars(str(path)),
        "qslogs read_qvd (adapter)": lambda: read_qvd(path),
    }
    try:
        from pyqvd import QvdTable

        readers["pyqvd QvdTable.from_qvd"] = lambda: QvdTable.from_qvd(str(path))
    except ImportError:
        print("pyqvd not installed (pip install -e '.[bench]'): skipped", file=sys.stderr)
    return bench_qvd.median_times(readers, runs)


def machine() -> dict[str, str]:
    """Where and with what the numbers were taken."""
    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    versions = {}
    for dist in ("polars", "pyarrow", "pandas", "qvdrs", "pyqvd", "qslogs"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    unzip = subprocess.run(["unzip", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "qslogs"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} logical cores ({len(os.sched_getaffinity(0))} usable)",
        "memory": f"{mem / 2**30:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "unzip": unzip,
        "commit": f"{commit}{' + uncommitted changes under qslogs/' if dirty else ''}",
    }


def main(argv: list[str] | None = None) -> int:
    """Measure and write RESULTS.md."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--sizes", type=parse_sizes, default=None,
                        help="few-large-files bundles, MB, comma-separated (default 100,500,1000 without --sites)")
    parser.add_argument("--sites", default="", help="site-shaped bundles, comma-separated n<N>-d<D>-r<R> "
                        "(nodes, days, reloads a day: gen_bundle.py --shape site)")
    parser.add_argument("--baseline", type=Path, help="a folder holding an earlier qslogs package: its "
                        "report is measured beside this one's")
    parser.add_argument("--baseline-label", default="before", help="how the baseline is named in the table")
    parser.add_argument("--runs", type=int, default=3, help="rounds per size (median of them)")
    parser.add_argument("--skip", default="", help="comma-separated substrings of row names to leave out")
    parser.add_argument("--no-qvd", action="store_true", help="leave out the QVD readers")
    parser.add_argument("--qvd-rows", type=int, default=2_000_000)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--update", action="store_true",
                        help="keep the other sizes (and the QVD times, with --no-qvd) of the last RESULTS.json")
    args = parser.parse_args(argv)
    from results import write_results

    sites = [tuple(int(x[1:]) for x in spec.split("-")) for spec in args.sites.split(",") if spec]
    sizes = args.sizes if args.sizes is not None else ([] if sites else [100, 500, 1000])
    labels = {f"size {s}" for s in sizes} | {f"site n{n}-d{d}-r{r}" for n, d, r in sites}
    skip = {s for s in args.skip.split(",") if s}
    rows, qvd_times = (load_previous(args.out.with_suffix(".json"), labels,
                                     lambda label, name: not any(s in name for s in skip))
                       if args.update else ([], None))
    baseline = (args.baseline.resolve(), args.baseline_label) if args.baseline else None
    for size in sizes:
        bundle = ensure_bundle(size)
        print(f"b{size}: {bundle.bytes / 1e6:.0f} MB in {bundle.zip_path}", flush=True)
        rows += run_size(bundle, args.runs, skip, baseline=baseline)
    for n, d, r in sites:
        bundle = ensure_site(n, d, r)
        print(f"site n{n}-d{d}-r{r}: {bundle.bytes / 1e6:.0f} MB in {bundle.zip_path}", flush=True)
        rows += run_size(bundle, args.runs, skip, label=f"site n{n}-d{d}-r{r}", baseline=baseline)
    rows.sort(key=lambda r: (r.shape, r.bytes))  # stable: the commands keep their order within a bundle
    if not args.no_qvd:
        qvd_times = run_qvd(args.qvd_rows, args.runs)
    text = write_results(args.out, rows, qvd_times, args.qvd_rows, args.runs, machine(), TARGETS)
    print(text)
    (args.out.with_suffix(".json")).write_text(json.dumps({
        "rows": [{"size_mb": r.size_mb, "name": r.name, "records": r.records, "bytes": r.bytes,
                  "measured": r.measured, "label": r.label, "files": r.files,
                  "samples": [{k: v for k, v in vars(s).items() if k != "stdout"} for s in r.samples]}
                 for r in rows],
        "qvd": qvd_times,
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
