"""The ``qslogs`` command: each subcommand parses its options, calls one library function, echoes.

Exit codes (also in ``qslogs --help``):

\b
  0  success: output written (bad lines and unreadable files, if any, are listed in it)
  1  unexpected internal error: a bug, please report it with the traceback
  2  usage error: unknown option, missing argument, unreadable date, --since after --until
  3  input error: the bundle, a --qvd or a file is missing, unreadable, or not a Qlik Sense bundle
  4  parse error under --strict
  5  output error: the output cannot be written, or would replace what qslogs did not write
  130  interrupted (Ctrl-C)

Commands are plain click commands in :mod:`qslogs.commands`, attached below with one line each.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from qslogs.commands import activity, fleet, inspect, license, parse, qvd, reloads, report
from qslogs.commands.options import parse_limits
from qslogs.errors import QslogsError

EPILOG = """\b
Exit codes:
  0  success: output written (bad input, if any, is listed in it)
  1  unexpected internal error (a bug: please report it with the traceback)
  2  usage error: unknown option, missing argument, or a date qslogs cannot read
  3  input error: bundle, --qvd or file missing, unreadable, or not a Qlik Sense bundle
  4  parse error under --strict
  5  output error: the report or export cannot be written, or would replace what qslogs did not write
  130  interrupted (Ctrl-C): nothing half-written is left behind
"""


class QslogsClickError(click.ClickException):
    """A :class:`QslogsError` shown as ``Error: <message>`` with its own exit code, no traceback."""

    def __init__(self, error: QslogsError) -> None:
        super().__init__(str(error))
        # click declares exit_code on the class; this error carries its own.
        setattr(self, "exit_code", int(error.exit_code))  # noqa: B010


class Interrupted(click.ClickException):
    """Ctrl-C: the one line ``interrupted`` and exit code 130 (128 + SIGINT), as shells expect."""

    exit_code = 130

    def __init__(self) -> None:
        super().__init__("interrupted")

    def show(self, file: Any = None) -> None:
        click.echo("interrupted", err=True)


class QslogsGroup(click.Group):
    """Turns every deliberate qslogs error and Ctrl-C into its documented exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QslogsError as exc:
            raise QslogsClickError(exc) from exc
        except KeyboardInterrupt:  # every finally (temporary files, workers) has run on the way here
            raise Interrupted() from None


@click.group(cls=QslogsGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qslogs")
@click.option("--limit", "limits", multiple=True, metavar="NAME=VALUE", callback=parse_limits,
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


cli.add_command(inspect.inspect)
cli.add_command(parse.parse)
cli.add_command(reloads.reloads)
cli.add_command(license.license_command)
cli.add_command(qvd.qvd)
cli.add_command(report.report)
cli.add_command(activity.activity)
cli.add_command(fleet.fleet)


def main() -> None:
    """Console-script entry point (see :mod:`qslogs.entry`, which guards the start-up against Ctrl-C)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        cli.main(prog_name="qslogs")
    except KeyboardInterrupt:  # between click's own steps, outside any command
        click.echo("interrupted", err=True)
        sys.exit(130)
