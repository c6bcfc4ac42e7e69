"""The typed result of the reloads analysis: schemas checked where the result is made, help on every field,
``--json`` keys in their documented order, findings that point at rows by key."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import polars as pl
import pytest

from qslogs.analyses.reloads import ReloadsMeta, ReloadsResult
from qslogs.analyses.result import SchemaError, help_of
from qslogs.export import result_json


def _empty_result(**fields_: Any) -> ReloadsResult:
    """A result of an input without any reload: every frame empty with its declared schema."""
    values: dict[str, Any] = {
        f.name: ReloadsResult.empty_frame(f.name) for f in fields(ReloadsResult) if "schema" in f.metadata
    }
    values["meta"] = ReloadsMeta(now=None, since=None, until=None, stale_hours=24.0, link_tolerance_s=120,
                                 script_logs_cover=None, heatmap_time_basis="UTC", runs_total=0, failed_only=False)
    return ReloadsResult(**{**values, **fields_})


def test_a_runs_frame_missing_a_declared_column_is_refused() -> None:
    runs = ReloadsResult.empty_frame("runs").drop("error_context")
    with pytest.raises(SchemaError, match=r"ReloadsResult\.runs.*missing \['error_context'\]"):
        _empty_result(runs=runs)
    typed = ReloadsResult.empty_frame("runs").with_columns(pl.col("duration_s").cast(pl.String))
    with pytest.raises(SchemaError, match=r"duration_s: String \(declared Float64\)"):
        _empty_result(runs=typed)


def test_every_field_says_what_it_holds() -> None:
    helps = help_of(ReloadsResult)
    assert list(helps)[:11] == [
        "findings", "runs", "monitoring_apps", "tasks", "manual_reloads", "script_logs", "failure_heatmap",
        "durations", "meta", "version_changes", "restarts",
    ]
    assert all(len(text) > 30 for text in helps.values()), helps
    assert all(f.metadata.get("help") for f in fields(ReloadsMeta))
    assert "offset_minutes': Int32" in helps["runs"] and "local_start Datetime" in helps["runs"]


def test_empty_input_gives_empty_tables_in_json_order() -> None:
    data = result_json(_empty_result())
    assert list(data) == [
        "runs", "monitoring_apps", "tasks", "manual_reloads", "script_logs", "failure_heatmap", "durations", "meta",
        "version_changes", "restarts", "findings",
    ]
    assert data["runs"] == [] and data["meta"]["script_logs_cover"] is None and data["findings"] == []
