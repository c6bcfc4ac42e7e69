"""Hostile names stay inert in the report: file, folder and zip-member names, JSON dumps, bad-line text.

``tests/test_report_safety.py`` covers hostile text inside records; this covers what an attacker controls
without writing a valid record: the names of files and zip members (shown in the Bundle section and in
file issues), the Log Collector JSON dumps, and lines that do not parse (shown as bad lines).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from qslogs.cli import cli
from tests.corpus.files import synthetic_bases

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
CLOSE = "</script><script>alert(3)</script>"


def hostile_zip(path: Path) -> Path:
    files = synthetic_bases()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in files.items():
            zf.writestr("Log\\" + rel.replace("/", "\\"), data)
        system = files["Repository/Trace/SENSE01_System_Repository.txt"]
        zf.writestr(f"Log\\Repository\\Trace\\{IMG}_System_Repository.txt", system + f"{CLOSE}\r\n".encode())
        zf.writestr(f"Log\\{SCRIPT}\\notes.txt", b"not a log")
        zf.writestr(f"..\\..\\{SCRIPT}.txt", b"x")
        zf.writestr("CalInfo_0a1b.json", json.dumps({"TotalTokens": 0.0, "Comment": CLOSE, IMG: SCRIPT}))
        zf.writestr("LicenseAgent_0a1b.json", "{" + CLOSE)
        zf.writestr(f"Log\\Script\\{IMG}.2019_10_23_10_08_50.4F1A.log", b"\xef\xbb\xbf" + CLOSE.encode())
    path.write_bytes(buf.getvalue())
    return path


def test_report_of_a_bundle_with_hostile_names_runs_no_script(tmp_path: Path) -> None:
    if "report" not in cli.commands:  # type: ignore[attr-defined]
        pytest.skip("the report command is not in this build yet")
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", str(hostile_zip(tmp_path / "SenseCollector_1.zip")),
                                      "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    scripts = page.find_all("script")
    assert [s.get("type") for s in scripts] == ["application/json", None], "a script element was injected"
    assert "alert(" not in (scripts[1].string or "")
    json.loads(scripts[0].string or "")  # the data block is intact: no </script> from the logs ended it
    assert not page.find_all(["img", "iframe", "object", "embed"])
    handlers = [(tag.name, a) for tag in page.find_all(True) for a in tag.attrs if a.lower().startswith("on")]
    assert not handlers, handlers
    assert "img src=x" in page.get_text(), "the hostile member name is shown (as text) in the report"
    for raw in (SCRIPT, IMG, CLOSE):
        assert raw not in html, f"{raw!r} is in the report unescaped"
