"""``generate_bundle``: build the site, plant the stories, add filler, write everything.

Order matters for determinism: the story is generated first from its own seeded streams, then the
filler (which only appends), then every file is written in a fixed order.  The same arguments give
byte-identical output.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

from qslogs_synth import background, licenses, monitoring, reloads
from qslogs_synth.activity import client_ip
from qslogs_synth.bulk import add_bulk
from qslogs_synth.clock import to_ms
from qslogs_synth.collector import write_dumps
from qslogs_synth.context import Ctx
from qslogs_synth.ids import Ids
from qslogs_synth.nodejs import write_engine_daily, write_nodejs
from qslogs_synth.rows import Rows
from qslogs_synth.sink import BOM, Sink
from qslogs_synth.site import build_site
from qslogs_synth.truth import Parts, finish

DEFAULT_SEED = 7
DEFAULT_END = datetime(2026, 10, 31, 18, 0, tzinfo=UTC)
_USER_APPS = (
    "Sales Overview",
    "Finance Ledger",
    "Executive Dashboard",
    "Customer Churn",
    "Warehouse Stock",
    "HR Headcount",
    "Operations Monitor",
)
_DATA_CONNECTIONS = [
    f"monitor_apps_REST_{x}"
    for x in (
        "app",
        "appobject",
        "event",
        "license_access",
        "license_analyzer",
        "license_login",
        "license_overview",
        "license_professional",
        "license_user",
        "task",
        "user",
    )
]
_DATA_CONNECTIONS += [
    "Finance_SQL",
    "WMS_ODBC",
    "Churn_DB",
    "DWH_SQL",
    "DataFiles",
    "ServerLogFolder",
    "ArchivedLogsFolder",
]


def _folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def generate_bundle(
    out_dir: Path,
    *,
    seed: int = DEFAULT_SEED,
    end: datetime = DEFAULT_END,
    target_mb: float | None = None,
    nodes: int = 2,
    scenario: str | None = None,
) -> Path:
    """Write a synthetic, unzipped Log Collector bundle and its answer key; return the bundle folder.

    Layout under ``out_dir``: ``bundle/`` (the collector folder: JSON dumps, ``SenseCollector.log``,
    ``Log/`` active logs of the central node, ``<node-fqdn>/`` archived logs per node), ``TRUTH.json``
    (every planted fact with its expected values and file:line locations), ``README.md`` and
    ``qvd/license_allocation_history.qvd``.  ``target_mb`` (1 MB = 10**6 bytes of bundle files) adds
    filler traffic until the bundle is about that size; without it the bundle is a few MB.
    ``scenario`` (``healthy``, ``failing``, ``stale``, ``missing``; :mod:`qslogs_synth.monitoring`) plants
    that state of the License Monitor plus the service account's license denials; None keeps the default
    story (the License Monitor fails two days after the upgrade, then recovers).
    """
    monitoring.check(scenario)
    out_dir = Path(out_dir)
    root = out_dir / "bundle"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    site = build_site(seed, to_ms(end), nodes)
    ids = Ids(random.Random(f"{seed}:ids"))
    sink = Sink(
        site.nodes,
        site.restarts,
        {n.index: site.upgrade_at(n.index) for n in site.nodes},
        Ids(random.Random(f"{seed}:signatures")),
    )
    ctx = Ctx(site, sink, Rows(site, ids), ids, random.Random(f"{seed}:story"))

    lic_truth, allocations = licenses.generate(ctx, [site.apps[a] for a in _USER_APPS])
    reload_truth = reloads.generate(ctx, allocations, scenario)
    warnings = background.generate(ctx)

    pro = (
        licenses.PROFESSIONAL_CAPACITY,
        lic_truth["professional"]["allocated_at_end"],
        lic_truth["professional"]["used_at_end"],
    )
    if scenario is not None:  # a scenario is about the monitoring apps: its licenses have room to grow
        monitoring.roomy_analyzer(lic_truth, to_ms(end))
    ana = (
        lic_truth["capacity"]["analyzer"],
        lic_truth["analyzer"]["allocated_at_end"],
        lic_truth["analyzer"]["used_at_end"],
    )
    dumps = write_dumps(ctx, root, pro, ana, _DATA_CONNECTIONS)
    ips = sorted({client_ip(ctx, u) for u in site.users})
    nodejs = write_nodejs(ctx, root, ips)
    nodejs.update(write_engine_daily(ctx, root))

    filler = None
    if target_mb is not None:
        scripts = sum(len(line.encode()) + 2 for s in ctx.scripts for line in s.lines)
        budget = int(target_mb * 1e6) - _folder_bytes(root) - sink.queued_bytes - scripts
        if budget > 0:
            filler = add_bulk(ctx, budget, seed)

    for script in ctx.scripts:
        path = root / script.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((BOM + "\r\n".join(script.lines) + "\r\n").encode())
    sink.write(root)
    finish(
        Parts(
            out_dir=out_dir,
            root=root,
            ctx=ctx,
            licenses=lic_truth,
            reloads=reload_truth,
            warnings=warnings,
            dumps=dumps,
            nodejs=nodejs,
            filler=filler,
            allocations=allocations,
            target_mb=target_mb,
        )
    )
    return root
