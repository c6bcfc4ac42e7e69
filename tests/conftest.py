"""Shared test setup: a pinned non-UTC time zone and the real sample files from ../shared."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

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
