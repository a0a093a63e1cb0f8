"""The printer: a process forked as a build starts, to import WeasyPrint while the build renders the brief.

Importing WeasyPrint takes about 0.5 s; loading and rendering the brief, with Jinja and markdown-it, about
0.3 s. The command line forks the printer before it imports any of that, so the two happen side by side.
The printer imports only ``typeset`` (WeasyPrint) and ``parts``, then does the one thing the build asks:
typeset a whole brief's print job, writing the PDF where it is told; or lay a brief out in parts, in
workers it forks (which share its import of WeasyPrint). It sends back what the build needs of the
layout and its diagnostics, and gives the same bytes as typesetting in the build's own process. An EPUB
built without a PDF, into an output folder that keeps no page map, uses it too: its page list needs the
layout.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .errors import Diagnostics
from .workers import Channel, failure, fork, reap, worker_count

if TYPE_CHECKING:
    from .pages import PageStart
    from .parts import Drawn
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
        starts. The printer then stops."""
        return self._ask(("whole", job, target), diags)

    def parts(self, front: PrintJob, parts: list[PrintJob], drawing: bool, diags: Diagnostics,
              meanwhile: Callable[[], None] | None = None) -> list[Drawn]:
        """Lay a brief out in parts, side by side in workers forked from the printer, which share its
        import of WeasyPrint (see ``parts.lay_out_parts``); the build runs ``meanwhile`` while it waits.
        The printer then stops."""
        return self._ask(("parts", front, parts, drawing), diags, meanwhile)

    def _ask(self, request: tuple, diags: Diagnostics, meanwhile: Callable[[], None] | None = None) -> Any:
        """Send the printer its one request and wait for the reply; the printer then stops."""
        try:
            self.conn.send(request)
            if meanwhile is not None:
                meanwhile()
            kind, *message = self.conn.recv()
        except (EOFError, OSError):
            self.close()
            raise RuntimeError("the PDF printer process stopped unexpectedly") from None
        if kind == "failed":
            self.close()
            raise failure("typesetting the PDF", message[0])
        self.close(wait=True)
        reply, items = message
        diags.items.extend(items)
        return reply

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
    """The printer's side: import WeasyPrint, then do the one thing it is asked, if anything."""
    failure = None
    try:
        from .parts import lay_out_parts
        from .typeset import import_weasyprint, typeset_whole

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
    kind, *args = request
    try:
        diags = Diagnostics()
        reply = typeset_whole(*args, diags) if kind == "whole" else lay_out_parts(*args, diags)
        conn.send(("done", reply, diags.items))
    except BaseException:
        conn.send(("failed", traceback.format_exc()))
