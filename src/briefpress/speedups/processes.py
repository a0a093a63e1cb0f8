"""Processes the speed-ups fork: a channel of pickled messages, the fork itself, and how a forked process
dies with the one that forked it."""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import struct
import traceback
from typing import Any, Callable

from ..exits import STOPPING
from ..outputs import NO_ROOM

PR_SET_PDEATHSIG = 1


class Channel:
    """One end of a pair of pipes carrying pickled messages between the build and the printer.

    (``multiprocessing.connection`` does the same, but importing it costs 30 ms, on the way to the fork.)
    """

    def __init__(self, read_fd: int, write_fd: int):
        self.read_fd: int | None = read_fd
        self.write_fd: int | None = write_fd

    @classmethod
    def pair(cls) -> tuple[Channel, Channel]:
        (a_read, b_write), (b_read, a_write) = os.pipe(), os.pipe()
        return cls(a_read, a_write), cls(b_read, b_write)

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
    build). Return the build's end of the channel and the process's id.

    The caller forks and records the process with the stopping signals held back (``exits.deferred``), so
    that a stop cannot come between the two and leave the process unknown to the build; the process takes
    those signals again at once."""
    ours, theirs = Channel.pair()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            die_with_parent(parent)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)
            ours.close()
            serve(theirs)
            status = 0
        finally:
            os._exit(status)
    theirs.close()
    return ours, pid


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` dies (Linux), so that nothing works on alone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died already
        os._exit(1)


def failed(conn: Channel, exc: BaseException) -> None:
    """Tell the build that the work failed with ``exc``: its traceback and, for a file system's error (a full
    disk), the error itself, which the build reports as its own."""
    trace = "".join(traceback.format_exception(exc))
    conn.send(("failed", trace, exc if isinstance(exc, OSError) and exc.errno in NO_ROOM else None))


def failure(what: str, trace: str, error: OSError | None = None) -> Exception:
    """The error for a forked process's failure: a file system's error as it was met, else ``what``
    failed, with the exception's own line; the traceback goes in a note, which only ``--debug`` shows."""
    if error is not None:
        error.add_note(trace)
        return error
    lines = trace.strip().splitlines()
    failed = RuntimeError(f"{what} failed: {lines[-1] if lines else 'no reason given'}")
    failed.add_note(trace)
    return failed
