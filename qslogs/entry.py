"""The ``qslogs`` console script: guards the start-up against Ctrl-C, then runs :func:`qslogs.cli.main`.

Importing polars, pyarrow and the analyses takes a noticeable moment; Ctrl-C then used to print a
25-line traceback and exit 1. Until the command line is ready, SIGINT prints ``interrupted`` and
exits 130 at once (nothing has been written yet); from then on :mod:`qslogs.cli` turns it into the
same line and exit code after every temporary file and worker process is cleaned up.
"""

from __future__ import annotations

import os
import signal
from types import FrameType


def _interrupted_at_startup(signum: int, frame: FrameType | None) -> None:
    os.write(2, b"interrupted\n")
    os._exit(130)


def main() -> None:
    """Entry point of the ``qslogs`` script and of ``python -m qslogs``."""
    signal.signal(signal.SIGINT, _interrupted_at_startup)
    from qslogs.cli import main as run

    run()
