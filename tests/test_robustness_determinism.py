"""Deterministic output: the same input gives the same bytes, whatever the machine's hash seed, time zone,
thread count or number of parse workers.

Each variant runs ``qslogs`` in its own process with a different ``PYTHONHASHSEED``, ``TZ``,
``POLARS_MAX_THREADS`` and ``QSLOGS_WORKERS`` (files parsed in 1 or 2 processes): a set iteration order,
a local-time conversion or a parallel sort that leaks into the output shows up as a byte difference.
``inspect --json`` and every file written by ``parse`` must be byte-identical; the report may differ
only in its generation time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qslogs.cli import cli
from tests.corpus import REAL_LOG, SAMPLE_BUNDLE, all_cases

VARIANTS = (
    {"PYTHONHASHSEED": "1", "TZ": "America/Los_Angeles", "POLARS_MAX_THREADS": "1", "QSLOGS_WORKERS": "1"},
    {"PYTHONHASHSEED": "4242", "TZ": "Asia/Kolkata", "POLARS_MAX_THREADS": "2", "QSLOGS_WORKERS": "2"},
)
_GENERATED = re.compile(r'generated <time datetime="([^"]+)">([^<]+)</time>')


def bundle_input() -> Path:
    """The richest bundle available: the sample bundle, else the real Log folder."""
    if SAMPLE_BUNDLE.is_dir():
        return SAMPLE_BUNDLE
    if REAL_LOG.is_dir():
        return REAL_LOG
    pytest.skip("neither sample_data/bundle nor ../shared/fixtures is present")


#: One process per variant runs the three commands (an interpreter start costs seconds under load).
DRIVER = """
import sys
from qslogs.cli import cli
source, out, report = sys.argv[1:4]
for args in (["inspect", source, "--json", "-q"], ["parse", source, "-o", out + "/parsed", "-q"],
             ["report", source, "-o", out + "/report.html", "-q"] if report == "yes" else None):
    if args:
        with open(out + "/" + args[0] + ".out", "w", encoding="utf-8") as sys.stdout:
            cli.main(args, prog_name="qslogs", standalone_mode=False)
"""


def run_variant(source: Path, out: Path, env: dict[str, str], report: bool) -> None:
    done = subprocess.run([sys.executable, "-c", DRIVER, str(source), str(out), "yes" if report else "no"],
                          cwd=out, capture_output=True, check=False, env={**os.environ, **env}, timeout=900)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def without_generation_time(html: str) -> str:
    """The report with its one varying value (the generation time, ISO and as shown) blanked out."""
    match = _GENERATED.search(html)
    assert match, "the report names its generation time"
    return html.replace(match.group(1), "GENERATED").replace(match.group(2), "GENERATED")


@pytest.mark.slow
def test_inspect_parse_and_report_are_byte_identical_across_processes(tmp_path: Path) -> None:
    source = bundle_input()
    outputs = []
    with_report = "report" in cli.commands  # type: ignore[attr-defined]
    for i, env in enumerate(VARIANTS):
        out = tmp_path / f"run{i}"
        out.mkdir()
        run_variant(source, out, env, with_report)
        report = without_generation_time((out / "report.html").read_text("utf-8")) if with_report else ""
        outputs.append(((out / "inspect.out").read_text("utf-8"), tree(out / "parsed"), report))
    (inspect_a, parsed_a, report_a), (inspect_b, parsed_b, report_b) = outputs
    assert json.loads(inspect_a)["totals"]["records"] > 0
    assert inspect_a == inspect_b
    assert sorted(parsed_a) == sorted(parsed_b) and len(parsed_a) > 3
    differing = [name for name in parsed_a if parsed_a[name] != parsed_b[name]]
    assert not differing, f"Parquet files differ between runs: {differing}"
    assert report_a == report_b


@pytest.mark.parametrize("case_id", ["bundle-zip-clean", "bundle-zip-slip-names", "bundle-same-log-twice",
                                     "bundle-json-dumps-not-json", "bundle-duplicate-member-names"])
def test_hostile_bundles_give_the_same_inventory_every_time(case_id: str, tmp_path: Path) -> None:
    case = next(c for c in all_cases() if c.id == case_id)
    built = case.make(tmp_path)
    runs = [CliRunner().invoke(cli, ["inspect", *map(str, built.inputs), "--json"]) for _ in range(2)]
    assert runs[0].exit_code == 0 and runs[0].stdout == runs[1].stdout
