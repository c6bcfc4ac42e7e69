"""The report in a real browser: headless Chromium with networking disabled.

Checks that the page's script runs without a console message, that no request leaves the file (read from
Chromium's own network log; the browser's background requests, whose initiator is "not an origin", are
told apart from the page's), that the date filter, sorting and text filter work, and saves a screenshot.
A control page with an external image and a console error proves the two detectors see what they should.
Skips with the reason where Chromium is absent (``make test`` installs Debian's ``chromium`` where apt is).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from qslogs.analyses import AnalysisOptions, registry, run_analyses
from qslogs.loader import load_frames
from qslogs.report import render_report
from tests.conftest import SAMPLE_BUNDLE

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (Debian: apt-get install chromium; "
        "`make test` installs it where apt is available)",
    ),
]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
    "--hide-scrollbars",
)

#: Run inside the page after report.js: narrow the dates, sort, filter, and write what happened to the DOM.
HARNESS = """<script>
(function () {
  var out = {};
  var from = document.getElementById("df-from"), to = document.getElementById("df-to");
  out.bounds = [from.min, to.max];
  from.value = from.max; to.value = to.max;
  from.dispatchEvent(new Event("change"));
  var plot = document.querySelector("#activity svg.chart.time svg.plot");
  out.viewBox = plot.getAttribute("viewBox");
  out.ticks = Array.prototype.map.call(plot.parentNode.querySelectorAll("g.xt text"),
                                       function (t) { return t.textContent; });
  var th = document.querySelector("#t-reloads-tasks th[data-fmt=int]");
  th.click(); th.click();
  out.sort = th.getAttribute("aria-sort");
  var box = document.querySelector(".tablebar input[data-table=t-reloads-failed]");
  box.value = "license monitor 401"; box.dispatchEvent(new Event("input"));
  out.count = box.parentNode.querySelector(".tcount").textContent;
  document.body.setAttribute("data-harness", JSON.stringify(out));
})();
</script>"""


def chromium(page: Path, work: Path, *extra: str) -> tuple[str, str, list[str]]:
    """Open ``page``; returns stdout, stderr and the URLs the *page* requested (from the net log)."""
    assert CHROMIUM is not None
    work.mkdir(parents=True, exist_ok=True)
    netlog = work / "net.json"
    cmd = [
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={work / 'profile'}",
        f"--log-net-log={netlog}",
        "--virtual-time-budget=4000",
        *extra,
        page.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, cwd=work, check=False)
    return proc.stdout, proc.stderr, page_requests(json.loads(netlog.read_text(encoding="utf-8")))


def page_requests(log: dict[str, Any]) -> list[str]:
    """URLs of network requests started on behalf of a page (the browser's own have no origin)."""
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] != start or "url" not in params:
            continue
        from_page = params.get("initiator") != "not an origin" or str(
            params.get("network_isolation_key", "")
        ).startswith("file:")
        if from_page:
            urls.append(str(params["url"]))
    return urls


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = SAMPLE_BUNDLE.parent
    if not SAMPLE_BUNDLE.is_dir():
        from qslogs_synth import generate_bundle

        root = generate_bundle(tmp_path_factory.mktemp("sample")).parent
    results = run_analyses(load_frames([root / "bundle"]), AnalysisOptions(qvd_paths=(root / "qvd",)))
    return render_report(
        results,
        tmp_path_factory.mktemp("browser") / "report.html",
        title="qslogs: sample bundle",
        generated_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def test_detectors_see_external_requests_and_console_errors(tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    page.write_text(
        '<!DOCTYPE html><img src="http://example.invalid/x.png"><script>console.error("boom")</script>',
        encoding="utf-8",
    )
    _, stderr, requests = chromium(page, tmp_path / "run")
    assert requests == ["http://example.invalid/x.png"]
    assert any('"boom"' in line for line in console_lines(stderr))


@pytest.mark.skipif("reloads" not in {a.name for a in registry()},
                    reason="the harness drives the reloads tables")
def test_report_loads_offline_without_console_errors_and_filters_work(report: Path, tmp_path: Path) -> None:
    page = tmp_path / "harness.html"
    page.write_text(
        report.read_text(encoding="utf-8").replace("</body>", HARNESS + "</body>"), encoding="utf-8"
    )
    dom, stderr, requests = chromium(page, tmp_path / "run", "--dump-dom")
    assert requests == [], f"the report requested {requests}"
    assert console_lines(stderr) == []
    doc = BeautifulSoup(dom, "html.parser")
    assert doc.html is not None and doc.html.get("data-js") == "ready" and not doc.html.get("data-js-error")
    out = json.loads(doc.body["data-harness"])  # type: ignore[index]
    assert doc.select_one("form#datefilter") is not None and not doc.select_one("form#datefilter").has_attr(
        "hidden"
    )
    day = datetime.fromisoformat(out["bounds"][1]).replace(tzinfo=UTC)
    a, b = day.timestamp() * 1000, day.timestamp() * 1000 + 86_400_000 - 1
    dated = doc.select("tr[data-ts]")
    assert dated
    for tr in dated:
        ts = float(tr["data-ts"])
        te = float(tr.get("data-te", ts))
        inside = not (te < a or ts > b)
        assert ("f-date" in tr.get("class", [])) != inside, tr.get_text(" ")[:80]
    assert not out["viewBox"].startswith("0 0 "), "the activity chart zoomed to the chosen day"
    assert out["ticks"], "x ticks redrawn for the zoomed range"
    data = json.loads(doc.select_one("#qslogs-data").get_text())  # type: ignore[union-attr]
    for tr in doc.select("#t-reloads-tasks tbody tr"):
        entries = data["aggs"]["tasks"]["rows"].get(tr["data-key"], [])
        expected = sum(1 for e in entries if a <= e[0] <= b)
        shown = tr.select_one("td[data-col=runs]")
        assert shown is not None and shown.get_text() == str(expected), tr["data-key"]
        assert ("f-date" in tr.get("class", [])) == (expected == 0)
    assert out["sort"] in ("ascending", "descending")
    assert out["count"].endswith("rows")


def test_screenshot(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _, _, requests = chromium(report, tmp_path / "run", f"--screenshot={shot}", "--window-size=1280,2200")
    assert requests == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    print(f"screenshot: {shot}")
