"""docs/scale.md, tested: ``qslogs parse`` output queried with DuckDB finds the planted reload failures,
and the parallel reader (worker processes) gives exactly the frames of a serial read.

The SQL below is the worked example of docs/scale.md, copied verbatim (a test keeps the two equal).
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from pathlib import Path

import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from qslogs.cli import cli
from qslogs.frames import Frames
from qslogs.loader import load_frames
from tests.conftest import sample_loads

duckdb = pytest.importorskip("duckdb", reason="duckdb is a test extra: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "bundle"
TRUTH = ROOT / "sample_data" / "TRUTH.json"
DOC = ROOT / "docs" / "scale.md"

#: The reload-failure query of docs/scale.md (``{parsed}`` is the ``qslogs parse -o`` folder).
RELOAD_FAILURES_SQL = """
WITH runs AS (          -- one row per task execution: its last TaskExecution line
    SELECT ExecutionId AS execution_id, TaskName AS task, AppId AS app_id, host, Status AS status,
           StartTime AS start_utc, StopTime AS stop_utc, FailureReason AS failure_reason
    FROM read_parquet('{parsed}/Scheduler.TaskExecution/*/*/*.parquet', hive_partitioning = true)
    WHERE ExecutionId IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY ExecutionId ORDER BY Timestamp DESC, line_no DESC) = 1
),
failed_runs AS (
    SELECT * FROM runs WHERE status IN ('FinishedFail', 'Error', 'Aborted', '8', '11', '6')
),
failed_logs AS (        -- failed script logs, their start placed in UTC by the inventory
    SELECT s.source_file, s.app_id, s.host, s.root_cause, s.error_class, s.connection,
           f."first" AS start_utc
    FROM read_parquet('{parsed}/Script.Summary/*/*/*.parquet', hive_partitioning = true) AS s
    JOIN read_parquet('{parsed}/files.parquet') AS f ON f.path = s.source_file
    WHERE s.outcome = 'failed'
),
linked AS (             -- a failed run and the failed log of its app that started during the run
    SELECT r.*, l.source_file AS script_log, l.root_cause, l.error_class, l.connection
    FROM failed_runs AS r
    LEFT JOIN failed_logs AS l
      ON l.app_id = r.app_id AND l.start_utc BETWEEN r.start_utc - INTERVAL 1 MINUTE AND r.stop_utc
)
SELECT execution_id, task, app_id, host, status, start_utc,
       coalesce(root_cause, failure_reason) AS root_cause, error_class, connection, script_log
FROM linked
UNION ALL               -- failed reloads that no task ran (hub or API reloads)
SELECT NULL, NULL, l.app_id, l.host, 'failed', l.start_utc, l.root_cause, l.error_class, l.connection,
       l.source_file
FROM failed_logs AS l
WHERE l.source_file NOT IN (SELECT script_log FROM linked WHERE script_log IS NOT NULL)
ORDER BY start_utc
"""


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory, sample_frames: Frames) -> Path:
    out = tmp_path_factory.mktemp("parsed")
    with sample_loads(SAMPLE, sample_frames):  # the session's parse of the sample, written by `qslogs parse`
        result = CliRunner().invoke(cli, ["parse", "-q", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_doc_holds_the_tested_query() -> None:
    """The worked example in docs/scale.md is this very query (whitespace aside)."""
    doc = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", doc, flags=re.S)
    squash = lambda text: " ".join(text.split())  # noqa: E731
    assert squash(RELOAD_FAILURES_SQL.replace("{parsed}", "parsed")) in {squash(b) for b in blocks}


def test_layout_is_hive_partitioned_by_kind_host_date(parsed: Path) -> None:
    files = sorted(p.relative_to(parsed).as_posix() for p in parsed.rglob("*.parquet"))
    task_files = [f for f in files if f.startswith("Scheduler.TaskExecution/")]
    assert task_files and all(re.fullmatch(r"Scheduler\.TaskExecution/host=[a-z0-9-]+/date=\d{4}-\d{2}-\d{2}/"
                                           r"[^/]+\.parquet", f) for f in task_files)
    assert {"bad_lines.parquet", "files.parquet"} <= set(files)


def test_duckdb_finds_the_planted_reload_failures(parsed: Path) -> None:
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))["reloads"]["failures"]
    rows = duckdb.sql(RELOAD_FAILURES_SQL.replace("{parsed}", parsed.as_posix())).fetchall()
    found = [dict(zip(("execution_id", "task", "app_id", "host", "status", "start_utc", "root_cause",
                       "error_class", "connection", "script_log"), row, strict=True)) for row in rows]

    by_execution = {f["execution_id"]: f for f in found if f["execution_id"]}
    planted_runs = [t for t in truth if t.get("execution_id")]
    assert set(by_execution) == {t["execution_id"] for t in planted_runs}
    for t in planted_runs:
        got = by_execution[t["execution_id"]]
        assert (got["task"], got["status"]) == (t["task_name"], t["status"])
        assert got["root_cause"] == t["root_cause"]
        assert got["script_log"] == t["script_log"]
        start = got["start_utc"].astimezone(UTC)  # DuckDB hands TIMESTAMPTZ back in the session's zone
        assert start.isoformat(timespec="milliseconds").replace("+00:00", "Z") == t["start_utc"]

    taskless = [f for f in found if not f["execution_id"]]
    planted_manual = [t for t in truth if not t.get("execution_id")]
    assert [(f["script_log"], f["root_cause"]) for f in taskless] == [
        (t["script_log"], t["root_cause"]) for t in planted_manual]


@pytest.mark.slow
def test_parallel_read_equals_serial_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two worker processes (forced on the small sample) give the same frames, counts and issues."""
    monkeypatch.setenv("QSLOGS_WORKERS", "1")
    serial = load_frames([SAMPLE])
    monkeypatch.setenv("QSLOGS_WORKERS", "2")
    parallel = load_frames([SAMPLE])
    assert sorted(parallel.frames) == sorted(serial.frames)
    for kind, frame in serial.frames.items():
        assert_frame_equal(parallel.frames[kind], frame)
    for name in ("files", "bad_lines", "offsets"):
        assert_frame_equal(getattr(parallel, name), getattr(serial, name))
    assert parallel.file_issues == serial.file_issues
    assert parallel.meta == serial.meta


@pytest.mark.slow
def test_a_worker_that_dies_leaves_its_files_to_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that ends without answering (killed for memory, say) costs speed, not files."""
    import subprocess
    import sys

    import qslogs.workers as workers

    def dead_worker(*args: object) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    monkeypatch.setenv("QSLOGS_WORKERS", "1")
    serial = load_frames([SAMPLE])
    monkeypatch.setenv("QSLOGS_WORKERS", "2")
    monkeypatch.setattr(workers, "_start", dead_worker)
    rescued = load_frames([SAMPLE])
    assert_frame_equal(rescued.files, serial.files)
    for kind, frame in serial.frames.items():
        assert_frame_equal(rescued.frames[kind], frame)


def test_large_frames_cross_the_pipe_as_arrow_ipc_unchanged() -> None:
    """Worker → parent messages: a frame over the IPC threshold (here about 2.5 MB of log-like text) comes back
    equal, dtypes, nulls and all; small frames take polars' own pickling."""
    import io

    import polars as pl

    from qslogs.workers import _read, _write

    n = 50_000
    big = pl.DataFrame({
        "line_no": pl.int_range(2, n + 2, eager=True),
        "Message": pl.Series([f"Document Load: app {i} loaded ↵ next" if i % 7 else None for i in range(n)]),
        "Timestamp": pl.datetime_range(pl.datetime(2026, 10, 25, time_zone="UTC"),
                                       pl.datetime(2026, 10, 25, time_zone="UTC") + pl.duration(seconds=n - 1),
                                       "1s", eager=True, time_unit="ms"),
    })
    assert big.estimated_size() > 1024**2
    stream = io.BytesIO()
    _write(stream, ("ok", {"big": big, "small": big.head(3)}))
    assert stream.getvalue().count(b"ARROW1") == 2  # one IPC file (magic at both ends): the big frame only
    stream.seek(0)
    status, payload = _read(stream)
    assert status == "ok"
    assert_frame_equal(payload["big"], big)
    assert_frame_equal(payload["small"], big.head(3))
