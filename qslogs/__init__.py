"""qslogs: offline analyzer for Qlik Sense Enterprise log bundles and monitoring-app QVD files.

Flow: :func:`open_bundle` (list files) → :func:`load_frames` (typed frames per log kind) →
analyses → findings → report.
"""

from qslogs.bundle import Limits, open_bundle
from qslogs.errors import BundleError, ParseError, QslogsError, QvdError, ReportError
from qslogs.frames import Frames
from qslogs.loader import load_frames
from qslogs.report import render_report, write_report

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
