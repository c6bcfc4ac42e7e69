"""Benchmark bundles of a given size: a thin wrapper around :mod:`qslogs_synth` (no second generator).

Run on demand::

    .venv/bin/python benchmarks/gen_bundle.py --sizes 100,500,1000
    .venv/bin/python benchmarks/gen_bundle.py --shape site --nodes 4 --days 30 --reloads-per-day 500

``--shape size`` (the default) grows a bundle by making its files larger (a 1 GB bundle is a few
thousand files). ``--shape site`` writes the file-count shape of a real site instead
(:mod:`qslogs_synth.site_shape`: daily-rolled archived .NET files per node, a node.js file per start,
one script log per reload; tens of thousands of mostly small files) to ``benchmarks/data/site-n<N>-d<D>-r<R>/``
(``--sizes`` then sets the total MB; without it the size follows from nodes × days).

For each size N (MB of uncompressed bundle files, 1 MB = 10**6 bytes) it writes, unless already there,
``benchmarks/data/b<N>/bundle/`` (the folder), ``benchmarks/data/b<N>/bundle.zip`` (a Log Collector zip
with backslash member names) and ``TRUTH.json``. ``benchmarks/data/`` is git-ignored: never commit it.
The generator is deterministic for a seed, so every machine benchmarks the same bytes.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the development generator beside the package
from qslogs_synth import DEFAULT_SEED, generate_bundle, write_collector_zip  # noqa: E402
from qslogs_synth.site_shape import generate_site  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class BenchBundle:
    """One generated benchmark bundle: its folder, its zip and its uncompressed size in bytes."""

    size_mb: int
    folder: Path
    zip_path: Path
    bytes: int


def parse_sizes(text: str) -> list[int]:
    """``"100,500,1000"`` → ``[100, 500, 1000]``."""
    return [int(part) for part in text.split(",") if part.strip()]


def folder_bytes(folder: Path) -> int:
    """Total size of the files under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def ensure_bundle(size_mb: int, *, seed: int = DEFAULT_SEED, data: Path = DATA, quiet: bool = False
                  ) -> BenchBundle:
    """The benchmark bundle of ``size_mb`` MB, generated (folder and zip) unless it already exists."""
    out = data / f"b{size_mb}"
    folder, zip_path = out / "bundle", out / "bundle.zip"
    if not zip_path.exists():
        started = time.perf_counter()
        folder = generate_bundle(out, seed=seed, target_mb=size_mb)
        partial = zip_path.with_suffix(".zip.partial")
        write_collector_zip(folder, partial)
        partial.replace(zip_path)  # an interrupted run never leaves a zip that looks complete
        if not quiet:
            took = time.perf_counter() - started
            zipped = zip_path.stat().st_size / 1e6
            print(f"generated {out}: {folder_bytes(folder) / 1e6:.0f} MB, zip {zipped:.0f} MB, {took:.0f} s")
    return BenchBundle(size_mb, folder, zip_path, folder_bytes(folder))


def site_name(nodes: int, days: int, reloads_per_day: int, size_mb: int | None = None) -> str:
    """The data folder of a site-shaped bundle: ``site-n4-d30-r500`` (``-1000mb`` with a size)."""
    return f"site-n{nodes}-d{days}-r{reloads_per_day}" + (f"-{size_mb}mb" if size_mb else "")


def ensure_site(nodes: int, days: int, reloads_per_day: int, *, size_mb: int | None = None,
                seed: int = DEFAULT_SEED, data: Path = DATA, quiet: bool = False) -> BenchBundle:
    """The site-shaped benchmark bundle (:mod:`qslogs_synth.site_shape`), generated unless it exists."""
    out = data / site_name(nodes, days, reloads_per_day, size_mb)
    folder, zip_path = out / "bundle", out / "bundle.zip"
    if not zip_path.exists():
        started = time.perf_counter()
        folder = generate_site(out, nodes=nodes, days=days, reloads_per_day=reloads_per_day,
                               target_mb=size_mb, seed=seed)
        partial = zip_path.with_suffix(".zip.partial")
        write_collector_zip(folder, partial)
        partial.replace(zip_path)
        if not quiet:
            took = time.perf_counter() - started
            files = sum(1 for p in folder.rglob("*") if p.is_file())
            print(f"generated {out}: {folder_bytes(folder) / 1e6:.0f} MB in {files:,} files, "
                  f"zip {zip_path.stat().st_size / 1e6:.0f} MB, {took:.0f} s")
    return BenchBundle(size_mb or 0, folder, zip_path, folder_bytes(folder))


def main(argv: list[str] | None = None) -> int:
    """Generate the bundles named by ``--sizes``."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--sizes", type=parse_sizes, default=None, help="MB, comma-separated (size: 100,500,1000)")
    parser.add_argument("--shape", choices=("size", "site"), default="size",
                        help="size: few large files (default); site: a real site's many small files")
    parser.add_argument("--nodes", type=int, default=4, help="site shape: nodes (at least 2)")
    parser.add_argument("--days", type=int, default=30, help="site shape: days of archived history")
    parser.add_argument("--reloads-per-day", type=int, default=500, help="site shape: reloads (script logs) a day")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--data", type=Path, default=DATA, help="where to write (default benchmarks/data)")
    args = parser.parse_args(argv)
    if args.shape == "site":
        for size in args.sizes or [None]:
            site = ensure_site(args.nodes, args.days, args.reloads_per_day, size_mb=size, seed=args.seed,
                               data=args.data)
            print(f"{site.folder.parent.name}: {site.folder} ({site.bytes / 1e6:.1f} MB), {site.zip_path}")
        return 0
    for size in args.sizes or [100, 500, 1000]:
        bundle = ensure_bundle(size, seed=args.seed, data=args.data)
        print(f"b{size}: {bundle.folder} ({bundle.bytes / 1e6:.1f} MB), {bundle.zip_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
