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

from qslogs.analyses import AnalysisOptions, Result, run_analyses
from qslogs.loader import load_frames
from qslogs.pipeline import with_qvds
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
def report(sample_results: dict[str, Result], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_report(
        sample_results,
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


# ---- report craft: phone width, print, evidence links, contrast (driven over the DevTools pipe) -------------

#: A4 portrait minus the stylesheet's 10 mm side margins, in CSS pixels (96 per inch).
A4_PRINT_WIDTH = round((210 - 20) / 25.4 * 96)
#: The sample bundle (7 failed runs, a year of license history) printed on A4 stays well under this.
SAMPLE_MAX_PAGES = 20
PHONE = 390


def render(results_root: Path, out: Path, qvd: bool = True) -> Path:
    """The report of a bundle folder (with ``qvd/`` beside it when ``qvd``)."""
    paths = [results_root / "bundle"] if (results_root / "bundle").is_dir() else sorted(results_root.iterdir())
    frames = with_qvds(load_frames(paths), (results_root / "qvd",) if qvd else ())
    results = run_analyses(frames, AnalysisOptions())
    return render_report(results, out, title="qslogs: craft", generated_at=datetime(2026, 11, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def reports(report: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample bundle (7 failed runs) and, where present, the real Log Collector sample (0.9 days)."""
    out = {"sample": report}
    real = SAMPLE_BUNDLE.parents[1].parent / "shared" / "fixtures" / "real"
    if (real / "logcollector-active-Log").is_dir():
        work = tmp_path_factory.mktemp("real")
        (work / "in").mkdir()
        for name in ("logcollector-active-Log", "script-logs"):
            (work / "in" / name).symlink_to(real / name)
        out["real"] = render(work / "in", work / "report.html", qvd=False)
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.cdp import Browser

    assert CHROMIUM is not None
    quiet = tuple(f for f in FLAGS if not f.startswith(("--enable-logging", "--v=")))  # console comes over CDP
    with Browser(CHROMIUM, quiet, tmp_path_factory.mktemp("cdp") / "profile") as b:
        yield b


def each_report(reports: dict[str, Path]) -> list[tuple[str, Path]]:
    return sorted(reports.items())


#: Elements wider than the viewport that no scrolling box of their own contains (the page would scroll).
OVERFLOW = """(function () {
  var W = document.documentElement.clientWidth, out = [];
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= W + 0.5) { return; }
    for (var p = e.parentElement; p; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") { return; }
    }
    out.push(e.tagName + "#" + e.id + "." + e.className + " right=" + Math.round(r.right));
  });
  return {width: W, scroll: document.documentElement.scrollWidth, over: out.slice(0, 10)};
})()"""

#: The rendered size in CSS px of every visible text of every chart (font size × the SVG's scale).
CHART_TEXT = """(function () {
  var sizes = [];
  document.querySelectorAll("svg.chart").forEach(function (svg) {
    var box = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
    if (!box.width || !vb || !vb.width) { return; }
    svg.querySelectorAll("text").forEach(function (t) {
      if (!t.textContent.trim() || t.closest("svg.plot")) { return; }
      sizes.push([parseFloat(getComputedStyle(t).fontSize) * box.width / vb.width, t.textContent]);
    });
  });
  return sizes;
})()"""


def test_phone_width_never_scrolls_the_page_and_chart_text_stays_legible(
    browser: Any, reports: dict[str, Path], tmp_path: Path
) -> None:
    for name, page in each_report(reports):
        browser.open(page.as_uri(), width=PHONE, height=844)
        layout = browser.eval(OVERFLOW)
        assert layout["scroll"] <= PHONE and layout["over"] == [], (name, layout)
        sizes = browser.eval(CHART_TEXT)
        assert sizes, name
        small = [s for s in sizes if s[0] < 9]
        assert small == [], f"{name}: chart text under 9 px at {PHONE} px: {small[:5]}"
        assert browser.console() == []
        browser.screenshot(tmp_path / f"{name}-phone.png")


def test_print_keeps_every_table_on_the_page_and_the_page_count_bounded(
    browser: Any, reports: dict[str, Path], tmp_path: Path
) -> None:
    for name, page in each_report(reports):
        browser.open(page.as_uri(), width=A4_PRINT_WIDTH, height=1100, media="print")
        wide = browser.eval(
            """Array.prototype.map.call(document.querySelectorAll("table.data"), function (t) {
                 return [t.id, Math.round(t.getBoundingClientRect().right), t.parentElement.scrollWidth,
                         t.parentElement.clientWidth];
               }).filter(function (x) { return x[1] > document.documentElement.clientWidth + 1 || x[2] > x[3] + 1; })"""
        )
        assert wide == [], f"{name}: tables wider than the A4 page: {wide}"
        # error context is cut to the root-cause line and its neighbours; nothing else is forced open
        assert browser.eval("document.querySelectorAll('.ctx-print li.far').length") == 0
        assert browser.eval("document.querySelectorAll('details[open]').length") == 0
        pages = pdf_pages(browser.pdf(tmp_path / f"{name}.pdf"))
        print(f"{name}: {pages} A4 pages")
        assert 1 < pages <= SAMPLE_MAX_PAGES, (name, pages)


def pdf_pages(pdf: Path) -> int:
    """Page count: pdfinfo (poppler-utils) where installed, else the page objects of the file."""
    import re

    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def test_every_finding_links_to_its_evidence_which_the_link_reveals(browser: Any, reports: dict[str, Path]) -> None:
    for name, page in each_report(reports):
        browser.open(page.as_uri())
        targets = browser.eval(
            """Array.prototype.map.call(document.querySelectorAll("#t-summary a"), function (a) {
                 var el = document.getElementById(a.getAttribute("href").slice(1));
                 return [a.getAttribute("href"), el ? el.tagName : null, el ? el.className : null];
               })"""
        )
        assert targets, name
        for href, tag, css in targets:
            assert tag is not None, f"{name}: {href} points at nothing"
            assert tag not in ("SECTION", "H2", "H3") and "section" not in str(css).split(), (name, href, tag)
    # the sample: a failed run's row hidden by the date filter is shown again by its link, context open
    browser.open(reports["sample"].as_uri())
    out = browser.eval(
        """(function () {
          var from = document.getElementById("df-from"), to = document.getElementById("df-to");
          from.value = to.max; to.value = to.max; from.dispatchEvent(new Event("change"));
          var link = document.querySelector('#t-summary a[href^="#run-"]');
          var row = document.getElementById(link.getAttribute("href").slice(1));
          var hidden = row.classList.contains("f-date");
          var later = function (f) {
            return new Promise(function (ok) { setTimeout(function () { ok(f()); }, 150); });
          };
          link.click();  // the hash changes: report.js reveals the row
          return later(function () {
            var r = {hidden: hidden, after: row.classList.contains("f-date"), shown: row.offsetParent !== null,
                     open: !!row.querySelector("details[open]"), msg: document.getElementById("df-msg").textContent};
            location.hash = "#reloads-scripts";  // a collapsed block opens when linked to
            return r;
          }).then(function (r) {
            return later(function () { r.scripts = document.getElementById("reloads-scripts").open; return r; });
          });
        })()"""
    )
    assert out["hidden"] and not out["after"] and out["shown"] and out["open"], out
    assert "cleared" in out["msg"] and out["scripts"] is True
    assert browser.console() == []


def test_date_range_sorting_and_focus_say_what_they_do(browser: Any, reports: dict[str, Path]) -> None:
    browser.open(reports["sample"].as_uri())
    out = browser.eval(
        """(function () {
          var from = document.getElementById("df-from"), to = document.getElementById("df-to");
          var msg = document.getElementById("df-msg"), r = {};
          from.value = to.max; to.value = from.min; from.dispatchEvent(new Event("change"));
          r.reversed = msg.textContent;
          r.reversedHides = document.querySelectorAll("tr.f-date").length;
          from.value = "2027-01-01"; to.value = "2027-01-02"; from.dispatchEvent(new Event("change"));
          r.empty = msg.textContent;
          var th = document.querySelector("#t-reloads-failed th[aria-sort]");
          r.initial = th.getAttribute("aria-sort");
          var first = document.querySelector("#t-reloads-failed tbody tr").id;
          th.click();
          r.after = th.getAttribute("aria-sort");
          r.moved = document.querySelector("#t-reloads-failed tbody tr").id !== first;
          document.querySelector(".tablebar input[data-table=t-reloads-failed]").focus();
          r.scope = document.querySelectorAll("p.scope").length;
          return r;
        })()"""
    )
    assert "reversed" in out["reversed"] and out["reversedHides"] == 0, out
    assert out["empty"].startswith("Nothing was logged from 2027-01-01 to 2027-01-02"), out
    assert (out["initial"], out["after"], out["moved"]) == ("descending", "ascending", True)
    # keyboard: Tab from the table's filter box lands on its first column header, with a visible outline
    for kind in ("keyDown", "keyUp"):
        browser.page("Input.dispatchKeyEvent", type=kind, key="Tab", code="Tab", windowsVirtualKeyCode=9)
    focus = browser.eval(
        """(function () { var e = document.activeElement, cs = getComputedStyle(e);
             return [e.tagName, cs.outlineStyle, parseFloat(cs.outlineWidth)]; })()"""
    )
    assert focus[0] == "TH" and focus[1] != "none" and focus[2] >= 2, focus
    assert out["scope"] >= 1, "tiles say whether they follow the date filter"


#: Foreground and effective background (first opaque ancestor) of the text elements whose contrast matters.
COLOURS = """(function () {
  function bg(e) {
    for (; e; e = e.parentElement) {
      var c = getComputedStyle(e).backgroundColor;
      if (c && c !== "transparent" && !/rgba\\(.*, 0\\)$/.test(c)) { return c; }
    }
    return getComputedStyle(document.documentElement).backgroundColor;
  }
  var picks = ["body", "p.intro", ".fdetail", "table.data td", "table.data th", ".fact dt", ".fact dd small",
               "figcaption", "a", ".tcount", ".df-note", "span.sev-critical", "span.sev-warning", "span.sev-info",
               "span.sev-ok", "ul.counts li.sev-critical", "ul.counts li.sev-warning", "ul.counts li.sev-info",
               "ul.counts li.sev-ok", "ol.ctx .where", "ol.ctx .note", "header.top h1", "nav.toc a"];
  return picks.map(function (sel) {
    var e = document.querySelector(sel);
    return e ? [sel, getComputedStyle(e).color, bg(e)] : [sel, null, null];
  }).filter(function (x) { return x[1]; });
})()"""


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two CSS ``rgb()``/``rgba()`` colours (alpha of the text blended onto bg)."""
    import re

    def parse(css: str) -> tuple[float, float, float, float]:
        parts = [float(x) for x in re.findall(r"[\d.]+", css)]
        return (parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0)

    def luminance(rgb: tuple[float, float, float]) -> float:
        lin = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    f, b = parse(fg), parse(bg)
    blended = tuple(f[3] * f[i] + (1 - f[3]) * b[i] for i in range(3))
    hi, lo = sorted((luminance(blended), luminance(b[:3])), reverse=True)  # type: ignore[arg-type]
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_of_text_and_badges_meets_wcag_aa_in_light_and_dark(browser: Any, reports: dict[str, Path]) -> None:
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert round(contrast("rgb(119, 119, 119)", "rgb(255, 255, 255)"), 2) == 4.48  # the classic #777 fails AA
    for dark in (False, True):
        browser.open(reports["sample"].as_uri(), dark=dark)
        assert browser.eval("matchMedia('(prefers-color-scheme: dark)').matches") is dark
        pairs = browser.eval(COLOURS)
        assert len(pairs) >= 18
        low = [(sel, fg, bg, round(contrast(fg, bg), 2)) for sel, fg, bg in pairs if contrast(fg, bg) < 4.5]
        assert low == [], f"{'dark' if dark else 'light'}: below 4.5:1: {low}"
