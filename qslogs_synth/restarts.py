"""Service restarts (patch nights, the engine upgrade): stop and start-up rows of every service.

Start-up is where real logs carry their noise: crypto-key lines, the proxy failing to reach the
repository (``↵``/``↓``-encoded exception and stack trace), change-monitor warnings, engine settings.
"""

from __future__ import annotations

from qslogs_synth.context import Ctx
from qslogs_synth.site import Node

_CRYPTO = (
    (
        "Qlik.Sense.Common.Security.Cryptography.LoggingDigester",
        "Setting crypto key for log file secure signing: success",
    ),
    ("Qlik.Sense.Common.Security.Cryptography.SecretsKey", "retrieving symmetric key from cert: success"),
    ("Qlik.Sense.Common.Security.Cryptography.CryptoKey", "setting crypto key: success"),
)
_REFUSED = (
    "No connection could be made because the target machine actively refused it 127.0.0.1:4242↵↓Unable to "
    "connect to the remote server"
)
_STACK = (
    "   at System.Net.Sockets.Socket.InternalEndConnect(IAsyncResult asyncResult)↵↓"
    "   at System.Net.Sockets.Socket.EndConnect(IAsyncResult asyncResult)↵↓"
    "   at System.Net.HttpWebRequest.EndGetResponse(IAsyncResult asyncResult)↵↓"
    "   at Qlik.Sense.Common.Communication.REST.Client.WebClientEx.GetWebResponse(WebRequest request, "
    "IAsyncResult result)"
)
_ENGINE_SETTINGS = (
    "CpuThrottlePercentage=0.0, default=0",
    "AllowDataLineage=1, default=0",
    "TableFilesDirectory=C:\\ProgramData\\Qlik\\Sense\\Apps, default=",
)


def restart(ctx: Ctx, node: Node, r: int) -> None:
    """Stop and start-up rows of every .NET service on ``node`` restarting at ``r``."""
    add, rows = ctx.sink.add, ctx.rows
    add(
        node,
        "Engine",
        "System",
        r - 60_000,
        rows.engine_system(r - 60_000, node, "CNTService: The service (Engine) is stopping."),
    )
    for svc in ("Repository", "Proxy", "Scheduler", "Printing"):
        t = r + ctx.rng.randint(3_000, 9_000)
        for i, (logger, msg) in enumerate(_CRYPTO):
            add(
                node,
                svc,
                "Security",
                t + i * 40,
                rows.simple(t + i * 40, node, "INFO", f"Security.{svc}.{logger}", msg),
            )
        add(
            node,
            svc,
            "Service",
            t + 200,
            rows.audit(
                t + 200,
                node,
                svc,
                f"Start {svc.lower()}",
                message=("The service is starting"),
                severity="INFO",
            ),
        )
    p = r + 11_000
    add(
        node,
        "Proxy",
        "System",
        p,
        rows.simple(p, node, "INFO", "System.Proxy.Proxy.Core.QPSMain", "Proxy created"),
    )
    add(
        node,
        "Proxy",
        "System",
        p + 16_000,
        rows.simple(
            p + 16_000,
            node,
            "ERROR",
            "System.Proxy.Proxy.Communication.Rest.ProxyRestClient",
            "When contacting https://localhost:4242/",
            exc=_REFUSED,
            stack=_STACK,
        ),
    )
    add(
        node,
        "Proxy",
        "System",
        p + 16_009,
        rows.simple(
            p + 16_009,
            node,
            "WARN",
            "System.Proxy.Proxy.Settings.SettingsHandler",
            "Could not contact local repository to retrieve local server node configuration",
            exc=_REFUSED,
            stack=_STACK,
        ),
    )
    add(
        node,
        "Proxy",
        "System",
        p + 61_000,
        rows.simple(p + 61_000, node, "INFO", "System.Proxy.Proxy.Core.QPSMain", "Proxy started"),
    )
    s = r + 48_000
    sync = "Synchronization.Repository.Repository.Core.Repository.Notification.ChangeMonitor"
    for i, (lvl, msg) in enumerate(
        (
            ("WARN", "Connect to database for ListenerChannels"),
            ("WARN", "Connect to database for SignalChannel"),
            ("INFO", f"Instantiated Change Monitor with Id  {ctx.ids.guid()} with Database notification On"),
        )
    ):
        add(node, "Repository", "Synchronization", s + i * 90, rows.simple(s + i * 90, node, lvl, sync, msg))
    um = "UserManagement.Repository.Repository.Users.UserSyncEngine"
    for i, msg in enumerate(("Starting user sync engine...", "User sync engine has started")):
        add(
            node,
            "Repository",
            "UserManagement",
            s + 7_000 + i * 41,
            rows.simple(s + 7_000 + i * 41, node, "INFO", um, msg),
        )
    add(
        node,
        "Repository",
        "System",
        s + 2_000,
        rows.simple(
            s + 2_000,
            node,
            "INFO",
            "System.Repository.Repository.Core.RepositoryServiceStarter",
            f"Repository service started on {node.fqdn}",
        ),
    )
    e = r + 95_000
    for i, setting in enumerate(_ENGINE_SETTINGS):
        add(
            node,
            "Engine",
            "Service",
            e + i,
            rows.engine_service(e + i, node, "Start engine", f"Current setting for {setting}", context="INI"),
        )
    add(
        node,
        "Engine",
        "System",
        e + 900,
        rows.engine_system(e + 900, node, "CNTService: The service (Engine) was started."),
    )
    for i, msg in enumerate(("The service is waiting for certificates", "Qlik certificates found")):
        add(
            node,
            "Printing",
            "System",
            r + 5_000 + i * 2_100,
            rows.simple(
                r + 5_000 + i * 2_100,
                node,
                "INFO",
                "System.Printing.Qlik.Printing.Sense.Service.Starter",
                msg,
            ),
        )
