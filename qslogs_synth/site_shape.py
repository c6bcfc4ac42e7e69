"""``generate_site``: a bundle with the file-count shape of a real site (many small files), for benchmarks.

The default generator (:func:`qslogs_synth.generate_bundle`) grows a bundle by making its files larger:
a 1 GB bundle is a few thousand files of up to 8 MB. Real bundles are the other way round: every node
archives its .NET logs daily (about thirty files per node per day, most of them small), the node.js
services roll a file per start, and every reload writes its own script log. A 4-node site with 30 days
of history and 500 reloads a day is tens of thousands of files averaging tens of kilobytes.

So this shape keeps the planted story of the default generator (so the report has something to say)
and adds, over ``days`` days:

- ``reloads_per_day`` successful reloads spread over the nodes, each with its scheduler, engine and
  repository rows and its own script log (``Log/Script`` on the central node, ``<fqdn>/Script`` on
  the others);
- .NET filler rows (engine, proxy, repository, scheduler) written by the same sink, rolled **daily**
  and at about ``roll_bytes``, as log4net rolls archived files;
- one node.js file per service per node per day (a process start), small as real ones are.

The output is deterministic for a seed. Nothing here changes what :func:`generate_bundle` writes.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

from qslogs_synth import background, licenses, reloads
from qslogs_synth.activity import client_ip
from qslogs_synth.bulk import KINDS, Pool, _filler_tasks, _mean_size, _stream
from qslogs_synth.bundle import _DATA_CONNECTIONS, _USER_APPS, DEFAULT_END, DEFAULT_SEED
from qslogs_synth.clock import DAY, MINUTE, to_ms
from qslogs_synth.collector import write_dumps
from qslogs_synth.context import Ctx, Outcome
from qslogs_synth.headers import NODEJS
from qslogs_synth.ids import Ids
from qslogs_synth.nodejs import _service_file, write_engine_daily, write_nodejs
from qslogs_synth.rows import Rows
from qslogs_synth.runs import run_task
from qslogs_synth.sink import BOM, Sink
from qslogs_synth.site import NODEJS_VERSION, build_site

#: .NET filler bytes per node per day when no total size is asked for.
MB_PER_NODE_DAY = 6.0


def generate_site(
    out_dir: Path,
    *,
    nodes: int = 4,
    days: int = 30,
    reloads_per_day: int = 500,
    target_mb: float | None = None,
    seed: int = DEFAULT_SEED,
    end: datetime = DEFAULT_END,
    roll_bytes: int = 256_000,
) -> Path:
    """Write a site-shaped bundle under ``out_dir/bundle`` and a ``SHAPE.json`` summary; return the folder.

    ``target_mb`` (1 MB = 10**6 bytes) sets the whole bundle's size; without it the .NET filler is
    :data:`MB_PER_NODE_DAY` per node per day. The reloads and node.js files come on top of the story.
    """
    if nodes < 2:
        raise ValueError("a site has at least two nodes (the story needs a rim node)")
    out_dir = Path(out_dir)
    root = out_dir / "bundle"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    site = build_site(seed, to_ms(end), nodes)
    sink = Sink(site.nodes, site.restarts, {n.index: site.upgrade_at(n.index) for n in site.nodes},
                Ids(random.Random(f"{seed}:signatures")))
    ctx = Ctx(site, sink, Rows(site, Ids(random.Random(f"{seed}:ids"))), Ids(random.Random(f"{seed}:ids2")),
              random.Random(f"{seed}:story"))
    lic_truth, allocations = licenses.generate(ctx, [site.apps[a] for a in _USER_APPS])
    reloads.generate(ctx, allocations)
    background.generate(ctx)
    pro = (licenses.PROFESSIONAL_CAPACITY, lic_truth["professional"]["allocated_at_end"],
           lic_truth["professional"]["used_at_end"])
    ana = (licenses.ANALYZER_CAPACITY, lic_truth["analyzer"]["allocated_at_end"], lic_truth["analyzer"]["used_at_end"])
    write_dumps(ctx, root, pro, ana, _DATA_CONNECTIONS)
    write_nodejs(ctx, root, sorted({client_ip(ctx, u) for u in site.users}))
    write_engine_daily(ctx, root)

    lo = site.end_ms - days * DAY
    n_reloads = _daily_reloads(ctx, lo, days, reloads_per_day)
    n_nodejs = _daily_nodejs(ctx, root, lo, days)
    budget = (int(target_mb * 1e6) - _queued(ctx, root) if target_mb is not None
              else int(MB_PER_NODE_DAY * 1e6 * nodes * days))
    rows = _filler(ctx, lo, max(budget, 0), seed)
    for script in ctx.scripts:
        path = root / script.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((BOM + "\r\n".join(script.lines) + "\r\n").encode())
    sink.write(root, roll_bytes=roll_bytes, roll_period_ms=DAY)
    _summary(out_dir, root, dict(nodes=nodes, days=days, reloads_per_day=reloads_per_day, seed=seed,
                                 reloads=n_reloads, nodejs_files=n_nodejs, filler_rows=rows))
    return root


def _queued(ctx: Ctx, root: Path) -> int:
    written = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    scripts = sum(len(line.encode()) + 2 for s in ctx.scripts for line in s.lines)
    return written + ctx.sink.queued_bytes + scripts


def _daily_reloads(ctx: Ctx, lo: int, days: int, per_day: int) -> int:
    """``per_day`` successful reloads a day, round-robin over filler tasks on every node."""
    site = ctx.site
    tasks = _filler_tasks(ctx)
    site.tasks.update({f"filler{i}": t for i, t in enumerate(tasks)})
    n = 0
    step = DAY // max(per_day, 1)
    for day in range(days):
        for k in range(per_day):
            t = lo + day * DAY + k * step + ctx.rng.randint(0, max(step // 2, 1))
            if t > site.end_ms - 30 * MINUTE:
                continue
            # A rim node's active files after its last restart are not in the bundle: its tasks' runs
            # then go to the nodes that are, so the count per day holds.
            up = [x for x in tasks if x.node.central or t < site.restarts[x.node.index][-1] - 10 * MINUTE]
            run_task(ctx, up[(day * per_day + k) % len(up)], t, Outcome())
            n += 1
    return n


def _daily_nodejs(ctx: Ctx, root: Path, lo: int, days: int) -> int:
    """One rolled node.js file per service per node per day (a process start); the last day stays active."""
    count = 0
    for node in ctx.site.nodes:
        folder = "Log" if node.central else f"{node.fqdn}"
        for day in range(days - 1):
            t0 = lo + day * DAY + 3 * 3_600_000 + node.index * 61_000
            for svc in NODEJS_VERSION:
                name, recs, _ = _service_file(ctx, node, svc, t0, t0 + DAY - MINUTE)
                path = root / folder / svc / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes((NODEJS + "\r\n" + "".join(r + "\r\n" for r in recs)).encode())
                count += 1
    return count


def _filler(ctx: Ctx, lo: int, budget: int, seed: int) -> int:
    """.NET filler rows worth ``budget`` bytes, shared equally by the nodes (each up to its last file)."""
    site = ctx.site
    pool = Pool(list(site.apps.values()), [u for u in site.users if u.kind != "none"], list(site.tasks.values()))
    share = 1.0 / len(site.nodes)
    total = 0
    for service, logtype, part, build, personal in KINDS:
        for node in site.nodes:
            hi = site.end_ms if node.central else site.restarts[node.index][-1] - MINUTE
            if personal:
                hi = min(hi, site.story_start_ms)
            n = int(budget * part * share / _mean_size(ctx, pool, build, node))
            rng = random.Random(f"{seed}:site:{service}:{logtype}:{node.index}")
            ctx.sink.add_bulk(node, service, logtype, _stream(Rows(site, Ids(rng)), pool, build, node, lo, hi, n, rng))
            total += n
    return total


def _summary(out_dir: Path, root: Path, facts: dict[str, int]) -> None:
    """``SHAPE.json``: what was asked for and the file-count distribution that came out."""
    sizes = sorted(p.stat().st_size for p in root.rglob("*") if p.is_file())
    tops = Counter(p.relative_to(root).parts[0] for p in root.rglob("*") if p.is_file())
    shape = dict(
        **facts,
        files=len(sizes),
        bytes=sum(sizes),
        mean_bytes=round(sum(sizes) / max(len(sizes), 1)),
        median_bytes=sizes[len(sizes) // 2] if sizes else 0,
        files_under_64k=sum(1 for s in sizes if s < 65_536),
        files_by_top_folder=dict(sorted(tops.items())),
    )
    (out_dir / "SHAPE.json").write_text(json.dumps(shape, indent=2) + "\n")
