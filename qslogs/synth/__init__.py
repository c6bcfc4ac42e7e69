"""Synthetic sample data for demos, tests and benchmarks (formats.md is the reference for every file written)."""
