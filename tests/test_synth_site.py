"""The site-shaped generator (``gen_bundle.py --shape site``) writes a real site's file-count shape: a
script log per reload, archived .NET files rolled daily per node, a node.js file per service start, most
files small; and qslogs reads every one of its logs (only the collector's own files are not logs; no bad
lines beyond the planted story's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qslogs.loader import load_frames
from qslogs_synth.site_shape import generate_site


@pytest.mark.slow
def test_site_shape_has_many_small_files_of_every_kind_and_parses_cleanly(tmp_path: Path) -> None:
    root = generate_site(tmp_path, nodes=3, days=3, reloads_per_day=40, target_mb=12)
    shape = json.loads((tmp_path / "SHAPE.json").read_text())
    files = [p for p in root.rglob("*") if p.is_file()]
    assert shape["files"] == len(files)
    assert 3 * 40 - 2 <= shape["reloads"] <= 3 * 40  # none in the last half hour before the collection
    scripts = [p for p in files if p.parent.name == "Script"]
    assert len(scripts) >= shape["reloads"]  # one per reload, plus the story's own
    rim = [p for p in scripts if p.parts[len(root.parts)] == "sense02.corp.example"]
    assert rim, "reloads run on rim nodes too, their script logs archived under the node"
    nodejs = [p for p in files if p.parent.name == "HubService" and "access" not in p.name]
    assert len(nodejs) >= 3 * 2  # a file per service start per node per day (the last day is active)
    archived = [p for p in files if p.suffix == ".log" and "_System_Engine_" in p.name]
    days = {p.name.rsplit("_", 1)[1][:10] for p in archived if p.parts[len(root.parts)] == "sense01.corp.example"}
    assert len(days) >= 3  # rolled daily
    assert shape["median_bytes"] < 16 * 1024 and shape["files_under_64k"] > 0.8 * shape["files"]  # mostly small
    frames = load_frames([root])
    files_by = frames.files
    assert files_by.filter(files_by["status"] == "error").height == 0
    unknown = files_by.filter(files_by["status"] == "unknown")["note"].to_list()
    assert unknown and all("Log Collector's own output" in n or "JSON dump" in n for n in unknown), unknown
    assert files_by.filter(files_by["status"] == "parsed").height > 0.95 * len(files)
    assert frames.bad_lines.height <= 5  # only the planted story's damaged lines, none from the site's files
    assert frames.height("Script") > 0 and frames.height("Scheduler/TaskExecution") > 0
