"""``--engine local``: the sites spread over a pool of processes on this machine.

Each process analyses whole bundles (one at a time, with ``QSLOGS_WORKERS=1`` so a large bundle does
not start a second level of workers) and sends its Arrow tables back; the parent writes them. Processes
are started with ``spawn``: polars' thread pool does not survive ``fork``. A process that dies (killed
for memory, say) costs the sites it held, which are listed with that error, not the run.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

import pyarrow as pa

from qslogs.fleet.discover import Site
from qslogs.fleet.site import FleetOptions, _failed, analyse_site, single_worker_env

Done = Callable[[Site, dict[str, pa.Table]], None]
DIED = "the process analysing this bundle ended without an answer (out of memory?); run 'qslogs report' on it alone"


def run_local(sites: list[Site], options: FleetOptions, workers: int) -> Iterator[tuple[Site, dict[str, pa.Table]]]:
    """Analyse every site, yielding ``(site, tables)`` as each is done (in completion order)."""
    if workers <= 1 or len(sites) <= 1:
        for site in sites:
            yield site, analyse_site(site, options)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(sites)), mp_context=context,
                             initializer=single_worker_env) as pool:
        futures: dict[Future[dict[str, pa.Table]], Site] = {
            pool.submit(analyse_site, site, options): site for site in sites}
        for future in as_completed(futures):
            site = futures[future]
            try:
                yield site, future.result()
            except BrokenProcessPool:
                yield site, _failed(site, DIED)
