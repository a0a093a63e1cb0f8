"""Speed-ups: opt-in, turned on by the command line only, never imported by the core pipeline.

- ``printer``: a process forked as the build starts imports WeasyPrint while the build renders the brief,
  then lays out the print job (Linux, where ``fork`` is safe; the same bytes as a layout in-process).
- ``drawing``: a long brief's parts drawn in forked processes while the next part is laid out.
- ``hyphenation``: pyphen's patterns kept parsed in the package's ``__pycache__``.
- ``no_cycle_collection``: Python's cycle collector off for the build's short life.

``BRIEFPRESS_SPEEDUPS=off`` turns them all off, and ``BRIEFPRESS_SPEEDUPS=no-printer,no-gc`` those named
(``switches``), for A/B measurement (``make bench``) and for debugging. A build called as a library
(``briefpress.build.build``) uses none of them.
"""

from __future__ import annotations

import gc
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..editions.typeset import InProcess, PrintJob, Typeset, Typesetter
from ..errors import Diagnostics
from .drawing import typeset_fast
from .printer import Printer
from .switches import on


def enabled() -> bool:
    """Whether speed-ups are on: unless ``BRIEFPRESS_SPEEDUPS=off``."""
    return os.environ.get("BRIEFPRESS_SPEEDUPS", "").strip().lower() != "off"


def can_fork() -> bool:
    """Whether the printer may be forked: on Linux, from a process that has not imported WeasyPrint yet."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and "weasyprint" not in sys.modules


class Preloading(InProcess):
    """WeasyPrint in the build's own process, with the speed-ups of ``drawing.typeset_fast``."""

    def typeset(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
        return typeset_fast(job, target, diags)


def typesetter(laying_out: bool) -> tuple[Typesetter, Printer | None]:
    """The typesetter for a build, and the printer to close after it, if one was forked (only when the
    build will lay the brief out)."""
    if laying_out and can_fork() and on("printer"):
        printer = Printer.start()
        return printer, printer
    return Preloading(), None


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Run without Python's cycle collector, and set it back as it was.

    A build is short-lived and makes little cyclic garbage, but the collector would walk its objects several
    hundred times. Memory is freed by reference counting as usual.
    """
    if not on("gc"):
        yield
        return
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
