"""The printer: a process forked as a build starts, to import WeasyPrint while the build renders the brief.

Importing WeasyPrint takes about half a second; loading and rendering the brief, with Jinja and
markdown-it, a third. The command line forks the printer before it imports any of that, so the two
happen side by side. The printer then lays out the one print job the build sends it, exactly as
``typeset.InProcess`` would (the same bytes: tested), writes the PDF where it is told and sends back the
page count, the page starts and its diagnostics. It dies with the build (``PR_SET_PDEATHSIG``), and a build
that fails kills it.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import struct
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from ..editions.typeset import PrintJob, Typeset, import_weasyprint, typeset
from ..errors import Diagnostics
from .hyphenation import preload

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
    build). Return the build's end of the channel and the process's id."""
    ours, theirs = Channel.pair()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            _die_with(parent)
            ours.close()
            serve(theirs)
            status = 0
        finally:
            os._exit(status)
    theirs.close()
    return ours, pid


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when the build dies (Linux), so that no printer works on alone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the build died before the request was made
        os._exit(1)


def failure(what: str, trace: str) -> RuntimeError:
    """The error for the printer's failure: ``what`` failed, with the exception's own line; the traceback
    goes in a note, which only ``--debug`` shows."""
    lines = trace.strip().splitlines()
    error = RuntimeError(f"{what} failed: {lines[-1] if lines else 'no reason given'}")
    error.add_note(trace)
    return error


class Printer:
    """The build's side of the printer process: a ``Typesetter`` for one job."""

    def __init__(self, conn: Channel, pid: int):
        self.conn = conn
        self.pid: int | None = pid  # None once reaped

    @classmethod
    def start(cls) -> Printer:
        """Fork the printer, which starts importing WeasyPrint at once."""
        return cls(*fork(_serve))

    def typeset(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
        """Have the printer lay ``job`` out (and draw it into ``target``); it then stops. A second job, which
        no build asks for, is laid out in this process."""
        if self.pid is None:
            return typeset(job, target, diags)
        try:
            self.conn.send((job, target))
            kind, *message = self.conn.recv()
        except (EOFError, OSError):
            self.close()
            raise RuntimeError("the PDF printer process stopped unexpectedly") from None
        if kind == "failed":
            self.close()
            raise failure("typesetting the PDF", message[0])
        self.close(wait=True)
        result, items = message
        diags.items.extend(items)
        return result

    def close(self, wait: bool = False) -> None:
        """Stop the printer and reap it: wait for it to finish, or (a build that failed) kill it."""
        if self.pid is None:
            return
        if not self.conn.closed:
            try:
                self.conn.send(None)  # no job: it stops once WeasyPrint is imported
            except OSError:
                pass
            self.conn.close()
        if not wait:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(self.pid, 0)
        self.pid = None


def _serve(conn: Channel) -> None:
    """The printer's side: import WeasyPrint, then lay out the one job it is sent, if any."""
    failed = None
    try:
        import_weasyprint()
    except BaseException:  # reported when a job comes, as the build would have met it
        failed = traceback.format_exc()
    try:
        request = conn.recv()
    except EOFError:
        return
    if request is None:
        return
    if failed is not None:
        conn.send(("failed", failed))
        return
    job, target = request
    try:
        diags = Diagnostics()
        preload(job.lang)
        result = typeset(job, target, diags)
        conn.send(("done", result, diags.items))
    except BaseException:
        conn.send(("failed", traceback.format_exc()))
    sys.stdout.flush()
