"""qslogs fleet on generated sites: what was planted is found, per site and across the fleet, by both engines.

Three sites come from ``qslogs_synth`` with different seeds (their License Monitor fails with HTTP 401 on two
days), beside a zip cut in half; expectations are read from each site's TRUTH.json. The fleet runs with
``--until`` on the morning after the last 401, when the License Monitor is still failing. To plant another
scenario, add one line to :data:`PLANTED` (generator options go in ``generator``).

The two queries below are those of docs/scale.md, copied verbatim (a test keeps them equal): DuckDB on the
local engine's dataset, Spark SQL on Spark's. The Spark tests share one local[2] session and skip, saying
why, where PySpark or Java is missing (``make test`` installs both where it can).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qslogs.cli import cli
from qslogs.fleet.tables import TABLES

duckdb = pytest.importorskip("duckdb", reason="duckdb is a test extra: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "scale.md"
#: The fleet's "now": the morning after the License Monitor's last planted 401 (2026-10-29 04:31 UTC).
UNTIL = "2026-10-29T06:00"
UNTIL_UTC = datetime(2026, 10, 29, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Planted:
    """One generated site: its entry in the fleet folder, the generator's seed and options, zip or folder."""

    entry: str
    seed: int
    generator: Mapping[str, Any] = field(default_factory=dict)
    zipped: bool = False

    @property
    def site(self) -> str:
        return {"ACME Corp": "acme-corp", "globex.zip": "globex", "Initech": "initech"}.get(self.entry, self.entry)


PLANTED = (
    Planted("ACME Corp", seed=11),
    Planted("globex.zip", seed=12, zipped=True),
    Planted("Initech", seed=13),
)

#: "Which sites have a failing License Monitor, and why" (docs/scale.md), DuckDB.
FAILING_LM_DUCKDB = """
WITH monitor AS (       -- each site's License Monitor, as the reloads analysis judged it
    SELECT site, tasks, verdict, last_success, failures_since_success,
           root_cause_class, root_cause_connection, root_cause_text
    FROM read_parquet('{fleet}/data/monitoring_apps/*/*.parquet', hive_partitioning = true)
    WHERE name = 'License Monitor'
),
failed AS (             -- its failed runs in the window
    SELECT m.site, count(*) AS failed_runs, max(r.start) AS last_failure
    FROM monitor AS m
    JOIN read_parquet('{fleet}/data/runs/*/*.parquet', hive_partitioning = true) AS r
      ON r.site = m.site AND list_contains(m.tasks, r.task)
    WHERE r.outcome IN ('failed', 'aborted')
    GROUP BY m.site
)
SELECT m.site, m.verdict, m.last_success, m.failures_since_success, f.failed_runs, f.last_failure,
       m.root_cause_class AS error_class, m.root_cause_connection AS connection, m.root_cause_text AS root_cause
FROM monitor AS m
LEFT JOIN failed AS f ON f.site = m.site
WHERE m.failures_since_success > 0 OR m.verdict IN ('failing', 'stale', 'missing')
ORDER BY m.site
"""

#: The same in Spark SQL (docs/scale.md): views over the table folders; Spark finds the site= partitions.
FAILING_LM_SPARK = """
CREATE OR REPLACE TEMPORARY VIEW monitoring_apps USING parquet OPTIONS (path '{fleet}/data/monitoring_apps');
CREATE OR REPLACE TEMPORARY VIEW runs USING parquet OPTIONS (path '{fleet}/data/runs');

WITH monitor AS (
    SELECT site, tasks, verdict, last_success, failures_since_success,
           root_cause_class, root_cause_connection, root_cause_text
    FROM monitoring_apps
    WHERE name = 'License Monitor'
),
failed AS (
    SELECT m.site, count(*) AS failed_runs, max(r.start) AS last_failure
    FROM monitor AS m
    JOIN runs AS r ON r.site = m.site AND array_contains(m.tasks, r.task)
    WHERE r.outcome IN ('failed', 'aborted')
    GROUP BY m.site
)
SELECT m.site, m.verdict, m.last_success, m.failures_since_success, f.failed_runs, f.last_failure,
       m.root_cause_class AS error_class, m.root_cause_connection AS connection, m.root_cause_text AS root_cause
FROM monitor AS m
LEFT JOIN failed AS f ON f.site = m.site
WHERE m.failures_since_success > 0 OR m.verdict IN ('failing', 'stale', 'missing')
ORDER BY m.site;
"""
QUERY_COLUMNS = ("site", "verdict", "last_success", "failures_since_success", "failed_runs", "last_failure",
                 "error_class", "connection", "root_cause")


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("query", [FAILING_LM_DUCKDB, FAILING_LM_SPARK], ids=["duckdb", "spark-sql"])
def test_doc_holds_the_tested_fleet_queries(query: str) -> None:
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert _squash(query.replace("{fleet}", "fleet")) in {_squash(b) for b in blocks}


# ---- the planted fleet -------------------------------------------------------------------------------------


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Expected:
    """What a site's TRUTH.json says the fleet must report for the window ending at UNTIL."""

    runs: int
    failed_runs: int
    error_classes: dict[str, int]
    connections_401: dict[str, int]
    bad_lines: int
    lm_connection: str | None
    lm_errors: list[str]
    lm_failed_in_window: int
    lm_failures_since_success: int
    analyzer_exhaustion: date | None
    lm_verdict: str | None  # once the generator plants a verdict (issue 13), the fleet must carry it


def expected_from(truth: dict[str, Any]) -> Expected:
    reloads = truth["reloads"]
    in_window = [e for e in reloads["executions"] if _utc(e["start_utc"]) <= UNTIL_UTC]
    failed = [f for f in reloads["failures"] if f.get("execution_id") and _utc(f["start_utc"]) <= UNTIL_UTC]
    everything_failed = [f for f in reloads["failures"]
                         if _utc(f.get("start_utc") or reloads["manual_reload"]["started_utc"]) <= UNTIL_UTC]
    lm = reloads.get("license_monitor") or {}
    lm_runs = sorted((e for e in in_window if e["task_id"] == lm.get("task_id")), key=lambda e: e["start_utc"])
    trailing = 0
    for run in reversed(lm_runs):
        if run["status"] == "FinishedSuccess":
            break
        trailing += 1
    exhaustion = truth["licenses"]["analyzer"].get("projected_exhaustion_utc")
    return Expected(
        runs=len(in_window),
        failed_runs=len(failed),
        error_classes=dict(Counter(f["error_class"] for f in failed)),
        connections_401=dict(Counter(f["connection"] for f in everything_failed
                                     if f["root_cause"] and "401" in f["root_cause"])),
        bad_lines=truth["traps"]["broken_line"]["count_in_bundle"],
        lm_connection=lm.get("connection"),
        lm_errors=lm.get("errors", []),
        lm_failed_in_window=sum(1 for e in lm_runs if e["execution_id"] in lm.get("failed_execution_ids", [])),
        lm_failures_since_success=trailing,
        analyzer_exhaustion=_utc(exhaustion).date() if exhaustion else None,
        lm_verdict=lm.get("verdict"),
    )


@dataclass(frozen=True)
class Fleet:
    folder: Path
    truth: dict[str, Expected]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    """The planted sites as a fleet folder, plus 'broken.zip' (a site's zip cut in half) and a stray note."""
    from qslogs_synth import generate_bundle, write_collector_zip

    base = tmp_path_factory.mktemp("fleet")
    folder = base / "bundles"
    folder.mkdir()
    truth: dict[str, Expected] = {}
    for planted in PLANTED:
        root = generate_bundle(base / f"gen-{planted.seed}", seed=planted.seed, **planted.generator)
        if planted.zipped:
            write_collector_zip(root, folder / planted.entry)
        else:
            shutil.move(str(root), folder / planted.entry)
        truth[planted.site] = expected_from(json.loads((root.parent / "TRUTH.json").read_text(encoding="utf-8")))
    whole = next(folder.glob("*.zip")).read_bytes()
    (folder / "broken.zip").write_bytes(whole[: len(whole) // 2])
    (folder / "README.txt").write_text("bundles received this week\n", encoding="utf-8")
    return Fleet(folder, truth)


def run_fleet_cli(fleet: Fleet, out: Path, *engine: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["fleet", "-q", str(fleet.folder), "-o", str(out), "--until", UNTIL,
                                      "--json", *engine])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


@pytest.fixture(scope="module")
def local(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("local") / "out"
    return out, run_fleet_cli(fleet, out, "--engine", "local", "--workers", "2")


@pytest.mark.slow
def test_every_planted_site_is_reported_as_planted(fleet: Fleet, local: tuple[Path, dict[str, Any]]) -> None:
    _, data = local
    sites = {s["site"]: s for s in data["sites"]}
    assert list(sites) == sorted(sites) == sorted([*fleet.truth, "broken"])
    for name, want in fleet.truth.items():
        got = sites[name]
        assert got["error"] is None
        assert (got["runs"], got["failed_runs"]) == (want.runs, want.failed_runs), name
        assert got["error_classes"] == want.error_classes
        assert got["connections_401"] == want.connections_401
        assert got["bad_input"]["bad_lines"] == want.bad_lines
        lm = next(m for m in got["monitoring_apps"] if m["name"] == "License Monitor")
        assert lm["failures_since_success"] == want.lm_failures_since_success
        if want.lm_failures_since_success:
            assert lm["root_cause"]["class"] == "auth" and lm["root_cause"]["connection"] == want.lm_connection
            assert lm["root_cause"]["text"] in want.lm_errors
        if want.lm_verdict is not None:
            assert lm["verdict"] == want.lm_verdict
        runway = got["licenses"]["runway"]
        if want.analyzer_exhaustion is not None:
            assert runway["access_type"] == "Analyzer"
            assert abs((date.fromisoformat(runway["date"]) - want.analyzer_exhaustion).days) <= 7
    assert data["skipped"] == [{"path": str(fleet.folder / "README.txt"), "reason": "not a .zip or a folder"}]


@pytest.mark.slow
def test_the_broken_bundle_is_listed_with_its_error_and_stops_nothing(local: tuple[Path, dict[str, Any]]) -> None:
    out, data = local
    broken = next(s for s in data["sites"] if s["site"] == "broken")
    assert re.search(r"broken\.zip: .*(zip|bundle)", broken["error"]), broken["error"]
    assert broken["report"] is None and broken["monitoring_apps"] == []
    rows = duckdb.sql(f"SELECT site, status, error FROM read_parquet('{out.as_posix()}/data/sites/*/*.parquet', "
                      "hive_partitioning = true) ORDER BY site").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(s["site"], "error" if s["error"] else "ok") for s in data["sites"]]
    assert next(r[2] for r in rows if r[0] == "broken") == broken["error"]


@pytest.mark.slow
def test_the_verdict_is_the_reloads_analysis_own(fleet: Fleet, local: tuple[Path, dict[str, Any]]) -> None:
    """The fleet judges nothing: each monitoring app's verdict is what 'qslogs reloads' says for that site."""
    _, data = local
    site = next(s for s in data["sites"] if s["site"] == PLANTED[0].site)
    result = CliRunner().invoke(cli, ["reloads", "-q", site["bundle"], "--until", UNTIL, "--json"])
    assert result.exit_code == 0, result.output
    reloads = json.loads(result.output)
    assert [(m["name"], m["verdict"]) for m in site["monitoring_apps"]] == [
        (m["name"], m.get("verdict")) for m in reloads["monitoring_apps"]]


@pytest.mark.slow
def test_duckdb_finds_the_failing_license_monitors_and_why(fleet: Fleet, local: tuple[Path, dict[str, Any]]) -> None:
    out, _ = local
    rows = duckdb.sql(FAILING_LM_DUCKDB.replace("{fleet}", out.as_posix())).fetchall()
    check_failing_lm_rows([dict(zip(QUERY_COLUMNS, row, strict=True)) for row in rows], fleet)


def check_failing_lm_rows(found: list[dict[str, Any]], fleet: Fleet) -> None:
    """Every site whose planted License Monitor runs end in failures, with the planted 401 as the reason."""
    failing = {name: want for name, want in fleet.truth.items() if want.lm_failures_since_success}
    assert [f["site"] for f in found] == sorted(failing)
    for row in found:
        want = failing[row["site"]]
        assert row["failures_since_success"] == want.lm_failures_since_success
        assert row["failed_runs"] == want.lm_failed_in_window
        assert (row["error_class"], row["connection"]) == ("auth", want.lm_connection)
        assert row["root_cause"] in want.lm_errors and "401" in row["root_cause"]
        assert row["last_failure"].astimezone(UTC) <= UNTIL_UTC


@pytest.mark.slow
def test_dataset_layout_reports_and_fleet_page(fleet: Fleet, local: tuple[Path, dict[str, Any]]) -> None:
    from bs4 import BeautifulSoup

    out, data = local
    for table in TABLES:  # a table without rows in the window (manual_reloads here) has no site folder
        folders = sorted(p.name for p in (out / "data" / table).iterdir() if p.is_dir())
        assert all(re.fullmatch(r"site=[a-z][a-z0-9._-]*", f) for f in folders)
        assert bool(folders) == (table != "manual_reloads"), table
    assert sorted(p.name for p in (out / "data" / "sites").iterdir()) == [f"site={s['site']}" for s in data["sites"]]
    page = BeautifulSoup((out / "fleet.html").read_text(encoding="utf-8"), "html.parser")
    rows = page.select("table#fleet tbody tr")
    assert [r.td.get_text(" ", strip=True).split(" ")[0] for r in rows] == [s["site"] for s in data["sites"]]
    for row, site in zip(rows, data["sites"], strict=True):
        link = row.td.a
        if site["error"]:
            assert link is None and "broken.zip" in row.td.get_text()
        else:
            assert link["href"] == f"reports/{site['site']}.html" and (out / link["href"]).is_file()
            assert "monitor_apps_REST_license_user" in row.get_text()
    assert not page.select("[src]") and not page.select("link[href^=http]")


# ---- Spark -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local[2] SparkSession for every Spark test (the JVM takes seconds to start)."""
    pytest.importorskip("pyspark", reason="PySpark is not installed: pip install -e '.[spark]' (make test does)")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("no Java runtime for Spark (make test installs one through apt where it can)")
    from pyspark.sql import SparkSession

    from qslogs.fleet.spark import SESSION_CONF

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.master("local[2]").appName("qslogs tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.ui.showConsoleProgress", "false"))
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def on_spark(spark: Any, fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("spark") / "out"
    return out, run_fleet_cli(fleet, out, "--engine", "spark")


@pytest.mark.slow
def test_spark_gives_the_same_json_and_dataset(local: tuple[Path, dict[str, Any]],
                                               on_spark: tuple[Path, dict[str, Any]]) -> None:
    (local_out, local_json), (spark_out, spark_json) = local, on_spark
    assert spark_json == local_json
    for table in TABLES:
        files = [sorted(p.parent.name for p in (out / "data" / table).glob("*/*.parquet"))
                 for out in (local_out, spark_out)]
        assert files[0] == files[1], table
        if not files[0]:
            continue
        mine, theirs = (duckdb.sql(f"SELECT * FROM read_parquet('{out.as_posix()}/data/{table}/*/*.parquet', "
                                   "hive_partitioning = true) ORDER BY ALL") for out in (local_out, spark_out))
        assert (theirs.columns, theirs.types) == (mine.columns, mine.types), table
        assert theirs.fetchall() == mine.fetchall(), table
    assert sorted(p.name for p in (spark_out / "reports").iterdir()) == sorted(
        p.name for p in (local_out / "reports").iterdir())


@pytest.mark.slow
def test_spark_sql_finds_the_failing_license_monitors_and_why(
        spark: Any, fleet: Fleet, on_spark: tuple[Path, dict[str, Any]]) -> None:
    out, _ = on_spark
    *views, query = [s for s in FAILING_LM_SPARK.replace("{fleet}", out.as_posix()).split(";") if s.strip()]
    for view in views:
        spark.sql(view)
    rows = [row.asDict() for row in spark.sql(query).collect()]
    check_failing_lm_rows([{k: row[k] for k in QUERY_COLUMNS} for row in rows], fleet)


@pytest.mark.slow
def test_fleet_carries_each_planted_monitor_verdict(tmp_path: Path) -> None:
    """Three sites planted by the generator's scenarios: the License Monitor healthy, failing with a 401 for its
    last 8 hourly runs, and stale. Every default bundle also holds a node on a modern release (script logs with
    their own UTC offset), so this fleet covers both script-log forms."""
    from qslogs_synth import generate_bundle

    folder = tmp_path / "bundles"
    folder.mkdir()
    for scenario in ("healthy", "failing", "stale"):
        shutil.move(str(generate_bundle(tmp_path / f"gen-{scenario}", scenario=scenario)), folder / scenario)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["fleet", "-q", str(folder), "-o", str(out), "--json", "--workers", "2"])
    assert result.exit_code == 0, result.output
    sites = {s["site"]: s for s in json.loads(result.output)["sites"]}
    verdicts = {name: {m["name"]: m["verdict"] for m in s["monitoring_apps"]} for name, s in sites.items()}
    assert verdicts == {
        "failing": {"License Monitor": "failing", "Operations Monitor": "ok"},
        "healthy": {"License Monitor": "ok", "Operations Monitor": "ok"},
        "stale": {"License Monitor": "stale", "Operations Monitor": "ok"},
    }
    lm = next(m for m in sites["failing"]["monitoring_apps"] if m["name"] == "License Monitor")
    assert lm["failures_since_success"] == 8
    assert (lm["root_cause"]["class"], lm["root_cause"]["connection"]) == ("auth", "monitor_apps_REST_license_user")
    assert sites["failing"]["findings"]["critical"] == 1 and sites["healthy"]["findings"]["critical"] == 0
    assert sites["stale"]["findings"]["critical"] >= 1
    rows = duckdb.sql(FAILING_LM_DUCKDB.replace("{fleet}", out.as_posix())).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("failing", "failing"), ("stale", "stale")]
    assert "monitor_apps_REST_license_user" in (out / "fleet.html").read_text(encoding="utf-8")
