"""The subcommands, one module each, as plain click commands; :mod:`qslogs.cli` attaches them.

To add one: write ``qslogs/commands/<name>.py`` with a ``@click.command()`` using the shared options
of :mod:`qslogs.commands.options`, and add it to the ``cli.add_command`` list in :mod:`qslogs.cli`
(one line).
"""
