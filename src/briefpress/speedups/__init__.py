"""Speed-ups: opt-in, turned on by the command line only, never imported by the core pipeline.

- ``printer``: a process forked as the build starts imports WeasyPrint while the build renders the brief,
  then lays out the print job (Linux, where ``fork`` is safe; the same bytes as a layout in-process).
- ``drawing``: a long brief's parts drawn in forked processes while the next part is laid out.
- ``path``: the printer imports WeasyPrint with an empty ``PATH`` (see ``printer.import_without_compilers``).
- ``server``: a rebuild handed to the build server, which keeps the brief's layouts loaded between builds
  (``server``; the same bytes as a build of its own).
- ``exit``: once the command has returned, the process ends without Python's teardown (``quickexit``).
- ``ffi``: the printer imports WeasyPrint with its C declarations precompiled (``declarations``).

Each stays because ``make bench`` shows its gain, measured on its own against all on (``exit`` and ``ffi``,
whose gains are near the bench's noise, also measured directly; see ``docs/performance.md``); pyphen's patterns kept parsed and Python's cycle collector switched off were
measured the same way and dropped.

``BRIEFPRESS_SPEEDUPS=off`` turns them all off, and ``BRIEFPRESS_SPEEDUPS=no-printer,no-gc`` those named
(``switches``), for A/B measurement (``make bench``) and for debugging. A build called as a library
(``briefpress.build.build``) uses none of them.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from .switches import NAMES, on

if TYPE_CHECKING:
    from ..editions.typeset import Typesetter
    from .printer import Printer


def enabled() -> bool:
    """Whether any speed-up is on (``switches``)."""
    return any(on(name) for name in NAMES)


def can_fork() -> bool:
    """Whether the printer may be forked: on Linux, from a process that has not imported WeasyPrint yet."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and "weasyprint" not in sys.modules


def typesetter(laying_out: bool, many: bool = False) -> tuple[Typesetter, Printer | None]:
    """The typesetter for a build, and the printer to close after it, if one was forked (only when the
    build will lay the brief out). A shelf's printer lays out ``many`` briefs, one after another.

    (Imported here, not above: a build that asks the build server (``server``) needs none of it.)"""
    from .drawing import Here
    from .printer import Printer

    if laying_out and can_fork() and on("printer"):
        printer = Printer.start(many)
        return printer, printer
    return Here(), None
