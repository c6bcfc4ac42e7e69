"""``qslogs report``: the whole analysis as one self-contained HTML file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from qslogs.analyses.base import AnalysisOptions
from qslogs.commands.options import (
    bundle_paths,
    capacity_options,
    load,
    quiet_option,
    qvd_options,
    strict_option,
    time_window_options,
)
from qslogs.outputs import check_report_target, is_stdout
from qslogs.pipeline import load_qvd_map, with_qvds, write_report
from qslogs.report.filters import fmt_bytes


@click.command()
@bundle_paths
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="The HTML file to write (one self-contained file: no network, opens with a double click); "
    "'-' writes it to stdout. Only a regular file is replaced: a folder, FIFO, device or symbolic link "
    "is refused (exit code 5), checked before any work starts.",
)
@click.option("--title", default="Qlik Sense log report", show_default=True, help="Title of the report.")
@time_window_options
@capacity_options
@qvd_options
@click.option(
    "--stale-hours",
    type=click.FloatRange(min=0, min_open=True),
    default=24.0,
    show_default=True,
    help="A monitoring app whose last successful reload is older than this is stale.",
)
@click.option(
    "--redact",
    is_flag=True,
    help="Replace user names, user directories, host names, domains, e-mail and IP addresses and the "
    "input's own name by stable pseudonyms (user-01, host-01, input-01.zip, …) everywhere in the report; "
    "names are replaced in the records before any analysis.",
)
@click.option(
    "--redact-seed",
    default=None,
    metavar="TEXT",
    help="Derive the pseudonyms from TEXT, so two reports number names alike (implies --redact; "
    "default: a random key per report).",
)
@strict_option
@quiet_option
def report(
    paths: tuple[Path, ...],
    out: Path,
    title: str,
    since: datetime | None,
    until: datetime | None,
    professional: int | None,
    analyzer: int | None,
    tokens: int | None,
    qvd_paths: tuple[Path, ...],
    qvd_map: Path | None,
    stale_hours: float,
    redact: bool,
    redact_seed: str | None,
    strict: bool,
    quiet: bool,
) -> None:
    """Write the report: health summary, reloads, licenses, activity and bundle, in one HTML file.

    The file holds its styles, script and charts (inline SVG): it makes no network request, opens
    from disk on an air-gapped laptop and can be e-mailed as is. Findings come first, most severe
    on top; tables sort and filter in the browser and a date range narrows tables and charts; the
    page also reads with JavaScript off and prints well. --redact replaces names everywhere,
    including inside messages and root-cause lines, before anything is rendered.

    \b
    Example:
      qslogs report SenseCollector_1234.zip -o report.html
      qslogs report Log/ ArchivedLogs/ -o report.html --title "ACME: reload failures" --analyzer 40
      qslogs report SenseCollector_1234.zip -o shareable.html --redact --qvd LicenseMonitor/
    """
    check_report_target(out, paths)
    mapping = load_qvd_map(qvd_map) if qvd_map else None
    options = AnalysisOptions(
        since=since,
        until=until,
        stale_hours=stale_hours,
        professional=professional,
        analyzer=analyzer,
        tokens=tokens,
        qvd_map=mapping,
    )
    frames = with_qvds(load(paths, strict, quiet), qvd_paths, mapping)
    info = write_report(frames, out, options=options, title=title, redact=redact, redact_seed=redact_seed)
    found = ", ".join(
        f"{info.findings[s]} {s}" for s in ("critical", "warning", "info", "ok") if s in info.findings
    )
    if is_stdout(out):
        click.echo(f"report written to stdout ({info.seconds:.1f} s): {found or 'no findings'}", err=True)
    else:
        click.echo(f"{info.path} ({fmt_bytes(info.size)}, {info.seconds:.1f} s): {found or 'no findings'}")
