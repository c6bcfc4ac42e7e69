"""``qslogs reloads``: JSON contract, terminal table, options, and the planted facts of sample_data."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qslogs.analyses.base import AnalysisOptions
from qslogs.cli import cli
from qslogs.frames import Frames
from tests.conftest import REPO
from tests.reloads_run import reloads_json
from tests.test_reloads_support import (
    LICENSE_MONITOR,
    SALES,
    T0,
    LogFolder,
    license_monitor_401,
    license_monitor_ok,
    sales_ok,
)

RUN_KEYS = {
    "execution_id",
    "task",
    "app",
    "app_id",
    "node",
    "status",
    "start",
    "stop",
    "duration_s",
    "failure_kind",
    "error_class",
    "root_cause",
    "connection",
    "script_log",
}
MONITOR_KEYS = {"name", "last_success", "last_attempt", "last_status", "stale", "root_cause"}
SAMPLE = REPO / "sample_data"
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["reloads", *args])
    return result


@pytest.fixture
def story(tmp_path: Path) -> Path:
    logs = LogFolder()
    logs.run(LICENSE_MONITOR, T0, script=license_monitor_ok, script_delay_s=40)
    logs.run(LICENSE_MONITOR, T0 + DAY, outcome="script", script=license_monitor_401, script_delay_s=40)
    logs.run(LICENSE_MONITOR, T0 + 2 * DAY, outcome="script", script=license_monitor_401, script_delay_s=40)
    logs.run(SALES, T0 + 2 * DAY + HOUR, outcome="initiation")
    logs.run(SALES, T0 + 2 * DAY + 2 * HOUR, script=sales_ok)
    return logs.write(tmp_path)


def test_json_is_one_object_with_the_documented_keys(story: Path) -> None:
    result = invoke(str(story), "--json", "-q")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)  # exactly one JSON document, nothing else on stdout
    assert isinstance(data, dict) and {"runs", "monitoring_apps", "tasks", "manual_reloads"} <= set(data)
    assert len(data["runs"]) == 5 and all(set(r) >= RUN_KEYS for r in data["runs"])
    assert all(set(m) >= MONITOR_KEYS for m in data["monitoring_apps"])
    kinds = sorted((r["task"], r["failure_kind"] or "") for r in data["runs"] if r["outcome"] == "failed")
    assert kinds == [
        ("Reload License Monitor", "script"),
        ("Reload License Monitor", "script"),
        ("Reload Sales Overview", "initiation"),
    ]
    lm = data["monitoring_apps"][0]
    assert (lm["name"], lm["stale"], lm["root_cause"]["class"]) == ("License Monitor", True, "auth")


def test_terminal_table_shows_failures_monitors_and_tasks(story: Path) -> None:
    result = invoke(str(story), "-q")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Failed runs: 3 of 5 task runs (times UTC)")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("2024-03-05 01:00"))
    lm_row, cause, script_log = lines[at], lines[at + 1], lines[at + 2]
    for part in ("Reload License Monitor", "sense01", "script", "auth", "monitor_apps_REST_license_user"):
        assert part in lm_row
    assert cause.strip().startswith("↳ ") and "HTTP protocol error 401" in cause
    assert re.match(r"\s+script log line \d+: \S+\.log", script_log), script_log  # the root cause's own file
    assert re.search(r"initiation\s+initiation", out) and "Failed to start session" in out
    assert re.search(r"License Monitor\s+STALE", out) and "monitor_apps_REST_*" in out
    assert "Reload License Monitor" in out.split("Tasks")[1]
    assert (
        "[critical] License Monitor has not reloaded successfully for 2 days: HTTP 401 from data connection "
        "monitor_apps_REST_license_user" in out
    )


def test_options_until_stale_hours_and_failed_only(story: Path) -> None:
    fresh = json.loads(invoke(str(story), "--json", "-q", "--until", "2024-03-04T12:00").output)
    assert fresh["monitoring_apps"][0]["verdict"] == "ok" and len(fresh["runs"]) == 1
    lenient = json.loads(invoke(str(story), "--json", "-q", "--stale-hours", "100").output)
    # within 100 h of its last success, but its last attempts failed: failing, not ok
    assert lenient["monitoring_apps"][0]["verdict"] == "failing" and lenient["meta"]["stale_hours"] == 100
    failed = json.loads(invoke(str(story), "--json", "-q", "--failed-only", "--since", "2024-03-06").output)
    assert {r["outcome"] for r in failed["runs"]} == {"failed"} and len(failed["runs"]) == 2
    bad = invoke(str(story), "--stale-hours", "0")
    assert bad.exit_code == 2 and "--stale-hours" in bad.output


def test_missing_bundle_is_an_input_error(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nope.zip"))
    assert result.exit_code == 3 and "Error:" in result.output and "Traceback" not in result.output


# -- the committed sample bundle and its answer key ----------------------------------------------------------



def _line(bundle: Path, rel: str, line_no: int) -> str:
    path = bundle / rel
    if not path.exists():  # script logs of the central node are reported relative to the Log folder
        path = bundle / "Log" / rel
    return path.read_text(encoding="utf-8-sig").splitlines()[line_no - 1]


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


@pytest.fixture
def sample(sample_cli: Path) -> tuple[Path, dict[str, Any]]:
    """The sample bundle (its commands read from the session's parse) and its TRUTH.json."""
    return sample_cli, json.loads((sample_cli.parent / "TRUTH.json").read_text(encoding="utf-8"))


def sample_json(bundle: Path, *args: str) -> dict[str, Any]:
    result = invoke(str(bundle), "--json", "-q", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def check_planted_failures(bundle: Path, truth: dict[str, Any]) -> None:
    """Every planted failure shows with its class, connection and root-cause line."""
    data = sample_json(bundle)
    runs = {r["execution_id"]: r for r in data["runs"]}
    planted = truth["reloads"]["executions"]
    assert len(data["runs"]) == len(planted)
    assert {e["execution_id"]: e["status"] for e in planted} == {k: r["status"] for k, r in runs.items()}
    for f in (f for f in truth["reloads"]["failures"] if f.get("execution_id")):
        run = runs[f["execution_id"]]
        assert run["failure_kind"] == f["failure_phase"], f
        assert run["error_class"] == f["error_class"], f
        assert (run["connection"], run["root_cause"]) == (f["connection"], f["root_cause"]), f
        if f["failure_phase"] == "script":
            assert f["script_log"].endswith(run["script_log"])
        assert run["root_cause_file"] and run["root_cause_line"], run
        assert f["root_cause"] in _line(bundle, run["root_cause_file"], run["root_cause_line"])
    hub = truth["reloads"]["manual_reload"]
    manual = next(m for m in data["manual_reloads"] if hub["script_log"].endswith(m["script_log"] or "?"))
    assert (manual["outcome"], manual["user"], manual["root_cause"]) == (
        "failed",
        hub["user"],
        hub["root_cause"],
    )
    assert manual["error_class"] == hub["error_class"]
    assert hub["root_cause"] in _line(bundle, manual["script_log"], manual["root_cause_line"])


def check_license_monitor_flip(bundle: Path, truth: dict[str, Any], frames: Frames) -> None:
    """Fresh until a day after the last success before the 401s, stale until the recovered run ends.

    One check goes through ``qslogs reloads --until``; the others call the library on frames read once.
    """
    lm = truth["reloads"]["license_monitor"]
    runs = sorted(
        (e for e in truth["reloads"]["executions"] if e["task_id"] == lm["task_id"]),
        key=lambda e: e["start_utc"],
    )
    first_fail = next(e for e in runs if e["execution_id"] in lm["failed_execution_ids"])
    before = max(
        _at(e["stop_utc"])
        for e in runs
        if e["status"] == "FinishedSuccess" and e["start_utc"] < first_fail["start_utc"]
    )
    recovered = next(e for e in runs if e["execution_id"] == lm["recovered_execution_id"])
    assert recovered["start_utc"] > lm["last_failure_utc"]

    def verdict(at: datetime) -> dict[str, Any]:
        data = reloads_json(frames, AnalysisOptions(until=at))
        return next(m for m in data["monitoring_apps"] if m["name"] == "License Monitor")

    assert verdict(before + timedelta(hours=23, minutes=59))["verdict"] == "ok"
    stale = verdict(before + timedelta(hours=24, minutes=1))
    assert stale["verdict"] == "stale" and stale["root_cause"]["class"] == "auth"
    late_at = (_at(recovered["stop_utc"]) - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    late = next(
        m
        for m in sample_json(bundle, "--until", late_at)["monitoring_apps"]
        if m["name"] == "License Monitor"
    )
    assert late["verdict"] == "stale" and late["root_cause"]["connection"] == lm["connection"]
    assert late["root_cause"]["text"] in lm["errors"] and late["root_cause"]["class"] == "auth"
    assert verdict(_at(recovered["stop_utc"]) + timedelta(seconds=1))["verdict"] == "ok"


def test_sample_bundle_shows_every_planted_failure(sample: tuple[Path, dict[str, Any]]) -> None:
    check_planted_failures(*sample)


def test_sample_license_monitor_flips_from_stale_to_fresh(
    sample: tuple[Path, dict[str, Any]], sample_frames: Frames
) -> None:
    check_license_monitor_flip(*sample, sample_frames)
