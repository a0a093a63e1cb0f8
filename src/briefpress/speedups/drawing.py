"""Parts drawn beside the layout: a long brief's next part is laid out while a forked process draws the last.

Drawing (writing the PDF, with its font subsets) is about a third of a part's time. Once a part is laid
out, ``ForkedDrawing.draw`` forks a process that inherits the layout, draws it into a file in the build's
private temporary folder and exits, while this process goes on with the next part. One part is drawn at
a time, so at most two parts' layouts are held in memory. The bytes are those the plain
``typeset.DrawnHere`` gives (tested): the same layout, drawn by the same code.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..editions.typeset import InProcess, PrintJob, Typeset, draw, typeset
from ..errors import Diagnostics
from ..exits import deferred
from .processes import Channel, failed, failure, fork
from .switches import on


class ForkedDrawing:
    """A ``typeset.Drawing`` that draws each part in a forked process."""

    def __init__(self) -> None:
        self.files: list[Path] = []
        self.running: tuple[int, Channel, Diagnostics] | None = None  # the part being drawn

    def draw(self, document: Any, job: PrintJob, diags: Diagnostics) -> None:
        self._wait()
        fd, name = tempfile.mkstemp(suffix=".pdf")
        os.close(fd)
        path = Path(name)
        self.files.append(path)

        def serve(conn: Channel) -> None:
            found = Diagnostics()
            try:
                draw(document, job, path, found)
                conn.send(("done", found.items))
            except BaseException as exc:
                failed(conn, exc)

        with deferred():  # forked and recorded together, to be stopped whatever happens
            conn, pid = fork(serve)
            self.running = (pid, conn, diags)

    def _wait(self) -> None:
        """Wait for the part being drawn, if any; add its diagnostics, or raise its failure."""
        if self.running is None:
            return
        pid, conn, diags = self.running
        try:
            kind, *payload = conn.recv()
        except (EOFError, OSError):
            self.abandon()
            raise RuntimeError("a process drawing part of the PDF stopped unexpectedly") from None
        # Stopped meanwhile (a signal), it is still running: ``abandon`` stops it.
        self.running = None
        conn.close()
        os.waitpid(pid, 0)
        if kind == "failed":
            raise failure("drawing part of the PDF", *payload)
        diags.add(*payload[0])

    def results(self) -> list[bytes]:
        self._wait()
        return [path.read_bytes() for path in self.files]

    def abandon(self) -> None:
        """Stop a drawing process still running (the build failed)."""
        if self.running is not None:
            pid, conn, _ = self.running
            self.running = None
            conn.close()
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)


def typeset_fast(job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
    """``typeset.typeset`` with a long brief's parts drawn beside the layout, where processes can be
    forked."""
    if not (job.parts and sys.platform.startswith("linux") and on("drawing")):  # fork is safe on Linux
        return typeset(job, target, diags)
    drawing = ForkedDrawing()
    try:
        return typeset(job, target, diags, drawing)
    finally:
        drawing.abandon()


class Here(InProcess):
    """WeasyPrint in the build's own process, with a long brief's parts drawn beside (``drawing``)."""

    def typeset(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
        return typeset_fast(job, target, diags)
