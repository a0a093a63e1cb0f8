"""The printer: a process forked as a build starts, to import WeasyPrint while the build renders the brief.

Importing WeasyPrint takes about 0.5 s; loading and rendering the brief, with Jinja and markdown-it, about
0.3 s. The command line forks the printer before it imports any of that, so the two happen side by side.
The printer imports only ``typeset`` (WeasyPrint), then waits for one print job, lays it out, writes the
PDF where it is told and sends back the page count, the page starts and its diagnostics. It gives the
same bytes as typesetting in the build's own process. An EPUB built without a PDF, into an output folder
that keeps no page map, uses it too: its page list needs the layout.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Diagnostics
from .workers import Channel, fork, reap, worker_count

if TYPE_CHECKING:
    from .pages import PageStart
    from .typeset import PrintJob


class Printer:
    """The build's side of the printer process."""

    def __init__(self, conn: Channel, pid: int):
        self.conn = conn
        self.pid: int | None = pid  # None once reaped

    @classmethod
    def start(cls) -> Printer | None:
        """Fork the printer; ``None`` where processes cannot be forked or there is no processor to spare."""
        if worker_count(2) < 2:
            return None
        return cls(*fork(_serve))

    def print(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> tuple[int, list[PageStart]]:
        """Typeset ``job`` into ``target`` (or only lay it out); return the page count and where each page
        starts."""
        try:
            self.conn.send((job, target))
            kind, *message = self.conn.recv()
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
        reap(self.pid, kill=not wait)
        self.pid = None


def _serve(conn: Channel) -> None:
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
    job, target = request
    try:
        diags = Diagnostics()
        laid_out = typeset(job, diags)
        if target is not None:
            draw(laid_out, target, diags)
        conn.send(("done", len(laid_out.document.pages), starts_of(laid_out), diags.items))
    except BaseException:
        conn.send(("failed", traceback.format_exc()))
