"""Shared state of one generation run and small helpers every scenario uses.

:class:`Ctx` bundles the site, the row sink, the row builders and the story's random streams;
:class:`Outcome` says how a scheduled execution ends; :func:`script_path` names a script log.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from qslogs_synth.clock import HOUR, fmt_script_name, from_ms
from qslogs_synth.ids import Ids
from qslogs_synth.rows import Rows
from qslogs_synth.scriptlog import Failure
from qslogs_synth.sink import Sink
from qslogs_synth.site import App, Node, Site


@dataclass
class ScriptFile:
    """A script log to write: bundle-relative path and its lines (CRLF and BOM added on write)."""

    rel: str
    lines: list[str]


@dataclass
class Ctx:
    """Everything a scenario writes into."""

    site: Site
    sink: Sink
    rows: Rows
    ids: Ids
    rng: random.Random
    scripts: list[ScriptFile] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """How an execution ends: success, a script failure, or a failure before the reload starts."""

    status: str = "FinishedSuccess"
    failure: Failure | None = None
    initiation: str | None = None  # the scheduler's reason, e.g. "Could not reserve an executor for task"
    max_retries: bool = False
    error_class: str | None = None


def iso(ms: int) -> str:
    """UTC ISO-8601 with milliseconds, the form TRUTH.json uses for instants."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def script_path(ctx: Ctx, node: Node, app: App, start: int) -> tuple[str, int]:
    """Script-log path for a reload starting at ``start``; the name time is sometimes an hour early."""
    shift = -HOUR if ctx.rng.random() < 0.3 else 0
    folder = "Log/Script" if node.central else f"{node.fqdn}/Script"
    return f"{folder}/{app.app_id}.{fmt_script_name(start + shift)}.{ctx.ids.hex20()}.log", shift // HOUR
