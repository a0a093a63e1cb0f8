"""PDF writer: assemble the brief's print edition and have it typeset (``typeset.py``), whole or in parts.

A long brief is laid out in parts, side by side where there are processors to spare (``workers.py``),
and the parts are joined (``join.py``).
"""

from __future__ import annotations

import gc
import html as html_lib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from markupsafe import Markup

from .assemble import Assembler, stylesheet_path
from .errors import Diagnostics
from .pages import PageStart, remember, starts_of
from .render import Rendered
from .resources import FONT_PACKAGES, font_dir
from .typeset import Layout, PrintJob, draw, typeset

# (family, package, file, weight, style)
FONTS = (
    ("Source Serif Pro", FONT_PACKAGES[0], "SourceSerifPro-Regular.ttf", "400", "normal"),
    ("Source Serif Pro", FONT_PACKAGES[0], "SourceSerifPro-It.ttf", "400", "italic"),
    ("Source Serif Pro", FONT_PACKAGES[0], "SourceSerifPro-Semibold.ttf", "600", "normal"),
    ("Source Serif Pro", FONT_PACKAGES[0], "SourceSerifPro-Bold.ttf", "700", "normal"),
    ("Source Serif Pro", FONT_PACKAGES[0], "SourceSerifPro-BoldIt.ttf", "700", "italic"),
    ("Source Sans Pro", FONT_PACKAGES[1], "SourceSansPro-Regular.ttf", "400", "normal"),
    ("Source Sans Pro", FONT_PACKAGES[1], "SourceSansPro-It.ttf", "400", "italic"),
    ("Source Sans Pro", FONT_PACKAGES[1], "SourceSansPro-Semibold.ttf", "600", "normal"),
    ("Source Sans Pro", FONT_PACKAGES[1], "SourceSansPro-Bold.ttf", "700", "normal"),
)
STYLESHEETS = ("common.css", "print.css")


def font_faces() -> list[dict[str, str]]:
    """Return the ``@font-face`` rules of the design, pointing at the installed font files."""
    return [{"family": family, "url": (font_dir(package) / name).as_uri(), "weight": weight, "style": style}
            for family, package, name, weight, style in FONTS]


#: A brief whose sections hold more than ``WHOLE_CHARS`` characters of source (some 90 pages) is laid out in
#: parts of about ``PART_CHARS`` (some 30 pages), side by side where there are processors to spare, and
#: the parts' PDFs are joined. WeasyPrint keeps every page of a document in memory until it is written,
#: about 1.3 MB a page: parts keep a long brief's peak down, and let several processors share its layout.
WHOLE_CHARS = 180_000
PART_CHARS = 60_000
#: Links from one part to another leave WeasyPrint as URIs of this scheme; joining makes them internal.
CROSS_PART = "briefpress-part:"


@dataclass(frozen=True)
class Part:
    """One part of a long brief: the cover and contents (``front``), or a run of sections."""

    section_ids: frozenset[str]
    front: bool
    first_page: int
    notes_before: int
    title_css: Markup


def plan(rendered: Rendered) -> list[list[str]] | None:
    """Split a long brief's sections into runs for separate layout; ``None`` for a brief laid out whole."""
    sizes = [(part.id, len(part.section.source)) for part in rendered.sections]
    if sum(size for _, size in sizes) <= WHOLE_CHARS:
        return None
    runs: list[list[str]] = [[]]
    filled = 0
    for section_id, size in sizes:
        if runs[-1] and filled + size > PART_CHARS:
            runs.append([])
            filled = 0
        runs[-1].append(section_id)
        filled += size
    return runs


def print_job(rendered: Rendered, part: Part | None = None, toc_pages: dict[str, int] | None = None) -> PrintJob:
    """The brief's print edition, or one part of it, ready to typeset. ``toc_pages`` gives the contents of
    a separately laid-out front its page numbers."""
    source = Assembler(rendered).pdf(font_faces(), part)
    if part is not None:
        source = _cross_part_links(rendered, source, part, toc_pages)
    meta = rendered.brief.metadata
    return PrintJob(rendered.brief.root, dict(rendered.assets), source,
                    tuple(stylesheet_path(rendered, name) for name in STYLESHEETS), meta.lang,
                    meta.identifier, meta.last_modified, 1 if part is None else part.first_page,
                    link_pages=part is not None and part.front)  # the contents' numbers are known


def layout(rendered: Rendered, diags: Diagnostics, part: Part | None = None,
           toc_pages: dict[str, int] | None = None, first_page_of: Callable[[int], int] | None = None) -> Layout:
    """Lay the brief (or one part of it) out in pages (see ``print_job`` and ``typeset.typeset``)."""
    return typeset(print_job(rendered, part, toc_pages), diags, first_page_of)


def _cross_part_links(rendered: Rendered, source: str, part: Part, toc_pages: dict[str, int] | None) -> str:
    """Point links to other parts at ``CROSS_PART`` URIs; give the contents' links their page numbers."""
    def link(match: re.Match) -> str:
        target = html_lib.unescape(match.group(1))
        if rendered.id_owner.get(target) in part.section_ids:
            return match.group(0)
        page = f' data-page="{toc_pages.get(target, 0)}"' if toc_pages is not None else ""
        return f'href="{CROSS_PART}{match.group(1)}"{page}'

    return re.sub(r'href="#([^"]*)"', link, source)


@dataclass
class Drawn:
    """What a build keeps of one part of a long brief once it is laid out (and drawn)."""

    pdf: bytes | None  # None when only the page map was wanted
    starts: list[PageStart]
    anchors: dict[str, int]  # element id: printed page number


def _drawn(laid_out: Layout, diags: Diagnostics, drawing: bool) -> Drawn:
    anchors: dict[str, int] = {}
    for index, laid_page in enumerate(laid_out.document.pages):
        for anchor in laid_page.anchors:
            anchors.setdefault(anchor, laid_out.first_page + index)
    buffer = None
    if drawing:
        buffer = io.BytesIO()
        draw(laid_out, buffer, diags)
    return Drawn(None if buffer is None else buffer.getvalue(), starts_of(laid_out), anchors)


def in_parts(rendered: Rendered, diags: Diagnostics, runs: list[list[str]], drawing: bool = True) -> list[Drawn]:
    """Lay a long brief out part by part, the front (cover and contents) first in the result.

    The front is laid out first to learn its length, then each run of sections, starting from the page
    and note numbers the parts before it reached, then the front again, last, with the contents' page
    numbers filled in. Each section begins a page, so the pages are those the whole brief laid out at
    once would have. The front's first layout and the runs are laid out side by side where the machine
    has processors to spare (see ``workers``).
    """
    from .workers import run_in_order

    title = Markup(_css_string(rendered.brief.metadata.title))
    sections = {part.id: part for part in rendered.sections}
    front = Part(frozenset(), True, 1, 0, title)

    def job(run: list[str]) -> Callable[[Callable[[int], int], Diagnostics], Drawn]:
        part = Part(frozenset(run), False, 1, sections[run[0]].note_offset, title)
        return lambda first_page_of, diags: _drawn(
            layout(rendered, diags, part, first_page_of=first_page_of), diags, drawing)

    def count_front(first_page_of: Callable[[int], int], diags: Diagnostics) -> int:
        return len(layout(rendered, diags, front, toc_pages={}, first_page_of=first_page_of).document.pages)

    # The front is laid out twice: first (as a job of its own, among the parts) for the number of pages
    # it takes, which the parts' page numbers start after; then once the parts give its contents their
    # page numbers, which do not change its length.
    front_pages, *parts = run_in_order([count_front, *(job(run) for run in runs)], diags)
    toc_pages: dict[str, int] = {}
    for part in parts:
        for anchor, page in part.anchors.items():
            toc_pages.setdefault(anchor, page)
    laid_out = layout(rendered, diags, front, toc_pages=toc_pages)
    if len(laid_out.document.pages) != front_pages:  # the numbers are placed beside the titles, not in the flow
        raise RuntimeError("the contents changed length once their page numbers were filled in")
    front_drawn = _drawn(laid_out, diags, drawing)
    del laid_out
    gc.collect()  # its page boxes hold reference cycles: free them before the parts are joined
    return [front_drawn, *parts]


def _css_string(text: str) -> str:
    """``text`` as a CSS string, every character but letters, digits and spaces escaped."""
    return '"' + "".join(c if c.isalnum() and c.isascii() or c == " " else f"\\{ord(c):x} " for c in text) + '"'


def shared_layout(rendered: Rendered, diags: Diagnostics, shared: dict) -> Layout:
    """Lay out once per build, whichever writer asks first."""
    if "layout" not in shared:
        shared["layout"] = layout(rendered, diags)
        shared["pdf_source"] = shared["layout"].job.source  # for the page map's key
    return shared["layout"]


def _by_printer(rendered: Rendered, diags: Diagnostics, shared: dict, runs: list[list[str]] | None,
                target: Path | None) -> tuple[int, list[PageStart]] | None:
    """Typeset the brief in the printer this build started (``printer.py``), into ``target`` or for its page
    starts only; return the page count and the starts. ``None`` where there is no printer, or where it
    cannot serve and has been stopped: parts are laid out by workers, and a layout this build already
    made is reused."""
    printer = shared.pop("printer", None)
    if printer is None:
        return None
    if runs is not None or "layout" in shared:
        printer.close()
        return None
    job = print_job(rendered)
    shared["pdf_source"] = job.source  # for the page map's key
    return printer.print(job, target, diags)


def paginate(rendered: Rendered, diags: Diagnostics, shared: dict) -> list[PageStart]:
    """Where each printed page begins, from a layout made for the purpose (or already made in this build)."""
    runs = plan(rendered)
    # A build with a PDF keeps the printer for it, and the layout made here serves the PDF too.
    printed = _by_printer(rendered, diags, shared, runs, None) if "pdf" not in shared.get("formats", ()) else None
    if printed is not None:
        return printed[1]
    if runs is None:
        return starts_of(shared_layout(rendered, diags, shared))
    return [start for part in in_parts(rendered, diags, runs, drawing=False) for start in part.starts]


def write_pdf(rendered: Rendered, target: Path, diags: Diagnostics, shared: dict | None = None) -> int:
    """Write the brief as a tagged PDF (PDF/UA-1) to ``target``; return the page count.

    A long brief is written part by part (see ``plan``), and the parts are joined into one PDF.
    """
    shared = {} if shared is None else shared
    runs = plan(rendered)
    printed = _by_printer(rendered, diags, shared, runs, target)
    if printed is not None:
        pages, starts = printed
    elif runs is None:
        laid_out = shared_layout(rendered, diags, shared)
        starts = starts_of(laid_out)
        draw(laid_out, target, diags)
        pages = len(laid_out.document.pages)
    else:
        from .join import join_parts

        parts = in_parts(rendered, diags, runs)
        starts = [start for part in parts for start in part.starts]
        pages = join_parts([part.pdf for part in parts if part.pdf is not None], target, CROSS_PART)
    if "pending_page_map" not in shared:
        remember(rendered, starts, shared)
    return pages


__all__ = ["write_pdf", "font_faces"]
