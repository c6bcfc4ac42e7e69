"""``python -m qslogs``: the same command as ``qslogs``."""

from qslogs.cli import main

main()
