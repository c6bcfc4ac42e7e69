"""Subcommands beyond inspect/parse, one module each; each decorates ``@cli.command()`` on import.

To add one: write ``qslogs/commands/<name>.py`` and add its name to :data:`COMMAND_MODULES`.
"""

COMMAND_MODULES: tuple[str, ...] = ("reloads", "license", "qvd", "report", "activity", "fleet")
