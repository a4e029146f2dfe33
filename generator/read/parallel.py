"""Work on many items shared out between this process and forked copies of it, one per core.

Reading a description (Markdown, sanitising, front matter, redaction) costs about 1.7 ms of
CPU, all of it Python holding the GIL, so threads cannot share it; a full build of 10,000
images spent most of its read stage on one core. `shared_map` forks a worker per other core
the process may run on; every process, this one included, takes chunks of items in turn from
a pipe of chunk numbers until it is empty, so a busy core simply takes fewer. Workers
inherit the items by the fork (nothing is sent to them) and write each finished chunk's
results, pickled, into an in-memory file of their own, read back here once they have exited.

Why fork: a worker starts in about a millisecond with every module already imported, where a
spawned or forkserver one would import Markdown, nh3 and YAML again. A forked worker runs only
`work` and then `os._exit`: it never returns into the caller's frames, so it neither closes
the state's SQLite connection, nor removes a lock file, nor flushes an inherited buffer.
Threads of the caller are not copied; the build's hashing threads are joined and its
group-commit timer idle by the time descriptions are read, and a worker takes no lock they use.

What cannot go wrong silently: a chunk whose worker died (killed, out of memory) before its
results were complete is worked here, in this process, so nothing is lost and the results are
those one process would give, in the items' order. An interrupt or error here kills the
workers (SIGKILL) and is raised as before; a worker whose parent dies gets SIGKILL from the
kernel (`PR_SET_PDEATHSIG`) and anyway stops at its next chunk. The Markdown time limit
(SIGALRM) applies in workers as here: each runs `work` in its main thread.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Fewer items are worked here: a fork and pickling the results cost more than a core saves.
MIN_ITEMS = 64
CHUNK = 16  # items per chunk: small enough to share the last ones out evenly
MAX_CHUNKS = 1024  # chunk numbers (4 bytes each) all fit in one page of the pipe: never blocks
TOKEN = struct.Struct("=I")
FRAME = struct.Struct("=Q")


def cores() -> int:
    """The cores this process may run on (its CPU affinity, as `taskset` or a cpuset sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def shared_map(work: Callable[[T], R], items: Sequence[T], processes: int | None = None) -> list[R]:
    """`[work(item) for item in items]`, the items worked by `processes` processes (default:
    `cores()`) when there are enough of them to pay for the forks."""
    processes = cores() if processes is None else processes
    if processes < 2 or len(items) < MIN_ITEMS:
        return [work(item) for item in items]
    size = max(CHUNK, -(-len(items) // MAX_CHUNKS))
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    done = _work_shared(work, chunks, processes - 1)
    results: list[R] = []
    for number, chunk in enumerate(chunks):
        found = done.get(number)
        results += found if found is not None else [work(item) for item in chunk]  # lost: here
    return results


def _work_shared(
    work: Callable[[T], R], chunks: list[Sequence[T]], workers: int
) -> dict[int, list[R]]:
    """Results by chunk number: this process's and those of every worker that reported them."""
    tokens = _token_pipe(len(chunks))
    done: dict[int, list[R]] = {}
    started: list[tuple[int, int]] = []  # (pid, results file)
    try:
        gc.freeze()  # the workers' collections skip (and so never copy) the objects they inherit
        try:
            for _ in range(workers):
                worker = _start_worker(work, chunks, tokens)
                if worker is None:
                    break  # no more processes for now: fewer workers, same results
                started.append(worker)
        finally:
            gc.unfreeze()
        for number in _taken(tokens):
            done[number] = [work(item) for item in chunks[number]]
        while started:
            pid, results = started[0]
            os.waitpid(pid, 0)
            del started[0]
            done.update(_frames(results))
    finally:
        _stop(started)
        os.close(tokens)
    return done


def _token_pipe(count: int) -> int:
    """The read end of a pipe holding the chunk numbers `0 .. count-1` (write end closed)."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"".join(TOKEN.pack(n) for n in range(count)))
    finally:
        os.close(write_end)
    return read_end


def _taken(tokens: int) -> Iterator[int]:
    """Chunk numbers this process takes, until none is left (each read takes one whole token)."""
    while True:
        token = os.read(tokens, TOKEN.size)
        if len(token) < TOKEN.size:
            return
        yield TOKEN.unpack(token)[0]


def _start_worker(
    work: Callable[[T], R], chunks: list[Sequence[T]], tokens: int
) -> tuple[int, int] | None:
    """Fork one worker; returns its pid and the file its results go to (None: cannot fork)."""
    try:
        results = _results_file()
    except OSError:
        return None
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # EAGAIN, ENOMEM: the process limit or memory is reached
        os.close(results)
        return None
    if pid == 0:  # the worker: never returns from here
        status = 1
        try:
            _as_worker(parent)
            for number in _taken(tokens):
                if os.getppid() != parent:
                    break  # orphaned: no one will read the results
                _write_frame(results, (number, [work(item) for item in chunks[number]]))
            status = 0
        finally:
            os._exit(status)
    return pid, results


def _as_worker(parent: int) -> None:
    """Signals as a plain process has them, and death with the parent (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the whole process group
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the worker stops at its next chunk instead
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the request took effect


def _results_file() -> int:
    """An anonymous file for one worker's results: in memory where Linux allows it."""
    try:
        return os.memfd_create("star-vm-catalog-results", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        import tempfile

        with tempfile.TemporaryFile() as handle:
            return os.dup(handle.fileno())  # the duplicate keeps the (unlinked) file open


def _write_frame(fd: int, value: object) -> None:
    """One chunk's results, pickled, after their length: a half-written frame is noticed."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _frames(fd: int) -> dict[int, list]:
    """The complete frames of a worker's results file (then closed); a torn last one is dropped."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read()
    finally:
        os.close(fd)
    found, at = {}, 0
    while at + FRAME.size <= len(data):
        (length,) = FRAME.unpack_from(data, at)
        end = at + FRAME.size + length
        if end > len(data):
            break
        number, results = pickle.loads(data[at + FRAME.size : end])
        found[number] = results
        at = end
    return found


def _stop(started: list[tuple[int, int]]) -> None:
    """Kill and reap workers still counted as running (after an error or an interrupt)."""
    for pid, results in started:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass  # already gone
        os.close(results)
