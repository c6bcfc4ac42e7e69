"""Read and parse a bundle's files in worker processes, so a large bundle uses every core.

Decompressing and parsing are CPU-bound and run Python code between polars calls, so threads do not
help; processes do. Each worker is ``python -m qslogs.workers``, started afresh (not forked: forking a
process whose polars thread pool is running can deadlock, and ``multiprocessing``'s spawn re-imports
the caller's main script, which breaks every script without a ``__main__`` guard). A worker opens the
bundle itself (a zip's directory is listed again, which is cheap, so no file bytes cross a pipe on the
way in), reads, classifies and parses one file per task with :func:`qslogs.frames.read_member`, and
sends back a pickled :class:`~qslogs.frames.FileResult` (polars frames pickle as Arrow IPC). Tasks go
out largest first so the cores finish together; results come back in member order, so deduplication,
counts and frames are exactly those of a serial run.

Small bundles stay serial: starting a worker (importing polars) costs more than it saves below
:data:`PARALLEL_MIN_BYTES`. ``QSLOGS_WORKERS=N`` forces N workers (``1``: serial), whatever the size.
"""

from __future__ import annotations

import os
import pickle
import selectors
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from qslogs.bundle import Limits, Member, open_bundle
from qslogs.frames import FileResult, read_member

#: Bundles with less than this many bytes to parse are read in the calling process.
PARALLEL_MIN_BYTES = 32 * 1024**2
#: Environment variable that forces the number of worker processes (1 = serial).
ENV_WORKERS = "QSLOGS_WORKERS"
_HEADER = struct.Struct("<Q")


def worker_count(members: Sequence[Member]) -> int:
    """How many processes to parse ``members`` with: one per usable core for a large bundle, else 1."""
    forced = os.environ.get(ENV_WORKERS, "").strip()
    if forced.isdigit():
        return max(1, min(int(forced), len(members)))
    if sum(m.size for m in members) < PARALLEL_MIN_BYTES:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, len(members)))


def parallel_results(sources: list[str], members: Sequence[Member], limits: Limits, workers: int,
                     progress: Callable[[int, int, str], None] | None = None) -> list[FileResult]:
    """One :class:`FileResult` per member, in the order given, computed by ``workers`` processes."""
    todo = sorted(range(len(members)), key=lambda i: -members[i].size)
    todo.reverse()  # pop() from the end: largest first
    results: list[FileResult | None] = [None] * len(members)
    procs = [_start(sources, limits) for _ in range(min(workers, len(members)))]
    busy: dict[subprocess.Popen[bytes], int] = {}
    done = 0
    try:
        with selectors.DefaultSelector() as selector:
            for proc in procs:
                assert proc.stdout is not None
                selector.register(proc.stdout, selectors.EVENT_READ, proc)
                if todo:
                    busy[proc] = _send_task(proc, todo.pop(), members)
            while busy:
                for key, _ in selector.select():
                    proc = key.data
                    i = busy.pop(proc)
                    results[i] = _receive(proc, members[i].display)
                    done += 1
                    if progress:
                        progress(done, len(members), members[i].display)
                    if todo:
                        busy[proc] = _send_task(proc, todo.pop(), members)
    finally:
        for proc in procs:
            _stop(proc)
    return [r for r in results if r is not None]


def _start(sources: list[str], limits: Limits) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent.parent)  # so the worker imports this very qslogs
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen([sys.executable, "-m", "qslogs.workers"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env)
    _write(proc.stdin, (list(sources), limits))
    return proc


def _send_task(proc: subprocess.Popen[bytes], i: int, members: Sequence[Member]) -> int:
    _write(proc.stdin, members[i].display)
    return i


def _receive(proc: subprocess.Popen[bytes], display: str) -> FileResult:
    message = _read(proc.stdout)
    if message is None:
        code = proc.wait()
        raise RuntimeError(f"qslogs worker {proc.pid} ended while parsing {display} (exit code {code})")
    status, payload = message
    if status != "ok":
        raise RuntimeError(f"qslogs worker failed on {display}:\n{payload}")
    result: FileResult = payload
    return result


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        _write(proc.stdin, None)
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _write(stream: IO[bytes] | None, obj: Any) -> None:
    assert stream is not None
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream: IO[bytes] | None) -> Any:
    assert stream is not None
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The worker loop: open the bundle, then parse one member per message until ``None``."""
    import traceback

    sources, limits = _read(stdin)
    with open_bundle(sources, limits) as bundle:
        by_display = {m.display: m for m in bundle.members}
        while (display := _read(stdin)) is not None:
            try:
                result = read_member(by_display[display], strict=False, limits=limits)
                entry = replace(result.entry, member=None)  # type: ignore[arg-type]  # the parent re-attaches it
                reply: tuple[str, Any] = ("ok", replace(result, entry=entry))
            except Exception:  # sent to the parent, which raises it there
                reply = ("error", traceback.format_exc())
            _write(stdout, reply)


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
