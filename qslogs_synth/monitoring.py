"""Monitoring-app scenarios: each state a support engineer must tell apart, planted on demand.

``generate_bundle(..., scenario=...)`` replaces the default License Monitor story (daily, two bad days
after the upgrade, then recovered) by one of:

- ``healthy``: the License Monitor reloads hourly and every run succeeds;
- ``failing``: its last ``FAILING_RUNS`` hourly runs fail with HTTP 401 from
  ``monitor_apps_REST_license_user``, after a success about ``FAILING_RUNS`` hours before the end;
- ``stale``: its last ``STALE_RUNS`` hourly runs fail the same way, so no success in the last 24 h;
- ``missing``: the site has no License Monitor task (renamed or deleted): no run of it at all.

Every scenario also plants the service account's license denials (formats.md §7.1): a few per monitoring
app reload, from ``::1``, user = the ``ServiceUser`` of the .NET logs, at the minute of the reload, beside
the people's denials of the license story. The Operations Monitor stays daily and healthy.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from qslogs_synth.clock import DAY, MINUTE
from qslogs_synth.context import Ctx, Outcome, iso
from qslogs_synth.license_events import deny
from qslogs_synth.scriptlog import Failure
from qslogs_synth.site import SERVICE_USER, Task, User

SCENARIOS = ("healthy", "failing", "stale", "missing")
FAILING_RUNS = 8
STALE_RUNS = 30
#: Local minute of the hourly License Monitor trigger.
LM_MINUTE = 48
#: Denials per monitoring-app reload (one per REST connection call that goes through the proxy).
DENIALS_PER_RELOAD = 3
SERVICE_IP = "::1"
#: Analyzer licenses bought in a scenario bundle: room for years of the story's growth, so nothing about
#: licenses is critical and a scenario's first screen is about its monitoring apps.
SCENARIO_ANALYZER_CAPACITY = 100


def check(scenario: str | None) -> None:
    """Raise ``ValueError`` naming the valid scenarios for an unknown one."""
    if scenario is not None and scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: choose one of {', '.join(SCENARIOS)}")


def plan(
    ctx: Ctx, tasks: dict[str, Task], scenario: str, schedule: Any, error: str
) -> dict[int, tuple[str, Outcome]]:
    """Reshape the License Monitor task for ``scenario`` and return the failures to plant (trigger → plan).

    ``schedule`` is :func:`qslogs_synth.reloads.schedule`; ``error`` the 401 text of the failed runs.
    """
    site = ctx.site
    if scenario == "missing":
        tasks.pop("lm")
        site.tasks.pop("lm", None)
        return {}
    hourly = tuple((h, LM_MINUTE) for h in range(24))
    times = tuple(schedule(ctx, hourly, False, site.story_start_ms, site.end_ms - 10 * MINUTE))
    tasks["lm"] = site.tasks["lm"] = replace(tasks["lm"], times=times)
    bad = {"healthy": 0, "failing": FAILING_RUNS, "stale": STALE_RUNS}[scenario]
    failure = Outcome("FinishedFail", Failure(3, (error,)), error_class="auth")
    return {t: ("lm", failure) for t in times[len(times) - bad :]} if bad else {}


def service_account() -> User:
    """The Windows account the services run as, as a directory user (it holds no license)."""
    directory, name = SERVICE_USER.split("\\")
    return User(name, "5e7c1ce0-0000-4000-8000-000000000001", "none")


def service_denials(ctx: Ctx, reload_starts: list[int]) -> dict[str, Any]:
    """Plant the service account's denials at each monitoring-app reload; return their truth."""
    user = service_account()
    times: list[int] = []
    for start in reload_starts:
        t = start + 1_200 + ctx.rng.randint(0, 800)
        for _ in range(DENIALS_PER_RELOAD):
            psid = ctx.ids.guid()
            deny(ctx, user, t, psid, "0", ip=SERVICE_IP)
            times.append(t)
            t += 1_250 + ctx.rng.randint(0, 100)
    return {
        "user": SERVICE_USER,
        "source": SERVICE_IP,
        "count": len(times),
        "first_utc": iso(min(times)) if times else None,
        "last_utc": iso(max(times)) if times else None,
        "per_reload": DENIALS_PER_RELOAD,
    }


def roomy_analyzer(lic_truth: dict[str, Any], end_ms: int) -> None:
    """Raise the Analyzer capacity of the license truth to SCENARIO_ANALYZER_CAPACITY (CalInfo follows)."""
    ana = lic_truth["analyzer"]
    lic_truth["capacity"]["analyzer"] = SCENARIO_ANALYZER_CAPACITY
    months = (SCENARIO_ANALYZER_CAPACITY - ana["allocated_at_end"]) / ana["growth_users_per_month"]
    ana["projected_exhaustion_utc"] = iso(end_ms + int(months * 30.44 * DAY))
