"""``qslogs report --redact`` on a planted corpus: known names in every field, path, message and file name.

A synthetic Log Collector bundle (qslogs_synth) is rewritten so that every host, user, directory, domain
and file share carries a name containing ``zebra`` or ``acme`` (with digits, as real host names have:
``ZEBRAQS01``); script logs get ``lib://ArchivedLogsFolder/<fqdn>/`` paths, a UNC path, a URL, an e-mail
address and ``DOMAIN\\user``; the zip is named after the customer. No such name may survive anywhere in
the report's HTML (text, attributes, inline JSON), and the node and client IP addresses neither.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from qslogs.cli import cli

pytestmark = pytest.mark.slow

#: Renames applied in order to every file's text (UTF-8, latin-1 or UTF-16) and every path.
RENAMES = [
    (r"SENSE0(\d)", r"ZEBRAQS0\1"),
    (r"Sense0(\d)", r"Zebraqs0\1"),
    (r"sense0(\d)", r"zebraqs0\1"),
    (r"corp\.example", "acmeintra.net"),
    (r"(?<![A-Za-z])CORP(?![A-Za-z.])", "ACMEDOM"),
    (r"fs01", "acmefiler7"),
]
PLANTED_LINES = [
    "LET vArchive = 'lib://ArchivedLogsFolder/zebraqs02.acmeintra.net/Repository/Trace/';",
    "LET vShare = '\\\\acmenas3.acmeintra.net\\QlikShare\\Apps';",
    "// owner: jane.acmeperson@acme-mail.org, ACMEDOM\\acmeadmin9 via https://zebraqs01.acmeintra.net:4242/qrs/about",
]
LEAK = re.compile(r"zebra|acme|10\.20\.1\.\d+", re.IGNORECASE)


def _rename(text: str, users: list[tuple[str, str]]) -> str:
    for old, new in RENAMES:
        text = re.sub(old, new, text)
    for old, new in users:
        text = re.sub(r"(?<![\w.])" + re.escape(old) + r"(?![\w])", new, text)
    return text


def _rename_bytes(data: bytes, users: list[tuple[str, str]]) -> bytes:
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "latin-1"  # latin-1 keeps UTF-8 bytes
    return _rename(data.decode(encoding), users).encode(encoding)


def planted_corpus(tmp_path: Path) -> Path:
    """The synthetic bundle with planted names, zipped as ``AcmeCorp_SenseCollector.zip``."""
    from qslogs_synth import generate_bundle, write_collector_zip
    from qslogs_synth.bundle import DEFAULT_END, DEFAULT_SEED
    from qslogs_synth.clock import to_ms
    from qslogs_synth.site import build_site

    root = generate_bundle(tmp_path / "gen", nodes=2)
    site = build_site(DEFAULT_SEED, to_ms(DEFAULT_END), 2)
    users = [(u.user_id, f"acmeuser{i:02d}") for i, u in enumerate(site.users)]
    planted = tmp_path / "planted"
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        target = planted / _rename(path.relative_to(root).as_posix(), users)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_rename_bytes(path.read_bytes(), users))
    classic = re.compile(rb"\xef\xbb\xbf\d{4}-\d\d-\d\d \d\d:\d\d:\d\d .*\r\n")
    scripts = sorted(p for p in planted.rglob("Script/*.log") if classic.match(p.read_bytes()))
    assert len(scripts) >= 3, "the generator wrote no script logs with classic timestamps"
    for script in scripts[:: max(1, len(scripts) // 3)]:
        lines = script.read_bytes().decode("utf-8-sig").split("\r\n")
        stamp = lines[1][:19]
        lines[12:12] = [f"{stamp}      {n:04d}  {text}" for n, text in enumerate(PLANTED_LINES, 1)]
        script.write_bytes(("\ufeff" + "\r\n".join(lines)).encode())
    text = "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in planted.rglob("*") if p.is_file())
    assert re.search(r"ZEBRAQS01", text) and re.search(r"ACMEDOM\\acmeuser\d\d", text)  # the planting worked
    assert re.search(r"zebraqs0\d\.acmeintra\.net", "\n".join(p.as_posix() for p in planted.rglob("*")))
    return write_collector_zip(planted, tmp_path / "AcmeCorp_SenseCollector.zip")


def test_no_planted_name_survives_anywhere_in_the_redacted_report(tmp_path: Path) -> None:
    bundle = planted_corpus(tmp_path)
    plain, redacted = tmp_path / "plain.html", tmp_path / "redacted.html"
    runner = CliRunner()
    result = runner.invoke(cli, ["report", str(bundle), "-o", str(plain), "-q"])
    assert result.exit_code == 0, result.output
    assert len(LEAK.findall(plain.read_text(encoding="utf-8"))) > 100  # the names are there to be found
    result = runner.invoke(cli, ["report", str(bundle), "-o", str(redacted), "-q", "--redact-seed", "case-42"])
    assert result.exit_code == 0, result.output
    html = redacted.read_text(encoding="utf-8")
    leaks = sorted({html[max(0, m.start() - 40): m.end() + 40] for m in LEAK.finditer(html)})
    assert not leaks, f"{len(leaks)} planted names survive, e.g. {leaks[:5]}"
    assert "Source: <code>input-01.zip</code>" in html
    assert re.search(r"host-0\d", html) and re.search(r"user-\d\d", html)
    # The report still tells its story: the License Monitor's failures are there, under pseudonyms.
    assert "License Monitor" in html and "401" in html
