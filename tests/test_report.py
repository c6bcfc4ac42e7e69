"""The HTML report over the sample bundle: structure (BeautifulSoup, no snapshots), planted facts, no network.

The sample bundle is ``sample_data/bundle`` (with its ``TRUTH.json`` answer key); where it is absent the
same generator writes one to a temporary folder.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from click.testing import CliRunner

from qslogs.analyses import AnalysisOptions, AnalysisResult, run_analyses
from qslogs.cli import cli
from qslogs.findings import Finding, Severity
from qslogs.frames import Frames
from qslogs.loader import load_frames
from qslogs.pipeline import with_qvds
from qslogs.redact_frames import learn_frames
from qslogs.report import Redactor, render_report
from tests.conftest import SAMPLE_BUNDLE
from tests.test_activity import write_activity_bundle
from tests.test_report_safety import known_names, leaks

GENERATED = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
#: Section ids of the report in order (written out: an analysis removed from the registry must fail here).
SECTIONS = ["reloads", "licenses", "activity", "bundle"]


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding ``bundle/``, ``qvd/`` and ``TRUTH.json``."""
    if SAMPLE_BUNDLE.is_dir():
        return SAMPLE_BUNDLE.parent
    from qslogs_synth import generate_bundle

    return generate_bundle(tmp_path_factory.mktemp("sample")).parent


@pytest.fixture(scope="session")
def sample_frames(sample_root: Path) -> Frames:
    return load_frames([sample_root / "bundle"])


@pytest.fixture(scope="session")
def sample_results(sample_frames: Frames, sample_root: Path) -> dict[str, AnalysisResult]:
    return run_analyses(with_qvds(sample_frames, (sample_root / "qvd",)), AnalysisOptions())


@pytest.fixture(scope="session")
def sample_html(sample_results: dict[str, AnalysisResult], tmp_path_factory: pytest.TempPathFactory) -> str:
    out = render_report(
        sample_results,
        tmp_path_factory.mktemp("report") / "report.html",
        title="Sample",
        sources=["sample_data/bundle"],
        generated_at=GENERATED,
    )
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def soup(sample_html: str) -> BeautifulSoup:
    return BeautifulSoup(sample_html, "html.parser")


def truth(sample_root: Path) -> dict[str, Any]:
    return json.loads((sample_root / "TRUTH.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def section(soup: BeautifulSoup, name: str) -> Tag:
    found = soup.find("section", id=name)
    assert isinstance(found, Tag), f"section #{name} missing"
    return found


def test_sections_in_report_order_with_a_table_of_contents(soup: BeautifulSoup) -> None:
    ids = [s["id"] for s in soup.select("main > section.section")]
    assert ids == ["summary", *SECTIONS]
    assert [a["href"] for a in soup.select("nav.toc a")] == [f"#{i}" for i in ids]
    assert soup.title is not None and soup.title.string == "Sample"


def test_health_summary_has_every_finding_most_severe_first(
    soup: BeautifulSoup, sample_results: dict[str, AnalysisResult]
) -> None:
    findings = [f for r in sample_results.values() for f in r.findings]
    site, bundle = soup.select("#t-summary tbody tr"), soup.select("#t-summary-bundle tbody tr")
    rows = site + bundle
    assert len(rows) == len(findings) >= 3
    # findings about the bundle itself (the input analysis) have their own group below the site's
    assert len(bundle) == sum(1 for f in findings if f.analysis == "input" or f.about == "bundle") >= 1
    order = {"critical": 0, "warning": 1, "info": 2, "ok": 3}
    for group in (site, bundle):
        shown = [r.select_one("span.sev").get_text() for r in group]  # type: ignore[union-attr]
        assert shown == sorted(shown, key=order.__getitem__)
    counts = {
        li["class"][0].removeprefix("sev-"): int(li.select_one(".n").get_text())  # type: ignore[union-attr]
        for li in soup.select("ul.counts li")
    }
    assert counts == {s: sum(1 for f in findings if f.severity == s) for s in order}
    titles = {r.select_one(".ftitle").get_text() for r in rows}  # type: ignore[union-attr]
    assert titles == {f.title for f in findings}


def test_every_planted_failure_is_in_the_failed_runs_table(soup: BeautifulSoup, sample_root: Path) -> None:
    facts = truth(sample_root)["reloads"]
    planted = {f["execution_id"] for f in facts["failures"] if "execution_id" in f}
    planted |= set(facts["license_monitor"]["failed_execution_ids"])
    rows = soup.select("#t-reloads-failed tbody tr")
    assert {r["data-key"] for r in rows} == planted
    for row in rows:
        assert row.get("data-ts", "").isdigit()
        assert row.select_one("td[data-col=cause] details ol.ctx li"), "each failure opens to its log lines"
    text = section(soup, "reloads").get_text(" ")
    assert "monitor_apps_REST_license_user" in text and "HTTP protocol error 401" in text
    assert "Could not reserve an executor for task" in text and "initiation" in text
    assert facts["manual_reload"]["root_cause"] in text


def test_reload_charts_heatmap_durations_and_task_rates(soup: BeautifulSoup) -> None:
    reloads = section(soup, "reloads")
    heat = reloads.select_one("svg.chart.heat")
    assert heat is not None and len(heat.select("g.cell")) == 7 * 24 and heat["data-source"] == "reloads"
    assert reloads.select("svg.chart.time path.line"), "durations over time"
    lm = next(r for r in reloads.select("#t-reloads-tasks tbody tr") if "License Monitor" in r.get_text())
    assert lm.select_one("td[data-col=failure_rate]").get_text().strip() == "44\u202f%"  # type: ignore[union-attr]
    assert reloads.select_one("#t-reloads-tasks")["data-agg"] == "tasks"  # type: ignore[index]


def test_license_forecast_chart_and_numbers_in_words(soup: BeautifulSoup, sample_root: Path) -> None:
    licenses = section(soup, "licenses")
    exhaustion = truth(sample_root)["licenses"]["analyzer"]["projected_exhaustion_utc"][:7]
    words = licenses.select(".callout strong")
    assert any(
        re.search(
            rf"Analyzer: \+2\.5 users/month \(95 % CI [\d.]+–[\d.]+\); 40 licenses run out around "
            rf"{exhaustion}",
            w.get_text(),
        )
        for w in words
    ), [w.get_text() for w in words]
    analyzer = next(s for s in licenses.select("svg.chart.time") if "Analyzer" in s["aria-label"])
    for part in ("path.line.trend", "path.line.fc", "path.band", "path.cap", "path.dots"):
        assert analyzer.select(part), part
    assert analyzer.select_one("text.mk").get_text().startswith("runs out ~")  # type: ignore[union-attr]
    rows = {r.select_one("td").get_text(): r for r in licenses.select("#t-licenses-capacity tbody tr")}  # type: ignore
    assert rows["Analyzer"].select_one("td[data-col=capacity]").get_text() == "40"  # type: ignore[union-attr]
    assert licenses.select("#t-licenses-denials tbody tr[data-ts]")


def test_activity_and_bundle_sections(soup: BeautifulSoup, sample_results: dict[str, AnalysisResult]) -> None:
    activity = section(soup, "activity")
    assert activity.select_one("svg.chart.bars g.err rect")
    rows = activity.select("#t-activity-services tbody tr")
    assert len(rows) == len(sample_results["activity"].tables["by_service_host"])
    assert all(r.get("data-key") for r in rows)
    bundle = section(soup, "bundle")
    broken = truth_broken = sample_results["input"].tables["bad_files"]
    assert len(bundle.select("#t-bundle-bad tbody tr")) == len(broken) >= 1
    where = bundle.select_one("#t-bundle-bad ol.ctx .where").get_text()  # type: ignore[union-attr]
    assert where == f"{truth_broken[0]['source_file']}:{truth_broken[0]['first_lines'][0]['line_no']}"
    assert len(bundle.select("#t-bundle-inventory tbody tr")) == len(
        sample_results["input"].tables["inventory"]
    )


def test_no_reference_leaves_the_file(sample_html: str, soup: BeautifulSoup) -> None:
    external = re.compile(r"^\s*(https?:|//|ftp:)", re.I)
    for tag in soup.find_all(True):
        for attr in ("src", "href", "action", "srcset", "poster", "data", "xlink:href"):
            value = tag.get(attr)
            if isinstance(value, str):
                assert not external.match(value), f"<{tag.name} {attr}={value!r}>"
    styles = " ".join(s.get_text() for s in soup.find_all("style"))
    assert not re.search(r"url\(\s*['\"]?\s*(https?:|//)", styles, re.I)
    assert "@import" not in styles
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", sample_html, re.I)
    assert [s.get("type") for s in soup.find_all("script")] == ["application/json", None]
    links = soup.find_all("link")
    assert [(link["rel"], link["href"]) for link in links] == [(["icon"], "data:,")], (
        "no stylesheet or font link"
    )


def test_page_reads_without_javascript(soup: BeautifulSoup) -> None:
    form = soup.select_one("form#datefilter")
    assert form is not None and form.has_attr("hidden"), "the filter appears only when the script runs"
    assert soup.select(".tablebar") and all(b.has_attr("hidden") for b in soup.select(".tablebar"))
    assert soup.select("details summary"), "error context opens without script"


def test_embedded_data_is_valid_json_for_the_script(soup: BeautifulSoup) -> None:
    block = soup.find("script", id="qslogs-data")
    data = json.loads(block.get_text())  # type: ignore[union-attr]
    assert len(data["span"]) == 2 and data["span"][0] < data["span"][1]
    assert set(data["aggs"]) == {"activity", "tasks"}
    assert data["heat"]["reloads"] and all(len(e) == 4 for e in data["heat"]["reloads"])


def test_same_results_same_bytes(sample_results: dict[str, AnalysisResult], tmp_path: Path) -> None:
    a = render_report(sample_results, tmp_path / "a.html", generated_at=GENERATED).read_bytes()
    b = render_report(sample_results, tmp_path / "b.html", generated_at=GENERATED).read_bytes()
    assert a == b


def test_absent_analyses_hide_their_sections(
    sample_results: dict[str, AnalysisResult], tmp_path: Path
) -> None:
    partial = {k: sample_results[k] for k in ("activity", "input")}
    html = render_report(partial, tmp_path / "p.html", generated_at=GENERATED).read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    assert [s["id"] for s in page.select("main > section.section")] == ["summary", "activity", "bundle"]
    assert not page.select("#t-reloads-failed") and "Reloads" not in page.select_one("nav.toc").get_text()  # type: ignore


def test_an_unknown_analysis_gets_a_generic_section(tmp_path: Path) -> None:
    extra = AnalysisResult(
        "connections",
        [Finding("connections", Severity.CRITICAL, "401 on REST_x")],
        {
            "errors": [{"time": "2026-10-01T10:00:00.000Z", "connection": "REST_x", "count": 3}],
            "totals": {"connections": 1},
        },
    )
    html = render_report({"connections": extra}, tmp_path / "g.html", generated_at=GENERATED).read_text(
        "utf-8"
    )
    page = BeautifulSoup(html, "html.parser")
    rows = page.select("#connections table.data tbody tr")
    assert len(rows) == 1 and rows[0]["data-ts"] == str(
        int(datetime(2026, 10, 1, 10, tzinfo=UTC).timestamp() * 1000)
    )
    assert page.select_one("#t-summary .ftitle").get_text() == "401 on REST_x"  # type: ignore[union-attr]
    assert page.select_one("#t-summary a")["href"] == "#connections"  # type: ignore[index]


def test_redaction_leaves_no_original_name_on_the_sample(
    sample_frames: Frames, sample_results: dict[str, AnalysisResult], sample_html: str, tmp_path: Path
) -> None:
    names = known_names(sample_frames)
    assert {"sense01", "sense02", "corp", "karin.nilsson"} <= {n.lower() for n in names}
    assert leaks(sample_html, names), "the plain report names people and hosts"
    redactor = Redactor.create()
    learn_frames(redactor, sample_frames)
    out = render_report(
        sample_results,
        tmp_path / "r.html",
        redact=redactor,
        sources=["C:/Cases/sense01.zip"],
        generated_at=GENERATED,
    )
    html = out.read_text("utf-8")
    assert leaks(html, names) == []
    assert "corp.example" not in html.lower() and "karin" not in html.lower()
    assert re.search(r"user-\d\d", html) and re.search(r"host-\d\d", html)
    assert "sa_scheduler" in html, "Qlik's built-in accounts are kept"
    page = BeautifulSoup(html, "html.parser")
    assert "names redacted" in page.select_one("header.top").get_text()  # type: ignore[union-attr]
    assert len(page.select("#t-summary tbody tr")) == len(soup_rows(sample_html))


def soup_rows(html: str) -> list[Tag]:
    return BeautifulSoup(html, "html.parser").select("#t-summary tbody tr")


def test_report_command_writes_the_file_and_names_it(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    log = write_activity_bundle(tmp_path)
    result = CliRunner().invoke(
        cli, ["report", str(log), "-o", str(out), "--title", "T", "--analyzer", "40", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{out} (") and "info" in result.stdout
    page = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    assert page.select_one("h1").get_text() == "T"  # type: ignore[union-attr]


def test_report_command_output_error_is_exit_code_5(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    log = write_activity_bundle(tmp_path)
    result = CliRunner().invoke(cli, ["report", str(log), "-o", str(blocker / "r.html"), "-q"])
    assert result.exit_code == 5, result.output
    assert "Error: cannot write" in result.stderr and "Traceback" not in result.output


@pytest.mark.fixtures
def test_real_fixture_renders(real_log_folder: Path, tmp_path: Path) -> None:
    results = run_analyses(load_frames([real_log_folder]))
    page = BeautifulSoup(render_report(results, tmp_path / "real.html").read_text("utf-8"), "html.parser")
    assert [s["id"] for s in page.select("main > section.section")] == ["summary", *SECTIONS]
    shown = page.select("#t-summary tbody tr, #t-summary-bundle tbody tr")
    assert len(shown) == sum(len(r.findings) for r in results.values())
    assert "qlikserver1" in page.select_one("#bundle").get_text()  # type: ignore[union-attr]
    assert page.select("#t-reloads-tasks tbody tr")
