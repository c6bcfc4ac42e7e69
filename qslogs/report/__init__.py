"""The HTML report: analysis results → one self-contained file (see :mod:`qslogs.report.render`).

Loading, analysing and rendering in one call is :func:`qslogs.pipeline.write_report`.
"""

from qslogs.redact import Redactor
from qslogs.report.render import build_context, render_html, render_report

__all__ = ["Redactor", "build_context", "render_html", "render_report"]
