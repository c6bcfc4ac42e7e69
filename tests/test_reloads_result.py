"""The typed result of the reloads analysis: schemas checked where the result is made, help on every field,
``--json`` keys in their documented order, findings that point at rows by key."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from qslogs.analyses.reloads import ReloadsMeta, ReloadsResult
from qslogs.analyses.reloads.aggregates import duration_series, overview
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


def test_the_counts_of_the_failed_reloads_tile() -> None:
    runs = pl.DataFrame(
        {
            "task": ["A", "B", "A", "C"],
            "app": ["a", "b", "a", "c"],
            "outcome": ["failed", "failed", "aborted", "success"],
            "error_class": ["auth", "script", "aborted", None],
            "connection": ["REST_x", None, None, None],
        }
    )
    manual = pl.DataFrame(
        {"app": ["m", "n"], "outcome": ["failed", "success"], "error_class": ["script", None],
         "connection": [None, None]}
    )
    durations = pl.DataFrame({"duration_s": [3.5, 700.0]})
    assert overview(runs, manual, durations).row(0, named=True) == {
        "runs": 4, "failed_runs": 3, "failed_manual": 1, "failed": 4, "tasks": 3, "top_cause": "script",
        "top_count": 2, "longest_duration_s": 700.0,
    }
    # a tie goes to the cause seen first; nothing failed: no cause, no duration
    assert overview(runs.head(2), manual.tail(1), durations.head(0)).row(0)[5:] == ("auth on REST_x", 1, 0.0)
    assert overview(runs.tail(1), manual.tail(1), durations).row(0)[:7] == (1, 0, 0, 0, 0, None, 0)


def test_duration_series_most_runs_first_then_the_failed_runs() -> None:
    t = [datetime(2026, 10, d, 4, tzinfo=UTC) for d in (1, 2, 3, 4)]
    durations = pl.DataFrame(
        {
            "task": ["B", "B", "A", None],
            "start": t,
            "duration_s": [5.0, 7.0, 2.0, 1.0],
            "outcome": ["success", "failed", "success", "success"],
        }
    )
    assert [(s, f, n, d) for s, f, n, _, d in duration_series(durations).iter_rows()] == [
        ("B", False, 2, [5.0, 7.0]),
        ("?", False, 1, [1.0]),
        ("A", False, 1, [2.0]),
        ("failed run", True, 1, [7.0]),
    ]
    assert duration_series(durations.head(1))["series"].to_list() == ["B"]  # no failed run: no failed series
