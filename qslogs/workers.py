"""Read and parse a bundle's files in worker processes, so a large bundle uses every core.

Decompressing and parsing are CPU-bound and run Python code between polars calls, so threads do not
help; processes do. Each worker is ``python -m qslogs.workers``, started afresh (not forked: forking a
process whose polars thread pool is running can deadlock, and ``multiprocessing``'s spawn re-imports
the caller's main script, which breaks every script without a ``__main__`` guard). A worker opens the
bundle itself (a zip's directory is listed again, which is cheap, so no file bytes cross a pipe on the
way in), reads, classifies and parses one unit of files per task with :func:`qslogs.units.read_unit`, and
sends back a pickled list of :class:`~qslogs.units.FileResult` (polars frames pickle as Arrow IPC). Tasks go
out largest first so the cores finish together; results come back in member order, so deduplication,
counts and frames are exactly those of a serial run.

Small bundles stay serial: starting a worker (importing polars) costs more than it saves below
:data:`PARALLEL_MIN_BYTES`. ``QSLOGS_WORKERS=N`` forces N workers (``1``: serial), whatever the size.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import polars as pl

from qslogs.bundle import Limits, Member, open_bundle
from qslogs.parsers.service_logs import ParsedFile
from qslogs.store import FileRange, write_parts
from qslogs.units import BatchedLog, BatchedTabular, FileResult, read_unit, script_lines

#: Bundles with less than this many bytes to parse are read in the calling process.
PARALLEL_MIN_BYTES = 32 * 1024**2
#: Environment variable that forces the number of worker processes (1 = serial).
ENV_WORKERS = "QSLOGS_WORKERS"
_HEADER = struct.Struct("<Q")
#: Pipe buffer asked for (Linux; ignored elsewhere): results of megabytes cross in fewer context switches.
_PIPE_BYTES = 1024**2


def worker_count(members: Sequence[Member]) -> int:
    """How many processes to parse ``members`` with: one per usable core for a large bundle, else 1."""
    forced = os.environ.get(ENV_WORKERS, "").strip()
    if forced.isdigit():
        return max(1, min(int(forced), len(members)))
    if sum(m.size for m in members) < PARALLEL_MIN_BYTES:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, len(members)))


#: Units handed out beyond the oldest one not yet taken by the caller: bounds what waits in memory.
AHEAD = 32


def parallel_results(sources: list[str], members: Sequence[Member], units: Sequence[Sequence[int]], limits: Limits,
                     workers: int, spill_dir: Path, progress: Callable[[int, int, str], None] | None = None,
                     ) -> Iterator[list[FileResult] | None]:
    """Each unit's :class:`FileResult` list, in unit order, computed by ``workers`` processes.

    ``units`` are lists of member indices read and parsed together (:func:`qslogs.units.plan_units`);
    they go out in order, at most :data:`AHEAD` beyond the one the caller waits for, so the results
    waiting in memory stay a few units however large the bundle. A unit is None when its worker died
    (killed for memory, or could not start): the caller parses it itself. An exception inside a worker
    is raised here, as a serial run would raise it. Workers write the records of service logs to Arrow
    files in ``spill_dir`` and send back where (:attr:`FileResult.part`), so records never cross a pipe.
    """
    tasks: queue.SimpleQueue[int] = queue.SimpleQueue()
    for u in range(len(units)):
        tasks.put(u)
    done: dict[int, list[FileResult] | None] = {}
    ready = threading.Condition()
    window = threading.Semaphore(AHEAD)
    failures: list[BaseException] = []
    counted = [0]

    def drive(proc: subprocess.Popen[bytes]) -> None:
        """Feed one worker until the queue is empty; a thread per worker, blocked on its pipe meanwhile."""
        try:
            while True:
                window.acquire()
                try:
                    if failures:  # the caller stopped, or another worker failed
                        raise queue.Empty
                    u = tasks.get_nowait()
                except queue.Empty:
                    window.release()
                    return
                names = [members[i].display for i in units[u]]
                _write(proc.stdin, names)
                answer = _receive(proc, names[0])
                if answer is None:  # the worker died: the caller parses this unit, the others go on
                    window.release()
                    with ready:
                        done[u] = None
                        ready.notify_all()
                    return
                with ready:
                    done[u] = answer
                    counted[0] += len(names)
                    if progress:
                        progress(counted[0], len(members), names[-1])
                    ready.notify_all()
        except BaseException as exc:  # noqa: BLE001  # raised again in the calling thread
            with ready:
                failures.append(exc)
                ready.notify_all()

    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(min(workers, len(units))):
            with contextlib.suppress(OSError):
                procs.append(_start(sources, limits, spill_dir))
        threads = [threading.Thread(target=drive, args=(proc,), daemon=True) for proc in procs]
        for thread in threads:
            thread.start()
        for u in range(len(units)):
            with ready:
                while u not in done and not failures and any(t.is_alive() for t in threads):
                    ready.wait(timeout=1.0)
                if failures:
                    raise failures[0]
                result = done.pop(u, None)
            if result is not None:
                window.release()
            yield result
    finally:
        failures.append(GeneratorExit())  # stops the threads if the caller stopped early
        for _ in procs:
            window.release()
        for proc in procs:
            _stop(proc, kill=sys.exc_info()[0] is not None)


def _start(sources: list[str], limits: Limits, spill_dir: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent.parent)  # so the worker imports this very qslogs
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    # -P: the working directory is not put first on sys.path, where another qslogs could shadow this one.
    # Own session / process group: Ctrl-C reaches only the parent, which stops the workers (no traceback
    # from a worker, none left behind); a worker whose parent died ends at the end of its stdin.
    group: dict[str, Any] = ({"start_new_session": True} if os.name == "posix"
                             else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)})
    proc = subprocess.Popen([sys.executable, "-P", "-m", "qslogs.workers"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env, pipesize=_PIPE_BYTES, **group)
    try:
        _write(proc.stdin, (list(sources), limits, str(spill_dir)))
    except OSError:
        _stop(proc, kill=True)
        raise
    return proc


def _receive(proc: subprocess.Popen[bytes], display: str) -> list[FileResult] | None:
    """The worker's results for a unit (``display`` is its first file); None when the worker ended instead."""
    try:
        message = _read(proc.stdout)
    except (OSError, EOFError, pickle.UnpicklingError):
        message = None
    if message is None:
        return None
    status, payload = message
    if status != "ok":
        raise RuntimeError(f"qslogs worker failed on {display}:\n{payload}")
    results: list[FileResult] = payload
    return results


def _stop(proc: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    try:
        if kill:
            raise OSError("stop now")
        _write(proc.stdin, None)
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    for stream in (proc.stdin, proc.stdout):
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()


class _Pickler(pickle.Pickler):
    """Pickles large frames as Arrow IPC, about twice as fast both ways as polars' own pickling (which
    wins on small frames: IPC has a fixed cost of about a millisecond)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, pl.DataFrame) and obj.estimated_size() >= _IPC_MIN_BYTES:
            buffer = io.BytesIO()
            obj.write_ipc(buffer, compression="uncompressed")
            return _frame_from_ipc, (buffer.getvalue(),)
        return NotImplemented


_IPC_MIN_BYTES = 1024**2


def _frame_from_ipc(data: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(data))


def _write(stream: IO[bytes] | None, obj: Any) -> None:
    assert stream is not None
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    stream.write(_HEADER.pack(buffer.tell()))
    stream.write(buffer.getbuffer())
    stream.flush()


def _read(stream: IO[bytes] | None) -> Any:
    assert stream is not None
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The worker loop: open the bundle, then parse one unit of members per message until ``None``."""
    import traceback

    sources, limits, spill_dir = _read(stdin)
    with open_bundle(sources, limits) as bundle:
        by_display = {m.display: m for m in bundle.members}
        task = 0
        while (names := _read(stdin)) is not None:
            task += 1
            try:
                results = read_unit([by_display[name] for name in names], strict=False, limits=limits)
                with contextlib.suppress(OSError):  # no space: the records go through the pipe instead
                    results = _spill(results, Path(spill_dir), f"w{os.getpid()}-{task}")
                # The parent re-attaches each entry's member.
                reply: tuple[str, Any] = (
                    "ok", [replace(r, entry=replace(r.entry, member=None)) for r in results]  # type: ignore[arg-type]
                )
            except Exception:  # sent to the parent, which raises it there
                reply = ("error", traceback.format_exc())
            _write(stdout, reply)


def _spill(results: list[FileResult], folder: Path, stem: str) -> list[FileResult]:
    """Write the records of the unit's service logs to one Arrow file per kind; keep a row for the host."""
    by_kind: dict[str, list[int]] = {}
    for i, result in enumerate(results):
        if isinstance(result.parsed, ParsedFile):
            by_kind.setdefault(result.entry.kind, []).append(i)
    for n, indices in enumerate(by_kind.values()):
        frames = [results[i].parsed.frame for i in indices]  # type: ignore[union-attr]
        for i, part in zip(indices, write_parts(frames, folder / f"{stem}-{n}.arrow"), strict=True):
            parsed = results[i].parsed
            assert isinstance(parsed, ParsedFile)
            results[i] = replace(results[i], parsed=replace(parsed, frame=parsed.frame.head(1)), part=part)
    return _spill_batches(results, folder, stem)


def _spill_batches(results: list[FileResult], folder: Path, stem: str) -> list[FileResult]:
    """Write each tabular batch's records to an Arrow file; its files share the batch's row range."""
    written: dict[int, tuple[BatchedTabular, FileRange]] = {}
    for i, result in enumerate(results):
        parsed = result.parsed
        if not isinstance(parsed, BatchedTabular):
            continue
        if id(parsed.batch) not in written:
            (part,) = write_parts([parsed.batch.frame], folder / f"{stem}-b{len(written)}.arrow")
            written[id(parsed.batch)] = (BatchedTabular(replace(parsed.batch, frame=parsed.batch.frame.clear()), 0),
                                         part)
        light, part = written[id(parsed.batch)]
        results[i] = replace(result, parsed=BatchedTabular(light.batch, parsed.index), part=part)
    return _spill_scripts(results, folder, stem)


def _spill_scripts(results: list[FileResult], folder: Path, stem: str) -> list[FileResult]:
    """Write each script batch's lines, with each file's node, to an Arrow file; its files share the range
    (the parent keeps the rows of the files it takes, as for tabular batches)."""
    hosts: dict[int, tuple[Any, list[str | None]]] = {}
    for result in results:
        if isinstance(result.parsed, BatchedLog):
            batch = result.parsed.batch
            hosts.setdefault(id(batch), (batch, [None] * len(batch.line_counts)))[1][result.parsed.index] = (
                result.entry.host)
    written: dict[int, tuple[BatchedLog, FileRange]] = {}
    for n, (key, (batch, host_of)) in enumerate(hosts.items()):
        (part,) = write_parts([script_lines(batch, host_of)], folder / f"{stem}-s{n}.arrow")
        written[key] = (BatchedLog(replace(batch, lines=batch.lines.clear()), 0), part)
    for i, result in enumerate(results):
        if isinstance(result.parsed, BatchedLog):
            light, part = written[id(result.parsed.batch)]
            results[i] = replace(result, parsed=BatchedLog(light.batch, result.parsed.index), part=part)
    return results


if __name__ == "__main__":
    # Through the imported module, so what the worker pickles names ``qslogs.workers``, not ``__main__``.
    from qslogs.workers import _serve as serve

    serve(sys.stdin.buffer, sys.stdout.buffer)
