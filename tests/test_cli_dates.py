"""``--since``/``--until``: every accepted form (table-driven), one-line errors, the order and the window checks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from qslogs.cli import cli
from qslogs.dates import DateError, parse_when
from tests.logfiles import TRACE_SYSTEM, dotnet_file, trace_row

NOW = datetime(2026, 10, 31, 18, 30, 15, 250000, tzinfo=UTC)

ACCEPTED = [
    ("now", NOW),
    ("NOW", NOW),
    ("today", datetime(2026, 10, 31, tzinfo=UTC)),
    ("yesterday", datetime(2026, 10, 30, tzinfo=UTC)),
    ("-7d", datetime(2026, 10, 24, 18, 30, 15, 250000, tzinfo=UTC)),
    ("7d", datetime(2026, 10, 24, 18, 30, 15, 250000, tzinfo=UTC)),
    ("-12h", datetime(2026, 10, 31, 6, 30, 15, 250000, tzinfo=UTC)),
    ("-30m", datetime(2026, 10, 31, 18, 0, 15, 250000, tzinfo=UTC)),
    ("-30min", datetime(2026, 10, 31, 18, 0, 15, 250000, tzinfo=UTC)),
    ("-2w", datetime(2026, 10, 17, 18, 30, 15, 250000, tzinfo=UTC)),
    ("-90s", datetime(2026, 10, 31, 18, 28, 45, 250000, tzinfo=UTC)),
    ("-1.5d", datetime(2026, 10, 30, 6, 30, 15, 250000, tzinfo=UTC)),
    ("2026-10-01", datetime(2026, 10, 1, tzinfo=UTC)),
    ("2026-10-01T14:30", datetime(2026, 10, 1, 14, 30, tzinfo=UTC)),
    ("2026-10-01 14:30", datetime(2026, 10, 1, 14, 30, tzinfo=UTC)),
    ("2026-10-01T14:30:05", datetime(2026, 10, 1, 14, 30, 5, tzinfo=UTC)),
    ("2026-10-01 14:30:05", datetime(2026, 10, 1, 14, 30, 5, tzinfo=UTC)),
    ("2026-10-01T14", datetime(2026, 10, 1, 14, tzinfo=UTC)),
    ("2019-02-01T10:00:00.000Z", datetime(2019, 2, 1, 10, tzinfo=UTC)),  # the form qslogs prints
    ("2019-02-01t10:00:00.5z", datetime(2019, 2, 1, 10, 0, 0, 500000, tzinfo=UTC)),
    ("2026-10-01T14:30:05.123456789Z", datetime(2026, 10, 1, 14, 30, 5, 123456, tzinfo=UTC)),
    ("2026-10-01T14:30:05,25Z", datetime(2026, 10, 1, 14, 30, 5, 250000, tzinfo=UTC)),
    ("2026-10-01T14:30Z", datetime(2026, 10, 1, 14, 30, tzinfo=UTC)),
    ("2026-10-01 14:30:00+02:00", datetime(2026, 10, 1, 12, 30, tzinfo=UTC)),
    ("2026-10-01T14:30:00-0530", datetime(2026, 10, 1, 20, 0, tzinfo=UTC)),
    ("2026-10-01T14:30:00 +01", datetime(2026, 10, 1, 13, 30, tzinfo=UTC)),
    ("20191023T100902.094+0200", datetime(2019, 10, 23, 8, 9, 2, 94000, tzinfo=UTC)),  # Qlik's own form
    ("  2026-10-01  ", datetime(2026, 10, 1, tzinfo=UTC)),
]

REJECTED = ["tomorrowish", "2026-13-01", "2026-02-30", "2026-10-01T25:00", "01/10/2026", "2026-10-01T14:30+25:00",
            "-7y", "", "7", "2026-10"]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_every_documented_form_is_read_as_utc(text: str, expected: datetime) -> None:
    value = parse_when(text, now=NOW)
    assert value == expected and value.utcoffset() is not None and value.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("text", REJECTED)
def test_anything_else_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(DateError) as info:
        parse_when(text, now=NOW)
    message = str(info.value)
    assert "\n" not in message and repr(text) in message and "2026-10-01T14:30Z" in message


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "Log"
    (root / "Repository" / "Trace").mkdir(parents=True)
    rows = [trace_row(1, "20191023T100902.094+0200", "ok"), trace_row(2, "20191024T110000.000+0200", "ok")]
    (root / "Repository/Trace/SENSE01_System_Repository.txt").write_bytes(dotnet_file(TRACE_SYSTEM, rows))
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["reloads", "activity", "license"])
@pytest.mark.parametrize("until", ["now", "today", "-1h", "2019-10-24T10:00:00.000Z", "2019-10-24 12:00+02:00"])
def test_until_forms_offered_by_help_work_in_every_command(bundle: Path, command: str, until: str) -> None:
    code, out, err = run(command, str(bundle), "-q", "--json", "--until", until)
    assert code == 0, err


def test_unreadable_date_is_a_one_line_usage_error(bundle: Path) -> None:
    code, _, err = run("reloads", str(bundle), "-q", "--since", "last tuesday")
    assert code == 2
    line = next(x for x in err.splitlines() if "--since" in x)
    assert "'last tuesday' is not a date or time" in line and "-7d" in line and "Traceback" not in err


def test_since_after_until_is_a_usage_error(bundle: Path) -> None:
    code, out, err = run("activity", str(bundle), "-q", "--since", "2019-10-24", "--until", "2019-10-23")
    assert code == 2 and out == ""
    assert "--since 2019-10-24T00:00:00.000Z is after --until 2019-10-23T00:00:00.000Z" in err


def test_a_window_outside_the_bundle_says_so(bundle: Path) -> None:
    code, _, err = run("reloads", str(bundle), "-q", "--since", "2020-01-01")
    assert code == 0
    assert "Warning: --since 2020-01-01T00:00:00.000Z is after the bundle's last record (2019-10-24" in err
    code, _, err = run("activity", str(bundle), "-q", "--until", "2019-01-01")
    assert code == 0 and "is before the bundle's first record (2019-10-23T08:09:02.094Z)" in err
    code, _, err = run("activity", str(bundle), "-q", "--since", "2019-10-23", "--until", "2019-10-25")
    assert code == 0 and "Warning" not in err
