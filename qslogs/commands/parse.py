"""``qslogs parse``: a bundle as Parquet datasets, written only where qslogs may write (see :mod:`qslogs.dataset`)."""

from __future__ import annotations

from pathlib import Path

import click

from qslogs.commands.options import bundle_paths, load, quiet_option, strict_option
from qslogs.dataset import MARKER, check_site, check_target, write_dataset


def _site(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        check_site(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    return value


@click.command()
@bundle_paths
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path),
              help=f"Folder to write the Parquet datasets to: a new or empty folder, or one qslogs wrote before "
                   f"(it holds {MARKER}). Never an input folder or one inside it.")
@click.option("--site", default=None, callback=_site, metavar="NAME",
              help="Write this bundle under site=NAME partitions, so bundles of several sites share one "
                   "dataset without mixing; a re-run with the same NAME replaces only that site.")
@strict_option
@quiet_option
def parse(paths: tuple[Path, ...], out_dir: Path, site: str | None, strict: bool, quiet: bool) -> None:
    """Parse a bundle into Parquet: one dataset per log kind, partitioned by node and date.

    Also writes bad_lines.parquet (every line that did not parse, with file and line number) and
    files.parquet (the inventory). DuckDB, polars, pandas and Spark read the output as is.

    The output folder must be new or empty, or a dataset qslogs wrote before: a re-run replaces
    exactly what the folder's .qslogs-dataset.json lists and nothing else. A folder that is, lies
    inside or holds an input is refused (exit code 5), before anything is read. Files are written to
    a temporary folder first, so a failed or interrupted run leaves the dataset as it was.

    \b
    Example:
      qslogs parse SenseCollector_1234.zip -o parsed/
      duckdb -c "select Status, count(*) from 'parsed/Scheduler.TaskExecution/**/*.parquet' group by 1"
      qslogs parse acme.zip -o fleet/ --site acme && qslogs parse globex.zip -o fleet/ --site globex
    """
    check_target(out_dir, paths, site)
    frames = load(paths, strict, quiet)
    written = write_dataset(frames, out_dir, site=site)
    records = sum(frames.height(kind) for kind in frames.frames)
    where = f"{out_dir} (site={site})" if site else str(out_dir)
    click.echo(f"{records:,} records in {len(frames.frames)} kinds, {frames.bad_lines.height} bad lines → "
               f"{where} ({len(written)} datasets and files)")
