"""Licenses bought and in use, from the bundle's ``CalInfo`` dump and the command line (formats.md §1.3).

In ``CalInfo`` the ``<X>AllocatedTokens`` of Professional/Analyzer are the allocations *held by users* (in
use), ``<X>UsedTokens`` those that have been used. The licenses *bought* are not among the observed keys;
qslogs reads them from ``<X>TotalTokens`` or, failing that, ``<X>AllocatedTokens + <X>AvailableTokens`` when
a bundle has them, and otherwise needs ``--professional``/``--analyzer``. Tokens: ``TotalTokens`` (0 = no
token license). Command-line values win over the bundle. ``Capacity.source`` says where the numbers came from.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from qslogs.analyses.base import AnalysisOptions
from qslogs.analyses.licenses.result import Capacity, CapacityDetail


def _num(cal: dict[str, Any], key: str) -> float | None:
    lower = {k.lower(): v for k, v in cal.items()}
    value = lower.get(key.lower())
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _source(cli: int | None, bundle: float | None) -> str:
    return "command line" if cli is not None else "bundle CalInfo" if bundle is not None else "unknown"


def capacity_table(meta: dict[str, Any], options: AnalysisOptions) -> Capacity:
    """Licenses bought and in use per access type, with where each number came from (module docstring)."""
    cal = meta.get("CalInfo")
    if isinstance(cal, list):
        cal = next((c for c in cal if isinstance(c, dict)), None)
    cal = cal if isinstance(cal, dict) else {}
    details = []
    for access_type, cli in (("Professional", options.professional), ("Analyzer", options.analyzer)):
        allocated = _num(cal, f"{access_type}AllocatedTokens")
        available = _num(cal, f"{access_type}AvailableTokens")
        bundle = _num(cal, f"{access_type}TotalTokens")
        if bundle is None and allocated is not None and available is not None:
            bundle = allocated + available
        details.append(
            CapacityDetail(
                access_type=access_type,
                capacity=float(cli) if cli is not None else bundle,
                source=_source(cli, bundle),
                in_use=allocated,
                used=_num(cal, f"{access_type}UsedTokens"),
                quarantined=_num(cal, f"{access_type}QuarantinedTokens"),
            )
        )
    total = _num(cal, "TotalTokens")
    tokens_bundle = total if total else None
    details.append(
        CapacityDetail(
            access_type="Tokens",
            capacity=float(options.tokens) if options.tokens is not None else tokens_bundle,
            source=_source(options.tokens, tokens_bundle),
            in_use=tokens_bundle - (_num(cal, "AvailableTokens") or 0.0) if tokens_bundle else None,
            used=None,
            quarantined=None,
        )
    )
    sources = {d.source for d in details if d.source != "unknown"}
    return Capacity(
        source=" + ".join(sorted(sources, reverse=True)) if sources else "unknown",
        professional=details[0].capacity,
        analyzer=details[1].capacity,
        tokens=details[2].capacity,
        details=tuple(details),
        calinfo={k: v for k, v in cal.items() if isinstance(v, int | float)} if cal else None,
    )


def check_calinfo(capacity: Capacity, timeline: pl.DataFrame, warnings: list[str]) -> None:
    """Warn when the logs' allocated count differs from CalInfo's (allocations older than the logs)."""
    for d in capacity.details:
        if d.in_use is None or d.access_type == "Tokens":
            continue
        last = (
            timeline.filter((pl.col("access_type") == d.access_type) & (pl.col("granularity") == "day"))
            .sort("period")["allocated"]
            .drop_nulls()
        )
        if last.len() and float(last[-1]) != d.in_use:
            warnings.append(
                f"{d.access_type}: the logs account for {last[-1]} allocations, CalInfo says "
                f"{d.in_use:g} (allocations made before the logs begin and never used since "
                f"are invisible in the logs); the forecast uses CalInfo's number."
            )
