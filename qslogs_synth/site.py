"""The fictional site the generator writes logs for: nodes, users, apps, tasks and key dates.

Everything a scenario needs to agree on lives here, built once from the seed, so the reload story,
the license story and the filler all talk about the same hosts, ids and restart times.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from qslogs_synth.clock import DAY, HOUR, MINUTE, from_ms, local_to_ms
from qslogs_synth.ids import Ids

DIRECTORY = "CORP"
SERVICE_USER = "CORP\\svc_qlik"
DOMAIN = "corp.example"
UPGRADE_STAGGER = 9 * 60_000  # each further node restarts 9 minutes later on the upgrade night

#: ProductVersion per service (they differ within one bundle, formats.md §3.2).
VERSION = {
    "Repository": "31.14.2.0",
    "Proxy": "14.11.1.0",
    "Scheduler": "16.5.0.0",
    "Printing": "13.22.1.0",
    "Engine": "31.14.2.0",
}
ENGINE_VERSION_OLD = "12.1657.3.0"
ENGINE_VERSION_NEW = "14.187.4.0"
EXE_VERSION_OLD = "12.1657.30100.0409.10"
EXE_VERSION_NEW = "14.187.40200.0409.10"
NODEJS_VERSION = {
    "AboutService": "1.52.3",
    "AppMigration": "6.14.2",
    "BrokerService": "2.40.1",
    "CapabilityService": "1.35.0",
    "ConnectorRegistryProxy": "3.11.0",
    "ConverterService": "2.9.4",
    "DepGraphService": "1.44.2",
    "DownloadPrepService": "1.21.6",
    "HubService": "4.62.3",
    "OdagService": "7.3.1",
    "WebExtensionService": "2.18.0",
}

_FIRST = (
    "anna",
    "erik",
    "maria",
    "lars",
    "karin",
    "johan",
    "eva",
    "anders",
    "sara",
    "per",
    "lena",
    "mikael",
    "emma",
    "nils",
    "ida",
    "oskar",
    "elin",
    "fredrik",
    "linnea",
    "magnus",
    "sofia",
    "henrik",
    "maja",
    "jonas",
    "frida",
    "olof",
    "klara",
    "viktor",
    "tove",
    "gustav",
    "alva",
    "axel",
    "hanna",
    "isak",
    "julia",
    "leo",
    "moa",
    "rasmus",
    "stina",
    "tobias",
    "ulla",
    "vera",
    "wilma",
    "arvid",
    "britt",
    "carl",
    "dag",
    "ebba",
    "filip",
    "greta",
)
_LAST = (
    "berg",
    "lindqvist",
    "nilsson",
    "holm",
    "strom",
    "ek",
    "sandberg",
    "lund",
    "dahl",
    "wall",
    "fors",
    "hedlund",
    "blom",
    "sjoberg",
    "nyberg",
    "akesson",
    "engstrom",
    "falk",
    "grahn",
    "hellberg",
)


@dataclass(frozen=True)
class Node:
    """One Qlik Sense node and its three host spellings (formats.md §1.4)."""

    index: int
    netbios: str  # SENSE01: file-name prefix
    hostname: str  # Sense01: Hostname column
    node_id: str
    ip: str
    central: bool

    @property
    def fqdn(self) -> str:
        """Lower-case FQDN: archive folder and ``ExecutingNodeName``."""
        return f"{self.netbios.lower()}.{DOMAIN}"

    @property
    def fqdn_mixed(self) -> str:
        """Configured-case FQDN, as node.js services write it once started."""
        return f"{self.hostname}.{DOMAIN}"


@dataclass(frozen=True)
class User:
    """A directory user; ``kind`` is the allocation it ends up with (``none`` = never allocated)."""

    user_id: str
    guid: str
    kind: str  # professional | analyzer | none

    @property
    def qualified(self) -> str:
        """``CORP\\anna.berg``"""
        return f"{DIRECTORY}\\{self.user_id}"


@dataclass(frozen=True)
class App:
    """A Qlik Sense app."""

    app_id: str
    name: str


@dataclass(frozen=True)
class Task:
    """A scheduled reload task; ``times`` are its trigger instants (UTC ms) inside the story window."""

    task_id: str
    name: str
    app: App
    node: Node
    schema_id: str
    script: str  # key into scriptlog.SCRIPTS
    times: tuple[int, ...] = ()


@dataclass
class Site:
    """The whole fictional deployment plus the instants every scenario shares."""

    seed: int
    end_ms: int
    nodes: list[Node]
    users: list[User]
    apps: dict[str, App]
    restarts: dict[int, list[int]]  # node index → restart instants (UTC ms), sorted
    upgrade_ms: int  # engine upgrade (SessionId column appears)
    license_start_ms: int
    story_start_ms: int
    admin: User
    tasks: dict[str, Task] = field(default_factory=dict)

    def upgrade_at(self, node_index: int) -> int:
        """When ``node_index``'s engine was upgraded (its restart on the upgrade night)."""
        return self.upgrade_ms + node_index * UPGRADE_STAGGER

    def modern_script_log(self, node_index: int, ms: int) -> bool:
        """Whether a reload starting at ``ms`` on that node writes the modern script-log form: the upgrade
        that adds the engine's ``SessionId`` column also brings the ``yyyyMMddTHHmmss.fff±hhmm`` lines, so
        each node's ``Script`` folder holds classic logs before its upgrade and modern ones after."""
        return ms >= self.upgrade_at(node_index)

    @property
    def central(self) -> Node:
        """The central node (its ``Log`` folder is the bundle's active logs)."""
        return self.nodes[0]

    @property
    def rim(self) -> Node:
        """The first rim node, or the central node on a one-node site."""
        return self.nodes[1] if len(self.nodes) > 1 else self.nodes[0]


def _second_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def local_at(day: date, hh: int, mm: int = 0, ss: int = 0) -> int:
    """UTC ms of a local wall-clock time on ``day``."""
    return local_to_ms(datetime(day.year, day.month, day.day, hh, mm, ss))


def build_site(seed: int, end_ms: int, nodes: int) -> Site:
    """Create nodes, users, apps and restart dates for one bundle, deterministically from ``seed``."""
    ids = Ids(random.Random(f"{seed}:site"))
    rng = random.Random(f"{seed}:site-choices")
    node_list = [
        Node(i, f"SENSE{i + 1:02d}", f"Sense{i + 1:02d}", ids.guid(), f"10.20.1.{11 + i}", i == 0)
        for i in range(max(1, nodes))
    ]
    names = [f"{f}.{ln}" for f in _FIRST for ln in _LAST]
    rng.shuffle(names)
    picked: list[str] = []
    for name in names:  # distinct first names keep the user list readable
        if name.split(".")[0] not in {p.split(".")[0] for p in picked}:
            picked.append(name)
        if len(picked) == 50:
            break
    kinds = ["professional"] * 13 + ["analyzer"] * 35 + ["none"] * 2
    users = [User(u, ids.guid(), k) for u, k in zip(picked, kinds, strict=True)]
    users.append(User("ext.consultant", ids.guid(), "none"))
    admin = users[0]
    end_day = from_ms(end_ms).date()
    upgrade_day = end_day - timedelta(days=4)  # a Tuesday night for the default end (Saturday 2026-10-31)
    upgrade_ms = local_at(upgrade_day, 2, 0)
    license_start = end_ms - 365 * DAY
    restarts: dict[int, list[int]] = {}
    for node in node_list:
        times = [upgrade_ms + node.index * UPGRADE_STAGGER]
        d = from_ms(license_start).date().replace(day=1)
        while d <= end_day:
            patch = local_at(_second_tuesday(d.year, d.month), 3, 0) + node.index * 11 * MINUTE
            if license_start < patch < upgrade_ms - DAY:
                times.append(patch)
            d = (d + timedelta(days=32)).replace(day=1)
        restarts[node.index] = sorted(times)
    app_names = [
        "License Monitor",
        "Operations Monitor",
        "Sales Overview",
        "Finance Ledger",
        "HR Headcount",
        "Warehouse Stock",
        "Customer Churn",
        "Inventory Snapshot",
        "Web Analytics",
        "Marketing Leads",
        "Supply Chain KPIs",
        "Executive Dashboard",
    ]
    apps = {name: App(ids.guid(), name) for name in app_names}
    return Site(
        seed, end_ms, node_list, users, apps, restarts, upgrade_ms, license_start, end_ms - 7 * DAY, admin
    )


def business_hours_ms(rng: random.Random, day: date) -> int:
    """A random instant between 07:30 and 17:30 local on ``day`` (user activity)."""
    return local_at(day, 7, 30) + rng.randrange(10 * HOUR)
