"""``write_report``: the one call behind ``qslogs report`` (frames → redaction → analyses → HTML file).

It sits above the layers it joins, so the report itself never sees frames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from qslogs.analyses import AnalysisOptions, run_analyses
from qslogs.analyses.licenses.qvd import license_columns
from qslogs.analyses.licenses.qvd_map import QvdMap, QvdMapError, parse_qvd_map
from qslogs.errors import BundleError
from qslogs.frames import Frames
from qslogs.outputs import is_stdout
from qslogs.qvd_loader import load_qvds
from qslogs.redact import Redactor
from qslogs.redact_frames import redact_bundle
from qslogs.report.render import render_report


@dataclass(frozen=True)
class ReportInfo:
    """What was written, for the command's one-line answer."""

    path: Path = field(metadata={"help": "the report file"})
    size: int = field(metadata={"help": "its size in bytes"})
    findings: dict[str, int] = field(metadata={"help": "findings per severity"})
    analyses: list[str] = field(metadata={"help": "the analyses that ran, in report order"})
    seconds: float = field(metadata={"help": "wall time of analyses and rendering"})


def window_text(options: AnalysisOptions) -> str:
    """The ``--since``/``--until`` window in words ('' when neither is set)."""

    def day(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%d %H:%M UTC") if value else "…"

    if options.since is None and options.until is None:
        return ""
    return f"{day(options.since)} → {day(options.until)}"


def write_report(
    frames: Frames,
    out: str | Path,
    *,
    options: AnalysisOptions | None = None,
    title: str = "Qlik Sense log report",
    redact: bool = False,
    redact_seed: str | None = None,
    generated_at: datetime | None = None,
) -> ReportInfo:
    """Run every registered analysis over ``frames`` and write the HTML report to ``out``.

    With ``redact``, names are learnt from every source of the bundle and replaced in the frames before
    any analysis runs (:mod:`qslogs.redact_frames`), then once more in the results.
    """
    started = time.perf_counter()
    options = options or AnalysisOptions()
    redactor: Redactor | None = None
    if redact or redact_seed is not None:
        redactor = Redactor.create(redact_seed)
        frames = redact_bundle(redactor, frames)  # before any analysis masks digits or groups messages
    results = run_analyses(frames, options)
    path = render_report(
        results,
        out,
        title=title,
        sources=frames.sources,
        redact=redactor or False,
        window=window_text(options),
        generated_at=generated_at,
    )
    size = path.stat().st_size if not is_stdout(path) else 0
    counts: dict[str, int] = {}
    for result in results.values():
        for finding in result.findings:
            counts[str(finding.severity)] = counts.get(str(finding.severity), 0) + 1
    return ReportInfo(
        path=path,
        size=size,
        findings=counts,
        analyses=list(results),
        seconds=round(time.perf_counter() - started, 3),
    )


def require_usable(frames: Frames, paths: tuple[Path, ...] | list[Path]) -> None:
    """Raise :class:`BundleError` (exit 3) when nothing in the input was a readable Qlik Sense log or dump."""
    if frames.meta or frames.files.filter(frames.files["status"].is_in(["parsed", "duplicate"])).height:
        return
    named = ", ".join(str(p) for p in paths)
    why = [f"{i.path}: {i.reason}" for i in frames.file_issues[:3]]
    rows = frames.files.head(max(0, 3 - len(why))).iter_rows(named=True)
    why += [f"{r['path']}: {r['note'] or r['status']}" for r in rows]
    detail = "; ".join(why) if why else "no files"
    raise BundleError(f"{named}: not a Qlik Sense log bundle: no log file could be read ({detail})")


def load_qvd_map(path: str | Path) -> QvdMap:
    """Read and check a ``--qvd-map`` file (:func:`~qslogs.analyses.licenses.qvd_map.parse_qvd_map`).

    Raises :class:`~qslogs.analyses.licenses.qvd_map.QvdMapError` (exit 3) naming the file and the problem.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise QvdMapError(f"{p}: cannot read the QVD mapping: {exc}", str(p)) from exc
    return parse_qvd_map(text, str(p))


def with_qvds(frames: Frames, qvd_paths: tuple[Path, ...] | list[Path] = (), qvd_map: QvdMap | None = None) -> Frames:
    """``frames`` with the bundle's QVDs and ``qvd_paths`` loaded, only the fields the license analysis uses.

    The loading step of ``qslogs license`` and ``qslogs report`` for QVDs; pass the same ``qvd_map`` in the
    :class:`AnalysisOptions` of the run.
    """
    return load_qvds(frames, list(qvd_paths), columns=license_columns(qvd_map))
