"""The licenses analysis and `qslogs license`: planted histories in, slopes, forecasts and lists out."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from test_license_support import Ev, History, calinfo, planted, write_bundle

from qslogs.analyses import registry, run_analyses
from qslogs.analyses.base import AnalysisOptions
from qslogs.analyses.licenses.capacity import capacity_table
from qslogs.analyses.licenses.growth import DAYS_PER_MONTH
from qslogs.analyses.licenses.result import LicensesResult
from qslogs.cli import cli
from qslogs.findings import Severity
from qslogs.frames import Frames
from qslogs.loader import load_frames

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"


def run_cli(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["license", *args, "--json", "-q"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def analyse(frames: Frames, options: AnalysisOptions | None = None) -> LicensesResult:
    """The licenses analysis alone, as ``qslogs license`` runs it."""
    result = run_analyses(frames, options, only=["licenses"])["licenses"]
    assert isinstance(result, LicensesResult)
    return result


def fit_of(data: dict[str, Any], access_type: str, series: str = "allocated") -> dict[str, Any]:
    return next(f for f in data["fits"] if f["access_type"] == access_type and f["series"] == series)


def forecast_of(data: dict[str, Any], access_type: str) -> dict[str, Any]:
    return next(f for f in data["forecast"] if f["access_type"] == access_type)


@pytest.fixture(scope="module")
def history() -> History:
    return planted()  # Analyzer 20 → 50 at 2.5/month, Professional flat at 12, 5 denials


@pytest.fixture(scope="module")
def bundle(history: History, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lic")
    return write_bundle(
        root,
        history,
        cal=calinfo((15, 12), (60, 50)),
        visits=[(history.end - timedelta(days=2), "CORP\\ana001")],
    )


@pytest.fixture(scope="module")
def data(bundle: Path) -> dict[str, Any]:
    return run_cli(str(bundle))


def test_json_has_exactly_the_documented_keys(data: dict[str, Any]) -> None:
    assert tuple(data) == (
        "capacity", "timeline", "fits", "forecast", "changes_7d", "unused", "denials", "denials_by_user",
        "warnings", "qvd_mapping",
    )
    assert {"period", "access_type", "allocated", "active", "denied"} <= set(data["timeline"][0])
    assert {
        "access_type",
        "series",
        "slope_per_month",
        "ci_low",
        "ci_high",
        "r2",
        "n_points",
        "method",
    } <= set(data["fits"][0])
    assert {
        "access_type",
        "capacity",
        "in_use",
        "remaining",
        "months_to_exhaustion",
        "exhaustion_date",
    } <= set(data["forecast"][0])


def test_planted_analyzer_growth_is_recovered_within_its_interval(
    data: dict[str, Any], history: History
) -> None:
    fit = fit_of(data, "Analyzer")
    assert fit["ci_low"] <= history.analyzer_rate <= fit["ci_high"]
    assert fit["ci_high"] - fit["ci_low"] < 0.5
    assert (fit["method"], fit["granularity"], fit["n_points"], fit["flat"]) == ("ols", "month", 12, False)
    assert fit["r2"] > 0.98


def test_flat_professional_is_reported_flat(data: dict[str, Any]) -> None:
    fit = fit_of(data, "Professional")
    assert fit["flat"] and fit["slope_per_month"] == 0.0
    fc = forecast_of(data, "Professional")
    assert (fc["status"], fc["months_to_exhaustion"], fc["exhaustion_date"], fc["remaining"]) == (
        "never",
        None,
        None,
        3.0,
    )
    assert "never exhausted at this rate" in fc["statement"]


def test_exhaustion_date_matches_the_planted_rate(data: dict[str, Any], history: History) -> None:
    fc = forecast_of(data, "Analyzer")
    assert (fc["capacity"], fc["in_use"], fc["remaining"], fc["in_use_source"]) == (
        60.0,
        50.0,
        10.0,
        "bundle CalInfo",
    )
    truth = date.fromisoformat(fc["as_of"]) + timedelta(days=10 / history.analyzer_rate * DAYS_PER_MONTH)
    assert date.fromisoformat(fc["date_low"]) <= truth <= date.fromisoformat(fc["date_high"])
    assert abs((date.fromisoformat(fc["exhaustion_date"]) - truth).days) <= 5
    assert fc["months_to_exhaustion"] == pytest.approx(4.0, abs=0.25)


def test_capacity_comes_from_calinfo_with_its_source(data: dict[str, Any]) -> None:
    cap = data["capacity"]
    assert (cap["source"], cap["professional"], cap["analyzer"], cap["tokens"]) == (
        "bundle CalInfo",
        15,
        60,
        None,
    )
    by_type = {d["access_type"]: d for d in cap["details"]}
    assert by_type["Analyzer"]["in_use"] == 50 and by_type["Tokens"]["source"] == "unknown"


def test_command_line_capacity_overrides_the_bundle(bundle: Path) -> None:
    data = run_cli(str(bundle), "--analyzer", "45")
    cap = data["capacity"]
    assert cap["analyzer"] == 45 and cap["professional"] == 15
    assert cap["source"] == "command line + bundle CalInfo"
    assert {d["access_type"]: d["source"] for d in cap["details"]}["Analyzer"] == "command line"
    assert forecast_of(data, "Analyzer")["status"] == "over-capacity"


def test_timeline_counts_allocated_active_and_denied(data: dict[str, Any], history: History) -> None:
    months = [r for r in data["timeline"] if r["granularity"] == "month" and r["access_type"] == "Analyzer"]
    assert months[-1]["allocated"] == history.analyzer_at_start + round(history.analyzer_rate * 12)
    assert all(b["allocated"] >= a["allocated"] for a, b in zip(months, months[1:], strict=False))
    professional = [
        r for r in data["timeline"] if r["granularity"] == "day" and r["access_type"] == "Professional"
    ]
    assert {r["allocated"] for r in professional} == {12}  # removal and addition on the same day
    denied = sum(
        r["denied"] for r in data["timeline"] if r["granularity"] == "day" and r["access_type"] == "All users"
    )
    assert denied == 5 == len(data["denials"])
    last = next(
        r
        for r in reversed(data["timeline"])
        if r["granularity"] == "month" and r["access_type"] == "All users"
    )
    assert last["active"] >= 45  # every allocated user but the idle ones, plus the proxy visit


def test_lists_unused_changes_and_denials(data: dict[str, Any], history: History) -> None:
    unused = {u["user"]: u for u in data["unused"]}
    assert set(unused) == {"CORP\\ana002"}  # ana001 uses the site (a proxy session 2 days before the end)
    assert unused["CORP\\ana002"]["no_use_30d"] and not unused["CORP\\ana002"]["no_use_90d"]
    assert unused["CORP\\ana002"]["suggestion"] == "release if still idle"
    end = max(e.time for e in history.events)
    recent = sorted(
        e.user for e in history.events if e.op in ("Add", "Delete") and e.time > end - timedelta(days=7)
    )
    assert sorted(c["user"] for c in data["changes_7d"]) == recent and recent
    assert {d["user"] for d in data["denials"]} == {"CORP\\guest0", "CORP\\guest1"}
    assert all(d["reason"].startswith("No available access type") for d in data["denials"])


def test_idle_users_are_release_candidates(tmp_path: Path) -> None:
    h = planted(analyzer_start=5, rate=1.0, professional=3)
    data = run_cli(str(write_bundle(tmp_path, h)))
    unused = {u["user"]: u for u in data["unused"]}
    assert unused["CORP\\ana001"]["no_use_90d"] and unused["CORP\\ana001"]["suggestion"] == "release"


def test_findings_speak_plainly(bundle: Path) -> None:
    result = analyse(load_frames([bundle]))
    titles = {f.title.split(":")[0]: f for f in result.findings}
    analyzer = titles["Analyzer"]
    assert analyzer.severity is Severity.WARNING  # about 4 months left
    assert analyzer.title.startswith("Analyzer: +2.5 users/month (95 % CI ")
    assert "60 licenses run out around 20" in analyzer.title
    assert (
        titles["Professional"].severity is Severity.OK and "flat at about 12" in titles["Professional"].title
    )
    assert (analyzer.table, analyzer.keys) == ("forecast", ("Analyzer",))
    months = result.forecast.filter(pl.col("access_type") == "Analyzer")["months_to_exhaustion"].item()
    projection = result.projection.filter(pl.col("access_type") == "Analyzer")
    at_exhaustion = projection.filter((pl.col("months") - months).abs() <= 0.01)
    assert at_exhaustion["projected"][0] == pytest.approx(60, abs=0.1)
    lines = result.fit_lines.filter((pl.col("access_type") == "Analyzer") & (pl.col("series") == "allocated"))
    assert lines.height == 12
    assert ((lines["band_low"] <= lines["fitted"]) & (lines["fitted"] <= lines["band_high"])).all()
    assert result.end is not None and result.start is not None and result.start < result.end


@pytest.mark.parametrize(
    ("in_use", "status", "severity"),
    [
        (60, "at-capacity", Severity.CRITICAL),
        (65, "over-capacity", Severity.CRITICAL),
        (58, "exhausts", Severity.CRITICAL),
    ],
)
def test_capacity_edges_are_critical(
    tmp_path: Path, history: History, in_use: int, status: str, severity: Severity
) -> None:
    root = write_bundle(tmp_path, history, cal=calinfo((15, 12), (60, in_use)))
    result = analyse(load_frames([root]))
    finding = next(f for f in result.findings if f.title.startswith("Analyzer"))
    assert (finding.data["status"], finding.severity) == (status, severity)
    if status == "over-capacity":
        assert "already over capacity" in finding.title


def test_since_selects_the_fit_window_and_until_the_end(bundle: Path, history: History) -> None:
    since = (history.end - timedelta(days=200)).date()
    data = run_cli(str(bundle), "--since", since.isoformat())
    fit = fit_of(data, "Analyzer")
    assert fit["n_points"] < 12 and date.fromisoformat(fit["start"]) > since
    assert fit["ci_low"] <= history.analyzer_rate <= fit["ci_high"]
    until = history.end - timedelta(days=100)
    cut = run_cli(str(bundle), "--until", until.strftime("%Y-%m-%dT%H:%M"))
    assert max(r["period"] for r in cut["timeline"]) <= until.date().isoformat()
    assert forecast_of(cut, "Analyzer")["as_of"] == until.date().isoformat()


def test_short_history_is_warned_about(tmp_path: Path) -> None:
    h = planted(analyzer_start=3, rate=2.0, professional=2, months=1)
    result = analyse(load_frames([write_bundle(tmp_path, h)]))
    assert any(re.match(r"Short history: 2\d days of license data", w) for w in result.warnings)
    [short] = [f for f in result.findings if f.about == "bundle"]  # about the input: the report's Bundle section
    assert short.severity is Severity.WARNING and short.title.startswith("Short history")
    assert set(result.fits["granularity"]) == {"day"}  # fewer than 4 months


def test_unknown_capacity_asks_for_the_option(tmp_path: Path) -> None:
    data = run_cli(str(write_bundle(tmp_path, planted(analyzer_start=3, rate=1.0, professional=2, months=4))))
    assert data["capacity"]["source"] == "unknown"
    assert "Analyzer: capacity unknown; give --analyzer N." in data["warnings"]
    assert forecast_of(data, "Analyzer")["status"] == "unknown-capacity"


def test_no_license_events_is_said_plainly(tmp_path: Path) -> None:
    root = write_bundle(
        tmp_path, History(), visits=[(datetime(2026, 5, 1, 9, tzinfo=History().end.tzinfo), "CORP\\bob")]
    )
    (root / "Log" / "Repository" / "Trace" / "SENSE01_License_Repository.txt").unlink()
    result = analyse(load_frames([root]))
    assert result.timeline.is_empty() and "No license events" in result.warnings[0]
    assert result.start is None and result.fit_lines.is_empty()


def test_calinfo_semantics() -> None:
    opts = AnalysisOptions()
    observed = {
        "TotalTokens": 0.0,
        "AvailableTokens": 0.0,
        "ProfessionalAllocatedTokens": 12.0,
        "ProfessionalUsedTokens": 10.0,
        "AnalyzerAllocatedTokens": 35.0,
    }
    cap = capacity_table({"CalInfo": observed}, opts)
    assert (cap.professional, cap.analyzer, cap.tokens, cap.source) == (None, None, None, "unknown")
    assert cap.details[0].in_use == 12 and cap.details[0].used == 10
    with_available = {**observed, "AnalyzerAvailableTokens": 5.0}
    assert capacity_table({"CalInfo": with_available}, opts).analyzer == 40
    tokens = capacity_table({"CalInfo": {"TotalTokens": 100.0, "AvailableTokens": 30.0}}, opts)
    assert tokens.tokens == 100 and tokens.details[2].in_use == 70


def test_licenses_is_registered_and_the_command_documented() -> None:
    assert "licenses" in [a.name for a in registry()]
    for name in ("license", "qvd"):
        help_text = CliRunner().invoke(cli, [name, "--help"]).output
        assert "Example:" in help_text


@pytest.mark.fixtures
def test_real_bundle_license_summary(real_log_folder: Path) -> None:
    data = run_cli(str(real_log_folder))
    assert len(data["denials"]) == 108 and data["capacity"]["source"] == "unknown"
    assert any(w.startswith("Short history") for w in data["warnings"])
    text = CliRunner().invoke(cli, ["license", str(real_log_folder), "-q"])
    assert text.exit_code == 0 and "Denials: 108" in text.output and "DOMAIN\\qvservice" in text.output


def test_removal_before_any_add_means_an_older_allocation(tmp_path: Path) -> None:
    t = datetime(2026, 2, 1, 9, tzinfo=History().end.tzinfo)
    h = History(
        events=[
            Ev(t, "UsageGranted", "CORP\\a"),
            Ev(t + timedelta(days=3), "Delete", "CORP\\b"),
            Ev(t + timedelta(days=5), "Add", "CORP\\c"),
            Ev(t + timedelta(days=6), "Add", "CORP\\c"),
        ]
    )
    data = run_cli(str(write_bundle(tmp_path, h)))
    days = {
        r["period"]: r["allocated"]
        for r in data["timeline"]
        if r["granularity"] == "day" and r["access_type"] == "Analyzer"
    }
    assert (days["2026-02-01"], days["2026-02-04"], days["2026-02-06"], days["2026-02-07"]) == (2, 1, 2, 2)


def _sample() -> Path:
    if not (SAMPLE / "TRUTH.json").is_file() or not (SAMPLE / "bundle").is_dir():
        pytest.skip("sample_data/ (bundle, qvd, TRUTH.json) not generated yet")
    return SAMPLE


def check_sample(sample: Path, data: dict[str, Any]) -> None:
    """The planted license facts of TRUTH.json, recovered (shared by the bundle and bundle+QVD runs)."""
    truth = json.loads((sample / "TRUTH.json").read_text())["licenses"]
    ana = fit_of(data, "Analyzer")
    assert ana["ci_low"] <= truth["analyzer"]["growth_users_per_month"] <= ana["ci_high"]
    assert fit_of(data, "Professional")["flat"]
    fc = forecast_of(data, "Analyzer")
    assert (fc["capacity"], fc["in_use"]) == (
        truth["capacity"]["analyzer"],
        truth["analyzer"]["allocated_at_end"],
    )
    exhaustion = datetime.fromisoformat(truth["analyzer"]["projected_exhaustion_utc"]).date()
    assert date.fromisoformat(fc["date_low"]) <= exhaustion <= date.fromisoformat(fc["date_high"])
    assert abs((date.fromisoformat(fc["exhaustion_date"]) - exhaustion).days) <= 7
    assert forecast_of(data, "Professional")["status"] == "never"
    idle = {u["user"] for u in data["unused"] if u["no_use_90d"]}
    assert {u["user"] for u in truth["unused_over_90_days"]} <= idle
    assert len(data["denials"]) == len(truth["usage_denied"])


def test_sample_bundle_recovers_the_planted_growth_and_exhaustion(sample_cli: Path) -> None:
    sample = _sample()
    data = run_cli(str(sample / "bundle"))
    assert data["capacity"]["source"] == "bundle CalInfo"
    check_sample(sample, data)


def test_sample_bundle_with_its_qvd_recovers_the_same(sample_cli: Path) -> None:
    sample = _sample()
    data = run_cli(str(sample / "bundle"), "--qvd", str(sample / "qvd"))
    assert [m["status"] for m in data["qvd_mapping"]] == ["used"]
    check_sample(sample, data)


def test_sample_qvd_alone_recovers_the_analyzer_growth() -> None:
    sample = _sample()
    truth = json.loads((sample / "TRUTH.json").read_text())["licenses"]
    start = truth["history_start_utc"][:16]
    data = run_cli(*map(str, sorted((sample / "qvd").glob("*.qvd"))), "--since", start, "--analyzer", "40")
    ana = fit_of(data, "Analyzer")
    assert ana["ci_low"] <= truth["analyzer"]["growth_users_per_month"] <= ana["ci_high"]
    assert any("current allocations only" in w for w in data["warnings"])
