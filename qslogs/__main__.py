"""``python -m qslogs``: the same command as ``qslogs``."""

from qslogs.entry import main

main()
