"""The answer key: ``TRUTH.json``, the sample README and the License-Monitor-like QVD.

Tests compare qslogs' analysis against TRUTH.json, so it records what the generator *actually wrote*:
file:line locations come from the sink after writing, header variants are read back from the files.
The QVD step runs last and imports ``qvd_writer`` lazily (it is owned by another module).
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qslogs_synth.clock import dst_changes, from_ms, local
from qslogs_synth.context import Ctx, iso
from qslogs_synth.headers import SERVICE_ENGINE_NEW, SERVICE_ENGINE_OLD, SIMPLE_TRACE, SYSTEM_ENGINE_NEW
from qslogs_synth.license_events import Allocation

QVD_REL = "qvd/license_allocation_history.qvd"


@dataclass
class Parts:
    """Everything the generator learnt while writing, handed to :func:`finish`."""

    out_dir: Path
    root: Path
    ctx: Ctx
    licenses: dict[str, Any]
    reloads: dict[str, Any]
    warnings: list[dict[str, Any]]
    dumps: dict[str, str]
    nodejs: dict[str, Any]
    filler: dict[str, Any] | None
    allocations: list[Allocation]
    target_mb: float | None


def _header_variants(root: Path, files: list[str], logtype: str, new: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"with_session_id": [], "without_session_id": []}
    for rel in files:
        if f"_{logtype}_Engine" in rel:
            with (root / rel).open("rb") as fh:
                header = fh.readline().decode("utf-8-sig").rstrip("\r\n")
            out["with_session_id" if header == new else "without_session_id"].append(rel)
    return out


def _traps(p: Parts) -> dict[str, Any]:
    sink, root = p.ctx.sink, p.root
    broken = sink.locations["broken_line"]
    encoded = []
    for rel in sink.files:
        if "_System_Proxy" in rel or "_System_Scheduler" in rel:
            text = (root / rel).read_text(encoding="utf-8-sig")
            if "↵" in text or "↓" in text:
                encoded.append(rel)
    execs = p.reloads["executions"]
    return {
        "broken_line": {
            "file": broken.path,
            "line": broken.line,
            "location": str(broken),
            "fields": 9,
            "expected_fields": len(SIMPLE_TRACE.split("\t")),
            "reason": "row cut off mid-message (wrong field count)",
            "count_in_bundle": 1,
        },
        "signature_trailers": sink.signed,
        "system_engine_headers": _header_variants(root, sink.files, "System", SYSTEM_ENGINE_NEW),
        "service_engine_headers": _header_variants(root, sink.files, "Service", SERVICE_ENGINE_NEW),
        "service_engine_old_header": SERVICE_ENGINE_OLD.split("\t"),
        "encoded_line_breaks_files": encoded,
        "nodejs_continuation_record": p.nodejs.get("nodejs_continuation"),
        "odag_raw_tabs_record": p.nodejs.get("odag_tabs"),
        "engine_start_crcrlf_file": p.nodejs.get("engine_start_crcrlf"),
        "script_logs_named_one_hour_early": sorted(
            e["script_log"] for e in execs if e.get("script_log_name_shift_hours") == -1
        ),
        "rim_active_logs_collected": False,
    }


def _qvd_frame(allocs: list[Allocation]) -> Any:
    import polars as pl

    rows = sorted((a for a in allocs if a.removed is None), key=lambda a: (a.added, a.user.user_id))
    return pl.DataFrame(
        {
            "UserDirectory": ["CORP"] * len(rows),
            "UserId": [a.user.user_id for a in rows],
            "AccessType": ["Professional" if a.kind == "professional" else "Analyzer" for a in rows],
            "AllocatedDate": [local(a.added).date() for a in rows],
            "LastUsed": [local(max(a.uses)).replace(microsecond=0) if a.uses else None for a in rows],
        },
        schema={
            "UserDirectory": pl.String,
            "UserId": pl.String,
            "AccessType": pl.String,
            "AllocatedDate": pl.Date,
            "LastUsed": pl.Datetime("ms"),
        },
    )


def _write_qvd(p: Parts) -> dict[str, Any]:
    frame = _qvd_frame(p.allocations)
    info: dict[str, Any] = {
        "path": QVD_REL,
        "table": "LicenseAllocationHistory",
        "rows": frame.height,
        "fields": frame.columns,
        "date_fields": ["AllocatedDate"],
        "timestamp_fields": ["LastUsed"],
        "last_used_is_local_time": True,
    }
    try:
        from qslogs_synth.qvd_writer import write_qvd  # owned by another module; imported lazily
    except ImportError:
        info.update(path=None, skipped="qslogs_synth.qvd_writer is not available")
        return info
    path = p.out_dir / QVD_REL
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"date_fields": ("AllocatedDate",)}
    if "create_utc_time" in inspect.signature(write_qvd).parameters:  # byte-identical reruns
        kwargs["create_utc_time"] = from_ms(p.ctx.site.end_ms).replace(microsecond=0)
    write_qvd(path, frame, "LicenseAllocationHistory", **kwargs)
    return info


def finish(p: Parts) -> dict[str, Any]:
    """Resolve locations, write TRUTH.json, README.md and the QVD; return the truth."""
    site, sink = p.ctx.site, p.ctx.sink
    for e in p.reloads["executions"]:
        loc = sink.locations.get(f"te:{e['execution_id']}")
        e["taskexecution_row"] = str(loc) if loc else None
    manual = p.reloads["manual_reload"]
    manual["engine_audit_row"] = str(sink.locations["manual_reload_audit"])
    for w in p.warnings:
        w["location"] = str(sink.locations[w.pop("tag")])
    files = sorted(str(f.relative_to(p.root)).replace("\\", "/") for f in p.root.rglob("*") if f.is_file())
    truth: dict[str, Any] = {
        "generator": {
            "module": "qslogs_synth",
            "seed": site.seed,
            "end_utc": iso(site.end_ms),
            "nodes": len(site.nodes),
            "target_mb": p.target_mb,
            "timezone": "Europe/Stockholm",
            "regenerate": "python -m qslogs_synth sample_data",
        },
        "bundle": {
            "folder": "bundle",
            "files": len(files),
            "bytes": sum((p.root / f).stat().st_size for f in files),
            "script_logs": sum(1 for f in files if "/Script/" in f or f.startswith("Log/Script/")),
            "collector_json": p.dumps,
        },
        "nodes": [
            {
                "fqdn": n.fqdn,
                "netbios": n.netbios,
                "hostname": n.hostname,
                "node_id": n.node_id,
                "central": n.central,
                "archive_folder": n.fqdn,
                "active_logs_in_bundle": n.central,
            }
            for n in site.nodes
        ],
        "timeline": {
            "engine_upgrade_utc": iso(site.upgrade_ms),
            "restarts_utc": {n.fqdn: [iso(t) for t in site.restarts[n.index]] for n in site.nodes},
            "dst_changes_utc": [iso(t) for t in dst_changes(site.license_start_ms, site.end_ms)],
            "story_week_start_utc": iso(site.story_start_ms),
        },
        "reloads": p.reloads,
        "licenses": p.licenses,
        "warnings": p.warnings,
        "traps": _traps(p),
        "filler": p.filler,
    }
    if "scenario" in p.reloads:
        truth["generator"]["scenario"] = p.reloads["scenario"]
    truth["licenses"]["qvd"] = _write_qvd(p)
    (p.out_dir / "TRUTH.json").write_text(
        json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (p.out_dir / "README.md").write_text(readme(truth), encoding="utf-8")
    return truth


def readme(t: dict[str, Any]) -> str:
    """The sample-data README, generated from the truth so it never drifts from the bundle."""
    r, lic, tr, gen = t["reloads"], t["licenses"], t["traps"], t["generator"]
    lm, pro, ana, cap = r["license_monitor"], lic["professional"], lic["analyzer"], lic["capacity"]
    fails = "\n".join(
        f"  - {f.get('task_name', 'hub reload of ' + f['app_name'])} "
        f"({f.get('start_utc', f.get('started_utc'))}, {f['error_class']}): {f['root_cause']}"
        for f in r["failures"]
    )
    unused = ", ".join(f"`{u['user']}`" for u in lic["unused_over_90_days"])
    central, upgrade = t["nodes"][0]["fqdn"], t["timeline"]["engine_upgrade_utc"]
    exhaustion, broken = ana["projected_exhaustion_utc"][:10], tr["broken_line"]["location"]
    pro_s = f"{pro['allocated_at_end']}/{cap['professional']}"
    ana_s = f"{ana['allocated_at_end']}/{cap['analyzer']}"
    growth = f"{ana['allocated_at_start']} → {ana['allocated_at_end']}"
    story = (
        f"- **Scenario `{r['scenario']}`**: License Monitor verdict `{lm.get('expected_verdict')}`; "
        f"{r['service_denials']['count']} service-account denials from `::1`.\n"
        if "scenario" in r
        else ""
    )
    return f"""# Sample data (generated by `qslogs_synth`: do not edit by hand)

`bundle/` is a synthetic Qlik Sense Enterprise on Windows **Log Collector bundle** (unzipped), seed
{gen["seed"]}, ending {gen["end_utc"]}.  `TRUTH.json` lists every planted fact with its expected values
and file:line locations, so tests can compare qslogs' analysis with what was planted.
`qvd/license_allocation_history.qvd` is a License-Monitor-like allocation table (same history).

Regenerate (byte-identical for the same seed):

    python -m qslogs_synth sample_data        # --zip: also a Log Collector zip; --target-mb N: pad to N MB

## Layout
- top level: collector JSON dumps (`CalInfo_*.json`: Professional {pro_s}, Analyzer {ana_s}),
  `SenseCollector.log`, `location.txt`;
- `Log/`: active logs of the central node `{central}` (.NET services, node.js services, engine daily
  files, `Script/`);
- `<node-fqdn>/`: archived (rolled) logs of each node; the rim node's active logs are not collected.
- Site time zone Europe/Stockholm: DST changes inside the license year and inside the reload week.
  Engine upgrade (``SessionId`` header columns appear) at {upgrade}.

## Planted story
{story}- **License Monitor** fails on {", ".join(lm["failed_local_dates"])} (local) with HTTP 401 from
  `{lm["connection"]}`: {len(lm["failed_execution_ids"])} failed executions (a retry each day, then
  `Max retries reached`), then recovers.  Operations Monitor succeeds every day.
- All failures:
{fails}
- **Licenses** over one year: Professional flat at {pro["allocated_at_end"]}; Analyzer {growth}
  (+2.5 users/month), projected to reach {cap["analyzer"]} on {exhaustion}.
  Unused for more than 90 days: {unused}.
  {len(lic["usage_denied"])} denied access requests by users without an allocation.
- **Encoding traps**: BOM + CRLF, `↵`/`↓` in messages and stack traces, `Signature:` trailers, `Id2` and
  `Checksum` columns, both engine header variants, node.js continuation lines, OdagService TABs,
  `\\r\\r\\n` in the engine Start file, script-log names an hour early; exactly **one broken line**, at
  `{broken}`.
- **Releases**: each node's `Script` folder holds classic script logs (`2026-10-25 02:05:02 0002 …`, naive
  local time) from before its engine upgrade and modern ones (`20261031T053005.670+0100 0002 …`, local time
  with milliseconds and its own UTC offset) from after it; rolled `System`/`Security_Printing` and
  `Synchronization_Repository` files from before the upgrade lack the optional `ProxySessionId` (and
  `Exception|StackTrace`) columns; the `HotFixes` dump is a plain text list, not JSON.
"""
