"""qslogs: offline analyzer for Qlik Sense Enterprise log bundles and monitoring-app QVD files.

Flow: :func:`open_bundle` (list files) → :func:`load_frames` (typed frames per log kind) →
analyses → findings → report.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qslogs.bundle import Limits, open_bundle
    from qslogs.errors import BundleError, ParseError, QslogsError, QvdError, ReportError
    from qslogs.frames import Frames
    from qslogs.loader import load_frames
    from qslogs.pipeline import write_report
    from qslogs.report import render_report

#: Imported on first use, so ``qslogs`` starts (and answers Ctrl-C) before polars is loaded.
_LAZY = {
    "Limits": "qslogs.bundle",
    "open_bundle": "qslogs.bundle",
    "BundleError": "qslogs.errors",
    "ParseError": "qslogs.errors",
    "QslogsError": "qslogs.errors",
    "QvdError": "qslogs.errors",
    "ReportError": "qslogs.errors",
    "Frames": "qslogs.frames",
    "load_frames": "qslogs.loader",
    "render_report": "qslogs.report",
    "write_report": "qslogs.pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qslogs' has no attribute {name!r}")

__all__ = [
    "BundleError",
    "Frames",
    "Limits",
    "ParseError",
    "QslogsError",
    "QvdError",
    "ReportError",
    "load_frames",
    "open_bundle",
    "render_report",
    "write_report",
]
