"""Shared test setup: a pinned non-UTC time zone, the real sample files from ../shared, and the sample bundle
parsed, analysed and rendered once per session."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # qslogs is imported by the fixtures, after the time zone below is pinned
    from qslogs.analyses import Result
    from qslogs.bundle import Limits
    from qslogs.frames import Frames
    from qslogs.loader import Progress

# A missing UTC conversion must fail a test, so the process runs in a zone far from UTC.
os.environ["TZ"] = "America/Los_Angeles"
if hasattr(time, "tzset"):
    time.tzset()

REPO = Path(__file__).resolve().parents[1]
SHARED_REAL = REPO.parent / "shared" / "fixtures" / "real"
SAMPLE_BUNDLE = REPO / "sample_data" / "bundle"
SKIP_REASON = "../shared/fixtures not present: the real sample files are only on developer machines and in CI"


@pytest.fixture
def real_fixtures() -> Path:
    """The folder of real public Qlik sample files; skips the test where it is absent."""
    if not SHARED_REAL.is_dir():
        pytest.skip(SKIP_REASON)
    return SHARED_REAL


@pytest.fixture
def real_log_folder(real_fixtures: Path) -> Path:
    """The real Log Collector ``Log`` folder (one node, QLIKSERVER1)."""
    return real_fixtures / "logcollector-active-Log"


# -- The sample bundle, parsed once per session ---------------------------------------------------------------
# Parsing sample_data/bundle and running every analysis over it takes seconds; the tests that only need its
# frames, results or report share one parse (one per xdist worker). The shared objects are read-only: a test
# that wants to change something makes its own copy (``dataclasses.replace``); ``sample_frames`` checks at
# the end of the session that nobody changed it.

#: When the shared sample report was made (its only varying line).
SAMPLE_GENERATED = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding ``bundle/``, ``qvd/`` and ``TRUTH.json``: ``sample_data``, or where it is absent the
    same generator's output in a temporary folder."""
    if SAMPLE_BUNDLE.is_dir():
        return SAMPLE_BUNDLE.parent
    from qslogs_synth import generate_bundle

    return generate_bundle(tmp_path_factory.mktemp("sample")).parent


@pytest.fixture(scope="session")
def sample_frames(sample_root: Path) -> Iterator[Frames]:
    """``load_frames([sample_root / "bundle"])``, once per session. Read-only."""
    from qslogs.loader import load_frames

    frames = load_frames([sample_root / "bundle"])
    before = _fingerprint(frames)
    yield frames
    assert _fingerprint(frames) == before, "a test changed the shared sample frames; copy them instead"


def _fingerprint(frames: Frames) -> tuple[object, ...]:
    """What would show if a test changed the shared frames in place."""
    return (
        sorted((kind, frames.height(kind), tuple(frames.columns(kind))) for kind in frames.frames),
        int(frames.files.hash_rows().sum()),
        int(frames.bad_lines.hash_rows().sum()),
        tuple(frames.file_issues),
        json.dumps(frames.meta, sort_keys=True, default=str),
        tuple(frames.sources),
    )


@pytest.fixture(scope="session")
def sample_results(sample_frames: Frames, sample_root: Path) -> dict[str, Result]:
    """Every analysis over the sample bundle with its QVDs (``qvd/``), as ``qslogs report --qvd`` runs them."""
    from qslogs.analyses import AnalysisOptions, run_analyses
    from qslogs.pipeline import with_qvds

    return run_analyses(with_qvds(sample_frames, (sample_root / "qvd",)), AnalysisOptions())


@pytest.fixture(scope="session")
def sample_report_html(sample_results: dict[str, Result], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The report of ``sample_results`` (title ``Sample``, made at :data:`SAMPLE_GENERATED`), as text."""
    from qslogs.report import render_report

    out = render_report(
        sample_results,
        tmp_path_factory.mktemp("report") / "report.html",
        title="Sample",
        sources=["sample_data/bundle"],
        generated_at=SAMPLE_GENERATED,
    )
    return out.read_text(encoding="utf-8")


@contextmanager
def sample_loads(bundle: Path, frames: Frames) -> Iterator[None]:
    """While inside, a command that reads exactly ``bundle`` (not ``--strict``, default limits) gets ``frames``
    instead of parsing it again; any other input is read as usual. The command runs as it always does from
    there on (its checks, analyses, output)."""
    from qslogs.bundle import Limits
    from qslogs.commands import options

    real = options.load_frames
    target = [bundle.resolve()]

    def load_frames_once(paths: list[str | Path], *, strict: bool = False, limits: Limits | None = None,
                         progress: Progress | None = None) -> Frames:
        if [Path(p).resolve() for p in paths] == target and not strict and limits in (None, Limits()):
            return frames
        return real(paths, strict=strict, limits=limits, progress=progress)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(options, "load_frames", load_frames_once)
        yield


@pytest.fixture
def sample_cli(sample_root: Path, sample_frames: Frames) -> Iterator[Path]:
    """The sample bundle's folder for command-line tests, read from ``sample_frames`` (see :func:`sample_loads`)."""
    with sample_loads(sample_root / "bundle", sample_frames):
        yield sample_root / "bundle"
