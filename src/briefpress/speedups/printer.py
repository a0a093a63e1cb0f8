"""The printer: a process forked as a build starts, to import WeasyPrint while the build renders the brief.

Importing WeasyPrint takes about half a second; loading and rendering the brief, with Jinja and
markdown-it, a third. The command line forks the printer before it imports any of that, so the two
happen side by side. The printer then lays out the one print job the build sends it, exactly as
``typeset.InProcess`` would (the same bytes: tested), writes the PDF where it is told and sends back the
page count, the page starts, its diagnostics and the files it read. It dies with the build
(``PR_SET_PDEATHSIG``), and a build that fails kills it.

A shelf keeps its printer for every brief (``Printer.start(many=True)``): while it lays out one brief's PDF,
the shelf renders the next brief and draws the last one's pictures.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Callable

from ..editions.typeset import PrintJob, Typeset, forget_weasyprint, import_weasyprint
from ..errors import Diagnostics
from ..resources import note_reads, recording_reads
from . import declarations
from .drawing import typeset_fast
from .processes import Channel, failed, failure, fork
from .switches import on


class Printer:
    """The build's side of the printer process: a ``Typesetter`` for one job, or for one job at a time until
    it is closed (``many``)."""

    def __init__(self, conn: Channel, pid: int, many: bool = False):
        self.conn = conn
        self.pid: int | None = pid  # None once reaped
        self.many = many

    @classmethod
    def start(cls, many: bool = False) -> Printer:
        """Fork the printer, which starts importing WeasyPrint at once."""
        return cls(*fork(_serve), many=many)

    def typeset(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
        """Have the printer lay ``job`` out (and draw it into ``target``); unless it serves ``many``, it then
        stops, and a second job is laid out in this process."""
        return self.submit(job, target, diags)()

    def submit(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Callable[[], Typeset]:
        """Send the printer ``job`` and return at once: the build writes its other editions meanwhile. The
        function returned waits for the printer, and gives what ``typeset`` gives."""
        if self.pid is None:
            result = typeset_fast(job, target, diags)
            return lambda: result
        try:
            self.conn.send((job, target))
        except (EOFError, OSError):
            self.close()
            raise RuntimeError("the PDF printer process stopped unexpectedly") from None
        return lambda: self._receive(diags)

    def _receive(self, diags: Diagnostics) -> Typeset:
        try:
            kind, *message = self.conn.recv()
        except (EOFError, OSError):
            self.close()
            raise RuntimeError("the PDF printer process stopped unexpectedly") from None
        except BaseException:  # stopped (a signal): the printer stops too, before the build removes its files
            self.close()
            raise
        if kind == "failed":
            self.close()
            raise failure("typesetting the PDF", *message)
        if not self.many:
            self.close(wait=True)
        result, items, reads = message
        diags.add(*items)
        note_reads(reads)  # the files it read, as if they had been read here
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


def import_without_compilers() -> None:
    """Import WeasyPrint with an empty ``PATH``, then set it back.

    WeasyPrint tries several names for each C library, Windows and macOS ones first. For each name that does
    not load, cffi asks ``ctypes.util.find_library``, which on Linux reads ``ldconfig``'s cache and then, as
    documented, runs ``gcc`` and ``ld`` to search: a third of the import's time on a machine with a
    compiler. Every list also holds the Linux soname, which loads directly. Without a ``PATH`` the search
    skips the compilers. Should the import fail so, it is tried again with the ``PATH`` as it was.
    """
    saved = os.environ.get("PATH")
    os.environ["PATH"] = ""
    try:
        import_weasyprint()
        return
    except OSError:
        forget_weasyprint()
    finally:
        if saved is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = saved
    import_weasyprint()


def import_fast() -> None:
    """Import WeasyPrint with the speed-ups of its import that are on: its C declarations precompiled
    (``ffi``: ``declarations``), and an empty ``PATH`` (``path``: ``import_without_compilers``)."""
    declarations.import_with(import_without_compilers if on("path") else import_weasyprint)


def _serve(conn: Channel) -> None:
    """The printer's side: import WeasyPrint, then lay out each job it is sent, until it is sent none."""
    error: BaseException | None = None
    try:
        import_fast()
    except BaseException as exc:  # reported when a job comes, as the build would have met it
        error = exc
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        if error is not None:
            failed(conn, error)
            return
        job, target = request
        try:
            diags = Diagnostics()
            with recording_reads() as reads:
                result = typeset_fast(job, target, diags)
            conn.send(("done", result, diags.items, reads))
        except BaseException as exc:
            failed(conn, exc)
            return
        finally:
            sys.stdout.flush()
