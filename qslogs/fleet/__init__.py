"""Fleets: many site bundles in one run, on this machine or on Apache Spark (``qslogs fleet``).

- :mod:`~qslogs.fleet.discover`: which entries are bundles, and each site's safe, unique name;
- :mod:`~qslogs.fleet.site`: one site's whole analysis (the calls of ``qslogs report``) → Arrow tables;
- :mod:`~qslogs.fleet.tables`: the schema of each table of the fleet dataset (one source of truth);
- :mod:`~qslogs.fleet.summary`: one site in a few numbers (``--json`` and the fleet page);
- :mod:`~qslogs.fleet.local` / :mod:`~qslogs.fleet.spark`: the two engines, same dataset, same JSON;
- :mod:`~qslogs.fleet.output` / :mod:`~qslogs.fleet.page`: the output folder and ``fleet.html``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from qslogs.errors import BundleError
from qslogs.export import dumps
from qslogs.fleet.discover import Site, Skipped, discover
from qslogs.fleet.output import MARKER, prepare, write_site
from qslogs.fleet.page import build_page, write_page
from qslogs.fleet.site import FleetOptions, summary_of
from qslogs.outputs import write_text
from qslogs.pipeline import window_text

#: Called after each site: (done, total, site name, error or None).
SiteDone = Callable[[int, int, str, str | None], None]
ENGINES = ("local", "spark")


@dataclass(frozen=True)
class FleetResult:
    """What a fleet run wrote: the ``--json`` object and where."""

    data: dict[str, Any]
    out: Path


def run_fleet(dirs: list[Path], options: FleetOptions, *, engine: str = "local", workers: int = 1,
              master: str | None = None, title: str = "Qlik Sense fleet", on_site: SiteDone | None = None
              ) -> FleetResult:
    """Analyse every site bundle found in ``dirs`` and write ``options.out`` (see :mod:`qslogs.fleet.output`).

    A bundle that cannot be analysed is listed with its error and the others go on; only when no site
    could be analysed does this raise :class:`BundleError` (exit 3), after writing the output that lists why.
    """
    out = Path(options.out)
    sites, skipped = discover(dirs, out)
    prepare(out)
    summaries: list[dict[str, Any]] = []
    done: Iterable[tuple[Site, dict[str, pa.Table]]]
    if engine == "spark":
        from qslogs.fleet.spark import run_spark

        done = run_spark(sites, options, master)
    else:
        from qslogs.fleet.local import run_local

        done = run_local(sites, options, workers)
    for site, tables in done:
        if engine != "spark":
            write_site(out, site.name, tables)
        summary = summary_of(tables)
        summaries.append(summary)
        if on_site is not None:
            on_site(len(summaries), len(sites), site.name, summary["error"])
    summaries.sort(key=lambda s: str(s["site"]))
    data = fleet_json(summaries, skipped)
    write_text(out / MARKER, dumps(data) + "\n")
    page = build_page(summaries, data["skipped"], title=title, window=window_text(options.analysis()))
    write_page(page, out / "fleet.html")
    if summaries and all(s["error"] for s in summaries):
        first = summaries[0]
        raise BundleError(f"no site bundle could be analysed (e.g. {first['site']}: {first['error']}); "
                          f"the list is in {out / 'fleet.html'}")
    return FleetResult(data, out)


def fleet_json(summaries: list[dict[str, Any]], skipped: list[Skipped]) -> dict[str, Any]:
    """The ``qslogs fleet --json`` object: ``sites`` sorted by name, and the entries that were not bundles."""
    return {"sites": summaries, "skipped": [{"path": s.path, "reason": s.reason} for s in skipped]}


__all__ = ["ENGINES", "FleetOptions", "FleetResult", "Site", "fleet_json", "run_fleet"]
