"""A brief laid out in parts, on the typesetting side: in the printer process, or in the build's own.

``pdf.py`` splits the brief and makes a print job of its front (cover and contents) and of each run of
sections; this lays them out, side by side where there are processors to spare (``workers.py``), and
draws them. The front is laid out twice. First, among the parts, for the number of pages it takes (the
parts' page numbers start after it), with every page number in its contents at 0. Then again, with the
contents' page numbers filled in, in this process: for a short brief as soon as every part is paginated
and has published where its anchors fell (while the parts are still being drawn), for a long one once
the parts are done. Nothing here imports Jinja or
markdown-it, so that the printer can run it.
"""

from __future__ import annotations

import dataclasses
import html
import io
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from .errors import Diagnostics
from .pages import PageStart, starts_of
from .typeset import Layout, PrintJob, draw, typeset
from .workers import Paging, run_in_order, worker_count

#: Links from one part to another leave WeasyPrint as URIs of this scheme; joining makes them internal. In
#: the front, every link is one, with its target's printed page in ``data-page``.
CROSS_PART = "briefpress-part:"
_FRONT_LINK = re.compile(rf'href="{CROSS_PART}([^"]*)" data-page="\d+"')


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
        buffer = None
        if drawing:
            buffer = io.BytesIO()
            draw(laid_out, buffer, diags)
        return Drawn(None if buffer is None else buffer.getvalue(), len(laid_out.document.pages),
                     starts_of(laid_out), anchors_of(laid_out))
    finally:
        laid_out.release()


def anchors_of(laid_out: Layout) -> dict[str, int]:
    anchors: dict[str, int] = {}
    for index, laid_page in enumerate(laid_out.document.pages):
        for anchor in laid_page.anchors:
            anchors.setdefault(anchor, laid_out.first_page + index)
    return anchors


def lay_out_parts(front: PrintJob, parts: Sequence[PrintJob], drawing: bool, diags: Diagnostics) -> list[Drawn]:
    """The front, then each part laid out from the page the parts before it reach, drawn if ``drawing``.

    Without drawing (a page map only), the front is not laid out again: its contents' page numbers change
    no page break.
    """
    anchors: dict[int, dict[str, int]] = {}
    finished: list[Drawn] = []
    front_diags = Diagnostics()
    # Where every part has a worker of its own (a short brief), the front is laid out again as soon as the
    # parts are paginated, while they are drawn. A long brief's front (25 pages at 287 pages) waits for the
    # last parts to be drawn: laid out beside them, it took the peak of memory from about 210 MB to 290.
    early = len(parts) <= worker_count(len(parts) + 1)

    def lay_out_front_again() -> None:
        pages: dict[str, int] = {}
        for _, found in sorted(anchors.items()):
            for anchor, page in found.items():
                pages.setdefault(anchor, page)
        finished.append(lay_out_front(with_pages(front, pages), front_diags))

    def count(paging: Paging, diags: Diagnostics) -> int:
        laid_out = typeset(front, diags, paging)
        laid_out.release()
        return len(laid_out.document.pages)

    def part(job: PrintJob) -> Callable[[Paging, Diagnostics], Drawn]:
        def lay_out(paging: Paging, diags: Diagnostics) -> Drawn:
            laid_out = typeset(job, diags, paging)
            paging.publish(anchors_of(laid_out))
            return drawn(laid_out, diags, drawing)

        return lay_out

    def published(index: int, part_anchors: dict[str, int]) -> None:
        anchors[index] = part_anchors
        if drawing and early and len(anchors) == len(parts):
            lay_out_front_again()

    front_pages, *laid = run_in_order([count, *(part(job) for job in parts)], diags, published)
    if not drawing:
        return [Drawn(None, front_pages, [], {}), *laid]
    if not finished:
        lay_out_front_again()
    [front_drawn] = finished
    diags.items.extend(front_diags.items)
    if front_drawn.pages != front_pages:  # the numbers are placed beside the titles, not in the flow
        raise RuntimeError("the contents changed length once their page numbers were filled in")
    return [front_drawn, *laid]


def with_pages(front: PrintJob, pages: dict[str, int]) -> PrintJob:
    """The front's print job with each link's ``data-page`` set to its target's printed page."""
    def link(match: re.Match) -> str:
        return f'href="{CROSS_PART}{match.group(1)}" data-page="{pages.get(html.unescape(match.group(1)), 0)}"'

    return dataclasses.replace(front, source=_FRONT_LINK.sub(link, front.source))


def lay_out_front(job: PrintJob, diags: Diagnostics) -> Drawn:
    """The front laid out with its contents' page numbers, and drawn."""
    return drawn(typeset(job, diags), diags, drawing=True)
