"""Tabular logs in batches: many files of one kind and header layout parsed in one pass give, file by
file, exactly what each file parsed alone gives (records, bad lines with file:line, counts, first/last
times, node, DST offsets), whatever their line ends, BOMs, trailers, continuation lines and damage."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qslogs.bundle import Member, open_bundle
from qslogs.inventory import HEAD_BYTES, FileEntry, classify
from qslogs.parsers.service_logs import FILE_KEY, parse_tabular
from qslogs.parsers.tabular_batch import TabularBatch, batchable, layout_key, parse_batch
from qslogs.schemas import Family
from tests.logfiles import NODE, TRACE_SYSTEM, trace_row

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "bundle"
REAL = ROOT.parent / "shared" / "fixtures" / "real"
if not REAL.exists():  # a worktree sits one level deeper than a clone
    REAL = ROOT.parent.parent / "shared" / "fixtures" / "real"


def assert_batch_equals_alone(batch: TabularBatch, files: list[tuple[bytes, FileEntry]]) -> None:
    offset = 0
    for i, (data, entry) in enumerate(files):
        alone = parse_tabular(data, entry)
        assert batch.frame.slice(offset, batch.rows[i]).equals(alone.frame), entry.path
        offset += batch.rows[i]
        bad = batch.bad_lines.filter(pl.col(FILE_KEY) == i).drop(FILE_KEY)
        assert bad.equals(alone.bad_lines), (entry.path, bad, alone.bad_lines)
        assert batch.bad_counts[i] == alone.bad_lines.height
        assert (batch.lines[i], batch.trailer[i], batch.continuation[i]) == (
            alone.lines, alone.trailer, alone.continuation), entry.path
        assert (batch.first[i], batch.last[i]) == (alone.first, alone.last), entry.path
        if alone.frame.height:
            assert batch.hosts[i] == alone.frame["host"][0], entry.path
        assert batch.offsets.filter(pl.col(FILE_KEY) == i).drop(FILE_KEY).equals(alone.offsets), entry.path
    assert offset == batch.frame.height


def _groups(folder: Path) -> list[list[tuple[bytes, FileEntry]]]:
    groups: dict[tuple[object, ...], list[tuple[bytes, FileEntry]]] = defaultdict(list)
    with open_bundle([folder]) as bundle:
        for member in bundle.members:
            data = member.read()
            entry = classify(member, data[:HEAD_BYTES])
            if entry.is_log and entry.family is not Family.SCRIPT and entry.family and batchable(data):
                groups[(entry.kind, layout_key(data, entry.family))].append((data, entry))
    return [files for files in groups.values() if len(files) > 1]


@pytest.mark.parametrize("folder", [SAMPLE, REAL], ids=["sample", "real"])
def test_real_and_sample_files_batched_equal_each_file_parsed_alone(folder: Path) -> None:
    if not folder.exists():
        pytest.skip(f"{folder} not present (../shared/fixtures beside the repository)")
    groups = _groups(folder)
    assert sum(len(g) for g in groups) > 20  # batches of several files did form
    for files in groups:
        batch = parse_batch(files)
        assert batch is not None
        assert_batch_equals_alone(batch, files)


def _entry(name: str, data: bytes) -> FileEntry:
    member = Member(name=name, display=name, size=len(data), _reader=lambda limit: data)
    return classify(member, data[:HEAD_BYTES])


TS = ["20240310T015959.123+0100", "20240310T030000.001+0200", "2024-03-10 03:00:00,5", "not a time"]
_DOTNET_LINE = st.one_of(
    st.builds(lambda s, t, m: trace_row(s, t, m), st.integers(1, 99), st.sampled_from(TS),
              st.text(st.characters(blacklist_characters="\t\r\n\x00", blacklist_categories=("Cs",)), max_size=12)),
    st.sampled_from(["", "short\tline", "x\t" * 14 + "x", "Signature:\t" + "ab" * 20, "é ↵ text"]),
)
_NODE_LINE = st.one_of(
    st.builds(lambda s, m: f"{s}\t20240310T101010.000+0100\tsense01.corp.example\t1.2\tGlobal\tINFO\t{m}",
              st.integers(1, 99), st.sampled_from(["ok", "with\ttab", "a ↵ b"])),
    st.sampled_from(["    at continuation (x.js:1:2)", "", "Signature:\t" + "0f" * 20]),
)


def _file(header: str, lines: list[str], bom: bool, eol: str, end: str) -> bytes:
    text = eol.join([header, *lines]) + end
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def _files(header: str, line: st.SearchStrategy[str]) -> st.SearchStrategy[list[bytes]]:
    one = st.builds(_file, st.just(header), st.lists(line, max_size=6), st.booleans(),
                    st.sampled_from(["\n", "\r\n", "\r\r\n"]), st.sampled_from(["", "\n", "\r\n", "\r", "\r\r"]))
    return st.lists(one, min_size=2, max_size=5)


@settings(max_examples=60, deadline=None)
@given(_files(TRACE_SYSTEM, _DOTNET_LINE))
def test_any_dotnet_batch_equals_its_files_parsed_alone(datas: list[bytes]) -> None:
    files = [(d, _entry(f"sense0{i}.corp.example/Repository/Trace/SENSE0{i}_System_Repository_"
                        f"2024-03-1{i}T00.00.00Z.log", d)) for i, d in enumerate(datas)]
    assert len({e.kind for _, e in files}) == 1
    batch = parse_batch(files)
    assert batch is not None
    assert_batch_equals_alone(batch, files)


@settings(max_examples=60, deadline=None)
@given(_files(NODE, _NODE_LINE))
def test_any_nodejs_batch_equals_its_files_parsed_alone(datas: list[bytes]) -> None:
    """node.js: a continuation line joins the record above it in its own file, never the previous file's."""
    files = [(d, _entry(f"Log/HubService/2024031{i}T101010.000+0100.log", d)) for i, d in enumerate(datas)]
    assert {e.family for _, e in files} == {Family.NODE}
    batch = parse_batch(files)
    assert batch is not None
    assert_batch_equals_alone(batch, files)


def test_a_continuation_at_the_start_of_a_file_is_its_orphan_not_the_previous_record() -> None:
    record = "1\t20240310T101010.000+0100\tsense01\t1.2\tGlobal\tINFO\tstarted"
    first = _file(NODE, [record], True, "\r\n", "\r\n")
    second = _file(NODE, ["    at Module.require (x.js:1:2)", record], True, "\r\n", "\r\n")
    files = [(d, _entry(f"Log/HubService/2024031{i}T101010.000+0100.log", d)) for i, d in enumerate([first, second])]
    batch = parse_batch(files)
    assert batch is not None
    assert batch.frame["Message"].to_list() == ["started", "started"]
    assert batch.bad_lines.select("source_file", "line_no", "reason").rows() == [
        (files[1][1].path, 2, "continuation line before the first record")]
    assert batch.continuation == [0, 0]


def test_files_that_are_not_utf8_or_hold_nul_bytes_are_not_batched() -> None:
    assert not batchable(b"")
    assert not batchable(b"a\x00b\n")
    assert not batchable("\ufeffSequence#\tTimestamp\n".encode("utf-16"))
    assert batchable(b"\xef\xbb\xbfSequence#\tTimestamp\r\n")
    cp1252 = (TRACE_SYSTEM + "\r\n" + trace_row(1, TS[0], "caf\xe9") + "\r\n").encode("cp1252")
    good = (TRACE_SYSTEM + "\r\n" + trace_row(1, TS[0], "ok") + "\r\n").encode()
    name = "sense01.corp.example/Repository/Trace/SENSE01_System_Repository_2024-03-1{}T00.00.00Z.log"
    assert parse_batch([(good, _entry(name.format(1), good)), (cp1252, _entry(name.format(2), cp1252))]) is None
