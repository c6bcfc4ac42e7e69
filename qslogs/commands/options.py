"""Options shared by the subcommands, declared once, and the one way a command reads its input.

Each decorator adds one option (or a group of related ones) with its help text; every command that
reads a bundle uses :func:`bundle_paths` and :func:`load`, so input errors, progress and the
``--since``/``--until`` checks behave the same everywhere.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from qslogs.bundle import Limits
from qslogs.dates import DateError, check_window, outside_bundle, parse_when
from qslogs.errors import BundleError
from qslogs.frames import Frames
from qslogs.loader import Progress, load_frames

F = TypeVar("F", bound=Callable[..., Any])

LIMITS_KEY = "qslogs.limits"
WINDOW_KEY = "qslogs.window"
_LIMIT_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3}


if TYPE_CHECKING:  # generic in click >= 8.2 only
    _ParamType = click.ParamType[datetime]
else:
    _ParamType = click.ParamType


class When(_ParamType):
    """A ``--since``/``--until`` value: see :mod:`qslogs.dates` for the accepted forms."""

    name = "WHEN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_when(str(value))
        except DateError as exc:
            self.fail(str(exc), param, ctx)


def as_utc(value: datetime | None) -> datetime | None:
    """A naive datetime taken as UTC (:class:`When` already gives aware ones; kept for older callers)."""
    return value if value is None or value.tzinfo is not None else value.replace(tzinfo=UTC)


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
    """``--since``/``--until`` (see :mod:`qslogs.dates`); ``--since`` after ``--until`` is a usage error."""

    @functools.wraps(func)
    def checked(*args: Any, since: datetime | None, until: datetime | None, **kwargs: Any) -> Any:
        try:
            check_window(since, until)
        except DateError as exc:
            raise click.UsageError(str(exc)) from None
        ctx = click.get_current_context(silent=True)
        if ctx is not None:
            ctx.meta[WINDOW_KEY] = (since, until)
        return func(*args, since=since, until=until, **kwargs)

    wrapped = click.option("--until", type=When(), default=None,
                           help="Ignore records after this time; also the 'now' of freshness verdicts "
                                "(default: the end of the bundle). Same forms as --since.")(checked)
    return click.option("--since", type=When(), default=None,
                        help="Ignore records before this time: 2026-10-01, 2026-10-01T14:30Z, "
                             "'2026-10-01 14:30:00.000+02:00', now, today, or -7d / -12h / -30m "
                             "(before now). Times without a zone are UTC.")(wrapped)  # type: ignore[return-value]


def capacity_options(func: F) -> F:
    """Licenses bought, when the bundle has no CalInfo dump (or to override it)."""
    func = click.option("--tokens", type=click.IntRange(min=0), default=None,
                        help="Tokens bought (token licenses).")(func)
    func = click.option("--analyzer", type=click.IntRange(min=0), default=None,
                        help="Analyzer licenses bought (overrides CalInfo from the bundle).")(func)
    return click.option("--professional", type=click.IntRange(min=0), default=None,
                        help="Professional licenses bought (overrides CalInfo from the bundle).")(func)


def qvd_options(func: F) -> F:
    """``--qvd``/``--qvd-map``. A missing path is an input error (exit 3), like a missing bundle."""
    func = click.option("--qvd-map", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        callback=_must_exist,
                        help="TOML or JSON file naming which QVD fields hold user, access type and "
                             "dates (see qslogs license --help).")(func)
    return click.option("--qvd", "qvd_paths", multiple=True, type=click.Path(path_type=Path), callback=_must_exist,
                        help="License Monitor QVD file or folder (repeatable). A damaged file is "
                             "named in the warnings; the rest is still analyzed.")(func)


def _must_exist(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Raise :class:`BundleError` (exit 3) for a named input that does not exist."""
    for path in value if isinstance(value, tuple) else [value] if value is not None else []:
        if not path.exists():
            option = max(param.opts, key=len) if param.opts else param.name
            raise BundleError(f"{path}: no such file or folder (given with {option})")
    return value


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
    """Read a bundle for a command; exit code 3 when not one Qlik Sense log or dump in it could be read.

    When the command has a ``--since``/``--until`` window that holds none of the bundle's records,
    says so on stderr (the command still runs: its output shows what an empty window gives).
    """
    ctx = click.get_current_context(silent=True)
    limits = ctx.find_root().meta.get(LIMITS_KEY) if ctx else None
    with progress_bar(quiet) as progress:
        frames = load_frames(list(paths), strict=strict, limits=limits, progress=progress)
    from qslogs.pipeline import require_usable  # the library rule; imported late, it loads the analyses

    require_usable(frames, paths)
    since, until = ctx.meta.get(WINDOW_KEY, (None, None)) if ctx else (None, None)
    if note := outside_bundle(since, until, *frames.time_span):
        click.echo(f"Warning: {note}", err=True)
    return frames


def parse_limits(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> Limits:
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
