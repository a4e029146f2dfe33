"""Work on many items shared out between this process and forked copies of it, one per core.

Reading a description (Markdown, sanitising, front matter, redaction) or rendering an image
page costs about a millisecond of CPU, all of it Python holding the GIL, so threads cannot
share it. `shared_chunks` forks a worker per other core the process may run on and yields the
results chunk by chunk, in the items' order, as the caller takes them: the reads take them all
(`shared_map`), publishing writes each chunk of pages as it comes (`publish.made_pages`).

How the work is shared: this process hands each worker the numbers of the chunks it is to
work, a few at a time, through a pipe of its own, and reads each finished chunk's results,
pickled, from another pipe of the worker's. A worker that finishes sooner is simply handed
more; while the chunk the caller wants next is not back yet, this process works one nobody
holds. No chunk is handed out further than `AHEAD` chunks per process past the one the caller
takes next, so results waiting to be taken stay few: memory is bounded whatever the count.
Workers inherit the items by the fork: nothing is sent to them but chunk numbers.

Why fork: a worker starts in about a millisecond with every module already imported, where a
spawned or forkserver one would import Markdown, nh3, YAML and Jinja again. A forked worker
runs only `work` and then `os._exit`: it never returns into the caller's frames, so it neither
closes the state's SQLite connection, nor removes a lock file, nor flushes an inherited buffer.
Threads of the caller are not copied; the build's hashing threads are joined and its
group-commit timer idle by the time descriptions are read or pages rendered, and a worker takes
no lock they use.

What cannot go wrong silently: the chunks of a worker that died (killed, out of memory, an
error in `work`) before their results were complete are worked here, in this process, so
nothing is lost, an error is raised here as in one process, and the results are those one
process would give. An interrupt or error here, or the caller letting go of the results before
the end, kills the workers (SIGKILL); a worker whose parent dies gets SIGKILL from the kernel
(`PR_SET_PDEATHSIG`). A Ctrl-C waits while a worker is forked and recorded, and while the
workers are stopped: no worker escapes the list they are killed from. The Markdown time limit
(SIGALRM) applies in workers as here: each runs `work` in its main thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import pickle
import select
import signal
import struct
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from generator import failpoints

T = TypeVar("T")
R = TypeVar("R")

# Fewer items are worked here: a fork and pickling the results cost more than a core saves.
MIN_ITEMS = 64
CHUNK = 16  # items per chunk: small enough to share the last ones out evenly
HANDED = 2  # chunks a worker holds at once: the next is there when it finishes one
AHEAD = 4  # chunks per process handed out past the one the caller takes next
PIPE_SIZE = 1 << 20  # a worker's results pipe: a few chunks of pages fit, so it rarely waits
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
    with contextlib.closing(shared_chunks(work, items, processes)) as chunks:
        return [result for chunk in chunks for result in chunk]


def shared_chunks(
    work: Callable[[T], R], items: Sequence[T], processes: int | None = None
) -> Generator[list[R]]:
    """The results of `work` over each chunk of `items`, in order, worked by `processes`
    processes (default: `cores()`) when there are enough items to pay for the forks.

    Close the iterator (`contextlib.closing`) when not taking every chunk: that stops the
    workers at once rather than when it is collected.
    """
    processes = cores() if processes is None else processes
    chunks = [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]
    if processes < 2 or len(items) < MIN_ITEMS:
        for chunk in chunks:
            yield [work(item) for item in chunk]
        return
    pool = _Pool(work, chunks, window=AHEAD * processes)
    try:
        pool.start(processes - 1)
        for number in range(len(chunks)):
            yield pool.take(number)
    finally:
        pool.stop()


@dataclass
class _Worker:
    """One forked worker, as this process sees it: its pipes and the chunks it holds."""

    pid: int
    orders: int  # write end: chunk numbers to work
    results: int  # read end (non-blocking): frames of finished chunks
    held: list[int] = field(default_factory=list)
    frame: bytearray = field(default_factory=lambda: bytearray(FRAME.size))  # being read
    got: int = 0  # bytes of `frame` read so far
    length: int | None = None  # of the pickle `frame` holds; None: `frame` holds the length


@dataclass
class _Pool(Generic[T, R]):
    """The state of one `shared_chunks`: who holds which chunk, and results not yet taken."""

    work: Callable[[T], R]
    chunks: list[Sequence[T]]
    window: int
    workers: list[_Worker] = field(default_factory=list)
    done: dict[int, list[R]] = field(default_factory=dict)
    handed: int = 0  # chunks below this number are done, held or taken: none is free

    def start(self, count: int) -> None:
        """Fork up to `count` workers (fewer when the system allows no more processes)."""
        gc.freeze()  # the workers' collections skip (and so never copy) the objects they inherit
        try:
            for _ in range(count):
                with _interrupts_held():  # a worker forked is a worker recorded, Ctrl-C or not
                    started = _start_worker(self.work, self.chunks, self.workers)
                if not started:
                    break  # no more processes for now: fewer workers, same results
        finally:
            gc.unfreeze()

    def take(self, number: int) -> list[R]:
        """Chunk `number`'s results, once every chunk before it was taken."""
        while number not in self.done:
            self._hand_out(number)
            if any(number in worker.held for worker in self.workers):
                if not self._receive(wait=False) and not self._work_free_chunk(number):
                    self._receive(wait=True)
            else:  # no worker holds it: worked here
                self.done[number] = self._worked(number)
                self.handed = max(self.handed, number + 1)
        if number + 1 == len(self.chunks):
            self.stop()  # every chunk is done: the workers, idle, are not needed any more
        return self.done.pop(number)

    def _hand_out(self, number: int) -> None:
        """Hand the free chunks of the window to workers that hold fewer than `HANDED`."""
        limit = min(len(self.chunks), number + self.window)
        for worker in self.workers:
            while len(worker.held) < HANDED and self.handed < limit:
                try:
                    os.write(worker.orders, TOKEN.pack(self.handed))  # a few bytes: no wait
                except BrokenPipeError:  # it died: `_receive` takes what it sent, then forgets it
                    break
                worker.held.append(self.handed)
                self.handed += 1

    def _work_free_chunk(self, number: int) -> bool:
        """Work here the next chunk no one holds, within the window; False if there is none."""
        if self.handed >= min(len(self.chunks), number + self.window):
            return False
        self.done[self.handed] = self._worked(self.handed)
        self.handed += 1
        return True

    def _worked(self, number: int) -> list[R]:
        return [self.work(item) for item in self.chunks[number]]

    def _receive(self, wait: bool) -> bool:
        """Read what the workers sent (waiting for something if `wait`); whether any came."""
        if not self.workers:
            return False
        fds = [worker.results for worker in self.workers]
        ready = select.select(fds, [], [], None if wait else 0)[0]
        for worker in [w for w in self.workers if w.results in ready]:
            if not self._read_frames(worker):  # gone: what it held is worked here when wanted
                self._forget(worker)
        return bool(ready)

    def _read_frames(self, worker: _Worker) -> bool:
        """Move the chunks the worker finished into `done`, reading its pipe a frame at a time,
        straight into a buffer of the frame's size: no more than one frame is held as bytes
        beside the results, and none is copied. False once the worker exited."""
        while True:
            if worker.got == len(worker.frame):
                self._frame_read(worker)
                continue
            try:
                with memoryview(worker.frame) as frame:
                    count = os.readv(worker.results, [frame[worker.got :]])
            except BlockingIOError:
                return True
            if not count:
                return False
            worker.got += count

    def _frame_read(self, worker: _Worker) -> None:
        """A frame's length read: room for its pickle. Its pickle read: its chunk into `done`."""
        if worker.length is None:
            (worker.length,) = FRAME.unpack(worker.frame)
            worker.frame, worker.got = bytearray(worker.length), 0
            return
        number, results = pickle.loads(worker.frame)
        worker.frame, worker.got, worker.length = bytearray(FRAME.size), 0, None
        self.done[number] = results
        if number in worker.held:
            worker.held.remove(number)

    def _forget(self, worker: _Worker) -> None:
        """A worker that exited: reaped, and its pipes closed."""
        self.workers.remove(worker)
        _close_worker(worker, kill=False)

    def stop(self) -> None:
        """Kill and reap the workers still running (after an error, an interrupt, the end).

        A second Ctrl-C is raised once they are: none is taken off the list and left running.
        """
        with _interrupts_held():
            while self.workers:
                _close_worker(self.workers.pop(), kill=True)


def _close_worker(worker: _Worker, kill: bool) -> None:
    """Kill (if asked) and reap the worker; close this process's ends of its pipes."""
    try:
        if kill:
            os.kill(worker.pid, signal.SIGKILL)
        os.waitpid(worker.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass  # already gone
    for fd in (worker.orders, worker.results):
        if fd >= 0:
            os.close(fd)


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C (SIGINT) noted while the block runs, and raised when it ends as if it came then.

    Masking the signal (`pthread_sigmask`) would not do: the mask is the main thread's only,
    the kernel hands SIGINT to any thread that does not mask it, and the handler it runs there
    has the main thread raise KeyboardInterrupt all the same. Python runs a handler in the main
    thread only, between bytecodes: replaced by one that notes, nothing is raised meanwhile.
    """
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is None  # set outside Python: could not be put back
    ):
        yield  # (in another thread, no KeyboardInterrupt is raised at all)
        return
    noted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _: noted.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if noted:
            signal.raise_signal(signal.SIGINT)  # handled now as it would have been


def _start_worker(
    work: Callable[[T], R], chunks: list[Sequence[T]], workers: list[_Worker]
) -> bool:
    """Fork one worker and add it to `workers` (False: cannot fork); it works the chunks its
    orders name. Call it with interrupts held (`_interrupts_held`): a KeyboardInterrupt between
    the fork and the record would leave a worker that `_Pool.stop` never kills."""
    try:
        orders_in, orders = os.pipe2(os.O_CLOEXEC)
    except OSError:
        return False
    try:
        results, results_out = os.pipe2(os.O_CLOEXEC)
    except OSError:
        os.close(orders_in)
        os.close(orders)
        return False
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # EAGAIN, ENOMEM: the process limit or memory is reached
        for fd in (orders_in, orders, results, results_out):
            os.close(fd)
        return False
    if pid == 0:  # the worker: never returns from here
        _run_worker(work, chunks, parent, orders_in, results_out, [orders, results], workers)
    failpoints.interrupt("forked")
    workers.append(_Worker(pid, orders, results))  # first: whatever fails next, it is stopped
    os.close(orders_in)
    os.close(results_out)
    os.set_blocking(results, False)
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(results, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    return True


def _run_worker(
    work: Callable[[T], R],
    chunks: list[Sequence[T]],
    parent: int,
    orders: int,
    results: int,
    ends: list[int],
    others: list[_Worker],
) -> None:
    """A worker's life: the chunks it is handed, worked and sent back, until its orders end."""
    status = 1
    try:
        # The parent's ends, and the other workers' pipes, are not this worker's to hold open:
        # a worker's orders end when the parent closes them, whoever else was forked since.
        for fd in [*ends, *(end for w in others for end in (w.orders, w.results))]:
            os.close(fd)
        _as_worker(parent)
        while True:
            token = os.read(orders, TOKEN.size)
            if len(token) < TOKEN.size:
                break  # no more orders
            number = TOKEN.unpack(token)[0]
            _write_frame(results, (number, [work(item) for item in chunks[number]]))
        status = 0
    finally:
        os._exit(status)


def _as_worker(parent: int) -> None:
    """Signals as a plain process has them, and death with the parent (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the whole process group
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the worker stops when its orders end
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the request took effect


def _write_frame(fd: int, value: object) -> None:
    """One chunk's results, pickled, after their length: a half-written frame is noticed."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]
