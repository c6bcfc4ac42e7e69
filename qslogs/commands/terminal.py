"""Terminal text of the commands: tables that fit the width, colour on a terminal only.

Built on ``rich``: a table's long middle columns (task, message, root cause) are cut with ``…`` first,
while short key columns (time, node, counts) keep their width, so node names stay readable on an
80-column terminal. Colour marks severities and verdicts only when stdout is a terminal and
``NO_COLOR`` is not set; in a pipe or a file the text is plain, tables are as wide as ``COLUMNS``
(default 160) and sentences (root causes, findings, unreadable files) are never broken or cut, so
``grep`` still sees whole lines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.segment import Segment, Segments
from rich.table import Table
from rich.text import Text

#: Width of text written to a pipe or file when ``COLUMNS`` is not set.
PIPE_WIDTH = 160
STYLES = {
    "critical": "bold red",
    "failed": "bold red",
    "aborted": "red",
    "STALE": "bold red",
    "FAILING": "bold red",
    "NO TASK": "yellow",
    "warning": "yellow",
    "no reload seen": "yellow",
    "info": "cyan",
    "ok": "green",
    "success": "green",
}


def _colour() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _piped() -> bool:
    """Output to a pipe or file with no width asked for: lines of text are never broken or cut there."""
    columns = os.environ.get("COLUMNS", "")
    return not sys.stdout.isatty() and not (columns.isdigit() and int(columns) >= 40)


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
    return Text(text, style=STYLES.get(key if key is not None else text, ""), no_wrap=True, overflow="ellipsis")


class FitTable:
    """A borderless table whose ``cut`` columns give up width first, so the others (time, node, counts) stay whole.

    Columns never wrap: a cut cell ends in ``…``. A column is a header, or ``(header, options)`` with
    ``{"justify": "right"}``, ``{"cut": True}`` (``"left"``: keep the end, for paths), ``{"keep": 1}``
    (cut last) and ``{"min": 20}`` (cut no narrower).
    """

    GAP = 2
    MIN_CUT = 8

    def __init__(self, *columns: str | tuple[str, dict[str, Any]], title: str | None = None) -> None:
        self.columns = [(c, {}) if isinstance(c, str) else (c[0], dict(c[1])) for c in columns]
        self.rows: list[list[Text]] = []
        self.notes: list[list[Text]] = []
        self.title = title

    def add_row(self, *cells: str | Text, notes: Sequence[str | Text] = ()) -> None:
        """One row; ``notes`` are lines printed under it, indented, as wide as the terminal (a root cause)."""
        self.rows.append([c if isinstance(c, Text) else Text(c) for c in cells])
        self.notes.append([n if isinstance(n, Text) else Text(n) for n in notes])

    def fitted(self, total: int) -> Table:
        """A rich table at most ``total`` columns wide."""
        widths = [max([len(h), *(max((len(line) for line in row[i].plain.split("\n")), default=0)
                                 for row in self.rows)]) for i, (h, _) in enumerate(self.columns)]
        excess = sum(widths) + self.GAP * (len(widths) - 1) - total
        # Cut columns give up width in their order of ``keep`` (default 0; the root cause keeps longest),
        # first down to their ``min``, then, if the line is still too long, down to MIN_CUT.
        order = sorted((i for i, (_, o) in enumerate(self.columns) if o.get("cut")),
                       key=lambda i: (self.columns[i][1].get("keep", 0), -widths[i]))
        for floor_of in (lambda i: self.columns[i][1].get("min", self.MIN_CUT), lambda i: self.MIN_CUT):
            for i in order:
                take = max(0, min(excess, widths[i] - floor_of(i)))
                widths[i] -= take
                excess -= take
        out = Table(box=None, pad_edge=False, show_edge=False, title=self.title, title_justify="left",
                    title_style="bold", header_style="bold", padding=(0, self.GAP // 2))
        for (header, options), w in zip(self.columns, widths, strict=True):
            out.add_column(header, no_wrap=True, overflow="ellipsis", max_width=w,
                           justify=options.get("justify", "left"))
        left = [i for i, (_, o) in enumerate(self.columns) if o.get("cut") == "left"]
        for row in self.rows:
            out.add_row(*(_cut_left(cell, widths[i]) if i in left else cell for i, cell in enumerate(row)))
        return out


def _cut_left(cell: Text, w: int) -> Text:
    """A path cut at its start (``…/Trace/SENSE01_System.txt``): the file name matters most."""
    if cell.cell_len <= w:
        return cell
    return Text("…" + cell.plain[-(w - 1):], style=cell.style)


def table(*columns: str | tuple[str, dict[str, Any]], title: str | None = None) -> FitTable:
    """A :class:`FitTable` (see there)."""
    return FitTable(*columns, title=title)


def render(parts: Sequence[RenderableType | FitTable | str]) -> str:
    """The parts (tables, text, blank lines as ``""``) as one string for ``click.echo``."""
    colour = _colour()
    console = Console(width=width(), force_terminal=colour, no_color=not colour,
                      color_system="standard" if colour else None, highlight=False, emoji=False, markup=False,
                      soft_wrap=False)
    with console.capture() as capture:
        for part in parts:
            if isinstance(part, FitTable) and any(part.notes):
                _print_with_notes(console, part)
            elif isinstance(part, FitTable):
                console.print(part.fitted(console.width), crop=True)
            else:  # sentences (findings, unreadable files) wrap on a terminal and stay whole in a pipe
                console.print(part, soft_wrap=_piped())
    return "\n".join(line.rstrip() for line in capture.get().rstrip("\n").split("\n"))


def _print_with_notes(console: Console, part: FitTable) -> None:
    """The table's header and rows, each row followed by its notes (indented, wrapped at the width)."""
    lines = console.render_lines(part.fitted(console.width), console.options, pad=False)
    console.print(Segments([*lines[0], Segment.line()]), end="")
    for line, notes in zip(lines[1:], part.notes, strict=True):
        console.print(Segments([*line, Segment.line()]), end="")
        for note in notes:
            if _piped():
                console.print(Text("    ").append_text(note), soft_wrap=True)
            else:
                console.print(Padding(note, (0, 0, 0, 4)))


def cut(value: Any, limit: int = 400) -> str:
    """One line of text (whitespace runs to one space), at most ``limit`` characters."""
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(value: str | None) -> str:
    """An ISO instant as ``YYYY-MM-DD HH:MM`` (the table header says the zone)."""
    return (value or "")[:16].replace("T", " ")
