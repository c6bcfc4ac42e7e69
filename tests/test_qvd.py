"""QVD reading (qslogs.parsers.qvd) and writing (qslogs_synth.qvd_writer), checked against an independent
byte-level decoder (tests/qvd_reference.py) cell by cell."""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import qvd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import qslogs.parsers.qvd as qvd_module
from qslogs.errors import QvdError
from qslogs.parsers.qvd import QvdTable, _symbol_starts, read_qvd, read_qvd_header
from qslogs_synth.qvd_writer import QvdColumn, pack_symbols, write_qvd, write_qvd_columns
from tests import qvd_reference as ref

QLIK_EPOCH = datetime(1899, 12, 30)
REAL_QVDS = ["ctrlq_colors.qvd", "ctrlq_empty_qvd.qvd", "pyqvd_medium_2024.qvd", "pyqvd_medium_2026.qvd",
             "pyqvd_small_2024.qvd", "pyqvd_small_2026.qvd", "qvdfile_tab1.qvd", "qvdfile_tab2.qvd",
             "qvdutils_test_qvd.qvd", "qvdutils_test_qvd_null.qvd", "qvdutils_test_qvd_old.qvd"]  # fmt: skip
STAMP = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


# ---------------------------------------------------------------- the reference comparison


def _shown(sym: ref.RefSymbol) -> str:
    """A symbol as Qlik displays it: its text, else its number's digits."""
    if sym.text is not None:
        return sym.text
    assert sym.number is not None
    return str(int(sym.number)) if float(sym.number).is_integer() else repr(float(sym.number))


def _expected(sym: ref.RefSymbol | None, kind: str) -> object:
    """What the reader should return for one cell, given the column's resolved kind."""
    if sym is None:
        return None
    if kind in ("text", "mixed"):
        return _shown(sym)
    number = sym.number if sym.number is not None else float(sym.text or "nan")
    if kind == "number":
        return number
    ms = round(number * 86_400_000)
    if kind == "date":
        return (QLIK_EPOCH + timedelta(days=math.floor(number))).date()
    if kind == "timestamp":
        return QLIK_EPOCH + timedelta(milliseconds=ms)
    if kind == "time":
        return (datetime.min + timedelta(milliseconds=ms)).time()
    assert kind == "interval", kind
    return timedelta(milliseconds=ms)


def assert_matches_reference(table: QvdTable, path: Path) -> None:
    """Every cell of ``table`` equals what the independent decoder finds in ``path``."""
    expected = ref.decode(path)
    assert table.frame.height == expected.no_of_records
    assert table.frame.columns == [f.name for f in expected.fields]
    for field in expected.fields:
        kind = table.kinds[field.name]
        want = [_expected(sym, kind) for sym in field.cells]
        got = table.frame.get_column(field.name).to_list()
        assert got == want, f"{path.name}:{field.name} ({kind})"


def _fixture(real_fixtures: Path, name: str) -> Path:
    return real_fixtures / "qvd" / name


# ---------------------------------------------------------------- real files


@pytest.mark.fixtures
@pytest.mark.parametrize("name", REAL_QVDS)
def test_real_qvd_equals_reference_decoder(real_fixtures: Path, name: str) -> None:
    path = _fixture(real_fixtures, name)
    table = read_qvd(path)
    assert table.frame.height == table.header.no_of_records
    assert_matches_reference(table, path)


@pytest.mark.fixtures
@pytest.mark.parametrize(
    "name, column, dtype, kind, first",
    [
        ("pyqvd_medium_2024.qvd", "BirthDate", pl.Date, "date", date(1966, 4, 8)),  # NumberFormat DATE, ints
        ("pyqvd_medium_2024.qvd", "YearlyIncome", pl.Int64, "number", 90000),  # MONEY, plain ints
        ("pyqvd_medium_2024.qvd", "Title", pl.String, "text", None),  # Bias -2 NULL
        ("pyqvd_medium_2026.qvd", "BookingDate", pl.Date, "date", date(2020, 8, 6)),  # duals '06.08.2020'
        ("pyqvd_medium_2026.qvd", "Amount", pl.Float64, "number", 1612.3),  # types 1 and 2 mixed
        ("pyqvd_small_2024.qvd", "ListPrice", pl.String, "text", "NULL"),  # the string 'NULL' is a value
        ("qvdfile_tab1.qvd", "ONEVAL", pl.Int64, "number", 0),  # zero-width field
        ("qvdfile_tab2.qvd", "PHONE", pl.String, "mixed", "1234567890"),  # keeps the dual '02345678910'
        ("qvdutils_test_qvd_null.qvd", "all Null", pl.String, "text", None),  # no symbols at all
        ("qvdutils_test_qvd.qvd", "TEST.double", pl.Float64, "number", 1.2),  # (10, '10.0') stays 10.0
    ],
)
def test_real_qvd_types(
    real_fixtures: Path, name: str, column: str, dtype: pl.DataType, kind: str, first: object
) -> None:
    table = read_qvd(_fixture(real_fixtures, name))
    assert table.frame.schema[column] == dtype
    assert table.kinds[column] == kind
    assert table.frame[column][0] == first


@pytest.mark.fixtures
def test_leading_zero_dual_text_is_kept(real_fixtures: Path) -> None:
    path = _fixture(real_fixtures, "qvdfile_tab2.qvd")
    assert 2345678910.0 in qvd.read_qvd_to_polars(str(path))["PHONE"].to_list()  # qvdrs drops the zero
    assert "02345678910" in read_qvd(path).frame["PHONE"].to_list()


@pytest.mark.fixtures
def test_non_ascii_text(real_fixtures: Path) -> None:
    names = read_qvd(_fixture(real_fixtures, "pyqvd_medium_2024.qvd")).frame["LastName"]
    assert {"Jiménez", "Muñoz", "Skjønaa"} <= set(names.to_list())


@pytest.mark.fixtures
@pytest.mark.parametrize("name", REAL_QVDS)
def test_real_header_equals_reference(real_fixtures: Path, name: str) -> None:
    path = _fixture(real_fixtures, name)
    header, expected = read_qvd_header(path), ref.decode(path)
    assert (header.table_name, header.no_of_records) == (expected.table_name, expected.no_of_records)
    for got, want in zip(header.fields, expected.fields, strict=True):
        assert (got.name, got.bit_offset, got.bit_width, got.bias) == (want.name, want.bit_offset,
                                                                       want.bit_width, want.bias)  # fmt: skip
        assert (got.number_format_type, got.tags) == (want.number_format_type, want.tags)


@pytest.mark.fixtures
def test_header_informational_elements(real_fixtures: Path) -> None:
    old = read_qvd_header(_fixture(real_fixtures, "qvdfile_tab1.qvd"))
    assert (old.qv_build_no, old.creator_doc, old.create_utc_time) == ("7314", "", "2019-07-05 07:13:07")
    assert old.fields[0].number_format_type == "0" and old.fields[0].tags == ()
    recent = read_qvd_header(_fixture(real_fixtures, "pyqvd_medium_2026.qvd"))
    assert recent.qv_build_no == "50689"
    assert recent.fields[2].kind == "date" and "$date" in recent.fields[2].tags


@pytest.mark.fixtures
def test_header_only_mock_is_refused(real_fixtures: Path) -> None:
    path = _fixture(real_fixtures, "ctrlq_sample.qvd")
    assert qvd.read_qvd_to_polars(str(path)).height == 3  # qvdrs makes up three rows of NULLs
    with pytest.raises(QvdError, match=r"ctrlq_sample\.qvd.*not followed by \\r\\n\\0") as err:
        read_qvd(path)
    assert err.value.path == str(path)


# ---------------------------------------------------------------- damaged files


def _good_qvd(tmp_path: Path) -> Path:
    path = tmp_path / "good.qvd"
    write_qvd(path, pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]}), "T", create_utc_time=STAMP)
    return path


def _damaged(tmp_path: Path, old: bytes, new: bytes) -> Path:
    data = _good_qvd(tmp_path).read_bytes()
    assert old in data
    path = tmp_path / "damaged.qvd"
    path.write_bytes(data.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda p: p.write_bytes(p.read_bytes()[:-2]), r"index table .* ends beyond the \d+-byte body"),
        (lambda p: p.write_bytes(p.read_bytes().replace(b"<Fields>", b"<Fields", 1)), "does not parse"),
        (lambda p: p.write_bytes(p.read_bytes().replace(b"<Compression></Compression>",
                                                        b"<Compression>zlib</Compression>")), "Compression"),
        (lambda p: p.write_bytes(p.read_bytes().replace(b"\r\n\x00", b"\r\n", 1)), r"not followed by"),
        (lambda p: p.write_bytes(b""), "no </QvdTableHeader> found"),
        (lambda p: p.write_bytes(b"PK\x03\x04" + bytes(5000)), "no </QvdTableHeader> found"),
        (lambda p: p.unlink(), "cannot read it"),
    ],
)  # fmt: skip
def test_damaged_file_is_refused(tmp_path: Path, damage: Callable[[Path], object], reason: str) -> None:
    path = _good_qvd(tmp_path)
    damage(path)
    with pytest.raises(QvdError, match=reason) as err:
        read_qvd(path)
    assert str(err.value).startswith(f"{path}: not a readable QVD file: ")


@pytest.mark.parametrize(
    "old, new, reason",
    [
        (b"<Offset>21</Offset>\r\n   <Length>3</Length>", b"<Offset>9999</Offset>\r\n   <Length>3</Length>",
         r"index table \(Offset 9999 \+ Length 3\) ends beyond"),
        (b"<Length>3</Length>\r\n   <Lineage>", b"<Length>4</Length>\r\n   <Lineage>",
         "index Length 4 != NoOfRecords 3 x RecordByteSize 1"),
        (b"<Offset>15</Offset>", b"<Offset>150</Offset>", r"field 'b' symbol table .* ends beyond"),
        (b"<NoOfRecords>3</NoOfRecords>", b"<NoOfRecords>x</NoOfRecords>", r"<NoOfRecords> .* not a number"),
        (b"<RecordByteSize>1</RecordByteSize>", b"", "<RecordByteSize> in the XML header is missing"),
        (b"<Bias>-2</Bias>", b"<Bias>-3</Bias>", "a Bias other than 0 and -2"),
        (b"<BitWidth>2</BitWidth>", b"<BitWidth>9</BitWidth>", "do not fit a 1-byte row"),
        (b"<FieldName>b</FieldName>", b"<FieldName>a</FieldName>", "two fields share a name"),
        (b'<?xml version="1.0"', b'<!DOCTYPE x [<!ENTITY y "z">]><?xml version="1.0"', "DOCTYPE"),
    ],
)  # fmt: skip
def test_inconsistent_header_is_refused(tmp_path: Path, old: bytes, new: bytes, reason: str) -> None:
    path = _damaged(tmp_path, old, new)
    with pytest.raises(QvdError, match=reason) as err:
        read_qvd_header(path)
    assert "damaged.qvd" in str(err.value)


def test_header_size_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "huge.qvd"
    path.write_bytes(b"<QvdTableHeader>" + b" " * (17 * 2**20))
    with pytest.raises(QvdError, match="no </QvdTableHeader> in the first 16 MiB"):
        read_qvd_header(path)


def test_header_read_stops_at_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.qvd"
    write_qvd(path, pl.DataFrame({"n": np.arange(300_000)}), "Big")
    read: list[int] = []

    class Counting(io.FileIO):
        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            read.append(len(data))
            return data

    monkeypatch.setattr(qvd_module, "open", lambda p, mode: Counting(p, "r"), raising=False)
    header = read_qvd_header(path)
    assert sum(read) < 70_000 < path.stat().st_size  # one 64 KiB chunk, not the 1.8 MB file
    assert path.read_bytes()[header.body_offset - 3 : header.body_offset] == b"\r\n\x00"
    assert header.index_offset + header.index_length == path.stat().st_size - header.body_offset


def test_lf_only_terminator_is_accepted(tmp_path: Path) -> None:
    path = _damaged(tmp_path, b"</QvdTableHeader>\r\n\x00", b"</QvdTableHeader>\n\x00")
    assert read_qvd(path).frame["a"].to_list() == [1, 2, 3]


# ---------------------------------------------------------------- writer round trips


def _roundtrip(tmp_path: Path, frame: pl.DataFrame, **kwargs: object) -> QvdTable:
    path = tmp_path / "rt.qvd"
    write_qvd(path, frame, "RT", create_utc_time=STAMP, **kwargs)  # type: ignore[arg-type]
    assert qvd.read_qvd_to_polars(str(path)).height == frame.height
    table = read_qvd(path)
    assert_matches_reference(table, path)
    return table


def test_roundtrip_nulls_text_and_constants(tmp_path: Path) -> None:
    frame = pl.DataFrame({
        "text": ["Jiménez", None, "", "NULL", "日本語 🎉", "Jiménez"],
        "ints": [1, None, -5, 2_147_483_647, -2_147_483_648, 1],
        "floats": [1.5, None, -0.25, 1e300, 3.0, 0.1],
        "constant": ["same"] * 6,
        "nothing": pl.Series([None] * 6, dtype=pl.Null),
        "ids": ["0901", "007", "1", "x", "0901", None],
    })  # fmt: skip
    table = _roundtrip(tmp_path, frame)
    expected = frame.with_columns(pl.col("nothing").cast(pl.String))
    assert_frame_equal(table.frame, expected)
    constant = next(f for f in table.header.fields if f.name == "constant")
    assert (constant.bit_width, constant.no_of_symbols) == (0, 1)


def test_roundtrip_empty_table(tmp_path: Path) -> None:
    frame = pl.DataFrame(schema={"a": pl.Int64, "b": pl.String, "d": pl.Date, "t": pl.Datetime("ms")})
    table = _roundtrip(tmp_path, frame)
    assert table.frame.height == 0 and table.header.record_byte_size == 0
    assert table.frame.schema == frame.schema


def test_roundtrip_whole_second_timestamps_are_exact(tmp_path: Path) -> None:
    stamps = [datetime(2024, 1, 1) + timedelta(seconds=s) for s in range(0, 86_400, 37)]
    stamps += [datetime(1899, 12, 29, 23, 59, 59), datetime(1850, 5, 6, 7, 8, 9, 123000),
               datetime(1970, 1, 1), datetime(1969, 12, 31, 23, 59, 59, 999000), datetime(2100, 1, 2)]
    frame = pl.DataFrame({"ts": pl.Series(stamps, dtype=pl.Datetime("ms"))})
    path = tmp_path / "ts.qvd"
    write_qvd(path, frame, "TS")
    bare = qvd.read_qvd_to_polars(str(path))["ts"].dt.microsecond() % 1000
    assert (bare != 0).sum() > len(stamps) // 10  # qvdrs alone truncates: …:06.999999
    table = read_qvd(path)
    assert table.kinds["ts"] == "timestamp"
    assert_frame_equal(table.frame, frame)
    assert_matches_reference(table, path)


def test_roundtrip_dates_times_and_intervals(tmp_path: Path) -> None:
    frame = pl.DataFrame({
        "d": [date(2020, 6, 18), date(1899, 12, 30), None, date(1700, 1, 1), date(9999, 12, 31)],
        "t": [time(0, 0), time(12, 30, 15), time(23, 59, 59), None, time(0, 0, 1)],
        "iv": [timedelta(hours=25), timedelta(seconds=-30), None, timedelta(0), timedelta(milliseconds=1)],
        "serial": [43000, 0, -1, None, 2958465],
        "iso": ["2020-01-02", None, "1999-12-31", "2000-02-29", "1900-03-01"],
    })  # fmt: skip
    table = _roundtrip(tmp_path, frame, date_fields=["serial", "iso"])
    assert table.kinds == {"d": "date", "t": "time", "iv": "interval", "serial": "date", "iso": "date"}
    expected = frame.with_columns(
        pl.col("iv").cast(pl.Duration("ms")),
        (pl.col("serial") - 25569).cast(pl.Date),
        pl.col("iso").str.to_date(),
    )
    assert_frame_equal(table.frame, expected)
    serial = next(f for f in table.header.fields if f.name == "serial")
    assert (serial.number_format_type, serial.tags) == ("DATE", ())


def test_writer_header_layout(tmp_path: Path) -> None:
    path = tmp_path / "h.qvd"
    frame = pl.DataFrame({"d": [date(2020, 1, 1)], "ts": [datetime(2020, 1, 1, 1)], "s": ["ä"], "n": [1.5]})
    write_qvd(path, frame, "Tab & <1>", create_utc_time=STAMP, creator_doc="doc-1")
    raw = path.read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n <QvdTableHeader>\r\n')
    header = read_qvd_header(path)
    assert (header.table_name, header.qv_build_no, header.creator_doc) == ("Tab & <1>", "50689", "doc-1")
    assert header.create_utc_time == "2024-05-06 07:08:09"
    got = {f.name: (f.number_format_type, f.tags) for f in header.fields}
    assert got == {
        "d": ("DATE", ("$numeric", "$integer", "$date")), "ts": ("TIMESTAMP", ("$numeric", "$timestamp")),
        "s": ("UNKNOWN", ("$text",)), "n": ("UNKNOWN", ("$numeric",)),
    }  # fmt: skip
    assert [s.kind for s in ref.decode(path).fields[0].symbols] == [5]
    assert ref.decode(path).fields[0].symbols[0].text == "2020-01-01"


def test_writer_rejects_what_qvd_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NUL"):
        write_qvd(tmp_path / "x.qvd", pl.DataFrame({"s": ["a\x00b"]}), "X")
    with pytest.raises(ValueError, match="not in the frame"):
        write_qvd(tmp_path / "x.qvd", pl.DataFrame({"s": ["a"]}), "X", date_fields=["t"])
    with pytest.raises(ValueError, match="time of day"):
        write_qvd(tmp_path / "x.qvd", pl.DataFrame({"t": [datetime(2020, 1, 1, 5)]}), "X", date_fields=["t"])


# ---------------------------------------------------------------- unusual symbol tables


def _column(name: str, symbols: bytes, count: int, fmt: str = "UNKNOWN", tags: tuple[str, ...] = ()
            ) -> QvdColumn:  # fmt: skip
    return QvdColumn(name, symbols, count, np.array([0, 1, 2, -1, 0]), fmt, tags)


def _s(*values: str) -> pl.Series:
    return pl.Series(values, dtype=pl.String)


P, A, NUM = pack_symbols, np.array, ("$numeric", "$integer")
UNUSUAL = [
    (_column("ids", P(5, A([901, 7, 12]), _s("0901", "7", "12")), 3, tags=NUM), "mixed"),
    (_column("month", P(5, A([1, 2, 3]), _s("Jan", "Feb", "Mar")), 3, tags=NUM), "mixed"),
    (_column("money", P(6, A([9.5, 1.25, 3.0]), _s("9.50", "1.25", "3.00")), 3, "MONEY"), "number"),
    (_column("datelike", P(5, A([44000, 44001, -3]), _s("2020-06-18", "2020-06-19", "1899-12-27")), 3,
             tags=NUM), "date"),
    (_column("datetag", P(5, A([44000, 44001, -3]), _s("a", "b", "c")), 3, tags=(*NUM, "$date")), "date"),
    (_column("tstag", P(6, A([44000.5, 44001.25, -3.75]), _s("a", "b", "c")), 3, tags=("$timestamp",)),
     "timestamp"),
    (_column("date_text", P(5, A([44000, 44001]), _s("x", "y")) + P(4, texts=_s("n/a")), 3, "DATE"), "mixed"),
    (_column("ts_text", P(6, A([4.5, -1.5]), _s("a", "b")) + P(4, texts=_s("n/a")), 3, "TIMESTAMP"), "mixed"),
    (_column("num_text", P(5, A([1, 2]), _s("1", "2")) + P(4, texts=_s("n/a")), 3, tags=NUM[:1]), "mixed"),
    (_column("time", P(6, A([0.5, 0.25, 0.75]), _s("a", "b", "c")), 3, "TIME"), "time"),
    (_column("long_time", P(6, A([0.5, 1.25, 0.0]), _s("a", "b", "c")), 3, "TIME"), "interval"),
    (_column("interval", P(2, A([0.5, -0.25, 2.0])), 3, "INTERVAL"), "interval"),
    (_column("mixed12", P(1, A([1, 1280])) + P(2, A([2.5])), 3), "number"),
    (_column("mixed_all", P(1, A([327680])) + P(6, A([2.5]), _s("2,5")) + P(4, texts=_s("x")), 3), "text"),
    (_column("bad_utf8", P(5, A([1, 2, 3]), _s("a", "b", "c")).replace(b"b", b"\xff"), 3, tags=NUM), "mixed"),
]  # fmt: skip


@pytest.mark.parametrize("column, kind", UNUSUAL, ids=[c.name for c, _ in UNUSUAL])
def test_unusual_fields_equal_reference(tmp_path: Path, column: QvdColumn, kind: str) -> None:
    path = tmp_path / f"{column.name}.qvd"
    write_qvd_columns(path, [column], "U")
    table = read_qvd(path)
    assert table.kinds[column.name] == kind
    assert_matches_reference(table, path)


def test_invalid_utf8_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "bad.qvd"
    write_qvd_columns(path, [UNUSUAL[-1][0], _column("n", pack_symbols(1, np.array([4, 5, 6])), 3)], "U")
    with pytest.raises(ValueError, match="UTF-8"):
        qvd.read_qvd_to_polars(str(path))  # qvdrs refuses the whole file
    table = read_qvd(path)
    assert table.frame["bad_utf8"].to_list() == ["a", "\ufffd", "c", None, "a"]
    assert table.frame["n"].to_list() == [4, 5, 6, None, 4]
    assert table.notes[0].startswith("qvdrs refused it (UTF-8 error")
    assert table.notes[1] == "field 'bad_utf8': invalid UTF-8 replaced by U+FFFD in 1 value(s)"


def test_negative_fractional_date_serial_is_floored(tmp_path: Path) -> None:
    """Qlik shows serial -1.5 as 1899-12-28 (the floor); qvdrs alone truncates it to 1899-12-29."""
    path = tmp_path / "neg.qvd"
    write_qvd_columns(path, [_column("d", pack_symbols(6, np.array([-1.5, 2.0, 0.5]), _s("a", "b", "c")), 3,
                                     "DATE")], "N")  # fmt: skip
    assert qvd.read_qvd_to_polars(str(path))["d"][0] == date(1899, 12, 29)
    assert read_qvd(path).frame["d"].to_list() == [date(1899, 12, 28), date(1900, 1, 1), date(1899, 12, 30),
                                                   None, date(1899, 12, 28)]  # fmt: skip
    assert_matches_reference(read_qvd(path), path)


# ---------------------------------------------------------------- property tests


def _pack_reference(symbols: list[tuple[int, float, str]]) -> tuple[bytes, list[int]]:
    """Symbols packed one by one with struct (independent of pack_symbols), and their start offsets."""
    out, starts = bytearray(), []
    for kind, number, text in symbols:
        starts.append(len(out))
        out.append(kind)
        if kind in (1, 5):
            out += struct.pack("<i", int(number))
        elif kind in (2, 6):
            out += struct.pack("<d", number)
        if kind in (4, 5, 6):
            out += text.encode() + b"\x00"
    return bytes(out), starts


SYMBOL = st.one_of(
    st.tuples(st.sampled_from([1, 5]), st.integers(-(2**31), 2**31 - 1).map(float), st.text(max_size=6)),
    st.tuples(st.sampled_from([2, 6, 4]), st.floats(allow_nan=False), st.text(max_size=6)),
    # numbers whose bytes hold a NUL followed by a text-type byte: fake terminators for the scanner
    st.tuples(st.just(5), st.sampled_from([0, 1280, 327680, 393224, 2**24 + 4]).map(float), st.just("7")),
).map(lambda t: (t[0], t[1], t[2].replace("\x00", "")))


@settings(max_examples=200, deadline=None)
@given(st.lists(SYMBOL, max_size=120))
def test_symbol_scan_finds_every_start(symbols: list[tuple[int, float, str]]) -> None:
    data, starts = _pack_reference(symbols)
    found = _symbol_starts(np.frombuffer(data, dtype=np.uint8), len(symbols))
    assert found is not None and found.tolist() == starts
    if symbols:
        assert _symbol_starts(np.frombuffer(data[:-1], dtype=np.uint8), len(symbols)) is None


TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)
COLUMNS: dict[str, tuple[st.SearchStrategy[Any], pl.DataType | type[pl.DataType]]] = {
    "i": (st.integers(-(2**31), 2**31 - 1), pl.Int64),
    "f": (st.floats(allow_nan=False, allow_infinity=False), pl.Float64),
    "s": (TEXT, pl.String),
    "d": (st.dates(date(1700, 1, 1), date(2200, 12, 31)), pl.Date),
    "ts": (st.datetimes(datetime(1800, 1, 1), datetime(2200, 1, 1)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)), pl.Datetime("ms")),
}  # fmt: skip


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    rows = draw(st.integers(0, 12))
    names = draw(st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=5, unique=True))
    data = {n: pl.Series(n, draw(st.lists(st.none() | COLUMNS[n][0], min_size=rows, max_size=rows)),
                         dtype=COLUMNS[n][1]) for n in names}  # fmt: skip
    return pl.DataFrame(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames())
def test_writer_reader_roundtrip(tmp_path: Path, frame: pl.DataFrame) -> None:
    path = tmp_path / "prop.qvd"
    write_qvd(path, frame, "P")
    table = read_qvd(path)
    expected = frame.with_columns(pl.col(pl.Float64) + 0.0)  # -0.0 is written as 0.0
    assert_frame_equal(table.frame, expected)
    assert_matches_reference(table, path)
