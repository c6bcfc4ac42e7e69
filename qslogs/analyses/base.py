"""The analysis contract: build lazy queries from frames, then turn collected results into findings.

Each analysis is a pair of pure functions. The runner gathers the queries of every analysis and
collects them in one ``pl.collect_all``, so polars can share scans and run them in parallel; then each
analysis builds its typed :class:`~qslogs.analyses.result.Result` from plain DataFrames. Analyses never open files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from qslogs.analyses.result import Result
from qslogs.frames import Frames

if TYPE_CHECKING:
    from qslogs.analyses.licenses.qvd_map import QvdMap


@dataclass(frozen=True)
class AnalysisOptions:
    """What the user chose on the command line; every analysis reads the fields it needs."""

    since: datetime | None = field(default=None, metadata={"help": "ignore records before this UTC instant"})
    until: datetime | None = field(default=None, metadata={"help": "ignore records after this UTC instant; "
                                                                   "also the 'now' of freshness verdicts"})
    stale_hours: float = field(default=24.0, metadata={"help": "a monitoring app older than this is stale"})
    professional: int | None = field(default=None, metadata={"help": "Professional licenses bought"})
    analyzer: int | None = field(default=None, metadata={"help": "Analyzer licenses bought"})
    tokens: int | None = field(default=None, metadata={"help": "tokens bought (token licenses)"})
    qvd_map: QvdMap | None = field(default=None, metadata={"help": "the --qvd-map file, read and checked: "
                                                                    "which QVD fields hold the license columns"})
    failed_only: bool = field(default=False, metadata={"help": "list only failed reload runs"})


@dataclass(frozen=True)
class Analysis:
    """A registered analysis: ``queries`` builds LazyFrames, ``build`` turns their results into a result."""

    name: str
    queries: Callable[[Frames, AnalysisOptions], dict[str, pl.LazyFrame]]
    build: Callable[[dict[str, pl.DataFrame], Frames, AnalysisOptions], Result]


def run(analyses: list[Analysis], frames: Frames, options: AnalysisOptions) -> dict[str, Result]:
    """Run analyses with every query collected in one ``pl.collect_all``."""
    keyed: list[tuple[str, str]] = []
    lazies: list[pl.LazyFrame] = []
    for analysis in analyses:
        for key, lazy in analysis.queries(frames, options).items():
            keyed.append((analysis.name, key))
            lazies.append(lazy)
    collected = pl.collect_all(lazies) if lazies else []
    results: dict[str, dict[str, pl.DataFrame]] = {a.name: {} for a in analyses}
    for (name, key), frame in zip(keyed, collected, strict=True):
        results[name][key] = frame
    return {a.name: a.build(results[a.name], frames, options) for a in analyses}


def time_filter(lazy: pl.LazyFrame, column: str, options: AnalysisOptions) -> pl.LazyFrame:
    """Keep rows inside ``--since``/``--until`` (inclusive) on a UTC datetime column."""
    if options.since is not None:
        lazy = lazy.filter(pl.col(column) >= options.since)
    if options.until is not None:
        lazy = lazy.filter(pl.col(column) <= options.until)
    return lazy
