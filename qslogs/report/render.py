"""Render the report: results → context → one self-contained HTML file.

One Jinja environment: templates loaded by package name (``PackageLoader``), autoescape on (log text is
untrusted), ``StrictUndefined`` (a missing variable fails instead of rendering an empty cell). CSS and
JavaScript are read verbatim with :mod:`importlib.resources` and inlined as ``Markup``, never rendered
as templates; the data for the page's script goes in one ``<script type="application/json">`` block
through ``|tojson``, which escapes ``<``, ``>``, ``&`` and ``'``, so ``</script>`` cannot occur.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from qslogs.analyses.activity_result import ActivityResult
from qslogs.analyses.input_result import InputResult
from qslogs.analyses.licenses.result import LicensesResult
from qslogs.analyses.reloads import ReloadsResult
from qslogs.analyses.result import Result
from qslogs.errors import ReportError
from qslogs.outputs import write_text
from qslogs.redact import Redactor
from qslogs.report.filters import FILTERS, fmt_ts, plural, ts_ms
from qslogs.report.model import Callout, ReportContext, Section
from qslogs.report.section_activity import activity_section
from qslogs.report.section_bundle import bundle_section
from qslogs.report.section_licenses import licenses_section
from qslogs.report.section_reloads import reloads_section
from qslogs.report.section_status import status_strip
from qslogs.report.sections import generic_section, summary

TEMPLATES = ("report.html", "_summary.html", "_macros.html")
ASSETS = ("report.css", "report.js")
#: Where an inlined asset must not end early (a ``</style>`` in CSS, a ``</script>`` in JS).
_CLOSERS = {"report.css": "</style", "report.js": "</script"}


@cache
def environment() -> Environment:
    """The one Jinja environment of the report."""
    env = Environment(
        loader=PackageLoader("qslogs", "report/templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
    return env


def asset(name: str) -> Markup:
    """An asset from ``qslogs/report/assets``, verbatim, checked so it cannot close its own tag."""
    text = resources.files("qslogs.report").joinpath("assets", name).read_text(encoding="utf-8")
    closer = _CLOSERS.get(name)
    if closer and closer in text.lower():
        raise ReportError(name, f"asset contains {closer}>, which would end its inline tag")
    return Markup(text)


def qslogs_version() -> str:
    try:
        return metadata.version("qslogs")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "dev"


def _coverage(results: Mapping[str, Result]) -> list[Callout]:
    """Coverage warnings for the Bundle section: a short log span (input) and a short license history (the
    licenses findings about the input itself, ``about="bundle"``)."""
    out = []
    for name in ("input", "licenses"):
        for f in results[name].findings if name in results else []:
            if (name == "input" and "days" in f.data) or (name == "licenses" and f.about == "bundle"):
                out.append(Callout(str(f.severity), f.title, f.detail))
    return out


def build_context(
    results: Mapping[str, Result],
    *,
    title: str,
    sources: Sequence[str] = (),
    redacted: bool = False,
    window: str = "",
    generated_at: datetime | None = None,
) -> ReportContext:
    """Arrange the results into the template context (no analysis happens here)."""
    quality = results.get("input")
    first, last, hours, days = (
        (quality.span_first, quality.span_last, quality.span_hours, quality.span_days)
        if isinstance(quality, InputResult)
        else (None, None, None, None)
    )
    span = [ts_ms(first) or 0, ts_ms(last) or 0] if first and last else None
    data: dict[str, Any] = {"span": span, "aggs": {}, "heat": {}}
    sections: dict[str, Section] = {}
    others: list[Section] = []
    for name, result in results.items():
        if isinstance(result, ActivityResult):
            sections["activity"], data["aggs"]["activity"] = activity_section(result, hours)
        elif isinstance(result, InputResult):
            sections["bundle"] = bundle_section(result, _coverage(results))
        elif name == "reloads" and isinstance(result, ReloadsResult):
            sections["reloads"] = reloads_section(result, data)
        elif name == "licenses" and isinstance(result, LicensesResult):
            sections["licenses"] = licenses_section(result, data)
        else:
            others.append(generic_section(result))
    present = {s.id: s.title for s in [*sections.values(), *others]}
    rows, counts = summary(results, present, page_ids([*sections.values(), *others]))
    generated = (generated_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    span_text = (
        f"Logs from {fmt_ts(first)} to {fmt_ts(last)} ({plural(days, 'day')})"
        if span
        else "No dated records"
    )
    return ReportContext(
        title=title,
        generated=generated.replace("+00:00", "Z"),
        version=qslogs_version(),
        sources=list(sources),
        redacted=redacted,
        window=window,
        span=span,
        span_text=span_text,
        counts=counts,
        summary=rows,
        reloads=sections.get("reloads"),
        licenses=sections.get("licenses"),
        activity=sections.get("activity"),
        bundle=sections.get("bundle"),
        others=others,
        data=data,
        css=asset("report.css"),
        js=asset("report.js"),
        status=status_strip(results),
    )


def page_ids(sections: Sequence[Section]) -> set[str]:
    """Every element id the sections put in the page (blocks, tiles, charts, tables, rows, details)."""
    ids: set[str] = set()
    for s in sections:
        ids.add(s.id)
        for b in s.blocks:
            ids.update(x for x in (b.id, *(f.id for f in b.facts), *(c.id for c in b.charts)) if x)
            for t in b.tables:
                ids.add(t.id)
                ids.update(r.id for r in t.rows if r.id)
                ids.update(
                    v["id"] for r in t.rows for v in r.values.values() if isinstance(v, dict) and v.get("id")
                )
    return ids


def render_html(context: ReportContext) -> str:
    """The page as a string."""
    return environment().get_template("report.html").render(r=context)


def redacted(
    redactor: Redactor, results: Mapping[str, Result], sources: Sequence[str]
) -> tuple[dict[str, Result], list[str]]:
    """The results and the Source line as a redacted report shows them (inputs by their pseudonym)."""
    return redactor.results(results), [redactor.source(s) for s in sources]


def render_report(
    results: Mapping[str, Result],
    out: str | Path,
    *,
    title: str = "Qlik Sense log report",
    sources: Sequence[str] = (),
    redact: bool | Redactor = False,
    redact_seed: str | None = None,
    window: str = "",
    generated_at: datetime | None = None,
) -> Path:
    """Write the report of analysis results to ``out`` (one self-contained HTML file) and return its path.

    ``redact`` (True, or a :class:`Redactor` already taught the bundle's names) replaces user names,
    directories, host names and IP addresses everywhere before rendering; ``redact_seed`` makes the
    pseudonyms reproducible. Raises :class:`~qslogs.errors.ReportError` when the file cannot be written.
    """
    redactor = redact if isinstance(redact, Redactor) else Redactor.create(redact_seed) if redact else None
    if redactor is not None:
        results, sources = redacted(redactor, results, sources)
    context = build_context(
        results,
        title=title,
        sources=sources,
        redacted=redactor is not None,
        window=window,
        generated_at=generated_at,
    )
    return write_text(Path(out), render_html(context))
