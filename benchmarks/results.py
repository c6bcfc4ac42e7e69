"""Format benchmark rows into benchmarks/RESULTS.md: machine, versions, the table, ratios vs targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MiB = 2**20


def _fmt_rate(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    return f"{value / 1e3:,.0f}k {unit}" if unit == "rec/s" else f"{value:,.1f} {unit}"


def _bundle(r: Any) -> str:
    """How a bundle is named in the tables: its shape, size and file count."""
    shape = "site" if r.shape == "site" else "large files"
    label = f" ({r.label.split(' ', 1)[1]})" if r.shape == "site" else ""
    return f"{shape}{label}, {r.bytes / 1e6:,.0f} MB, {r.files:,} files" if r.files else f"{r.bytes / 1e6:,.0f} MB"


def table(rows: list[Any]) -> list[str]:
    """The main table: one line per command and bundle, medians."""
    out = [
        "| bundle | command | wall s | CPU s | MB/s | files/s | records/s | peak RSS, tree | peak RSS, largest "
        "process |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        wall = r.median("wall")
        rec = r.records / wall if r.records else None
        files = f"{r.files / wall:,.0f}" if r.files else ""
        out.append(
            f"| {_bundle(r)} | {r.name} | {wall:.2f} | {r.median('cpu'):.2f} | "
            f"{_fmt_rate(r.bytes / 1e6 / wall, 'MB/s')} | {files} | {_fmt_rate(rec, 'rec/s')} | "
            f"{r.median('tree_rss') / MiB:,.0f} MiB | {r.median('rss') / MiB:,.0f} MiB |"
        )
    return out


def targets(rows: list[Any], spec: dict[str, float]) -> list[str]:
    """The targets judged per shape: on its largest bundle, and growth from its smallest."""
    out: list[str] = []
    for shape in sorted({r.shape for r in rows}, reverse=True):  # site first: the target
        out += _targets(sorted((r for r in rows if r.shape == shape), key=lambda r: r.bytes), spec)
        out.append("")
    return out[:-1]


def _targets(rows: list[Any], spec: dict[str, float]) -> list[str]:
    """Ratios of the end-to-end command against each target, at the largest and smallest bundle of a shape."""
    by = {(r.label, r.name): r for r in rows}
    labels = list(dict.fromkeys(r.label for r in rows))
    main = "qslogs report" if any(r.name == "qslogs report" for r in rows) else "qslogs parse -o"
    big, small = labels[-1], labels[0]
    q, unzip, pandas = by.get((big, main)), by.get((big, "limit: unzip -p > /dev/null")), by.get(
        (big, "alternative: pandas read_csv"))
    label = _bundle(q) if q else big
    out = [f"Command judged: `{main}` on the {label} bundle (wall-clock medians; CPU-time ratios in "
           "brackets).", "",
           "| target | required | measured | met |", "|---|---|---|---|"]
    if q is None:
        return [*out, "| (no qslogs row measured) | | | |"]

    def line(name: str, required: str, value: float, cpu: float | None, ok: bool, fmt: str = "{:.2f}×"
             ) -> None:
        extra = f" [{fmt.format(cpu)}]" if cpu is not None else ""
        out.append(f"| {name} | {required} | {fmt.format(value)}{extra} | {'yes' if ok else '**no**'} |")

    if unzip:
        ratio = q.median("wall") / unzip.median("wall")
        line("time vs decompression (`unzip -p`)", f"≤ {spec['vs_unzip']:g}×", ratio,
             q.median("cpu") / unzip.median("cpu"), ratio <= spec["vs_unzip"])
    if pandas:
        ratio = pandas.median("wall") / q.median("wall")
        line("speed-up vs pandas baseline", f"≥ {spec['vs_pandas']:g}×", ratio,
             pandas.median("cpu") / q.median("cpu"), ratio >= spec["vs_pandas"])
    rss = q.median("tree_rss")
    line("peak RSS (process tree)", f"≤ {spec['rss_bytes'] / 2**30:g} GiB", rss / 2**30, None,
         rss <= spec["rss_bytes"], "{:.2f} GiB")
    if big != small and (base := by.get((small, main))):
        # 1.1 × the growth of the data: of its bytes, or of its files when they grow more.
        grown = max(q.bytes / base.bytes, q.files / base.files if base.files else 0.0)
        allowed = spec["growth"] / 10 * grown
        ratio = q.median("wall") / base.median("wall")
        files = f", {base.files:,} → {q.files:,} files" if base.files else ""
        line(f"growth {base.bytes / 1e6:,.0f} → {q.bytes / 1e6:,.0f} MB{files}", f"≤ {allowed:.2f}×", ratio,
             q.median("cpu") / base.median("cpu"), ratio <= allowed)
    before = next((r for r in rows if r.label == big and r.name.startswith(f"{main}, before")), None)
    if before is not None:
        ratio = before.median("wall") / q.median("wall")
        line(f"speed-up vs {before.name.split(', ', 1)[1]}", "≥ 1× (no regression)", ratio,
             before.median("cpu") / q.median("cpu"), ratio >= 1.0)
    return out


def write_results(path: Path, rows: list[Any], qvd: dict[str, float] | None, qvd_rows: int, runs: int,
                  info: dict[str, str], spec: dict[str, float]) -> str:
    """Write RESULTS.md and return its text."""
    lines = ["# Benchmark results", "",
             "Written by `benchmarks/run.py` (see benchmarks/README.md for what each row measures). "
             "Do not edit by hand: re-run.", ""]
    lines += [f"- **{k}**: {v}" for k, v in info.items()]
    lines += ["", f"## Bundles (medians of {runs} runs)", "",
              "MB/s is uncompressed bundle bytes over wall time; records/s counts every parsed record "
              "(all kinds, script-log lines and summaries included). *Peak RSS, tree* sums the RSS of the "
              "command and its worker processes (sampled every 50 ms); *largest process* is "
              "`/usr/bin/time -v`'s maximum resident set size.", ""]
    lines += table(rows)
    measured = {_bundle(r): r.measured for r in rows if r.measured}
    if measured:
        lines += ["", "Measured (machine shared with other work: the load average says how busy it was):", ""]
        lines += [f"- {size}: {when}" for size, when in measured.items()]
    lines += ["", "## Targets", ""]
    lines += targets(rows, spec)
    why = path.parent / "LIMITS.md"  # hand-written: what limits a missed target (kept with the harness)
    if why.exists() and any(line.endswith("| **no** |") for line in lines):
        lines += ["", why.read_text().strip()]
    if qvd:
        bare = next((v for k, v in qvd.items() if k.startswith("bare")), None)
        lines += ["", f"## QVD: {qvd_rows:,} rows × 8 columns (medians of {runs} runs)", "",
                  "| reader | seconds | vs bare qvdrs | rows/s |", "|---|---:|---:|---:|"]
        for name, secs in qvd.items():
            vs = f"{secs / bare - 1:+.1%}" if bare else ""
            lines.append(f"| {name} | {secs:.3f} | {vs} | {qvd_rows / secs / 1e6:,.2f} M |")
    kept = path.read_text() if path.exists() else ""  # bench_qvd_projection.py's own section, carried over
    start, end = "<!-- qvd-projection:start -->", "<!-- qvd-projection:end -->"
    if start in kept and end in kept:
        lines += ["", kept[kept.index(start): kept.index(end) + len(end)]]
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text
