"""The HTML report: analysis results → one self-contained file (see :mod:`qslogs.report.render`)."""

from qslogs.report.api import ReportInfo, write_report
from qslogs.report.redact import Redactor
from qslogs.report.render import build_context, render_html, render_report

__all__ = ["Redactor", "ReportInfo", "build_context", "render_html", "render_report", "write_report"]
