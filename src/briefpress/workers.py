"""Workers: run the parts of a brief's layout side by side, in processes forked from the printer (or from
the build, where it has none).

A part's page numbers depend on the length of every part before it. WeasyPrint paginates a whole part
before it lays out the page margins, where the numbers are (see ``typeset.typeset``'s ``first_page_of``), so
each job paginates its part, reports the page count and waits for its first page number, which is
known as soon as the parts before it have been paginated, not drawn. A job may also publish a value
before it ends (where its anchors fell, for the contents). The jobs are the same, and give the same
bytes, whether they run in workers or one after another in one process.

Workers forked from the printer share its import of WeasyPrint; each takes the next part as it finishes
one, so at most one part per worker is held in memory. ``fork``, ``Channel`` and ``reap`` serve the printer
process (``printer.py``) too.
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import struct
import traceback
from collections import deque
from typing import Any, Callable, Sequence, TypeVar

from .errors import Diagnostics

T = TypeVar("T")


class Paging:
    """What a job is handed to number its pages: ``paging(page count)``, called once the part is paginated,
    returns its first page number, as soon as the parts before it are paginated; ``paging.publish(value)``
    hands the build a value (picklable) before the job ends (``run_in_order``'s ``published``)."""

    def __init__(self, first_page_of: Callable[[int], int], publish: Callable[[Any], None]):
        self.first_page_of, self.publish = first_page_of, publish

    def __call__(self, count: int) -> int:
        return self.first_page_of(count)


#: A job lays out and draws one part: ``job(paging, diags)``. It calls ``paging(page count)`` once, when the
#: part is paginated, and returns what the build needs of the part (picklable).
Job = Callable[[Paging, Diagnostics], T]
#: How many workers a build may use; ``None`` for the ``BRIEFPRESS_WORKERS`` environment variable, else as
#: many as the processors the build may run on.
WORKERS: int | None = None


def worker_count(jobs: int) -> int:
    """How many workers to run ``jobs`` jobs with; 1 means in the build's own process."""
    if not hasattr(os, "fork"):
        return 1
    available = WORKERS
    if available is None and os.environ.get("BRIEFPRESS_WORKERS", "").strip().isdigit():
        available = int(os.environ["BRIEFPRESS_WORKERS"])
    if available is None:
        available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(jobs, available))


class Channel:
    """One end of a pair of pipes carrying pickled messages between the build and a process it forked.

    (``multiprocessing.connection`` does the same, but importing it costs 30 ms, on the way to the fork.)
    Reads are unbuffered, so that ``select`` sees every message still to be read.
    """

    def __init__(self, read_fd: int, write_fd: int):
        self.read_fd: int | None = read_fd
        self.write_fd: int | None = write_fd

    @classmethod
    def pair(cls) -> tuple[Channel, Channel]:
        (a_read, b_write), (b_read, a_write) = os.pipe(), os.pipe()
        return cls(a_read, a_write), cls(b_read, b_write)

    def fileno(self) -> int:
        assert self.read_fd is not None
        return self.read_fd

    def send(self, message: object) -> None:
        if self.write_fd is None:
            raise OSError("the channel is closed")
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(struct.pack("<Q", len(data)) + data)
        while view:
            view = view[os.write(self.write_fd, view):]

    def recv(self) -> Any:
        (size,) = struct.unpack("<Q", self._read(8))
        return pickle.loads(self._read(size))

    def _read(self, size: int) -> bytes:
        if self.read_fd is None:
            raise EOFError("the channel is closed")
        chunks = []
        while size:
            chunk = os.read(self.read_fd, min(size, 1 << 20))
            if not chunk:
                raise EOFError("the other end closed")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    @property
    def closed(self) -> bool:
        return self.write_fd is None

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            if fd is not None:
                os.close(fd)
        self.read_fd = self.write_fd = None


def fork(serve: Callable[[Channel], None]) -> tuple[Channel, int]:
    """Fork a process that runs ``serve`` on its end of a channel, then exits (it never returns into the
    build). Return the build's end of the channel and the process's id."""
    ours, theirs = Channel.pair()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            ours.close()
            serve(theirs)
            status = 0
        finally:
            os._exit(status)
    theirs.close()
    return ours, pid


def failure(what: str, trace: str) -> RuntimeError:
    """The error for a forked process's failure: ``what`` failed, with the exception's own line; the
    traceback goes in a note, which only ``--debug`` shows."""
    lines = trace.strip().splitlines()
    error = RuntimeError(f"{what} failed: {lines[-1] if lines else 'no reason given'}")
    error.add_note(trace)
    return error


def reap(pid: int, kill: bool) -> None:
    """Wait for a forked process to exit; with ``kill``, end it first (a build that failed)."""
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os.waitpid(pid, 0)


def run_in_order(jobs: Sequence[Job[T]], diags: Diagnostics,
                 published: Callable[[int, Any], None] | None = None) -> list[T]:
    """Run ``jobs``, whose parts follow one another from page 1; return their results in order.

    Each job's diagnostics are added to ``diags``, in the order of the jobs. What a job publishes is handed
    to ``published(job's index, value)`` in this process, as it comes, while the jobs go on.
    """
    workers = worker_count(len(jobs))
    if workers == 1:
        return _in_process(jobs, diags, published or _ignore)
    return _Pool(jobs, workers).run(diags, published or _ignore)


def _ignore(index: int, value: Any) -> None:
    pass


def _in_process(jobs: Sequence[Job[T]], diags: Diagnostics, published: Callable[[int, Any], None]) -> list[T]:
    results, page = [], 1
    for index, job in enumerate(jobs):
        counted: list[int] = []

        def first_page_of(count: int, page: int = page) -> int:
            counted.append(count)
            return page

        results.append(job(Paging(first_page_of, lambda value, index=index: published(index, value)), diags))
        page += counted[0] if counted else 0
        gc.collect()  # page boxes hold reference cycles: free this part's before the next is laid out
    return results


class _Pool:
    """Forked workers, each taking the next job when it has finished one."""

    def __init__(self, jobs: Sequence[Job[T]], workers: int):
        self.jobs = jobs
        self.queue = deque(range(len(jobs)))
        self.pids: dict[Channel, int] = {}
        # Keep the objects already made out of the workers' collections, so that fewer of the pages they
        # share with this process are copied. (No collection first: with the collector off, that would
        # walk every object made so far, 0.1 s of the brief's PDF, to free next to nothing.)
        gc.freeze()
        try:
            for _ in range(workers):
                conn, pid = fork(self._serve)
                self.pids[conn] = pid
        finally:
            gc.unfreeze()

    def _serve(self, conn: Channel) -> None:
        """The worker's loop: run each job it is sent, asking the build for the part's first page."""
        while (index := conn.recv()) is not None:
            def first_page_of(count: int) -> int:
                conn.send(("count", index, count))
                return conn.recv()

            def publish(value: Any) -> None:
                conn.send(("published", index, value))

            try:
                diags = Diagnostics()
                result = self.jobs[index](Paging(first_page_of, publish), diags)
                conn.send(("done", index, result, diags.items))
            except BaseException:
                conn.send(("failed", index, traceback.format_exc()))
                return
            del result
            gc.collect()

    def run(self, diags: Diagnostics, published: Callable[[int, Any], None]) -> list[Any]:
        busy = list(self.pids)
        try:
            for conn in busy:
                self._next(conn)
            counts: dict[int, int] = {}
            asking: dict[int, Channel] = {}  # jobs waiting for their first page number
            done: dict[int, tuple[Any, list]] = {}
            while busy:
                for conn in select.select(busy, [], [])[0]:
                    try:
                        kind, index, *message = conn.recv()
                    except EOFError:
                        raise RuntimeError("a PDF layout worker stopped unexpectedly") from None
                    if kind == "failed":
                        raise failure(f"laying out part {index + 1} of the PDF", message[0])
                    if kind == "count":
                        counts[index] = message[0]
                        asking[index] = conn
                    elif kind == "published":
                        published(index, message[0])
                    else:
                        done[index] = (message[0], message[1])
                        counts.setdefault(index, 0)  # a part of no pages never asks
                        self._next(conn)
                        if conn.closed:
                            busy.remove(conn)
                start = 1
                for index in range(len(self.jobs)):  # answer in order: a part starts where the last ended
                    if index in asking:
                        asking.pop(index).send(start)
                    if index not in counts:
                        break
                    start += counts[index]
            results = []
            for index in range(len(self.jobs)):
                result, items = done[index]
                diags.items.extend(items)
                results.append(result)
            self._stop(kill=False)
            return results
        finally:
            self._stop(kill=True)

    def _next(self, conn: Channel) -> None:
        """Send a worker the next job, or tell it to stop."""
        if self.queue:
            conn.send(self.queue.popleft())
        else:
            conn.send(None)
            conn.close()

    def _stop(self, kill: bool) -> None:
        """Reap the workers: those told to stop exit by themselves; after a failure, the rest are killed."""
        for conn, pid in list(self.pids.items()):
            conn.close()
            reap(pid, kill)
            del self.pids[conn]
