"""Analyses over parsed frames: registry and runner (see :mod:`qslogs.analyses.base`)."""

from __future__ import annotations

from qslogs.analyses.activity import ANALYSIS as ACTIVITY
from qslogs.analyses.base import Analysis, AnalysisOptions, run
from qslogs.analyses.input_quality import ANALYSIS as INPUT
from qslogs.analyses.licenses.analysis import ANALYSIS as LICENSES
from qslogs.analyses.reloads.analysis import ANALYSIS as RELOADS
from qslogs.analyses.result import Result
from qslogs.frames import Frames


def registry() -> list[Analysis]:
    """Every analysis, in report order."""
    analyses: list[Analysis] = [RELOADS, LICENSES, ACTIVITY, INPUT]
    return analyses


def run_analyses(frames: Frames, options: AnalysisOptions | None = None,
                 only: list[str] | None = None) -> dict[str, Result]:
    """Run every registered analysis (or the named ones) over the frames."""
    chosen = [a for a in registry() if only is None or a.name in only]
    return run(chosen, frames, options or AnalysisOptions())


__all__ = ["Analysis", "AnalysisOptions", "Result", "registry", "run_analyses"]
