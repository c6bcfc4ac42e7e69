"""``qslogs qvd``: a QVD file's header, schema and first rows, and whether it looks like a license table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import polars as pl

from qslogs.analyses.licenses.qvd_recognise import recognise
from qslogs.commands.options import json_option
from qslogs.errors import BundleError
from qslogs.export import dumps, to_jsonable
from qslogs.parsers.qvd import QvdTable, read_qvd


def describe_qvd(table: QvdTable, head: int) -> dict[str, Any]:
    """The ``qslogs qvd --json`` object: ``file``, ``header``, ``fields``, ``rows`` and ``license_table``."""
    h = table.header
    mapping, why = recognise(table.frame)
    out: dict[str, Any] = to_jsonable(
        {
            "file": table.path,
            "header": {
                "table_name": h.table_name,
                "records": h.no_of_records,
                "record_byte_size": h.record_byte_size,
                "qv_build_no": h.qv_build_no,
                "creator_doc": h.creator_doc,
                "create_utc_time": h.create_utc_time,
            },
            "fields": [
                {
                    "name": f.name,
                    "dtype": str(table.frame.schema[f.name]),
                    "kind": table.kinds.get(f.name),
                    "symbols": f.no_of_symbols,
                    "bit_width": f.bit_width,
                    "number_format": f.number_format_type,
                    "tags": list(f.tags),
                }
                for f in h.fields
            ],
            "rows": table.frame.head(head).to_dicts(),
            "license_table": {
                "recognised": mapping is not None,
                "reason": why,
                "mapping": None
                if mapping is None
                else {k: v for k, v in vars(mapping).items() if v is not None and k not in ("match", "skip")},
            },
        }
    )
    return out


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.option(
    "--head", "head", type=click.IntRange(min=0), default=10, show_default=True, help="How many rows to show."
)
def qvd(file: Path, as_json: bool, head: int) -> None:
    """Show a QVD file: its header, its fields (type, symbols, tags) and its first rows.

    Also says whether qslogs license would take it as a license table (a user, an access type and a
    date/time among its fields) and which fields it would use. Dates and timestamps are shown as
    Qlik stores them (no time zone); a damaged file is refused with the reason (exit code 3).

    \b
    Example:
      qslogs qvd LicenseMonitor/license_allocation_history.qvd
      qslogs qvd sales.qvd --head 50 --json > sales.json
    """
    if not file.is_file():
        raise BundleError(f"{file}: no such file" if not file.exists() else f"{file}: not a file")
    table = read_qvd(file)
    data = describe_qvd(table, head)
    click.echo(dumps(data) if as_json else render_qvd(data, table.frame.head(head)))


def render_qvd(data: dict[str, Any], rows: pl.DataFrame | None = None) -> str:
    """The terminal view of ``qslogs qvd`` (``rows``: the first rows with their types, else from ``data``)."""
    h = data["header"]
    lines = [
        f"{data['file']}",
        f"  table {h['table_name']!r}: {h['records']:,} rows, {h['record_byte_size']} bytes per "
        f"row; QvBuildNo {h['qv_build_no'] or '?'}, created {h['create_utc_time'] or '?'} by "
        f"{h['creator_doc'] or '?'}",
        "",
        f"  {'field':<28} {'type':<22} {'kind':<10} {'symbols':>8}  tags",
    ]
    for f in data["fields"]:
        lines.append(
            f"  {f['name']:<28} {f['dtype']:<22} {f['kind'] or '':<10} {f['symbols']:>8}  "
            f"{' '.join(f['tags'])}"
        )
    lic = data["license_table"]
    lines += [
        "",
        "  license table: "
        + (
            ", ".join(f"{k}={v}" for k, v in lic["mapping"].items())
            if lic["recognised"]
            else f"no ({lic['reason']})"
        ),
    ]
    if rows is None and data["rows"]:
        rows = pl.DataFrame(data["rows"])
    if rows is not None and rows.height:
        with pl.Config(
            tbl_rows=rows.height,
            tbl_cols=-1,
            tbl_width_chars=200,
            fmt_str_lengths=40,
            tbl_hide_dataframe_shape=True,
        ):
            lines += ["", f"  first {rows.height} rows:", str(rows)]
    return "\n".join(lines)
