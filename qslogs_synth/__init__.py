"""Synthetic sample data for demos, tests and benchmarks (formats.md is the reference for every file written)."""  # noqa: E501

# ``generate_bundle`` writes an unzipped Log Collector bundle with a planted story (failing License
# Monitor reloads, license growth, encoding traps) plus ``TRUTH.json``; ``write_collector_zip`` packs a
# folder the way the Log Collector does.  Everything is deterministic for a given seed.

from __future__ import annotations

from qslogs_synth.bundle import DEFAULT_END, DEFAULT_SEED, generate_bundle
from qslogs_synth.collector import write_collector_zip

__all__ = ["DEFAULT_END", "DEFAULT_SEED", "generate_bundle", "write_collector_zip"]
