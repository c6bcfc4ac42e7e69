"""qslogs fleet on N generated site bundles: the local engine on 1 and 2 workers and Spark in local mode.

    .venv/bin/pip install -e '.[test,spark]'             # PySpark; Spark also needs a Java 17+ runtime
    .venv/bin/python benchmarks/bench_fleet.py            # 20 sites, 1 round: ~10 min on 2 busy cores
    .venv/bin/python benchmarks/bench_fleet.py --sites 6 --runs 2 --out /tmp/FLEET.md   # quick look

Sites are ``qslogs_synth`` bundles with seeds 101, 102, … written once as Log Collector zips to
``benchmarks/data/fleet<N>/bundles/`` (git-ignored). Every measurement is a fresh ``qslogs fleet -q``
process into a new output folder: wall time, and CPU time (user + system) of the process tree, sampled
from ``/proc`` every 0.2 s (Spark's JVM and its Python workers included; Linux only). The
commands alternate within a round; the table shows medians. Writes ``FLEET.md`` and ``FLEET.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # qslogs_synth: a development package beside qslogs, not installed
QSLOGS = [sys.executable, "-m", "qslogs"]
CONFIGS = {
    "local, 1 worker": ["--engine", "local", "--workers", "1"],
    "local, 2 workers": ["--engine", "local", "--workers", "2"],
    "spark, local[2]": ["--engine", "spark", "--master", "local[2]"],
}


def _generate(seed: int, folder: str) -> str:
    from qslogs_synth import generate_bundle, write_collector_zip

    with tempfile.TemporaryDirectory() as tmp:
        root = generate_bundle(Path(tmp), seed=seed)
        return str(write_collector_zip(root, Path(folder) / f"site-{seed}.zip"))


def bundles(sites: int) -> Path:
    """The fleet folder of ``sites`` zips (generated once, two at a time)."""
    folder = HERE / "data" / f"fleet{sites}" / "bundles"
    folder.mkdir(parents=True, exist_ok=True)
    missing = [seed for seed in range(101, 101 + sites) if not (folder / f"site-{seed}.zip").is_file()]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_generate, missing, [str(folder)] * len(missing)))
    return folder


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Record user + system seconds of ``root`` and every descendant alive now (``/proc``, Linux)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for pid, cpu in times.items():
        walk = pid
        while walk > 1 and walk != root:
            walk = parents.get(walk, 0)
        if walk == root:
            seen[pid] = max(seen.get(pid, 0.0), cpu)


def measure(folder: Path, args: list[str]) -> dict[str, float]:
    """Wall time, and CPU of the whole process tree (Spark's JVM and Python workers are not waited for by
    the command, so RUSAGE_CHILDREN would miss them: the tree is sampled every 0.2 s instead)."""
    out = Path(tempfile.mkdtemp(prefix="qslogs-fleet-bench-"))
    started = time.perf_counter()
    proc = subprocess.Popen([*QSLOGS, "fleet", "-q", str(folder), "-o", str(out / "o"), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: dict[int, float] = {}
    while proc.poll() is None:
        _tree_cpu(proc.pid, seen)
        time.sleep(0.2)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read() if proc.stderr else ""
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"{args}: exit {proc.returncode}\n{stderr[-2000:]}")
    return {"wall_s": round(wall, 1), "cpu_s": round(sum(seen.values()), 1), "load": round(os.getloadavg()[0], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "FLEET.md")
    opts = parser.parse_args()
    folder = bundles(opts.sites)
    size = sum(p.stat().st_size for p in folder.glob("*.zip"))
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in CONFIGS}
    for _ in range(opts.runs):
        for name, args in CONFIGS.items():
            samples[name].append(measure(folder, args))
            print(name, samples[name][-1], flush=True)
    rows = {name: {key: statistics.median(s[key] for s in runs) for key in ("wall_s", "cpu_s", "load")}
            for name, runs in samples.items()}
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# qslogs fleet: {opts.sites} generated sites ({size / 1e6:.0f} MB of zips)",
        "",
        f"{when}, {platform.node()}, {os.cpu_count()} cores shared with other engineers' work (the table gives "
        f"the 1-minute load average when each command ended), median of {opts.runs} round(s). Made by "
        "`benchmarks/bench_fleet.py`.",
        "",
        "| engine | wall (s) | CPU user+sys (s) | load average after |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['load']:.1f} |" for name, r in rows.items()],
        "",
    ]
    opts.out.write_text("\n".join(lines), encoding="utf-8")
    opts.out.with_suffix(".json").write_text(json.dumps({"when": when, "sites": opts.sites, "bytes": size,
                                                         "samples": samples}, indent=2) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
