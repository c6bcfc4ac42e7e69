"""Report building blocks: filters, SVG charts, the documented context, templates and assets in the wheel."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from importlib import resources

import pytest
from bs4 import BeautifulSoup
from jinja2 import UndefinedError

from qslogs.report import charts, filters, model
from qslogs.report.charts import Band, Frame, HLine, Marker, Series, bar_chart, heatmap, line_chart, sparkline
from qslogs.report.render import ASSETS, TEMPLATES, asset, environment, render_html
from qslogs.report.sections import guess_format, make_table


@pytest.mark.parametrize(
    ("value", "precision", "expected"),
    [
        ("2019-10-23T08:09:02.094Z", "minute", "2019-10-23 08:09 UTC"),
        ("2019-10-23T10:09:02+02:00", "second", "2019-10-23 08:09:02 UTC"),
        (
            "2019-10-23T10:09:02.000",
            "minute",
            "2019-10-23 10:09",
        ),  # naive (script-log local time): no zone claimed
        ("2019-10-23", "day", "2019-10-23"),
        (datetime(2019, 10, 23, 8, 9, tzinfo=UTC), "hour", "2019-10-23 08:00 UTC"),
        (date(2019, 10, 23), "day", "2019-10-23"),
        (None, "minute", "–"),
        ("", "minute", "–"),
        ("not a time", "minute", "not a time"),
    ],
)
def test_fmt_ts(value: object, precision: str, expected: str) -> None:
    assert filters.fmt_ts(value, precision) == expected


@pytest.mark.parametrize(
    ("func", "value", "expected"),
    [
        (filters.fmt_int, 1234567, "1,234,567"),
        (filters.fmt_int, 12.0, "12"),
        (filters.fmt_int, 12.25, "12.2"),
        (filters.fmt_int, None, "–"),
        (filters.fmt_int, True, "yes"),
        (filters.fmt_int, "n/a", "n/a"),
        (filters.fmt_num, 2.345, "2.3"),
        (filters.fmt_signed, 2.5, "+2.5"),
        (filters.fmt_signed, -0.25, "−0.2"),
        (filters.fmt_signed, 0, "+0.0"),
        (filters.fmt_pct, 0.4444, "44\u202f%"),
        (filters.fmt_pct, 1, "100\u202f%"),
        (filters.fmt_pct, None, "–"),
        (filters.fmt_bytes, 0, "0 B"),
        (filters.fmt_bytes, 1023, "1023 B"),
        (filters.fmt_bytes, 1536, "1.5 KB"),
        (filters.fmt_bytes, 5 * 1024**3, "5.0 GB"),
        (filters.fmt_duration, 45.4, "45 s"),
        (filters.fmt_duration, 725, "12 min 05 s"),
        (filters.fmt_duration, 3 * 3600 + 240, "3 h 04 min"),
        (filters.fmt_duration, 2 * 86400 + 3 * 3600, "2 d 03 h"),
        (filters.fmt_duration, -5, "−5 s"),
        (filters.fmt_duration, None, "–"),
        (filters.ts_ms, "1970-01-01T00:00:01.000Z", 1000),
        (filters.ts_ms, "2019-10-23", 1571788800000),
        (filters.ts_ms, None, None),
    ],
)
def test_number_filters(func: object, value: object, expected: object) -> None:
    assert func(value) == expected  # type: ignore[operator]


def test_plural_and_severity_order() -> None:
    assert [filters.plural(n, "file") for n in (1, 3, 1204)] == ["1 file", "3 files", "1,204 files"]
    assert sorted(["ok", "info", "critical", "x", "warning"], key=filters.severity_rank) == [
        "critical",
        "warning",
        "info",
        "ok",
        "x",
    ]


def test_nice_ticks_and_time_ticks() -> None:
    assert charts.nice_ticks(0, 43) == [0, 10, 20, 30, 40, 50]
    assert charts.nice_ticks(0, 7.3) == [0, 2, 4, 6, 8]
    day = charts.DAY
    t0 = 1_700_000_000_000  # 2023-11-14 22:13 UTC
    morning = ms("2023-11-15T08:10:00Z")
    hours = charts.time_ticks(morning, morning + 6 * charts.HOUR)
    assert all(t % charts.HOUR == 0 for t, _ in hours) and re.fullmatch(r"\d\d:00", hours[0][1])
    # a span across midnight says the date on its first tick and at midnight, never bare 00:00 only
    night = [label for _, label in charts.time_ticks(t0, t0 + 6 * charts.HOUR)]
    assert night == ["11-14 23:00", "11-15 00:00", "01:00", "02:00", "03:00", "04:00"]
    # a daily series of 0.9 days: day ticks, not a row of hours
    days = [label for _, label in charts.time_ticks(ms("2019-01-31T12:00:00Z"), ms("2019-02-02T12:00:00Z"),
                                                    min_step=day)]
    assert days == ["02-01", "02-02"]
    weeks = charts.time_ticks(t0, t0 + 40 * day)
    assert all(datetime.fromtimestamp(t / 1000, UTC).weekday() == 0 for t, _ in weeks), (
        "weeks start on Monday"
    )
    months = charts.time_ticks(ms("2025-01-15"), ms("2025-12-20"))
    assert [label for _, label in months][:3] == ["2025-04", "2025-07", "2025-10"] or all(
        re.fullmatch(r"\d{4}-\d\d", label) for _, label in months
    )
    assert 2 <= len(months) <= 8


def ms(text: str) -> int:
    value = charts.ms(text)
    assert value is not None
    return value


def forecast_svg() -> str:
    observed = [(f"2025-{m:02d}-01", 5 + 2.5 * (m - 1)) for m in range(1, 13)]
    trend = [(t, v + 0.3) for t, v in observed]
    projection = [("2025-12-01", 32.5), ("2026-03-01", 40.0)]
    return line_chart(
        [
            Series("allocated", observed, "c0", "line dots"),
            Series("trend", trend, "trend"),
            Series("forecast", projection, "fc"),
        ],
        title="Analyzer <licenses>",
        y_label="licenses",
        bands=[Band("95 % interval", [(t, v - 1, v + 1) for t, v in trend + projection])],
        hlines=[HLine("capacity 40", 40)],
        markers=[Marker("runs out ~2026-03", "2026-03-01")],
    )


def test_line_chart_with_trend_band_capacity_and_forecast() -> None:
    svg = BeautifulSoup(forecast_svg(), "html.parser").svg
    assert svg is not None and svg["class"] == ["chart", "time"]
    assert svg["aria-label"] == "Analyzer <licenses>" and svg.title.get_text() == "Analyzer <licenses>"  # type: ignore
    plot = svg.select_one("svg.plot")
    assert plot is not None and plot["preserveaspectratio"] == "none"
    assert int(svg["data-t0"]) == ms("2025-01-01") and int(svg["data-t1"]) == ms("2026-03-01")
    assert [p["class"] for p in plot.select("path")] == [
        ["band"],
        ["cap"],
        ["mark"],
        ["line", "c0"],
        ["dots", "c0"],
        ["line", "trend"],
        ["line", "fc"],
    ]
    cap_y = float(plot.select_one("path.cap")["d"].split()[1].split("H")[0])  # type: ignore[index]
    frame = Frame()
    top_tick = max(float(t.get_text()) for t in svg.select(".grid text:not(.ylabel)"))
    assert cap_y == pytest.approx(frame.ph * (1 - 40 / top_tick), abs=0.11)
    assert len(plot.select_one("path.dots")["d"].split("h0")) == 13  # type: ignore[index]
    assert svg.select_one("text.mk.xpos")["data-t"] == str(ms("2026-03-01"))  # type: ignore[index]
    assert [t.get_text() for t in svg.select(".legend text")] == [
        "allocated",
        "trend",
        "forecast",
        "95 % interval",
        "capacity 40",
    ]


def test_charts_are_deterministic_and_escape_text() -> None:
    assert forecast_svg() == forecast_svg()
    svg = bar_chart(
        ["2024-10-01", "2024-10-02"], [("<b>err</b>", "err", [3, 0]), ("warn", "warn", [1, 2])], title="x & y"
    )
    assert "<b>" not in svg and "&lt;b&gt;err&lt;/b&gt;" in svg and "x &amp; y" in svg
    page = BeautifulSoup(svg, "html.parser")
    assert len(page.select("g.err rect")) == 1 and len(page.select("g.warn rect")) == 2
    first_warn = page.select("g.warn rect")[0]
    first_err = page.select_one("g.err rect")
    assert float(first_warn["y"]) + float(first_warn["height"]) == pytest.approx(
        float(first_err["y"]), abs=0.11
    )


def test_empty_chart_says_so() -> None:
    assert "no data" in line_chart([Series("a", [])], title="Nothing")
    assert "no data" in bar_chart([], [], title="Nothing")


def test_legend_wraps_and_the_chart_grows() -> None:
    many = [
        Series(f"Reload task number {i} with a long name", [("2024-01-01", i)], f"c{i % 6}") for i in range(8)
    ]
    svg = BeautifulSoup(line_chart(many, title="t"), "html.parser").svg
    assert svg is not None
    height = int(svg["viewbox"].split()[3])  # type: ignore[union-attr]
    ys = {float(t["y"]) for t in svg.select(".legend text")}
    assert len(ys) >= 3 and height > Frame().height


def test_heatmap_cells_shades_and_counts() -> None:
    counts = [[0.0] * 24 for _ in range(7)]
    counts[2][5], counts[0][6] = 4, 1
    page = BeautifulSoup(heatmap(counts, title="Failures", source="reloads", basis="local"), "html.parser")
    cells = page.select("g.cell")
    assert len(cells) == 168
    shade = {(c["data-wd"], c["data-hr"]): c.rect["class"][0] for c in cells}  # type: ignore[index]
    assert shade[("2", "5")] == "h5" and shade[("0", "6")] == "h2" and shade[("3", "3")] == "h0"
    wed = next(c for c in cells if (c["data-wd"], c["data-hr"]) == ("2", "5"))
    assert wed.select_one("text").get_text() == "4" and "Wed 05:00–05:59: 4 failures" in wed.title.get_text()  # type: ignore
    assert "local time" in page.select_one("text.note").get_text()  # type: ignore[union-attr]


def test_sparkline() -> None:
    page = BeautifulSoup(sparkline([0, 2, 4], title="t"), "html.parser")
    rects = page.select("rect")
    assert len(rects) == 2 and float(rects[1]["height"]) == 22.0 and float(rects[0]["height"]) == 11.0
    assert sparkline([]) == ""


def test_every_context_field_is_documented() -> None:
    classes = [
        model.Column,
        model.Row,
        model.Table,
        model.FindingRow,
        model.Fact,
        model.Chart,
        model.Callout,
        model.Block,
        model.Section,
        model.ReportContext,
        charts.Series,
        charts.Band,
        charts.HLine,
        charts.Marker,
    ]
    for cls in classes:
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help text"


def test_templates_and_assets_load_by_package_name() -> None:
    env = environment()
    for name in TEMPLATES:
        assert env.get_template(name) is not None
    listed = {p.name for p in resources.files("qslogs.report").joinpath("templates").iterdir()}
    assert listed == set(TEMPLATES), "every template is known to the renderer (and ships in the wheel)"
    for name in ASSETS:
        text = asset(name)
        assert len(text) > 1000
    assert {p.name for p in resources.files("qslogs.report").joinpath("assets").iterdir()} == set(ASSETS)


def test_assets_are_self_contained() -> None:
    css, js = asset("report.css"), asset("report.js")
    assert "prefers-color-scheme: dark" in css and "@media print" in css
    assert not re.search(r"url\(|@import|@font-face", css)
    assert not re.search(r"\b(fetch|XMLHttpRequest|WebSocket|EventSource|sendBeacon|import\s*\()", js)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", css + js)


def test_strict_undefined_fails_on_a_typo() -> None:
    template = environment().from_string("{{ r.titel }}")
    with pytest.raises(UndefinedError):
        template.render(r=object())


def test_autoescape_is_on() -> None:
    assert environment().from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_table_rows_carry_filter_attributes_and_limits() -> None:
    cols = [model.Column("t", "Time", "ts"), model.Column("n", "N", "int")]
    rows = [{"t": f"2024-10-0{i}T00:00:00.000Z", "n": i} for i in range(1, 6)]
    table = make_table("t-x", cols, rows, ts="t", limit=3, caption="Rows.")
    assert [r.ts for r in table.rows] == [ms(f"2024-10-0{i}") for i in (1, 2, 3)]
    assert table.total == 5 and table.caption == "Rows. Showing the first 3 of 5 rows."
    with pytest.raises(ValueError):
        model.Column("x", "X", "nope")


@pytest.mark.parametrize(
    ("key", "values", "fmt"),
    [
        ("count", [1, 2], "int"),
        ("ratio", [0.5, 1.25], "num"),
        ("failure_rate", [0.5], "pct"),
        ("duration_s", [1.5], "duration"),
        ("time", ["2024-10-01T00:00:00.000Z"], "ts"),
        ("day", ["2024-10-01"], "day"),
        ("flag", [True, False], "bool"),
        ("name", ["a", None], "text"),
        ("nested", [{"a": 1}], "code"),
        ("empty", [None], "text"),
    ],
)
def test_generic_column_formats(key: str, values: list[object], fmt: str) -> None:
    assert guess_format(key, values) == fmt


def test_minimal_context_renders(tmp_path: object) -> None:
    from qslogs.report.render import build_context

    html = render_html(build_context({}, title="Empty"))
    page = BeautifulSoup(html, "html.parser")
    assert page.select_one("#summary .empty") is not None
    assert page.select_one("form#datefilter") is None, "no dated records: no date filter"
