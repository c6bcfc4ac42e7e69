"""``qslogs parse -o DIR``: a Parquet dataset that qslogs owns, with a marker naming what it wrote.

``DIR/.qslogs-dataset.json`` lists every top-level entry qslogs wrote, per site. A run may write only
into a new or empty folder, or one holding that marker; it replaces only the entries its marker lists
for the same site, so a customer's files are never removed (the kind ``Script`` has the name of
Qlik's own folder: ``qslogs parse Log -o Log`` once deleted the input's script logs). A folder that
is, lies inside or holds an input is refused. Everything is first written to a temporary folder inside
DIR and moved into place at the end, so a failed or interrupted run leaves the dataset as it was.

Layout: without ``--site``, ``<kind>/host=<node>/date=<day>/*.parquet``, ``files.parquet`` and
``bad_lines.parquet``; with ``--site NAME``, ``<kind>/site=NAME/host=…/date=…/*.parquet``,
``files/site=NAME/files.parquet`` and ``bad_lines/site=NAME/bad_lines.parquet``, so several bundles
share one dataset (a hive ``site`` column) without mixing. One DIR holds one layout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qslogs.errors import ReportError
from qslogs.export import write_parquet_files
from qslogs.frames import Frames
from qslogs.outputs import check_not_input, check_writable_folder

MARKER = ".qslogs-dataset.json"
_STAGE_PREFIX = ".qslogs-tmp-"
_SITE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PLAIN = ""
"""The marker's site key of a dataset written without ``--site``."""


def check_site(site: str | None) -> None:
    """A site name becomes a folder name: letters, digits, ``.``, ``_`` and ``-`` only."""
    if site is not None and not _SITE.fullmatch(site):
        raise ValueError(f"--site {site!r}: use letters, digits, '.', '_' and '-' (e.g. --site acme-prod)")


def read_marker(out: Path) -> dict[str, Any] | None:
    """The marker of ``out`` (None when there is none); a damaged marker is a :class:`ReportError`."""
    path = out / MARKER
    if not path.is_file() or path.is_symlink():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        sites = data["sites"]
        if not isinstance(sites, dict) or not all(isinstance(v, list) for v in sites.values()):
            raise ValueError("'sites' is not a mapping of lists")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReportError(str(out), f"its {MARKER} is damaged ({exc}); choose a new folder") from None
    return data


def check_target(out: Path, inputs: Sequence[Path], site: str | None) -> None:
    """Refuse (exit 5, nothing touched) an output folder qslogs may not write into; see the module doc."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ReportError(str(out), "it exists and is not a folder")
    check_not_input(out, inputs, "qslogs parse")
    if out.exists():
        marker = read_marker(out)
        others = [p.name for p in out.iterdir() if not p.name.startswith(_STAGE_PREFIX)]
        if marker is None and others:
            raise ReportError(str(out), f"the folder is not empty and holds no {MARKER}, so it is not a dataset "
                                        "qslogs wrote; choose a new or empty folder")
        if marker is not None and marker["sites"]:
            plain = PLAIN in marker["sites"]
            if plain != (site is None):
                had = "without --site" if plain else "with --site"
                raise ReportError(str(out), f"it holds a dataset written {had}; one folder holds one layout: "
                                            "choose another folder")
    check_writable_folder(out)


def write_dataset(frames: Frames, out: Path, *, site: str | None = None) -> list[Path]:
    """Write ``frames`` as the dataset in ``out`` (call :func:`check_target` first); return the entries written."""
    created = not out.exists()
    key = site if site is not None else PLAIN
    try:
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=_STAGE_PREFIX, dir=out))
    except OSError as exc:
        raise ReportError(str(out), exc.strerror or str(exc)) from exc
    try:
        staged = write_parquet_files(frames, stage)
        moves = [(path, _final(path.relative_to(stage), site)) for path in staged]
        marker = read_marker(out) or {"qslogs": 1, "sites": {}}
        owned = set(marker["sites"].get(key, []))
        for _, rel in moves:
            if os.path.lexists(out / rel) and rel.as_posix() not in owned:
                raise ReportError(str(out / rel), "it exists and is not listed in the folder's "
                                                  f"{MARKER}; nothing was replaced")
        for old in sorted(owned):
            _remove_entry(out, old)
        for source, rel in moves:
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        marker["sites"][key] = sorted(rel.as_posix() for _, rel in moves)
        _write_marker(out, marker)
        return [out / rel for _, rel in moves]
    except OSError as exc:
        raise ReportError(str(out), exc.strerror or str(exc)) from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()


def _final(rel: Path, site: str | None) -> Path:
    """Where a staged entry goes: the same place, or under ``site=NAME`` inside its dataset."""
    if site is None:
        return rel
    if rel.suffix == ".parquet":  # files.parquet → files/site=NAME/files.parquet
        return Path(rel.stem) / f"site={site}" / rel.name
    return rel / f"site={site}"


def _remove_entry(out: Path, rel: str) -> None:
    """Remove one entry an earlier run listed in the marker, only if it really lies inside ``out``."""
    target = out / rel
    parts = Path(rel).parts
    if not parts or ".." in parts or Path(rel).is_absolute() or parts[0] == MARKER:
        return
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    parent = target.parent
    while parent != out and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def _write_marker(out: Path, marker: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f"{_STAGE_PREFIX}marker-", dir=out)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(marker, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, out / MARKER)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
