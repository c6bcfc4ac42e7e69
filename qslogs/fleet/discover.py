"""Which bundles make the fleet, and what each site is called.

Every entry of a fleet folder is one site's bundle: a Log Collector ``.zip`` or a folder (a copy of
``C:\\ProgramData\\Qlik\\Sense\\Log``, an unzipped collector bundle, …). The site is named after the
entry, made safe for a ``site=<name>`` folder and for SQL: lower case, accents dropped, runs of anything outside
``a-z 0-9 . _ -`` become one ``-``, and a name that does not start with a letter gets ``site-`` in front
(so no engine reads ``site=2026`` as a number). Two entries that give the same name are told apart by
``-2``, ``-3``… in the order of their paths, so names are stable from run to run.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from qslogs.errors import BundleError, QslogsError
from qslogs.errors import ExitCode as _ExitCode

#: Entries that are never bundles: hidden files, OS litter, our own output.
_IGNORED = re.compile(r"^(\.|~\$|_)|^(thumbs\.db|desktop\.ini)$", re.IGNORECASE)
#: Names that say a folder IS one bundle, not a folder of bundles.
_BUNDLE_MARKERS = {"log", "archivedlogs", "sensecollector.log", "scheduler", "repository", "engine", "script"}


class FleetUsageError(QslogsError):
    """A fleet folder that cannot be a folder of bundles (exit code 2)."""

    exit_code = _ExitCode.USAGE


@dataclass(frozen=True)
class Site:
    """One site's bundle: its safe name and where it is."""

    name: str
    path: str


@dataclass(frozen=True)
class Skipped:
    """An entry of a fleet folder that is not a bundle, and why."""

    path: str
    reason: str


def site_name(entry: str) -> str:
    """The safe site name of a fleet-folder entry (``ACME Corp (EU).zip`` → ``acme-corp-eu``)."""
    stem = re.sub(r"\.zip$", "", entry.strip(), flags=re.IGNORECASE)
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")  # Zürich → Zurich
    name = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._")
    if not name or not name[0].isalpha():
        name = f"site-{name}".rstrip("-")
    return name[:100]


def discover(dirs: list[Path], out: Path | None = None) -> tuple[list[Site], list[Skipped]]:
    """The sites of the fleet folders ``dirs`` (a ``.zip`` given directly is one site), sorted by name.

    ``out`` (the output folder) is never taken as a bundle, even inside a fleet folder. Raises
    :class:`BundleError` (exit 3) for a missing folder or a fleet without one bundle, and
    :class:`FleetUsageError` (exit 2) for a folder that is itself one bundle.
    """
    out_resolved = out.resolve() if out is not None else None
    entries: list[Path] = []
    skipped: list[Skipped] = []
    for folder in dirs:
        if folder.is_file() and folder.suffix.lower() == ".zip":
            entries.append(folder)
            continue
        if not folder.is_dir():
            raise BundleError(f"{folder}: no such folder (give folders whose entries are site bundles)", str(folder))
        children = sorted(folder.iterdir(), key=lambda p: p.name)
        markers = sorted(c.name for c in children if c.name.lower() in _BUNDLE_MARKERS)
        if markers:
            raise FleetUsageError(
                f"{folder} looks like one site's bundle (it holds {', '.join(markers)}), not a folder of bundles: "
                f"put each site's bundle (zip or folder) in a folder of its own and give that folder, or run "
                f"'qslogs report {folder}' for this one site", str(folder))
        for child in children:
            if _IGNORED.search(child.name) or (out_resolved is not None and child.resolve() == out_resolved):
                continue
            if child.is_dir() or (child.is_file() and child.suffix.lower() == ".zip"):
                entries.append(child)
            else:
                skipped.append(Skipped(str(child), "not a .zip or a folder"))
    if not entries:
        named = ", ".join(str(d) for d in dirs)
        raise BundleError(f"{named}: no site bundle found (each entry of a fleet folder must be a .zip or a folder)")
    return _named(entries), skipped


def _named(entries: list[Path]) -> list[Site]:
    """Unique safe names, numbered in path order when two entries clash."""
    taken: set[str] = set()
    sites = []
    for entry in sorted(entries, key=lambda p: (site_name(p.name), str(p))):
        base = name = site_name(entry.name)
        n = 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        sites.append(Site(name, str(entry.absolute())))
    return sorted(sites, key=lambda s: s.name)
