"""The ``qslogs`` command: each subcommand parses its options, calls one library function, echoes.

Exit codes (also in ``qslogs --help``):

\b
  0  success: output written (bad lines and unreadable files, if any, are listed in it)
  1  unexpected internal error: a bug, please report it with the traceback
  2  usage error: unknown option or missing argument
  3  input error: the bundle or a file is missing, unreadable, or not a Qlik Sense bundle
  4  parse error under --strict
  5  output error: the report, an export or temporary files could not be written
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from qslogs.bundle import Limits
from qslogs.errors import BundleError, QslogsError
from qslogs.export import dumps, inventory_summary, write_parquet
from qslogs.frames import Frames
from qslogs.loader import Progress, load_frames

F = TypeVar("F", bound=Callable[..., Any])

EPILOG = """\b
Exit codes:
  0  success: output written (bad input, if any, is listed in it)
  1  unexpected internal error (a bug: please report it with the traceback)
  2  usage error: unknown option or missing argument
  3  input error: bundle or file missing, unreadable, or not a Qlik Sense bundle
  4  parse error under --strict
  5  output error: the report, an export or temporary files could not be written
"""


class QslogsClickError(click.ClickException):
    """A :class:`QslogsError` shown as ``Error: <message>`` with its own exit code, no traceback."""

    def __init__(self, error: QslogsError) -> None:
        super().__init__(str(error))
        # click declares exit_code on the class; this error carries its own.
        setattr(self, "exit_code", int(error.exit_code))  # noqa: B010


class QslogsGroup(click.Group):
    """Turns every deliberate qslogs error into its documented exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QslogsError as exc:
            raise QslogsClickError(exc) from exc


def bundle_paths(func: F) -> F:
    """The PATH... argument shared by every command that reads a bundle."""
    return click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))(func)


def strict_option(func: F) -> F:
    return click.option("--strict", is_flag=True,
                        help="Stop at the first line that does not fit its file's format (exit code 4) "
                             "instead of listing it as a bad line.")(func)


def quiet_option(func: F) -> F:
    return click.option("-q", "--quiet", is_flag=True, help="No progress output on stderr.")(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")(func)


def time_window_options(func: F) -> F:
    """``--since``/``--until``: ISO dates or instants; naive values are taken as UTC."""
    func = click.option("--until", type=click.DateTime(formats=_DATE_FORMATS), default=None,
                        help="Ignore records after this UTC date/time; also 'now' for freshness "
                             "verdicts (default: the end of the bundle).")(func)
    return click.option("--since", type=click.DateTime(formats=_DATE_FORMATS), default=None,
                        help="Ignore records before this UTC date/time (e.g. 2026-10-01).")(func)


_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def as_utc(value: datetime | None) -> datetime | None:
    """click parses naive datetimes; qslogs compares in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def capacity_options(func: F) -> F:
    """Licenses bought, when the bundle has no CalInfo dump (or to override it)."""
    func = click.option("--tokens", type=click.IntRange(min=0), default=None,
                        help="Tokens bought (token licenses).")(func)
    func = click.option("--analyzer", type=click.IntRange(min=0), default=None,
                        help="Analyzer licenses bought (overrides CalInfo from the bundle).")(func)
    return click.option("--professional", type=click.IntRange(min=0), default=None,
                        help="Professional licenses bought (overrides CalInfo from the bundle).")(func)


def qvd_options(func: F) -> F:
    func = click.option("--qvd-map", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                        help="TOML or JSON file naming which QVD fields hold user, access type and "
                             "dates (see qslogs license --help).")(func)
    return click.option("--qvd", "qvd_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
                        help="License Monitor QVD file or folder (repeatable).")(func)


@contextmanager
def progress_bar(quiet: bool, label: str = "Reading bundle") -> Iterator[Progress | None]:
    """A file-count progress bar on stderr, shown only on a terminal (never in pipes or CI logs)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    bar: Any = None

    def update(done: int, total: int, name: str) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True,
                                    item_show_func=lambda n: (n or "")[-50:])
            bar.__enter__()
        bar.current_item = name
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def load(paths: tuple[Path, ...], strict: bool, quiet: bool) -> Frames:
    """Read a bundle for a command; exit code 3 when not one Qlik Sense log or dump in it could be read."""
    ctx = click.get_current_context(silent=True)
    limits = ctx.find_root().meta.get(LIMITS_KEY) if ctx else None
    with progress_bar(quiet) as progress:
        frames = load_frames(list(paths), strict=strict, limits=limits, progress=progress)
    require_usable(frames, paths)
    return frames


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


LIMITS_KEY = "qslogs.limits"
_LIMIT_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3}


def _parse_limits(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> Limits:
    """``--limit NAME=VALUE`` → :class:`Limits`; byte limits accept a K/M/G suffix (powers of 1024)."""
    names = [f.name for f in dataclasses.fields(Limits)]
    changes: dict[str, Any] = {}
    for item in values:
        name, _, raw = item.partition("=")
        name = name.strip().replace("-", "_")
        if name not in names:
            raise click.BadParameter(f"unknown limit {name!r}; known: {', '.join(names)}", ctx, param)
        text = raw.strip().lower()
        unit = _LIMIT_UNITS[text[-1]] if name.endswith("_bytes") and text[-1:] in ("k", "m", "g") else 1
        try:
            number = float(text[:-1] if unit > 1 else text)
        except ValueError:
            raise click.BadParameter(f"{item!r}: VALUE must be a positive number", ctx, param) from None
        if not number > 0:
            raise click.BadParameter(f"{item!r}: VALUE must be a positive number", ctx, param)
        changes[name] = number if name == "max_ratio" else int(number * unit)
    limits = dataclasses.replace(Limits(), **changes)
    ctx.meta[LIMITS_KEY] = limits
    return limits


@click.group(cls=QslogsGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qslogs")
@click.option("--limit", "limits", multiple=True, metavar="NAME=VALUE", callback=_parse_limits,
              expose_value=False, is_eager=True,
              help="Raise or lower a safety limit for untrusted input (repeatable), e.g. "
                   "--limit max_member_bytes=4G. Names: max_member_bytes, max_ratio, max_total_bytes, "
                   "max_depth, max_nested_zip_bytes, max_line_chars (see docs/security.md), and "
                   "spill_bytes: parsed records kept in memory before the rest go to temporary files "
                   "(default 256M; see docs/scale.md).")
def cli() -> None:
    """Analyze Qlik Sense Enterprise log bundles offline.

    PATH can be a Log Collector .zip, a copy of C:\\ProgramData\\Qlik\\Sense\\Log, an ArchivedLogs
    folder, or single log files; give several at once to combine them. Nothing is extracted to disk
    and nothing is sent anywhere.

    \b
    Start with:
      qslogs inspect SenseCollector_1234.zip      what is in the bundle
      qslogs report SenseCollector_1234.zip -o report.html
    """


@cli.command()
@bundle_paths
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (keys files, kinds, totals).")
@strict_option
@quiet_option
def inspect(paths: tuple[Path, ...], as_json: bool, strict: bool, quiet: bool) -> None:
    """List every file of a bundle: kind, node, records, bad lines and time span.

    Unknown files are listed too, with the reason, and unreadable files are named with what was
    wrong. Use it first on a bundle you have not seen.

    \b
    Example:
      qslogs inspect SenseCollector_1234.zip
      qslogs inspect C:/ProgramData/Qlik/Sense/Log --json > inventory.json
    """
    summary = inventory_summary(load(paths, strict, quiet))
    if as_json:
        click.echo(dumps(summary))
        return
    click.echo(render_inventory(summary))


def render_inventory(summary: dict[str, Any]) -> str:
    """The terminal table of ``qslogs inspect``."""
    from qslogs.export import to_jsonable

    lines = []
    rows = [to_jsonable(f) for f in summary["files"]]
    width = min(max((len(r["path"]) for r in rows), default=4), 90)
    lines.append(f"{'path':<{width}}  {'kind':<30} {'host':<14} {'records':>8} {'bad':>5}  first → last")
    for r in rows:
        path = r["path"] if len(r["path"]) <= width else "…" + r["path"][-(width - 1):]
        span = f"{r['first'] or ''} → {r['last'] or ''}" if r["first"] else (r["note"] or r["status"])
        lines.append(f"{path:<{width}}  {r['kind']:<30} {r['host'] or '':<14} {r['records']:>8} "
                     f"{r['bad_lines']:>5}  {span}")
    lines.append("")
    lines.append(f"{'kind':<34} {'files':>6} {'records':>10}")
    for kind, tot in summary["kinds"].items():
        lines.append(f"{kind:<34} {tot['files']:>6} {tot['records']:>10}")
    t = to_jsonable(summary["totals"])
    lines.append("")
    lines.append(f"{t['files']} files, {t['records']:,} records, {t['bad_lines']} bad lines, "
                 f"{t['file_issues']} unreadable files; nodes: {', '.join(t['hosts']) or 'none'}; "
                 f"{t['first'] or '?'} → {t['last'] or '?'}")
    for issue in summary["file_issues"]:
        lines.append(f"  unreadable: {issue['path']}: {issue['reason']}")
    return "\n".join(lines)


@cli.command()
@bundle_paths
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder to write the Parquet datasets to (created if missing).")
@strict_option
@quiet_option
def parse(paths: tuple[Path, ...], out_dir: Path, strict: bool, quiet: bool) -> None:
    """Parse a bundle into Parquet: one dataset per log kind, partitioned by node and date.

    Also writes bad_lines.parquet (every line that did not parse, with file and line number) and
    files.parquet (the inventory). DuckDB, polars, pandas and Spark read the output as is.

    \b
    Example:
      qslogs parse SenseCollector_1234.zip -o parsed/
      duckdb -c "select Status, count(*) from 'parsed/Scheduler.TaskExecution/**/*.parquet' group by 1"
    """
    frames = load(paths, strict, quiet)
    written = write_parquet(frames, out_dir)
    records = sum(frames.height(kind) for kind in frames.frames)
    click.echo(f"{records:,} records in {len(frames.frames)} kinds, {frames.bad_lines.height} bad lines → "
               f"{out_dir} ({len(written)} datasets and files)")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="qslogs")


def _register_commands() -> None:
    import importlib

    from qslogs.commands import COMMAND_MODULES

    for name in COMMAND_MODULES:
        importlib.import_module(f"qslogs.commands.{name}")


_register_commands()
