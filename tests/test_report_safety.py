"""Untrusted log text stays inert in the report, and ``--redact`` leaves no original name behind."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from qslogs.analyses import run_analyses
from qslogs.analyses.activity_result import ActivityResult
from qslogs.cli import cli
from qslogs.frames import Frames
from qslogs.loader import load_frames
from qslogs.redact_frames import learn_frames
from qslogs.report import Redactor, render_report
from tests.logfiles import GUID, TASK_EXECUTION, TRACE_SYSTEM, dotnet_file, trace_row
from tests.test_activity import write_activity_bundle

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JINJA = "{{ 7*7 }}"
GENERATED = datetime(2026, 11, 1, tzinfo=UTC)


def task_row(seq: int, name: str, app: str, status: str, reason: str, start: str, stop: str) -> str:
    fields = [
        str(seq),
        stop,
        "INFO",
        "Sense01",
        "TaskExecution.Scheduler.Scheduler.Master.Task.TaskSessionState",
        "45",
        GUID,
        "CORP\\svc_qlik",
        "Task execution finished",
        "",
        "",
        "0",
        GUID,
        name,
        GUID,
        app,
        f"0000000{seq}-1f0b-4f8e-9d1e-0a1b2c3d4e5f",
        GUID,
        "sense01.corp.example",
        status,
        start,
        stop,
        "12000",
        reason,
        GUID,
    ]
    return "\t".join(fields)


def hostile_bundle(root: Path) -> Path:
    log = root / "Log"
    runs = [
        task_row(
            1,
            SCRIPT,
            IMG,
            "FinishedFail",
            f"{JINJA} {IMG}",
            "20241003T100000.000+0200",
            "20241003T100012.000+0200",
        ),
        task_row(
            2,
            JINJA,
            "App {% raw %}",
            "FinishedSuccess",
            "",
            "20241003T110000.000+0200",
            "20241003T110012.000+0200",
        ),
    ]
    system = [
        trace_row(1, "20241003T101500.000+0200", f"{SCRIPT} {IMG} {JINJA}", level="ERROR"),
        trace_row(2, "20241003T101600.000+0200", "</script><script>alert(2)</script>", level="WARN"),
    ]
    files = {
        "Scheduler/Trace/SENSE01_TaskExecution_Scheduler.txt": dotnet_file(TASK_EXECUTION, runs),
        "Repository/Trace/SENSE01_System_Repository.txt": dotnet_file(
            TRACE_SYSTEM, [*system, "broken " + IMG]
        ),
    }
    for path, data in files.items():
        (log / path).parent.mkdir(parents=True, exist_ok=True)
        (log / path).write_bytes(data)
    return log


def test_log_text_is_escaped_and_inert(tmp_path: Path) -> None:
    results = run_analyses(load_frames([hostile_bundle(tmp_path)]))
    out = render_report(
        results, tmp_path / "r.html", title=f"{SCRIPT} {JINJA}", sources=[IMG], generated_at=GENERATED
    )
    html = out.read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    assert len(page.find_all("script")) == 2, "only the report's own JSON and script blocks"
    assert page.find_all("img") == [], "no element was injected"
    assert not any(attr.startswith("on") for tag in page.find_all(True) for attr in tag.attrs)
    assert "alert(1)</script>" not in html and "<img" not in html and "alert(2)</script>" not in html
    text = page.get_text(" ")
    for payload in (SCRIPT, IMG, JINJA):
        assert payload in text, f"{payload!r} should be shown as text"
    assert "49" not in re.findall(r"\b49\b", text), "{{ 7*7 }} was not evaluated"
    if "reloads" in results:
        failed = page.select("#t-reloads-failed tbody tr")
        assert len(failed) == 1 and SCRIPT in failed[0].get_text()
    assert page.title is not None and page.title.get_text() == f"{SCRIPT} {JINJA}"
    data = page.find("script", id="qslogs-data")
    assert data is not None and "</" not in data.get_text()
    csp = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert csp is not None and "default-src 'none'" in csp["content"], "no CSP: a second layer is missing"
    assert "connect-src" not in csp["content"] and "https:" not in csp["content"]


def known_names(frames: Frames) -> set[str]:
    """Every user, directory, host and IP in the bundle's structured columns (Qlik's built-ins excluded)."""
    names: set[str] = set()
    for frame in frames.frames.values():
        for col in (
            "UserId",
            "ActiveUserId",
            "UserDirectory",
            "ActiveUserDirectory",
            "Hostname",
            "host",
            "ExecutingNodeName",
            "ClientIp",
            "IpAddress",
            "ClientHostAddress",
            "UserName",
            "user_id",
            "user_directory",
        ):
            if col in frame.columns:
                names.update(str(v) for v in frame[col].drop_nulls().unique().to_list())
    split = {part for name in names for part in re.split(r"[\\:]", name) if part}
    built_in = {
        "internal",
        "sa_scheduler",
        "sa_repository",
        "sa_proxy",
        "sa_engine",
        "sa_api",
        "not available",
        "127.0.0.1",
        "::1",
        "localhost",
        "ffff",
        "system",
        "engine",
    }  # INTERNAL\\Engine, System\\System
    return {n for n in names | split if n.lower() not in built_in and len(n) >= 3 and not n.isdigit()}


def leaks(html: str, names: set[str]) -> list[str]:
    """The names that occur in ``html`` as whole words (case-insensitive)."""
    low = html.lower()
    candidates = [n for n in names if n.lower() in low]
    return sorted(
        n for n in candidates if re.search(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", html, re.I)
    )


def test_redaction_in_free_text_of_a_hand_made_bundle(tmp_path: Path) -> None:
    log = write_activity_bundle(tmp_path)
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", str(log), "-o", str(out), "--redact-seed", "s", "-q"])
    assert result.exit_code == 0, result.output
    html = out.read_text("utf-8")
    for original in (
        "anna.berg",
        "ANNA.BERG",
        "lars.ek",
        "sense01",
        "Sense02",
        "sense02.corp.example",
        "10.1.2.3",
        "10.1.2.4",
        "CORP\\",
    ):
        assert original.lower() not in html.lower(), original
    assert "12.145.50600.0409.10" in html or "11.41.1.0" in html, "versions that look like IPs are kept"
    again = tmp_path / "again.html"
    CliRunner().invoke(cli, ["report", str(log), "-o", str(again), "--redact-seed", "s", "-q"])
    strip = re.compile(r'<time datetime="[^"]*">[^<]*</time> by qslogs')
    assert strip.sub("", html) == strip.sub("", again.read_text("utf-8")), "same seed, same pseudonyms"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Start session for user: 'CORP\\anna.berg'",
            "Start session for user: '{dir:corp}\\{user:anna.berg}'",
        ),
        ("UserDirectory=CORP; UserId=lars.ek", "UserDirectory={dir:corp}; UserId={user:lars.ek}"),
        (
            "Log/Repository/Trace/SENSE01_System_Repository.txt",
            "Log/Repository/Trace/{host:sense01}_System_Repository.txt",
        ),
        (
            "connect to sense01.corp.example:4242 failed",
            "connect to {host:sense01}.example.invalid:4242 failed",
        ),
        ("from 10.1.2.3 and ::ffff:10.1.2.9", "from {ip:10.1.2.3} and ::ffff:{ip:10.1.2.9}"),
        ("fe80::1c2b:3d4e on corp.example", "{ip:fe80::1c2b:3d4e} on {domain:corp.example}"),
        ("version 20.4.2.0 on 127.0.0.1 and ::1", "version 20.4.2.0 on 127.0.0.1 and ::1"),
        ("INTERNAL\\sa_scheduler reloaded", "INTERNAL\\sa_scheduler reloaded"),
        ("mail anna.berg@corp.example", "mail {email:anna.berg@corp.example}@example.invalid"),
        ("Qlik Sense admin console", "Qlik Sense admin console"),
        ("admin", "{user:admin}"),
        ("lars.ek", "{user:lars.ek}"),
    ],
)
def test_redactor_replaces_names_in_free_text(text: str, expected: str) -> None:
    r = Redactor.create("fixed")
    for kind, value in (
        ("user", "lars.ek"),
        ("user", "anna.berg"),
        ("user", "admin"),
        ("host", "Sense01.corp.example"),
        ("dir", "CORP"),
        ("user", "INTERNAL\\sa_scheduler"),
    ):
        r.add(kind, value)
    r.safe.add("20.4.2.0")
    got = r.text(text)
    want = re.sub(r"\{(\w+):([^}]+)\}", lambda m: r.pseudonym(m.group(1), m.group(2)), expected)
    assert got == want
    assert re.fullmatch(r"[^{}]*", want)


def test_pseudonyms_are_stable_and_keyed() -> None:
    a, b, c = Redactor.create("k"), Redactor.create("k"), Redactor.create("other")
    for r in (a, b, c):
        for name in ("u1", "u2", "u3", "u4", "u5", "u6"):
            r.add("user", name)
    assert [a.text(n) for n in ("u1", "u2", "U1")] == [b.text(n) for n in ("u1", "u2", "U1")]
    assert a.text("u1") == a.text("U1") and a.text("u1") != a.text("u2")
    orders = {tuple(r.text(f"u{i}") for i in range(1, 7)) for r in (a, c, Redactor.create("third"))}
    assert len(orders) > 1, "the numbering follows the key, not the alphabet"


def test_redacted_tables_keep_their_shape(tmp_path: Path) -> None:
    frames = load_frames([write_activity_bundle(tmp_path)])
    results = run_analyses(frames)
    r = Redactor.create("x")
    learn_frames(r, frames)
    redacted = r.results(results)
    assert set(redacted) == set(results)
    for name, result in results.items():
        assert type(redacted[name]) is type(result)
        for f in fields(result):
            value, was = getattr(redacted[name], f.name), getattr(result, f.name)
            if isinstance(was, pl.DataFrame):
                assert value.schema == was.schema and value.height == was.height, f"{name}.{f.name}"
        assert [f.severity for f in redacted[name].findings] == [f.severity for f in result.findings]
    activity, before = redacted["activity"], results["activity"]
    assert isinstance(activity, ActivityResult) and isinstance(before, ActivityResult)
    assert set(activity.by_service_host["host"]) == {"host-01", "host-02"}
    assert activity.levels.schema == before.levels.schema
    assert activity.levels.height == before.levels.height == 10
    errors = next(f for f in activity.findings if f.table == "by_service_host")
    assert errors.keys[0].startswith("Repository|host-0"), "the finding's keys are redacted like its rows"
