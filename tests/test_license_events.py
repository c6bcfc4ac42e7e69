"""License events from Repository/License and AuditSecurity (qslogs.analyses.licenses.events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from test_license_support import Ev, History, write_bundle

from qslogs.analyses.licenses.events import (
    DEFAULT_COMMAND_CATEGORIES,
    LicenseRules,
    access_type_expr,
    audit_security_events,
    dedupe_events,
    license_log_events,
    message_value,
    site_activity,
)
from qslogs.frames import Frames
from qslogs.loader import load_frames

LICENSE_FILE = "Repository/Trace/QLIKSERVER1_License_Repository.txt"
AUDIT_FILE = "Repository/Audit/QLIKSERVER1_AuditSecurity_Repository.txt"


def _count_column(path: Path, column: str) -> dict[str, int]:
    """Independent count of a column's values: plain Python over the raw file (BOM, CRLF, signature)."""
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    header = lines[0].split("\t")
    at = header.index(column)
    counts: dict[str, int] = {}
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) == len(header):
            counts[cells[at]] = counts.get(cells[at], 0) + 1
    return counts


@pytest.fixture(scope="module")
def real_frames() -> Frames:
    from conftest import SHARED_REAL

    if not (SHARED_REAL / "logcollector-active-Log").is_dir():
        pytest.skip("../shared/fixtures not present")
    return load_frames([SHARED_REAL / "logcollector-active-Log"])


@pytest.mark.fixtures
def test_real_license_log_yields_its_denied_and_granted_counts_exactly(
    real_log_folder: Path, real_frames: Frames
) -> None:
    counts = _count_column(real_log_folder / LICENSE_FILE, "Operation")
    assert counts["UsageDenied"] > 100 and counts["UsageGranted"] >= 3  # the file is what we think it is
    events = license_log_events(real_frames).collect()
    ops = dict(events.group_by("operation").len().iter_rows())
    assert ops["UsageDenied"] == counts["UsageDenied"]
    assert ops["UsageGranted"] == counts["UsageGranted"]
    denied = events.filter(pl.col("category") == "denial")
    assert denied.height == counts["UsageDenied"]
    assert denied["access_type"].null_count() == denied.height  # AccessType is empty on denials (§7.1)
    assert denied["session_id"].null_count() == 0
    granted = events.filter(pl.col("operation") == "UsageGranted")
    assert set(granted["access_type"]) == {"Professional"}
    assert set(granted["user"]) == {"DOMAIN\\administrator"}


@pytest.mark.fixtures
def test_real_audit_security_license_commands_become_events(
    real_log_folder: Path, real_frames: Frames
) -> None:
    commands = _count_column(real_log_folder / AUDIT_FILE, "Command")
    events = audit_security_events(real_frames).collect()
    assert events.height == sum(v for k, v in commands.items() if k.startswith(("License", "Add ")))
    by_command = {c: g for (c,), g in events.group_by("command")}
    add = by_command["Add professional access"].row(0, named=True)
    assert (add["category"], add["change"], add["operation"], add["access_type"]) == (
        "allocation",
        1,
        "Add",
        "Professional",
    )
    assert (add["user"], add["by"]) == ("DOMAIN\\administrator", "DOMAIN\\administrator")
    from_license = by_command["Add professional access from license"].row(0, named=True)
    assert from_license["user"] == "DOMAIN\\administrator"  # from "… and name 'DOMAIN\administrator' …"
    denied = by_command["License user access"]
    assert denied.height == commands["License user access"]
    assert set(denied["category"]) == {"denial"} and set(denied["access_type"]) == {"Login"}
    assert denied["session_id"].null_count() == 0
    maintenance = by_command["License maintenance"].row(0, named=True)
    assert (maintenance["operation"], maintenance["category"], maintenance["user"], maintenance["by"]) == (
        "Timedout",
        "usage",
        "DOMAIN\\administrator",
        "INTERNAL\\bootstrap",
    )  # the message's user, not INTERNAL\System
    request = by_command["License professional access request"].row(0, named=True)
    assert (request["operation"], request["category"], request["access_type"]) == (
        "Update",
        "usage",
        "Professional",
    )
    granted = by_command["License professional access"]
    assert set(granted["operation"]) == {"UsageGranted"}


@pytest.mark.fixtures
def test_both_logs_together_count_each_event_once(real_log_folder: Path, real_frames: Frames) -> None:
    counts = _count_column(real_log_folder / LICENSE_FILE, "Operation")
    both = pl.concat(
        [license_log_events(real_frames).collect(), audit_security_events(real_frames).collect()]
    )
    merged = dedupe_events(both)
    ops = dict(merged.group_by("operation").len().iter_rows())
    assert ops["UsageDenied"] == counts["UsageDenied"]
    assert ops["UsageGranted"] == counts["UsageGranted"]
    assert ops["Add"] == 1  # trace Add + "Add professional access" + "… from license" are one allocation
    assert set(merged["source"]) == {"Repository/License"}
    # the License log's denials have no access type; the AuditSecurity copy lends "Login"
    assert set(merged.filter(pl.col("category") == "denial")["access_type"]) == {"Login"}


@pytest.mark.fixtures
def test_real_site_activity_lists_people_not_internal_accounts(real_frames: Frames) -> None:
    users = set(site_activity(real_frames).collect()["user"])
    assert "DOMAIN\\administrator" in users
    assert not any(u.upper().startswith("INTERNAL\\") for u in users)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ProfessionalAccess", "Professional"),
        ("professional", "Professional"),
        ("AnalyzerAccess", "Analyzer"),
        ("Analyzer", "Analyzer"),
        ("AnalyzerTimeAccess", "Analyzer capacity"),
        ("Analyzer capacity", "Analyzer capacity"),
        ("UserAccess", "User"),
        ("LoginAccess", "Login"),
        (" Login pass ", "Login"),
        ("", None),
        (None, None),
        ("ApplicationAccess", "ApplicationAccess"),
    ],
)
def test_access_type_names_are_matched_on_their_prefix(raw: str | None, expected: str | None) -> None:
    got = pl.select(access_type_expr(pl.lit(raw, pl.String))).item()
    assert got == expected


@pytest.mark.parametrize(
    ("message", "key", "expected"),
    [
        ("Professional access granted for User: 'DOMAIN\\bob' with UsageID: 'u1'", "User", "DOMAIN\\bob"),
        (
            "Login access denied for SessionID: 's1', Hostname: \"::1\", OperationType: 'UsageDenied'",
            "Hostname",
            "::1",
        ),
        (
            "Login access denied for SessionID: 's1', Hostname: \"::1\", OperationType: 'UsageDenied'",
            "OperationType",
            "UsageDenied",
        ),
        (
            "Access id 'a1' with  license 'Qlik' linked to 'Qlik' for user with id 'g1' and name 'CORP\\ann' "
            "was added",
            "name",
            "CORP\\ann",
        ),
        (
            "usages. User: 'CORP\\ann' OperationType: 'Timedout', UsageID: 'u' "
            "deleted by 'INTERNAL\\bootstrap'",
            "deleted by",
            "INTERNAL\\bootstrap",
        ),
        (
            "User access, User: 'CORP\\ann', Last used: '20190201T072112.000+01:00'",
            "Last used",
            "20190201T072112.000+01:00",
        ),
        ("No pairs here", "User", None),
    ],
)
def test_message_values_with_either_quote(message: str, key: str, expected: str | None) -> None:
    assert pl.select(message_value(pl.lit(message), key)).item() == expected


def _audit_frames(tmp_path: Path, rows: list[tuple[datetime, str, str, str, str]]) -> Frames:
    return load_frames([write_bundle(tmp_path, History(), audit=rows)])


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_command_classification_follows_the_license_monitor_and_can_be_overridden(tmp_path: Path) -> None:
    rows = [
        (
            T0,
            "CORP\\admin",
            "Add user access",
            "0",
            "User access, User: 'CORP\\ann', Added by: 'CORP\\admin'",
        ),
        (
            T0 + timedelta(hours=1),
            "CORP\\admin",
            "Delete analyzer access",
            "0",
            "Analyzer access 'a1' for user 'CORP\\bob' deleted (HTTP code: 204)",
        ),
        (T0 + timedelta(hours=2), "CORP\\admin", "Update license", "0", "License updated"),
    ]
    frames = _audit_frames(tmp_path, rows)
    default = audit_security_events(frames).collect().sort("time")
    assert default["category"].to_list() == ["usage", "allocation", "allocation"]  # §7.3 table, then the rule
    assert default["change"].to_list() == [0, -1, 0]
    assert default["access_type"].to_list()[:2] == ["User", "Analyzer"]
    overridden = audit_security_events(
        frames, LicenseRules().with_overrides({"Add user access": "allocation"})
    )
    first = overridden.collect().sort("time").row(0, named=True)
    assert (first["category"], first["change"], first["operation"], first["user"]) == (
        "allocation",
        1,
        "Add",
        "CORP\\ann",
    )
    with pytest.raises(ValueError, match="allocation"):
        LicenseRules().with_overrides({"Add user access": "purchase"})
    assert DEFAULT_COMMAND_CATEGORIES["license user access"] == "usage"


def test_unlisted_commands_follow_the_default_rule() -> None:
    rules = LicenseRules()
    names = [
        "License analyzer access",
        "License professional access request",
        "Add professional access",
        "Remove analyzer access",
        "Renew license",
        "Something else",
    ]
    got = pl.select(rules.category_expr(pl.Series(names))).to_series().to_list()
    assert got == ["usage", "usage", "allocation", "allocation", "allocation", "other"]


def test_audit_repeats_within_two_seconds_collapse_but_distinct_denials_stay(tmp_path: Path) -> None:
    deny = "Login access denied for SessionID: '{s}', Hostname: \"::1\", OperationType: 'UsageDenied'"
    rows = [
        (
            T0 + timedelta(milliseconds=1200 * i),
            "CORP\\eve",
            "License user access",
            "403",
            deny.format(s=f"s{i}"),
        )
        for i in range(4)
    ]
    rows += [
        (
            T0 + timedelta(minutes=5),
            "CORP\\admin",
            "Add analyzer access",
            "0",
            "User access, User: 'CORP\\ann', LicenseAnalyzerAccessTypeId: 'a', Added by: 'CORP\\admin'",
        ),
        (
            T0 + timedelta(minutes=5, milliseconds=54),
            "CORP\\admin",
            "Add analyzer access from license",
            "0",
            "Access id 'a' with  license 'X' linked to organisation 'X' for user with id 'g' "
            "and name 'CORP\\ann' was added (HTTP code: 201)",
        ),
    ]
    merged = dedupe_events(audit_security_events(_audit_frames(tmp_path, rows)).collect())
    assert merged.filter(pl.col("category") == "denial").height == 4  # 1.2 s apart, different sessions
    assert merged.filter(pl.col("operation") == "Add").height == 1


def test_license_log_operations_and_users(tmp_path: Path) -> None:
    h = History(
        events=[
            Ev(T0, "Add", "CORP\\ann"),
            Ev(T0 + timedelta(days=1), "UsageGranted", "CORP\\ann"),
            Ev(T0 + timedelta(days=2), "Delete", "CORP\\ann"),
            Ev(T0 + timedelta(days=3), "UsageDenied", "CORP\\ann", ""),
        ]
    )
    events = license_log_events(load_frames([write_bundle(tmp_path, h)])).collect().sort("time")
    assert events["operation"].to_list() == ["Add", "UsageGranted", "Delete", "UsageDenied"]
    assert events["category"].to_list() == ["allocation", "usage", "allocation", "denial"]
    assert events["change"].to_list() == [1, 0, -1, 0]
    assert events["user_key"].to_list() == ["corp\\ann"] * 4
    assert events["time"].to_list()[0] == T0  # written as CET local time, read back as UTC
    assert events["by"].to_list()[0] == "CORP\\admin"
