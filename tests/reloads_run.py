"""The reloads analysis alone, as ``qslogs reloads`` runs it: the typed result, and its ``--json`` object."""

from __future__ import annotations

from typing import Any

from qslogs.analyses import AnalysisOptions, run_analyses
from qslogs.analyses.reloads import ReloadsResult
from qslogs.export import result_json
from qslogs.frames import Frames


def reloads_result(frames: Frames, options: AnalysisOptions | None = None) -> ReloadsResult:
    """The typed result of ``run_analyses(..., only=["reloads"])``."""
    result = run_analyses(frames, options, only=["reloads"])["reloads"]
    assert isinstance(result, ReloadsResult)
    return result


def reloads_json(frames: Frames, options: AnalysisOptions | None = None) -> dict[str, Any]:
    """What ``qslogs reloads --json`` prints for the frames (findings as JSON objects)."""
    return result_json(reloads_result(frames, options))
