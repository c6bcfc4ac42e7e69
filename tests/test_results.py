"""Typed analysis results: declared schemas are enforced, help is complete, JSON is made at the edge."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import ClassVar

import polars as pl
import pytest

from qslogs.analyses.result import Result, SchemaError, frame_field, help_of, value_field
from qslogs.export import result_json
from qslogs.findings import Finding, Severity
from qslogs.redact import Redactor

RUNS = {"run_key": pl.String(), "host": pl.String(), "start": pl.Datetime("us", "UTC"), "tries": pl.Int64()}


@dataclass(frozen=True, kw_only=True)
class Toy(Result):
    NAME: ClassVar[str] = "toy"

    runs: pl.DataFrame = frame_field(RUNS, "one row per run")
    meta: dict[str, object] = value_field("how the runs were chosen", {})
    chart: pl.DataFrame = frame_field({"x": pl.Int64()}, "chart points", json=False)


def _runs() -> pl.DataFrame:
    return pl.DataFrame(
        {"run_key": ["r1"], "host": ["sense01"], "start": [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)], "tries": [2]},
        schema=RUNS,
    )


def test_a_frame_of_the_declared_schema_is_accepted_and_json_is_made_at_the_edge() -> None:
    finding = Finding("toy", Severity.WARNING, "r1 failed", table="runs", keys=("r1",))
    toy = Toy(runs=_runs(), meta={"since": None}, chart=pl.DataFrame({"x": [1]}), findings=(finding,))
    assert result_json(toy) == {
        "runs": [{"run_key": "r1", "host": "sense01", "start": "2026-01-02T03:04:05.000Z", "tries": 2}],
        "meta": {"since": None},
        "findings": [{"severity": "warning", "title": "r1 failed", "detail": "", "data": {}}],
    }
    assert toy.name == "toy"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_runs().drop("tries"), "missing ['tries']"),
        (_runs().with_columns(pl.lit(1).alias("extra")), "undeclared ['extra']"),
        (_runs().with_columns(pl.col("tries").cast(pl.Int32)), "tries: Int32 (declared Int64)"),
        (_runs().select("host", "run_key", "start", "tries"), "columns out of order"),
    ],
)
def test_a_frame_that_differs_from_its_declaration_is_refused_where_it_is_made(
    frame: pl.DataFrame, message: str
) -> None:
    with pytest.raises(SchemaError, match=r"Toy\.runs: .*" + re.escape(message)):
        Toy(runs=frame, chart=pl.DataFrame({"x": [1]}))


def test_conform_selects_casts_and_fills_the_declared_columns() -> None:
    wide = pl.DataFrame({"tries": [3], "run_key": ["r9"], "noise": ["x"]})
    out = Toy.conform("runs", wide)
    assert out.schema == pl.Schema(RUNS)
    assert out.row(0) == ("r9", None, None, 3)


def test_every_field_has_help_and_frames_list_their_columns() -> None:
    text = help_of(Toy)
    assert set(text) == {f.name for f in fields(Toy)}
    assert text["runs"] == "one row per run (columns: run_key String, host String, start Datetime(time_unit='us', " \
        "time_zone='UTC'), tries Int64)"


def test_redaction_replaces_cell_values_and_keeps_the_schema() -> None:
    redactor = Redactor.create("seed")
    redactor.add("host", "sense01")
    toy = Toy(runs=_runs(), meta={"host": "sense01"}, chart=pl.DataFrame({"x": [1]}))
    out = redactor.results({"toy": toy})["toy"]
    assert isinstance(out, Toy)
    assert out.runs.schema == toy.runs.schema
    assert out.runs["host"].to_list() == ["host-01"]
    assert out.meta == {"host": "host-01"}
