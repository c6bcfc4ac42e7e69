"""Verdicts a support engineer can trust (issue 13): monitoring-app verdicts, severity from meaning, one
finding per problem, the first screen, and license denials grouped with service accounts told apart.

Scenario bundles are built by ``qslogs_synth`` (``scenario=``) once per session; every expectation is
written out here or read from the generator's TRUTH.json, never derived from the code under test.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from qslogs.analyses import Result, run_analyses
from qslogs.analyses.licenses.denials import is_service_account
from qslogs.analyses.licenses.result import LicensesResult
from qslogs.analyses.reloads import ReloadsResult
from qslogs.export import result_json
from qslogs.findings import Severity, cause_persistence, severity_for
from qslogs.loader import load_frames
from qslogs.report import render_report

LM_CONNECTION = "monitor_apps_REST_license_user"


def licenses_of(results: object) -> LicensesResult:
    """The licenses result of one run (``run_analyses``' mapping), typed."""
    assert isinstance(results, dict)
    result = results["licenses"]
    assert isinstance(result, LicensesResult)
    return result

# -- the rule table ----------------------------------------------------------------------------------------

#: (error class, error text, persistence the cause must get)
CAUSES = [
    ("auth", "HTTP protocol error 401 (Unauthorized): The server refused the request.", "persistent"),
    ("connector", "Connection 'Sales_DB' not found", "persistent"),
    ("connector", "QVX_UNEXPECTED_END_OF_DATA: The operation has timed out.", "transient"),
    ("connector", "Connector reply error: SQL##f - SqlState: 08001, ErrorCode: 53", "transient"),
    ("script", "Field 'Region' not found", "persistent"),
    ("script", "Unexpected token: ')', expected one of: ','", "persistent"),
    ("file", "Cannot open file: 'lib://DataFiles/Sales.qvd'", "persistent"),
    ("file", "The process cannot access the file because it is being used by another process.", "transient"),
    ("resource", "OUT OF VIRTUAL AND/OR LOGICAL MEMORY, allocating 512 MB", "transient"),
    ("initiation", "Could not reserve an executor for task", "transient"),
    ("aborted", "Execution aborted by user", "transient"),
    ("unknown", "Something odd happened", "unclassified"),
    (None, None, "unclassified"),
]


@pytest.mark.parametrize("error_class, text, persistence", CAUSES)
def test_cause_persistence_by_class_and_text(error_class: str | None, text: str | None, persistence: str) -> None:
    assert cause_persistence(error_class, text) == persistence


#: (subject, verdict or state, persistence, expected severity): every verdict × cause class.
SEVERITIES = [
    ("monitor", "stale", "persistent", Severity.CRITICAL),
    ("monitor", "stale", "transient", Severity.CRITICAL),
    ("monitor", "stale", "unclassified", Severity.CRITICAL),
    ("monitor", "failing", "persistent", Severity.CRITICAL),
    ("monitor", "failing", "transient", Severity.WARNING),
    ("monitor", "failing", "unclassified", Severity.WARNING),
    ("monitor", "missing", "unclassified", Severity.WARNING),
    ("monitor", "unknown", "unclassified", Severity.INFO),
    ("monitor", "ok", "unclassified", Severity.OK),
    ("monitor", "recovered", "persistent", Severity.INFO),
    ("task", "failing", "persistent", Severity.CRITICAL),
    ("task", "failing", "transient", Severity.WARNING),
    ("task", "recovered", "persistent", Severity.INFO),
    ("task", "recovered", "transient", Severity.INFO),
    ("manual", "failing", "persistent", Severity.WARNING),
    ("manual", "failing", "transient", Severity.WARNING),
]


@pytest.mark.parametrize("subject, state, persistence, severity", SEVERITIES)
def test_severity_rule_table(subject: str, state: str, persistence: str, severity: Severity) -> None:
    assert severity_for(subject, state, persistence) is severity


@pytest.mark.parametrize("error_class, text, persistence", CAUSES)
def test_every_cause_class_has_a_severity_when_a_monitor_fails(
    error_class: str | None, text: str | None, persistence: str
) -> None:
    expected = Severity.CRITICAL if persistence == "persistent" else Severity.WARNING
    assert severity_for("monitor", "failing", cause_persistence(error_class, text)) is expected


def test_a_state_without_a_rule_is_an_error_not_a_guess() -> None:
    with pytest.raises(KeyError, match="no severity rule"):
        severity_for("task", "stale")


# -- scenario bundles ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Each monitoring-app scenario generated once: bundle folder and TRUTH.json."""
    from qslogs_synth import generate_bundle

    out = {}
    for name in ("healthy", "failing", "stale", "missing"):
        folder = tmp_path_factory.mktemp(f"scenario-{name}")
        root = generate_bundle(folder, scenario=name)
        out[name] = (root, json.loads((folder / "TRUTH.json").read_text(encoding="utf-8")))
    return out


@pytest.fixture(scope="session")
def analysed(scenarios: dict[str, tuple[Path, dict[str, Any]]]) -> dict[str, dict[str, Result]]:
    return {name: run_analyses(load_frames([root])) for name, (root, _) in scenarios.items()}


def reloads_json(result: object) -> dict[str, Any]:
    """What ``qslogs reloads --json`` prints for a typed reloads result."""
    assert isinstance(result, ReloadsResult)
    return result_json(result)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _monitor(results: dict[str, Result], name: str) -> dict[str, Any]:
    data = reloads_json(results["reloads"])
    return next(m for m in data["monitoring_apps"] if m["name"] == name)


@pytest.mark.slow
@pytest.mark.parametrize(
    "scenario, verdict, failures",
    [("healthy", "ok", 0), ("failing", "failing", 8), ("stale", "stale", 30), ("missing", "missing", 0)],
)
def test_each_scenario_gets_its_verdict(
    scenarios: dict[str, tuple[Path, dict[str, Any]]],
    analysed: dict[str, dict[str, Result]],
    scenario: str,
    verdict: str,
    failures: int,
) -> None:
    truth = scenarios[scenario][1]["reloads"]["license_monitor"]
    assert truth["expected_verdict"] == verdict
    lm = _monitor(analysed[scenario], "License Monitor")
    assert (lm["verdict"], lm["failures_since_success"]) == (verdict, failures)
    if verdict == "missing":
        assert (lm["last_success"], lm["stale_at"], lm["failing_since"], lm["tasks"]) == (None, None, None, [])
        return
    # stale_at is the last success (the run's stop) + 24 h, to the millisecond
    assert _at(lm["last_success"]) == _at(truth["last_success_utc"])
    assert _at(lm["stale_at"]) == _at(truth["last_success_utc"]) + timedelta(hours=24)
    if failures:
        first_failed = min(
            e["start_utc"] for e in scenarios[scenario][1]["reloads"]["executions"]
            if e["execution_id"] in truth["failed_execution_ids"]
        )
        assert abs(_at(lm["failing_since"]) - _at(first_failed)) < timedelta(seconds=2)
        assert lm["root_cause"]["connection"] == LM_CONNECTION and lm["root_cause"]["class"] == "auth"
    else:
        assert lm["failing_since"] is None and lm["root_cause"] is None
    om = _monitor(analysed[scenario], "Operations Monitor")
    assert om["verdict"] == "ok"


@pytest.mark.slow
def test_failing_monitor_is_one_critical_finding_naming_the_connection(
    analysed: dict[str, dict[str, Result]], scenarios: dict[str, tuple[Path, dict[str, Any]]]
) -> None:
    results = analysed["failing"]
    lm = _monitor(results, "License Monitor")
    # 8 hourly failures after a success about 8 h before the end: still within 24 h, so failing, not stale
    assert lm["verdict"] == "failing" and 7.5 < lm["age_hours"] < 9
    naming = [f for r in results.values() for f in r.findings if LM_CONNECTION in f.title + f.detail]
    assert len(naming) == 1
    finding = naming[0]
    assert finding.severity is Severity.CRITICAL
    assert finding.title.startswith("License Monitor is failing since")
    assert f"will keep failing until the credentials of {LM_CONNECTION} are fixed" in finding.detail
    stale_at = _at(lm["stale_at"])
    assert f"goes stale at {stale_at:%H:%M} UTC tomorrow" in finding.detail
    # one problem, one finding: the task's failures are folded in (count, first/last, cause line)
    assert not any(f.title.startswith("Task 'Reload License Monitor'") for f in results["reloads"].findings)
    task = finding.data["task_failures"]
    assert (task["tasks"], task["failures"]) == (["Reload License Monitor"], 8)
    assert task["first_failure"] < task["last_failure"]
    assert finding.data["root_cause"]["line"] > 0 and finding.data["root_cause"]["script_log"]
    criticals = [f for r in results.values() for f in r.findings if f.severity is Severity.CRITICAL]
    assert criticals == [finding]


@pytest.mark.slow
def test_healthy_bundle_is_ok_and_nothing_is_critical(analysed: dict[str, dict[str, Result]]) -> None:
    results = analysed["healthy"]
    assert _monitor(results, "License Monitor")["verdict"] == "ok"
    assert [f.title for r in results.values() for f in r.findings if f.severity is Severity.CRITICAL] == []
    ok = [f for f in results["reloads"].findings if f.data.get("name") == "License Monitor"]
    assert [f.severity for f in ok] == [Severity.OK]


@pytest.mark.slow
def test_stale_and_missing_findings_say_what_to_do(analysed: dict[str, dict[str, Result]]) -> None:
    stale = next(f for f in analysed["stale"]["reloads"].findings if f.data.get("name") == "License Monitor")
    assert stale.severity is Severity.CRITICAL and "has not reloaded successfully for 30 hours" in stale.title
    assert "the license data is stale since" in stale.detail
    missing = next(
        f for f in analysed["missing"]["reloads"].findings if f.data.get("name") == "License Monitor"
    )
    assert missing.severity is Severity.WARNING and "Recreate the reload task" in missing.detail


def _first_screen(results: dict[str, Result], out: Path) -> BeautifulSoup:
    render_report(results, out, title="scenario")
    return BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")


@pytest.mark.slow
def test_failing_monitor_is_the_first_row_and_its_tile_is_red(
    analysed: dict[str, dict[str, Result]], tmp_path: Path
) -> None:
    page = _first_screen(analysed["failing"], tmp_path / "failing.html")
    first = page.select("#t-summary tbody tr")[0]
    assert first.select_one("span.sev").get_text() == "critical"  # type: ignore[union-attr]
    assert LM_CONNECTION in first.select_one(".ftitle").get_text()  # type: ignore[union-attr]
    tiles = {t.dt.get_text(): t for t in page.select("#status .fact")}  # type: ignore[union-attr]
    assert list(tiles)[:3] == ["License Monitor", "Operations Monitor", "Failed reloads"]
    lm = tiles["License Monitor"]
    assert "critical" in lm["class"] and lm.select_one("span.sev").get_text() == "Failing"  # type: ignore[union-attr]
    assert "stale at 2026-11-01" in lm.get_text()
    assert "ok" in tiles["Operations Monitor"]["class"]
    assert "auth on monitor_apps_REST_license_user (8×)" in tiles["Failed reloads"].get_text()
    # the monitoring-apps table never shows a green badge for a failing app
    row = next(
        r for r in page.select("#t-reloads-monitors tbody tr") if "License Monitor" in r.get_text()
    )
    assert row.select_one("span.sev").get_text() == "critical"  # type: ignore[union-attr]


@pytest.mark.slow
def test_healthy_first_screen_and_bundle_findings_in_their_own_group(
    analysed: dict[str, dict[str, Result]], tmp_path: Path
) -> None:
    page = _first_screen(analysed["healthy"], tmp_path / "healthy.html")
    counts = {li["class"][0]: li.select_one(".n").get_text() for li in page.select("ul.counts li")}  # type: ignore[union-attr]
    assert counts["sev-critical"] == "0"
    tile = next(t for t in page.select("#status .fact") if t.dt.get_text() == "License Monitor")  # type: ignore[union-attr]
    assert "ok" in tile["class"] and tile.select_one("span.sev").get_text() == "OK"  # type: ignore[union-attr]
    site = [r.select_one(".ftitle").get_text() for r in page.select("#t-summary tbody tr")]  # type: ignore[union-attr]
    bundle = [r.select_one(".ftitle").get_text() for r in page.select("#t-summary-bundle tbody tr")]  # type: ignore[union-attr]
    # the generator plants exactly one broken line: a finding about the bundle, not about the site
    assert len(bundle) == 1 and "did not fit" in bundle[0]
    assert not any("did not fit" in t for t in site)
    assert page.select_one("#summary-bundle") is not None
    # the site's findings come before the bundle's group in the page
    html = str(page)
    assert html.index('id="t-summary"') < html.index('id="t-summary-bundle"')


# -- denials ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user, service, expected",
    [
        ("DOMAIN\\qvservice", {"DOMAIN\\qvservice"}, True),
        ("domain\\QVSERVICE", {"DOMAIN\\qvservice"}, True),  # Windows accounts are case-insensitive
        ("DOMAIN\\qvservice", set(), False),  # nothing marks it without the ServiceUser column
        ("INTERNAL\\sa_scheduler", set(), True),
        ("CORP\\sa_repository", set(), True),
        ("CORP\\anna.berg", {"DOMAIN\\qvservice"}, False),
        ("CORP\\salma.sa_x", set(), False),
        (None, {"DOMAIN\\qvservice"}, False),
    ],
)
def test_service_account_recognition(user: str | None, service: set[str], expected: bool) -> None:
    assert is_service_account(user, service) is expected


def test_denials_by_user_on_the_real_bundle_counted_by_hand(real_log_folder: Path) -> None:
    """QLIKSERVER1_License_Repository.txt: 108 UsageDenied rows (each also in AuditSecurity), counted with
    grep/awk: 100 by DOMAIN\\qvservice (the ServiceUser of every row) from "::1", 04:59:01.678 to
    13:59:30.561 +0100, and 8 by DOMAIN\\administrator from "::ffff:172.16.16.100", 08:08:42.468 to
    08:20:48.749 +0100."""
    result = licenses_of(run_analyses(load_frames([real_log_folder]), only=["licenses"]))
    assert result_json(result)["denials_by_user"] == [
        {
            "user": "DOMAIN\\qvservice",
            "count": 100,
            "first": "2019-02-01T03:59:01.678Z",
            "last": "2019-02-01T12:59:30.561Z",
            "sources": ["::1"],
            "service_account": True,
        },
        {
            "user": "DOMAIN\\administrator",
            "count": 8,
            "first": "2019-02-01T07:08:42.468Z",
            "last": "2019-02-01T07:20:48.749Z",
            "sources": ["::ffff:172.16.16.100"],
            "service_account": False,
        },
    ]
    titles = {f.title: f for f in result.findings}
    svc = titles["100 license denials of the service account DOMAIN\\qvservice: internal calls, not a person"]
    assert svc.severity is Severity.INFO and "allocate" not in svc.detail.lower()
    people = titles["8 license denials for 1 user"]
    assert people.severity is Severity.WARNING and "Allocate them a license" in people.detail


@pytest.mark.slow
def test_scenario_service_denials_match_what_was_planted(
    scenarios: dict[str, tuple[Path, dict[str, Any]]], analysed: dict[str, dict[str, Result]]
) -> None:
    truth = scenarios["healthy"][1]
    planted = truth["reloads"]["service_denials"]
    rows = result_json(licenses_of(analysed["healthy"]))["denials_by_user"]
    svc = [r for r in rows if r["service_account"]]
    assert [(r["user"], r["count"], r["sources"]) for r in svc] == [("CORP\\svc_qlik", planted["count"], ["::1"])]
    assert (svc[0]["first"], svc[0]["last"]) == (planted["first_utc"], planted["last_utc"])
    people = {r["user"]: r["count"] for r in rows if not r["service_account"]}
    expected: dict[str, int] = {}
    for d in truth["licenses"]["usage_denied"]:
        expected[d["user"]] = expected.get(d["user"], 0) + 1
    assert people == expected
    activity = next(f for f in analysed["healthy"]["activity"].findings if "errors and" in f.title)
    assert "of them license denials" in activity.title


# -- upgrades and restarts ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_engine_upgrade_and_restarts_per_node(
    scenarios: dict[str, tuple[Path, dict[str, Any]]], analysed: dict[str, dict[str, Result]]
) -> None:
    truth = scenarios["healthy"][1]
    upgrade = _at(truth["timeline"]["engine_upgrade_utc"])
    data = reloads_json(analysed["healthy"]["reloads"])
    central = truth["nodes"][0]["hostname"].lower()  # qslogs names hosts in lower case
    # the engine of the central node is upgraded at the planted instant: its Exe Version changes then
    changes = [c for c in data["version_changes"] if c["host"] == central]
    assert {(c["from"], c["to"]) for c in changes} == {("12.1657.30100.0409.10", "14.187.40200.0409.10")}
    for c in changes:
        assert _at(c["last_old"]) < upgrade <= _at(c["first_new"]) < upgrade + timedelta(minutes=10)
    finding = next(f for f in analysed["healthy"]["reloads"].findings if "upgraded inside the bundle" in f.title)
    assert finding.severity is Severity.INFO and finding.title.startswith(f"{central} was upgraded")
    # every planted restart of the central node inside the logs' period has its start-up lines
    node = next(r for r in data["restarts"] if r["host"] == central)
    seen = [_at(t) for t in node["times"]]
    first = min(seen)
    planted = [
        _at(t) for t in truth["timeline"]["restarts_utc"][truth["nodes"][0]["fqdn"]] if _at(t) >= first
    ]
    assert planted and all(any(abs(s - p) < timedelta(minutes=5) for s in seen) for p in planted)
    assert {s["service"] for s in node["services"]} >= {"Engine", "Repository", "Proxy", "Scheduler"}


def test_license_forecast_needs_three_monthly_points(tmp_path: Path) -> None:
    from test_license_support import planted, write_bundle

    from qslogs.analyses.base import AnalysisOptions

    history = planted(analyzer_start=3, rate=2.0, professional=2, months=1)
    frames = load_frames([write_bundle(tmp_path, history)])
    options = AnalysisOptions(analyzer=40, professional=10)
    data = result_json(licenses_of(run_analyses(frames, options, only=["licenses"])))
    fc = next(r for r in data["forecast"] if r["access_type"] == "Analyzer")
    assert fc["status"] == "no-fit" and fc["exhaustion_date"] is None
    assert fc["no_fit_reason"].startswith("only ") and "a forecast needs 3" in fc["no_fit_reason"]
    assert "no forecast: only" in fc["statement"]


# -- the generator's scenarios, read from the files themselves ------------------------------------------------


@pytest.mark.slow
def test_scenario_files_hold_what_truth_says(scenarios: dict[str, tuple[Path, dict[str, Any]]]) -> None:
    """Counted in the written logs with plain text matching, not with qslogs."""
    for name, (root, truth) in scenarios.items():
        lines = [
            line
            for f in root.rglob("*License_Repository*")
            for line in f.read_text(encoding="utf-8-sig").splitlines()
            if "\tUsageDenied\tCORP\\svc_qlik\t" in line  # Operation, then UserName
        ]
        assert len(lines) == truth["reloads"]["service_denials"]["count"], name
        assert all('Hostname: "::1"' in line for line in lines)
        executions = [
            line
            for f in root.rglob("*TaskExecution_Scheduler*")
            for line in f.read_text(encoding="utf-8-sig").splitlines()
            if "Reload License Monitor" in line
        ]
        lm = truth["reloads"]["license_monitor"]
        assert len(executions) == lm["runs"], name
        failed = [line for line in executions if "\tFinishedFail\t" in line]
        assert len(failed) == {"healthy": 0, "failing": 8, "stale": 30, "missing": 0}[name]
    end = _at(scenarios["failing"][1]["generator"]["end_utc"])
    last_ok = _at(scenarios["failing"][1]["reloads"]["license_monitor"]["last_success_utc"])
    assert timedelta(hours=7.5) < end - last_ok < timedelta(hours=8.5)
