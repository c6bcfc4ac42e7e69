"""The "Upgrades and restarts" block of the Reloads section: per node, the product-version changes seen
inside the bundle and the service start-ups, since a reload post-mortem starts with what changed and when
the services restarted. Arranges the ``version_changes`` and ``restarts`` tables of the reloads analysis.
"""

from __future__ import annotations

from typing import Any

from qslogs.report.model import Block, Column
from qslogs.report.sections import make_table


def nodes_block(changes: list[dict[str, Any]], restarts: list[dict[str, Any]]) -> Block:
    """Version changes, then start-ups per node (with the services that started); the rows of the reloads
    analysis' ``version_changes`` and ``restarts`` as JSON values."""
    versions = make_table(
        "t-reloads-versions",
        [
            Column("host", "Node"),
            Column("service", "Log"),
            Column("from", "From version"),
            Column("to", "To version"),
            Column("last_old", "Last old", "ts"),
            Column("first_new", "First new", "ts"),
        ],
        changes,
        ts="first_new",
        caption="Product versions that changed inside the bundle (an upgrade between the two times).",
        empty="No product version changed inside the bundle.",
    )
    rows = [
        {**r, "service_list": ", ".join(f"{s['service']} {s['startups']}" for s in r["services"])} for r in restarts
    ]
    starts = make_table(
        "t-reloads-restarts",
        [
            Column("host", "Node"),
            Column("startups", "Start-ups", "int", "start-up lines of the services (engine: Server Started)"),
            Column("service_list", "By service"),
            Column("first", "First", "ts"),
            Column("last", "Last", "ts"),
        ],
        rows,
        ts="first",
        te="last",
        caption="Service start-ups seen per node: restarts, patch nights, upgrades.",
        empty="No service start-up line in the bundle.",
    )
    return Block(title="Upgrades and restarts", id="reloads-nodes", tables=[versions, starts])
