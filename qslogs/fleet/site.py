"""One site of a fleet: the whole per-bundle analysis, its report, and its rows of the fleet dataset.

:func:`analyse_site` is what both engines run for each bundle (in a pool process or a Spark task). It
makes the library calls of ``qslogs report`` (:func:`load_frames`, :func:`run_analyses`, the report's
renderer) and turns the analysis tables into the fleet's Arrow tables. It never raises for a bad
bundle: the error becomes the site's ``error`` and its row in ``sites``, so the other sites go on.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from qslogs.analyses import AnalysisOptions, run_analyses
from qslogs.analyses.input_result import InputResult
from qslogs.analyses.licenses.result import LicensesResult
from qslogs.analyses.reloads import ReloadsResult
from qslogs.analyses.result import Result
from qslogs.bundle import Limits
from qslogs.errors import QslogsError
from qslogs.fleet.discover import Site
from qslogs.fleet.summary import site_row, site_summary
from qslogs.fleet.tables import TABLES, arrow_table
from qslogs.jsonable import frame_rows
from qslogs.loader import load_frames


@dataclass(frozen=True)
class FleetOptions:
    """What every site is analysed with (picklable: it travels to pool processes and Spark executors)."""

    out: str = field(metadata={"help": "the fleet output folder; reports go to <out>/reports"})
    since: datetime | None = None
    until: datetime | None = None
    stale_hours: float = 24.0
    redact: bool = False
    strict: bool = False
    limits: Limits | None = None

    def analysis(self) -> AnalysisOptions:
        return AnalysisOptions(since=self.since, until=self.until, stale_hours=self.stale_hours)


def report_path(site: str) -> str:
    """Where a site's report goes, relative to the fleet output folder."""
    return f"reports/{site}.html"


def analyse_site(site: Site, options: FleetOptions) -> dict[str, pa.Table]:
    """Every fleet table of one site (an error gives only its ``sites`` row, with the error)."""
    try:
        results = _analyse(site, options)
    except QslogsError as exc:
        return _failed(site, str(exc))
    except Exception as exc:  # noqa: BLE001 - one broken bundle must not stop the fleet; the trace is kept
        trace = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return _failed(site, f"internal error (a bug, please report it): {trace}")
    rows = site_tables(results)
    summary = site_summary(site.name, site.path, report_path(site.name), results, None)
    tables = {name: arrow_table(name, site.name, rows.get(name, [])) for name in TABLES if name != "sites"}
    tables["sites"] = arrow_table("sites", site.name, [site_row(summary)])
    return tables


def _failed(site: Site, error: str) -> dict[str, pa.Table]:
    summary = site_summary(site.name, site.path, None, {}, error)
    return {"sites": arrow_table("sites", site.name, [site_row(summary)])}


def _analyse(site: Site, options: FleetOptions) -> dict[str, Result]:
    """Load, analyse, (redact,) render: the calls of ``qslogs report``."""
    from qslogs.outputs import write_text
    from qslogs.pipeline import require_usable, window_text, with_qvds
    from qslogs.redact import Redactor
    from qslogs.redact_frames import redact_bundle
    from qslogs.report.render import build_context, redacted, render_html

    frames = load_frames([Path(site.path)], strict=options.strict, limits=options.limits)
    require_usable(frames, [Path(site.path)])
    frames = with_qvds(frames)  # the QVDs in the site's bundle, as `qslogs report` reads them
    analysis = options.analysis()
    redactor = Redactor.create(None) if options.redact else None
    if redactor is not None:
        frames = redact_bundle(redactor, frames)  # as `report --redact`: names replaced before any analysis
    results = run_analyses(frames, analysis)
    sources = list(frames.sources)
    if redactor is not None:
        results, sources = redacted(redactor, results, sources)  # as the report does: inputs by pseudonym
    context = build_context(results, title=f"{site.name}: Qlik Sense log report", sources=sources,
                            redacted=options.redact, window=window_text(analysis))
    write_text(Path(options.out) / report_path(site.name), render_html(context))
    return results


def site_tables(results: Mapping[str, Result]) -> dict[str, list[dict[str, Any]]]:
    """The analysis rows of each fleet table (the ``--json`` tables of ``reloads``, ``license``, …)."""
    reloads = results["reloads"]
    assert isinstance(reloads, ReloadsResult)
    licenses = results["licenses"]
    quality = results["input"]
    if not isinstance(quality, InputResult):
        raise TypeError(f"the input analysis returned {type(quality).__name__}, not InputResult")
    findings = [
        {"analysis": f.analysis, "severity": f.severity.value, "title": f.title, "detail": f.detail}
        for result in results.values() for f in result.findings
    ]
    bad = [
        {"path": b["source_file"], "kind": b["kind"], "problem": "bad lines", "bad_lines": b["count"],
         "first_line_no": (b.get("first_lines") or [{}])[0].get("line_no"),
         "reason": (b.get("first_lines") or [{}])[0].get("reason")}
        for b in frame_rows(quality.bad_files)
    ] + [
        {"path": i["path"], "kind": None, "problem": "unreadable", "bad_lines": 0, "first_line_no": None,
         "reason": i["reason"]}
        for i in frame_rows(quality.file_issues)
    ]
    return {
        "runs": frame_rows(reloads.runs),
        "manual_reloads": frame_rows(reloads.manual_reloads),
        "monitoring_apps": frame_rows(reloads.monitoring_apps),
        "findings": findings,
        "script_logs": frame_rows(reloads.script_logs),
        "licenses": frame_rows(licenses.forecast) if isinstance(licenses, LicensesResult) else [],
        "license_fits": frame_rows(licenses.fits) if isinstance(licenses, LicensesResult) else [],
        "bad_input": bad,
    }


def summary_of(tables: Mapping[str, pa.Table]) -> dict[str, Any]:
    """The site's ``--json`` object, read back from its ``sites`` row."""
    value: dict[str, Any] = json.loads(tables["sites"].column("summary_json")[0].as_py())
    return value


def single_worker_env() -> None:
    """In a pool process or an executor, parse each bundle with one process (the fleet is the parallelism)."""
    os.environ.setdefault("QSLOGS_WORKERS", "1")


__all__ = ["FleetOptions", "analyse_site", "report_path", "site_tables", "summary_of"]
