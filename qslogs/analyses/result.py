"""Typed analysis results: one frozen dataclass per analysis, its tables schema-checked polars frames.

An analysis returns a subclass of :class:`Result`. Every field says what it holds (``metadata["help"]``, the
Datasette habit: the JSON and the report can always explain a column); a frame field also declares its exact
schema, checked when the result is made, so a column that changes name or type fails where it is produced, not
in a template. Findings point at rows by key (:attr:`qslogs.findings.Finding.table`, ``keys``).

JSON and Parquet are made from these types at the edge (:func:`qslogs.export.result_json`); the report reads the
typed fields. Nothing here opens a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

import polars as pl

from qslogs.findings import Finding

__all__ = ["Result", "SchemaError", "check_schema", "frame_field", "help_of", "value_field"]


class SchemaError(TypeError):
    """A result frame whose columns or types are not the ones its field declares (a bug, not bad input)."""


def frame_field(schema: Mapping[str, pl.DataType | type[pl.DataType]], help: str, *, json: bool = True) -> Any:
    """A field holding a ``pl.DataFrame`` with exactly ``schema`` (names, order and types).

    ``json=False`` keeps it out of ``--json`` (data only the report draws, e.g. chart series).
    """
    return field(metadata={"help": help, "schema": pl.Schema(schema), "json": json})


def value_field(help: str, default: Any = MISSING, *, json: bool = True) -> Any:
    """A field holding a scalar, a date or a small JSON-ready mapping (``meta``, ``capacity``)."""
    if default is MISSING:
        return field(metadata={"help": help, "json": json})
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, "json": json})
    return field(default=default, metadata={"help": help, "json": json})


def check_schema(where: str, frame: object, schema: pl.Schema) -> None:
    """Raise :class:`SchemaError` unless ``frame`` is a DataFrame with exactly ``schema``."""
    if not isinstance(frame, pl.DataFrame):
        raise SchemaError(f"{where}: expected a polars DataFrame, got {type(frame).__name__}")
    if frame.schema != schema:
        got, want = dict(frame.schema), dict(schema)
        missing = [c for c in want if c not in got]
        extra = [c for c in got if c not in want]
        typed = [f"{c}: {got[c]} (declared {want[c]})" for c in want if c in got and got[c] != want[c]]
        order = "" if missing or extra or typed else "; columns out of order"
        raise SchemaError(
            f"{where}: schema differs from its declaration"
            + (f"; missing {missing}" if missing else "")
            + (f"; undeclared {extra}" if extra else "")
            + (f"; types {typed}" if typed else "")
            + order
        )


@dataclass(frozen=True, kw_only=True)
class Result:
    """What one analysis found: its findings and its typed tables (subclasses add the fields)."""

    NAME: ClassVar[str] = ""
    #: Whether ``--json`` ends with the ``findings`` list (after the fields marked ``json``).
    JSON_FINDINGS: ClassVar[bool] = True

    findings: tuple[Finding, ...] = field(
        default=(), metadata={"help": "the conclusions, most severe first (the report's health summary)"}
    )

    @property
    def name(self) -> str:
        """The analysis's name (``reloads``, ``licenses``, …)."""
        return self.NAME

    def __post_init__(self) -> None:
        for f in fields(self):
            schema = f.metadata.get("schema")
            if schema is not None:
                check_schema(f"{type(self).__name__}.{f.name}", getattr(self, f.name), schema)

    @classmethod
    def empty_frame(cls, name: str) -> pl.DataFrame:
        """An empty frame with the declared schema of field ``name``."""
        for f in fields(cls):
            if f.name == name:
                return pl.DataFrame(schema=f.metadata["schema"])
        raise KeyError(f"{cls.__name__} has no field {name!r}")

    @classmethod
    def conform(cls, name: str, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with the declared columns of field ``name`` in order, cast to their types; a declared
        column it lacks is null. For building a field from a wider working frame."""
        schema: pl.Schema = next(f.metadata["schema"] for f in fields(cls) if f.name == name)
        return frame.select(
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()
        )


def help_of(result: type[Result] | Result) -> dict[str, str]:
    """Field name → its help text (and, for a frame, each column's declared type)."""
    out = {}
    for f in fields(result):
        schema = f.metadata.get("schema")
        text = f.metadata["help"]
        if schema is not None:
            text += " (columns: " + ", ".join(f"{c} {t}" for c, t in schema.items()) + ")"
        out[f.name] = text
    return out
