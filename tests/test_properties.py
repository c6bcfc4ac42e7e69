"""Property tests on every parser: any input gives a result or the project's own error, and no line is lost.

For each parser Hypothesis generates realistic files (Qlik headers, records with valid and broken fields,
signature trailers, node.js continuation lines, mixed line ends, BOMs, UTF-16 and Windows-1252) and raw
bytes. The contract checked:

- the parser returns, or raises only a :class:`~qslogs.errors.QslogsError` (``ParseError`` under
  ``strict``, ``QvdError`` for QVDs); never IndexError, PolarsError, UnicodeDecodeError, …;
- line-oriented files: records + bad lines + signature trailer + joined continuation lines = physical
  lines (header excluded), each line number used once; script logs: parsed + bad lines = physical lines;
- a script log without ``Execution finished.`` is never a success.

Examples are derandomized (the same on every run, like the rest of the suite) and the database is off,
so nothing is written into the checkout.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qslogs.bundle import READ_ERRORS, Limits, Member, normalise_name, open_bundle
from qslogs.capped import cap_lines
from qslogs.error_classes import CLASS_NAMES, classify_error
from qslogs.errors import ParseError, QvdError
from qslogs.inventory import FileEntry, classify, sniff_family
from qslogs.parsers.script_logs import parse_script_log
from qslogs.parsers.service_logs import parse_tabular
from qslogs.parsers.text import decode_text
from qslogs.schemas import Family
from qslogs.timeutil import parse_qlik_ts
from tests.corpus import REAL, SAMPLE_BUNDLE, physical_lines
from tests.logfiles import LICENSE, NODE, TASK_EXECUTION, TRACE_SYSTEM

PROPERTY = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

AUDIT = ("Sequence#\tProductVersion\tTimestamp\tHostname\tId\tDescription\tProxySessionId\tProxyPackageId\t"
         "RequestSequenceId\tUserDirectory\tUserId\tObjectId\tObjectName\tService\tOrigin\tContext\tCommand\t"
         "Result\tMessage\tId2")
ENGINE_START = "Severity\tTimestamp\tProcessId\tThreadId\tMessage"
DATAPROFILING = "Logger\tSeverity\tDate\tMicroSeconds\tMessage"
#: family → (header, kind, file name, index of the time column)
FAMILIES: dict[Family, tuple[str, str, str, int]] = {
    Family.TRACE: (TRACE_SYSTEM, "Repository/System", "SENSE01_System_Repository.txt", 1),
    Family.AUDIT: (AUDIT, "Proxy/AuditActivity", "SENSE01_AuditActivity_Proxy.txt", 2),
    Family.NODE: (NODE, "HubService/NodeService", "201910231008512340200.log", 1),
    Family.DATAPROFILING: (DATAPROFILING, "DataProfiling/NodeService", "1571818131234_System.log", 2),
    Family.ENGINE_DAILY: (ENGINE_START, "Engine/DailyStart", "SENSE01_Start_Engine_2019-10-23.log", 1),
    Family.ACCESS: ("", "HubService/Access", "201910231008512340200-access.log", 3),
}
EXTRA_TRACE_HEADERS = (TASK_EXECUTION, LICENSE)

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r"), max_size=24)
_FIELD = st.one_of(_TEXT, st.sampled_from(["", "↵↓", '"::1"', "'x'", "Not available", "\x00", "Müller", "0"]))


@st.composite
def timestamps(draw: st.DrawFn, family: Family) -> str:
    moment = draw(st.datetimes(datetime(1999, 1, 1), datetime(2099, 1, 1)))
    if family is Family.ACCESS:
        return moment.strftime("[%d/%b/%Y:%H:%M:%S +0000]")
    if family is Family.DATAPROFILING:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + draw(st.sampled_from(["+02:00", "Z", "-05:00"]))
    offset = draw(st.sampled_from(["+0200", "+0100", "-0500", "+05:30", "+0000", "Z", ""]))
    return moment.strftime("%Y%m%dT%H%M%S.%f")[:-3] + offset


@st.composite
def record(draw: st.DrawFn, family: Family, header: str) -> str:
    """A line that is a record, or nearly one (a field too many or too few, a bad time)."""
    if family is Family.ACCESS:
        ts = draw(timestamps(family))
        path, size = draw(_TEXT), draw(st.integers(0, 9))
        return f'10.0.0.{draw(st.integers(0, 255))} - - {ts} "GET /{path} HTTP/1.1" 200 {size}'
    n = len(header.split("\t"))
    fields = draw(st.lists(_FIELD, min_size=n, max_size=n))
    time_at = FAMILIES[family][3]
    fields[time_at] = draw(st.one_of(timestamps(family), timestamps(family), timestamps(family), _FIELD))
    if family in (Family.NODE, Family.TRACE, Family.AUDIT):
        fields[0] = str(draw(st.integers(0, 2**31)))
    extra = draw(st.sampled_from([0, 0, 0, 0, 0, -1, 1, 2, -2]))
    fields = fields[:extra] if extra < 0 else fields + ["x"] * extra
    return "\t".join(fields)


@st.composite
def log_files(draw: st.DrawFn) -> tuple[Family, str, bytes]:
    """A whole tab-separated log file of some family, with noise lines, encoded some way."""
    family = draw(st.sampled_from(list(FAMILIES)))
    header, _, _, _ = FAMILIES[family]
    if family is Family.TRACE:
        header = draw(st.sampled_from([header, *EXTRA_TRACE_HEADERS]))
    noise = st.one_of(_TEXT, st.sampled_from(["", "Signature:\t" + "ab" * 20, header, "\x00\x01", " "]))
    body = draw(st.lists(st.one_of(record(family, header), record(family, header), noise), max_size=12))
    if draw(st.booleans()):
        body.append("Signature:\t" + "0f" * 20)
    lines = body if family is Family.ACCESS else [header, *body]
    eols = draw(st.lists(st.sampled_from(["\r\n", "\n", "\r\r\n"]), min_size=len(lines), max_size=len(lines)))
    text = "".join(line + eol for line, eol in zip(lines, eols, strict=True))
    if lines and draw(st.booleans()):
        text = text[: -len(eols[-1])]  # no final newline
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    return family, header, text.encode(encoding, errors="replace")


def entry_for(family: Family, data: bytes, header: str = "") -> FileEntry:
    _, kind, name, _ = FAMILIES[family]
    member = Member(name=f"Log/X/{name}", display=f"Log/X/{name}", size=len(data), _reader=lambda limit: data)
    return FileEntry(member=member, path=member.display, kind=kind, family=family, service="X",
                     host="sense01", archived=False, header=tuple(header.split("\t")))


def _check_accounting(family: Family, data: bytes, parsed: object) -> None:
    from qslogs.parsers.service_logs import ParsedFile

    assert isinstance(parsed, ParsedFile)
    records, bad = parsed.frame.height, parsed.bad_lines.height
    assert records + bad + parsed.trailer + parsed.continuation == parsed.lines
    header = 0 if family is Family.ACCESS else 1
    assert parsed.lines == max(0, physical_lines(data) - header)
    numbers = pl.concat([parsed.frame["line_no"], parsed.bad_lines["line_no"]])
    assert not numbers.is_duplicated().any()
    if numbers.len():
        assert numbers.min() >= header + 1 and numbers.max() <= physical_lines(data)  # type: ignore[operator]
    assert parsed.bad_lines["reason"].null_count() == 0
    assert (parsed.bad_lines["text"].str.len_chars() <= 4096).all()


@pytest.mark.slow
@PROPERTY
@given(log_files(), st.booleans())
def test_tabular_parser_accounts_for_every_line(generated: tuple[Family, str, bytes], strict: bool) -> None:
    family, header, data = generated
    try:
        parsed = parse_tabular(data, entry_for(family, data, header), strict=strict)
    except ParseError as exc:
        assert strict and exc.line >= 1
        return
    _check_accounting(family, data, parsed)
    assert not strict or parsed.bad_lines.height == 0


@PROPERTY
@given(st.sampled_from(list(FAMILIES)), st.binary(max_size=600))
def test_tabular_parser_takes_any_bytes(family: Family, data: bytes) -> None:
    _check_accounting(family, data, parse_tabular(data, entry_for(family, data)))


@st.composite
def script_logs(draw: st.DrawFn) -> bytes:
    """Script-log lines: header and statement lines, engine messages, errors, junk; maybe cut off."""
    start = draw(st.datetimes(datetime(2010, 1, 1), datetime(2030, 1, 1)))
    texts = ["Execution started.", "Qlik Sense Server Version     12.1581.3", "LIB CONNECT TO 'REST_x'",
             "Error: HTTP protocol error 401 (Unauthorized)", "Execution Failed", "Execution finished.",
             "\t2 fields found: A, B, ", "12 Lines fetched", "Users:", "LOAD * FROM [lib://x.qvd] (qvd)"]
    lines = []
    for i in range(draw(st.integers(0, 14))):
        when = (start + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S")
        number = draw(st.sampled_from(["    ", f"{i:04d}", "12345"]))
        text = draw(st.one_of(st.sampled_from(texts), _TEXT))
        lines.append(draw(st.sampled_from([f"{when} {number} {text}", text, f"{when} {number}", ""])))
    eol = draw(st.sampled_from(["\r\n", "\n", "\r\r\n"]))
    text = eol.join(lines) + (eol if draw(st.booleans()) else "")
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig"])))


@PROPERTY
@given(st.one_of(script_logs(), st.binary(max_size=500)), st.booleans())
def test_script_log_parser_accounts_for_every_line_and_never_calls_a_cut_log_a_success(data: bytes,
                                                                                        strict: bool) -> None:
    assume(not data.startswith((b"\xff\xfe", b"\xfe\xff")))  # UTF-16: see the test below
    try:
        log = parse_script_log(data, "Log/Script/x.2019_10_23_10_08_50.4F1A.log", strict=strict)
    except ParseError:
        assert strict
        return
    # A leading UTF-8 BOM is not text (a BOM-only file has no line at all), then lines as formats.md §4 counts them.
    assert log.lines.height + log.bad_lines.height == physical_lines(data.removeprefix(b"\xef\xbb\xbf"))
    assert not log.lines["line_no"].is_duplicated().any()
    if b"Execution finished." not in data:
        assert log.summary.outcome.value != "success"


def test_script_log_saved_as_utf16_reads_like_the_original() -> None:
    text = "2019-10-23 10:08:50      Execution started.\r\n2019-10-23 10:08:51      Execution finished.\r\n"
    original = parse_script_log(text.encode("utf-8-sig"), "a.log")
    resaved = parse_script_log(text.encode("utf-16"), "a.log")
    assert resaved.bad_lines.height == original.bad_lines.height == 0
    assert resaved.summary.outcome == original.summary.outcome


@PROPERTY
@given(st.binary(max_size=2000), st.integers(1, 64))
def test_cap_lines_keeps_every_line_and_bounds_each(data: bytes, chars: int) -> None:
    limits = Limits(max_line_chars=chars)
    capped = cap_lines(io.BytesIO(data), limits.max_line_bytes, 10**6)
    assert physical_lines(capped.data) == physical_lines(data)
    before, after = decode_text(data).lines, decode_text(capped.data).lines
    assert len(before) == len(after)
    for number, (old, new) in enumerate(zip(before, after, strict=True), start=1):
        assert (old != new) == (number in capped.cut_lines) or data.startswith((b"\xff\xfe", b"\xfe\xff"))
        if number in capped.cut_lines:
            assert len(new) > chars


@PROPERTY
@given(st.binary(max_size=300), st.sampled_from(["Log/Repository/Trace/SENSE01_System_Repository.txt",
                                                   "Log/Script/a.2019_10_23_10_08_50.4F.log", "x.json",
                                                   "HubService/201910231008512340200.log", "evil/../../x"]))
def test_classify_and_decode_take_any_bytes(data: bytes, name: str) -> None:
    member = Member(name=name, display=name, size=len(data), _reader=lambda limit: data)
    entry = classify(member, data)
    assert entry.kind and (entry.family is None or entry.family in Family)
    sniff_family(data)
    decoded = decode_text(data)
    assert decoded.encoding in ("utf-8", "utf-16", "windows-1252")


@PROPERTY
@given(st.lists(st.sampled_from(["", ".", "..", "Log", "ArchivedLogs", "sense01", "Engine", "Trace", "a.log"]),
                max_size=7).map("/".join), st.booleans())
def test_member_folders_split_as_a_path_object_splits_them(name: str, rooted: bool) -> None:
    """Classification splits tens of thousands of names without path objects; the parts must be those
    of ``PurePosixPath`` for every spelling (empty, ``.`` and ``..`` parts, doubled and trailing slashes)."""
    from pathlib import PurePosixPath

    from qslogs.inventory import _parts

    name = "/" + name if rooted else name
    assert _parts(name) == PurePosixPath(name).parts


@PROPERTY
@given(st.binary(max_size=400), st.sampled_from([b"", b"\xef\xbb\xbf"]), st.booleans())
def test_sniffing_the_first_lines_reads_what_decoding_the_whole_head_reads(data: bytes, bom: bytes,
                                                                          header: bool) -> None:
    """Only the lines sniffed are decoded: the header names are those of the whole head decoded (invalid
    UTF-8 replaced) and cut at its first line end."""
    trace = b"Sequence#\tTimestamp\tLevel\tHostname\tLogger\tThread\tId\tServiceUser\tMessage\t"
    head = bom + (trace if header else b"") + data
    family, names = sniff_family(head)
    first = head.decode("utf-8-sig", errors="replace").split("\n", 1)[0].rstrip("\r")
    if names or header and b"\n" not in data[:1]:
        assert family is not None and list(names) == [n.strip() for n in first.split("\t")]


@PROPERTY
@given(st.text(max_size=80))
def test_normalised_member_names_never_leave_the_bundle(raw: str) -> None:
    name, unsafe = normalise_name(raw)
    parts = name.split("/")
    assert ".." not in parts and not name.startswith("/") and "\\" not in name
    assert not (parts[0].endswith(":") and len(parts[0]) == 2)
    if raw.startswith(("/", "\\")) or ".." in raw.replace("\\", "/").split("/"):
        assert unsafe


@PROPERTY
@given(st.text(max_size=40))
def test_timestamp_parser_takes_any_text(text: str) -> None:
    value = parse_qlik_ts(text)
    assert value is None or value.tzinfo is not None


@PROPERTY
@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=30)))
def test_classify_error_takes_any_text(text: str, connection: str | None) -> None:
    assert classify_error(text, connection).name in CLASS_NAMES


def _zip_seeds() -> list[bytes]:
    from tests.corpus.bundles import collector_zip
    from tests.corpus.files import synthetic_bases

    files = synthetic_bases()
    return [collector_zip(dict(list(files.items())[:2])), collector_zip({}, **{"../../x.txt": b"x"})]


@PROPERTY
@given(st.sampled_from(_zip_seeds()), st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)),
                                              max_size=6), st.integers(0, 4000))
def test_any_damaged_zip_is_listed_or_refused_with_a_file_issue(seed: bytes, flips: list[tuple[int, int]],
                                                                cut: int) -> None:
    data = bytearray(seed[: cut or None])
    for at, value in flips:
        if data:
            data[at % len(data)] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SenseCollector_1.zip"
        path.write_bytes(bytes(data))
        with open_bundle([path]) as bundle:
            for member in bundle.members:
                assert ".." not in member.name.split("/")
                try:
                    member.read_capped(Limits())
                except Exception as exc:  # only the errors the loader turns into file issues
                    assert isinstance(exc, READ_ERRORS), repr(exc)


def _qvd_seeds() -> list[bytes]:
    folder = REAL / "qvd"
    names = ["qvdfile_tab1.qvd", "qvdutils_test_qvd_null.qvd", "ctrlq_empty_qvd.qvd", "ctrlq_sample.qvd"]
    seeds = [(folder / n).read_bytes() for n in names if (folder / n).is_file()]
    sample = SAMPLE_BUNDLE.parent / "qvd"
    seeds += [p.read_bytes() for p in sorted(sample.glob("*.qvd")) if p.stat().st_size < 200_000][:1]
    return seeds or [b"<QvdTableHeader></QvdTableHeader>\r\n\x00"]


@PROPERTY
@given(st.sampled_from(_qvd_seeds()), st.integers(0, 40_000),
       st.lists(st.tuples(st.integers(0, 40_000), st.binary(max_size=4)), max_size=4))
def test_qvd_reader_returns_a_table_or_raises_qvd_error(seed: bytes, cut: int,
                                                        patches: list[tuple[int, bytes]]) -> None:
    from qslogs.parsers.qvd import read_qvd, read_qvd_header

    data = bytearray(seed[: cut or None] if cut < len(seed) else seed)
    for at, piece in patches:
        at %= max(len(data), 1)
        data[at: at + len(piece)] = piece
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.qvd"
        path.write_bytes(bytes(data))
        for reader in (read_qvd_header, read_qvd):
            with contextlib.suppress(QvdError):
                reader(path)
