"""Reload diagnosis on the real public files: 20 successful task runs, real successful script logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qslogs.analyses.base import AnalysisOptions
from qslogs.loader import load_frames
from tests.reloads_run import reloads_json

pytestmark = pytest.mark.fixtures

LM_TASK = "c8952224-7c81-4890-8ea1-fd4f0123b7b2"
FIRST_RUN = (
    "fab5fdf6-c60d-4d04-a7f7-0cd52ec653ce",
    "Reload License Monitor",
    "License Monitor",
    "1a13fc0d-f928-48ee-8cc2-a18f7099d9e2",
    "qlikserver1",
    "FinishedSuccess",
    "2019-02-01T03:58:56.006Z",
    "2019-02-01T03:59:08.100Z",
    12.094,
)


def test_real_bundle_twenty_successful_runs_and_no_failure_findings(real_log_folder: Path) -> None:
    data = reloads_json(load_frames([real_log_folder]))
    runs = data["runs"]
    assert len(runs) == 20 and {r["status"] for r in runs} == {"FinishedSuccess"}
    assert {r["outcome"] for r in runs} == {"success"} and {r["source"] for r in runs} == {"TaskExecution"}
    assert len({r["execution_id"] for r in runs}) == 20
    keys = ("execution_id", "task", "app", "app_id", "node", "status", "start", "stop", "duration_s")
    assert tuple(runs[0][k] for k in keys) == FIRST_RUN
    assert all(
        r[k] is None for r in runs for k in ("failure_kind", "error_class", "root_cause", "connection")
    )
    assert [f["severity"] for f in data["findings"]] == ["ok", "ok"]
    assert [(m["name"], m["verdict"], m["attempts"]) for m in data["monitoring_apps"]] == [
        ("License Monitor", "ok", 10),
        ("Operations Monitor", "ok", 10),
    ]
    assert [(t["task"], t["runs"], t["failures"], t["failure_rate"]) for t in data["tasks"]] == [
        ("Reload License Monitor", 10, 0, 0.0),
        ("Reload Operations Monitor", 10, 0, 0.0),
    ]
    assert data["manual_reloads"] == [] and data["script_logs"] == []
    assert sum(c["runs"] for c in data["failure_heatmap"]) == 20
    assert {c["failures"] for c in data["failure_heatmap"]} == {0}
    # 03:58 UTC is 04:58 on this +0100 node: the heatmap is in the node's local time.
    assert (4, 4) in {(c["weekday"], c["hour"]) for c in data["failure_heatmap"]}
    assert "UTC+01:00" in data["meta"]["heatmap_time_basis"]


def test_real_runs_rebuilt_from_scheduler_logs_match_task_execution(real_log_folder: Path) -> None:
    frames = load_frames([real_log_folder])
    full = reloads_json(frames)["runs"]
    frames.frames = {k: frames.frames[k] for k in frames.frames if k != "Scheduler/TaskExecution"}
    rebuilt = reloads_json(frames)["runs"]
    assert len(rebuilt) == 20 and {r["source"] for r in rebuilt} == {"AuditActivity+System"}
    by_id = {r["execution_id"]: r for r in full}
    for r in rebuilt:
        twin = by_id[r["execution_id"]]
        assert (r["task"], r["app_id"], r["node"], r["status"]) == (
            twin["task"],
            twin["app_id"],
            twin["node"],
            twin["status"],
        )
        # Start from "Starting session" (= StartTime), stop from "Execution State Change to FinishedSuccess"
        # (written within a few ms of StopTime: 06:59:07.609 against 07.625 in one run).
        for key in ("start", "stop"):
            gap = datetime.fromisoformat(r[key]) - datetime.fromisoformat(twin[key])
            assert abs(gap) <= timedelta(milliseconds=50), (key, r[key], twin[key])


def test_real_freshness_turns_stale_a_day_after_the_last_run(real_log_folder: Path) -> None:
    frames = load_frames([real_log_folder])
    later = datetime(2019, 2, 2, 14, 0, tzinfo=UTC)
    data = reloads_json(frames, AnalysisOptions(until=later))
    lm = data["monitoring_apps"][0]
    assert (lm["verdict"], lm["last_success"], lm["root_cause"]["class"]) == (
        "stale",
        "2019-02-01T12:59:07.545Z",
        None,
    )
    assert data["findings"][0]["severity"] == "critical"
    assert data["findings"][0]["title"] == (
        "License Monitor has not reloaded successfully for 25 hours: "
        "no reload attempt since 2019-02-01 12:59 UTC"
    )
    early = reloads_json(frames, AnalysisOptions(until=later - timedelta(hours=2)))
    assert early["monitoring_apps"][0]["verdict"] == "ok"


REAL_LOGS = [
    ("disabled_1.txt", "Personal\\Me", "Personal\\Me", True),
    ("disabled_1.1.txt", "UserDirectory=FRPAR-LRN1; UserId=qlikadmin", "FRPAR-LRN1\\qlikadmin", True),
    ("disabled_2.txt", "UserDirectory=FRPAR-LRN1; UserId=qlikadmin", "FRPAR-LRN1\\qlikadmin", True),
    (
        "iberia_ivan_5afb19a5-54df-4987-8a3b-ca4ed5811683.2016_11_15_01_12_03.11BD4F0BF21DFEFEC220.log.2",
        "UserDirectory=INTERNAL; UserId=sa_scheduler",
        "INTERNAL\\sa_scheduler",
        False,
    ),
]


@pytest.mark.parametrize("name, executed_by, user, manual", REAL_LOGS)
def test_real_script_logs_come_out_with_outcome_user_and_connections(
    real_fixtures: Path, name: str, executed_by: str, user: str, manual: bool
) -> None:
    data = reloads_json(load_frames([real_fixtures / "script-logs"]))
    log = next(s for s in data["script_logs"] if s["source_file"].endswith(name))
    complete = name.startswith("disabled")
    assert log["outcome"] == ("success" if complete else "incomplete")
    assert (log["executed_by"], log["connections"], log["connection"], log["error_class"]) == (
        executed_by,
        [],
        None,
        None,
    )
    assert log["user"] == user
    assert log["manual"] is manual and log["is_scheduled"] is (not manual)
    reloads = [m for m in data["manual_reloads"] if m["script_log"] == log["source_file"]]
    assert len(reloads) == (1 if manual else 0)
    if manual:
        assert (reloads[0]["outcome"], reloads[0]["user"], reloads[0]["source"]) == (
            "success",
            user,
            "script log",
        )
    assert data["runs"] == [] and {f["title"] for f in data["findings"]} >= {
        "No reload of the License Monitor found in the bundle (no scheduler logs)"
    }
