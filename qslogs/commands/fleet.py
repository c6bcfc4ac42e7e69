"""``qslogs fleet``: many sites' bundles in one run, on this machine or on Apache Spark."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import click

from qslogs.commands.options import LIMITS_KEY, as_utc, json_option, quiet_option, strict_option, time_window_options
from qslogs.export import dumps


def _spark_available() -> str | None:
    """Why ``--engine spark`` cannot run here (None when it can)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed: pip install 'qslogs[spark]' (and a Java 17+ runtime)"
    return None


@click.command()
@click.argument("dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write fleet.html, fleet.json, reports/ and data/ to (created; an earlier fleet "
                   "output there is replaced; any other non-empty folder is refused).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="local: a pool of processes on this machine; spark: one Spark task per bundle "
                   "(needs qslogs[spark] and Java).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes of the local engine (default: one per core).")
@click.option("--master", default=None, metavar="URL",
              help="Spark master, e.g. local[4] or spark://host:7077 (default local[*]; under spark-submit, "
                   "the master spark-submit was given).")
@click.option("--title", default="Qlik Sense fleet", show_default=True, help="Title of fleet.html.")
@json_option
@time_window_options
@click.option("--stale-hours", type=click.FloatRange(min=0, min_open=True), default=24.0, show_default=True,
              help="A monitoring app whose last successful reload is older than this is stale.")
@click.option("--redact", is_flag=True,
              help="Replace user names, directories, host names and IP addresses by pseudonyms in the reports, "
                   "the dataset and the JSON (a separate random key per site).")
@strict_option
@quiet_option
def fleet(dirs: tuple[Path, ...], out: Path, engine: str, workers: int | None, master: str | None, title: str,
          as_json: bool, since: datetime | None, until: datetime | None, stale_hours: float, redact: bool,
          strict: bool, quiet: bool) -> None:
    """Analyse many sites at once: every entry (a .zip or a folder) of each DIR is one site's bundle.

    Each site gets the whole analysis of 'qslogs report' and its report in OUT/reports/; OUT/fleet.html
    has a row per site (License and Operations Monitor verdicts, failed runs and their classes, HTTP 401
    connections, license runway, bad input), and OUT/data/ one Parquet dataset per table (runs, findings,
    monitoring_apps, script_logs, licenses, license_fits, bad_input, sites, ...) partitioned by
    site=<name>, for DuckDB, Spark or polars (docs/scale.md). Site names come from the entries, lower
    case and safe for SQL. A bundle that cannot be analysed is listed with its error; the others go on
    (exit 3 only when no bundle could be analysed).

    \b
    Example:
      qslogs fleet bundles/ -o fleet-out/
      qslogs fleet bundles/ -o fleet-out/ --json --until 2026-10-29
      qslogs fleet /mnt/shared/bundles -o /mnt/shared/fleet --engine spark --master spark://head:7077
    """
    from qslogs.fleet import FleetOptions, run_fleet

    if engine == "spark":
        why = _spark_available()
        if why:
            raise click.UsageError(f"--engine spark: {why}")
        if workers is not None:
            raise click.UsageError("--workers is for --engine local; Spark takes its cores from --master")
    elif master is not None:
        raise click.UsageError("--master is for --engine spark")
    limits = click.get_current_context().find_root().meta.get(LIMITS_KEY)
    options = FleetOptions(out=str(out.absolute()), since=as_utc(since), until=as_utc(until),
                           stale_hours=stale_hours, redact=redact, strict=strict, limits=limits)

    def on_site(done: int, total: int, site: str, error: str | None) -> None:
        if not quiet:
            click.echo(f"[{done}/{total}] {site}: {'FAILED: ' + error if error else 'ok'}", err=True)

    result = run_fleet(list(dirs), options, engine=engine, workers=workers or os.cpu_count() or 1,
                       master=master, title=title, on_site=on_site)
    if as_json:
        click.echo(dumps(result.data))
        return
    sites = result.data["sites"]
    failed = [s for s in sites if s["error"]]
    click.echo(f"{len(sites)} sites ({len(failed)} could not be analysed) → {result.out / 'fleet.html'}",
               file=sys.stdout)
    for s in failed:
        click.echo(f"  {s['site']}: {s['error']}")
