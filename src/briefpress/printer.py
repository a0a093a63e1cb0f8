"""The printer: a process forked as a build starts, to import WeasyPrint while the build renders the brief.

Importing WeasyPrint takes about 0.5 s; loading and rendering the brief, with Jinja and markdown-it, about
0.3 s. The command line forks the printer before it imports any of that, so the two happen side by side.
The printer imports only ``typeset`` (WeasyPrint), then waits for one print job, lays it out, writes the
PDF where it is told and sends back the page count, the page starts and its diagnostics. It gives the
same bytes as typesetting in the build's own process. An EPUB built without a PDF, into an output folder
that keeps no page map, uses it too: its page list needs the layout.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Diagnostics

if TYPE_CHECKING:
    from .pages import PageStart
    from .typeset import PrintJob


class _Channel:
    """One end of a pair of pipes carrying pickled messages. (``multiprocessing.connection`` does the same,
    but importing it costs 30 ms, on the way to the fork.)"""

    def __init__(self, read_fd: int, write_fd: int):
        self.reader, self.writer = os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb")

    @classmethod
    def pair(cls) -> tuple[_Channel, _Channel]:
        (a_read, b_write), (b_read, a_write) = os.pipe(), os.pipe()
        return cls(a_read, a_write), cls(b_read, b_write)

    def send(self, message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.writer.write(struct.pack("<Q", len(data)) + data)
        self.writer.flush()

    def recv(self) -> object:
        head = self.reader.read(8)
        if len(head) < 8:
            raise EOFError("the other end closed")
        (size,) = struct.unpack("<Q", head)
        data = self.reader.read(size)
        if len(data) < size:
            raise EOFError("the other end closed")
        return pickle.loads(data)

    @property
    def closed(self) -> bool:
        return self.writer.closed

    def close(self) -> None:
        for stream in (self.writer, self.reader):
            try:
                stream.close()
            except OSError:
                pass


class Printer:
    """The build's side of the printer process."""

    def __init__(self, conn: _Channel, pid: int):
        self.conn = conn
        self.pid: int | None = pid  # None once reaped

    @classmethod
    def start(cls) -> Printer | None:
        """Fork the printer; ``None`` where processes cannot be forked or there is no processor to spare."""
        from .workers import worker_count

        if worker_count(2) < 2:
            return None
        ours, theirs = _Channel.pair()
        pid = os.fork()
        if pid == 0:  # the printer: never returns into the build
            status = 1
            try:
                ours.close()
                _serve(theirs)
                status = 0
            finally:
                os._exit(status)
        theirs.close()
        return cls(ours, pid)

    def print(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> tuple[int, list[PageStart]]:
        """Typeset ``job`` into ``target`` (or only lay it out); return the page count and where each page
        starts."""
        try:
            self.conn.send((job, target))
            kind, *message = self.conn.recv()  # type: ignore[misc]
        except (EOFError, OSError):
            raise RuntimeError("the PDF printer process stopped unexpectedly") from None
        finally:
            self.close(wait=True)
        if kind == "failed":
            raise RuntimeError(f"typesetting the PDF failed:\n{message[0]}")
        pages, starts, items = message
        diags.items.extend(items)
        return pages, starts

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


def _serve(conn: _Channel) -> None:
    """The printer's side: import WeasyPrint, then typeset the one job it is sent, if any."""
    failure = None
    try:
        from .pages import starts_of
        from .typeset import draw, import_weasyprint, typeset

        import_weasyprint()
    except BaseException:  # reported when a job comes, as the build would have met it
        failure = traceback.format_exc()
    try:
        request = conn.recv()
    except EOFError:
        return
    if request is None:
        return
    if failure is not None:
        conn.send(("failed", failure))
        return
    job, target = request  # type: ignore[misc]
    try:
        diags = Diagnostics()
        laid_out = typeset(job, diags)
        if target is not None:
            draw(laid_out, target, diags)
        conn.send(("done", len(laid_out.document.pages), starts_of(laid_out), diags.items))
    except BaseException:
        conn.send(("failed", traceback.format_exc()))
