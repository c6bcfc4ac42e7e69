"""Quoted log lines in the report: the time of each line written on both clocks.

A line quoted from a node's log (a script log in the node's wall-clock time, a scheduler line in UTC)
sits beside row times in UTC; the analysis puts both clocks on every context line
(:data:`qslogs.analyses.reloads.result.CONTEXT_LINE`), and this module only writes them out.
"""

from __future__ import annotations

from typing import Any


def line_clock(c: dict[str, Any]) -> str:
    """``04:31:30 UTC · 05:31:30 node-local (UTC+01:00)``: a quoted log line's time on both clocks.

    The analysis put both clocks on every context line (``utc``, ``local``, ``offset_minutes``); this
    only writes them out. Without a known offset the line's own clock is named as such.
    """
    utc, local, offset = c["utc"], c["local"], c["offset_minutes"]
    parts = []
    if utc:
        parts.append(f"{str(utc)[11:19]} UTC")
    if local:
        if isinstance(offset, int):
            sign = "+" if offset >= 0 else "−"
            zone = f"UTC{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
        else:
            zone = "offset unknown"
        parts.append(f"{str(local)[11:19]} node-local ({zone})")
    if not parts and c["time"]:
        raw = str(c["time"])
        parts.append(f"{raw[11:19]} UTC" if raw.endswith("Z") else f"{raw[11:19]} node-local (offset unknown)")
    return " · ".join(parts)
