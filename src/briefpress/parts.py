"""A brief laid out in parts, on the typesetting side: in the printer process, or in the build's own.

``pdf.py`` splits the brief and makes a print job of its front (cover and contents) and of each run of
sections; this lays them out, side by side where there are processors to spare (``workers.py``), and
draws them. The front is laid out twice: first, among the parts, for the number of pages it takes (the
parts' page numbers start after it); last, with the contents' page numbers filled in (``lay_out_front``).
Nothing here imports Jinja or markdown-it, so that the printer can run it.
"""

from __future__ import annotations

import gc
import io
from dataclasses import dataclass
from typing import Callable, Sequence

from .errors import Diagnostics
from .pages import PageStart, starts_of
from .typeset import Layout, PrintJob, draw, typeset
from .workers import run_in_order


@dataclass
class Drawn:
    """What a build keeps of one part once it is laid out (and drawn)."""

    pdf: bytes | None  # None when only the page map was wanted
    pages: int
    starts: list[PageStart]
    anchors: dict[str, int]  # element id: printed page number


def drawn(laid_out: Layout, diags: Diagnostics, drawing: bool) -> Drawn:
    """What the build needs of a layout, drawn if ``drawing``; the layout is released."""
    try:
        anchors: dict[str, int] = {}
        for index, laid_page in enumerate(laid_out.document.pages):
            for anchor in laid_page.anchors:
                anchors.setdefault(anchor, laid_out.first_page + index)
        buffer = None
        if drawing:
            buffer = io.BytesIO()
            draw(laid_out, buffer, diags)
        return Drawn(None if buffer is None else buffer.getvalue(), len(laid_out.document.pages),
                     starts_of(laid_out), anchors)
    finally:
        laid_out.release()


def lay_out_parts(front: PrintJob, parts: Sequence[PrintJob], drawing: bool,
                  diags: Diagnostics) -> tuple[int, list[Drawn]]:
    """The front's page count, and each part laid out from the page the parts before it reach."""
    def count(first_page_of: Callable[[int], int], diags: Diagnostics) -> int:
        laid_out = typeset(front, diags, first_page_of)
        laid_out.release()
        return len(laid_out.document.pages)

    def part(job: PrintJob) -> Callable[[Callable[[int], int], Diagnostics], Drawn]:
        return lambda first_page_of, diags: drawn(typeset(job, diags, first_page_of), diags, drawing)

    front_pages, *laid = run_in_order([count, *(part(job) for job in parts)], diags)
    return front_pages, laid


def lay_out_front(job: PrintJob, drawing: bool, diags: Diagnostics) -> Drawn:
    """The front laid out again, last, its contents' page numbers known, and drawn."""
    laid_out = typeset(job, diags)
    result = drawn(laid_out, diags, drawing)
    del laid_out
    gc.collect()  # its page boxes hold reference cycles: free them before the parts are joined
    return result
