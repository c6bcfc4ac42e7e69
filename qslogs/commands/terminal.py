"""Terminal text of the commands: tables that fit the width, colour on a terminal only.

Built on ``rich``: a table's long middle columns (task, message, root cause) are cut with ``…`` first,
while short key columns (time, node, counts) keep their width, so node names stay readable on an
80-column terminal. Colour marks severities and verdicts only when stdout is a terminal and
``NO_COLOR`` is not set; in a pipe or a file the text is plain and as wide as ``COLUMNS`` (default
160), so ``grep`` still sees whole lines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

#: Width of text written to a pipe or file when ``COLUMNS`` is not set.
PIPE_WIDTH = 160
STYLES = {
    "critical": "bold red",
    "failed": "bold red",
    "aborted": "red",
    "STALE": "bold red",
    "warning": "yellow",
    "no reload seen": "yellow",
    "info": "cyan",
    "ok": "green",
    "fresh": "green",
    "success": "green",
}


def _colour() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def width() -> int:
    """Columns available: the terminal's, else ``COLUMNS``, else :data:`PIPE_WIDTH`."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) >= 40:
        return int(columns)
    if sys.stdout.isatty():
        return os.get_terminal_size(sys.stdout.fileno()).columns
    return PIPE_WIDTH


def styled(text: str, key: str | None = None) -> Text:
    """``text`` in the colour of ``key`` (a severity, outcome or verdict; default: ``text`` itself)."""
    return Text(text, style=STYLES.get(key if key is not None else text, ""))


def table(*columns: str | tuple[str, dict[str, Any]], title: str | None = None) -> Table:
    """A borderless table; a column is a header, or ``(header, options)`` such as ``{"justify": "right"}``.

    Columns do not wrap: the ones marked ``{"cut": True}`` give up their width first (ending in ``…``).
    """
    out = Table(box=None, pad_edge=False, show_edge=False, title=title, title_justify="left",
                title_style="bold", header_style="bold", collapse_padding=True)
    for column in columns:
        header, options = (column, {}) if isinstance(column, str) else column
        opts = dict(options)
        cut = opts.pop("cut", False)
        out.add_column(header, no_wrap=True, overflow="ellipsis", ratio=1 if cut else None,
                       min_width=opts.pop("min_width", 4 if cut else None), **opts)
    return out


def render(parts: Sequence[RenderableType | str]) -> str:
    """The parts (tables, text, blank lines as ``""``) as one string for ``click.echo``."""
    console = Console(width=width(), force_terminal=_colour(), no_color=not _colour(), color_system="standard",
                      highlight=False, emoji=False, markup=False, soft_wrap=False)
    with console.capture() as capture:
        for part in parts:
            console.print(part, overflow="ellipsis", crop=True)
    return "\n".join(line.rstrip() for line in capture.get().rstrip("\n").split("\n"))


def cut(value: Any, limit: int = 400) -> str:
    """One line of text (whitespace runs to one space), at most ``limit`` characters."""
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(value: str | None) -> str:
    """An ISO instant as ``YYYY-MM-DD HH:MM`` (the table header says the zone)."""
    return (value or "")[:16].replace("T", " ")
