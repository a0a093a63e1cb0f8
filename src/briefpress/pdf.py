"""PDF writer: assemble the brief's print edition and have it typeset (``typeset.py``), whole or in parts.

A brief of more than a few pages is laid out in parts, side by side where there are processors to spare
(``parts.py``, ``workers.py``), and the parts are joined (``join.py``).
"""

from __future__ import annotations

import gc
import html as html_lib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

from .assemble import Assembler, stylesheet_path
from .errors import Diagnostics
from .pages import PageStart, remember, starts_of
from .parts import CROSS_PART, Drawn, lay_out_parts
from .render import Rendered
from .resources import FONT_PACKAGES, font_dir
from .typeset import Layout, PrintJob, draw, typeset

if TYPE_CHECKING:
    from .printer import Printer

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


#: A brief whose sections hold more than ``WHOLE_CHARS`` characters of source (some 8 pages) is laid out in
#: parts, at least two and none much over ``PART_CHARS`` (some 30 pages), side by side where there are
#: processors to spare, and the parts' PDFs are joined. On two processors the brief's 13 pages take about
#: an eighth less time in two parts than whole (on one, about 15% more); and WeasyPrint keeps every page of a document in memory
#: until it is written, about 1.3 MB a page, so parts keep a long brief's peak down. The split
#: depends on the brief alone, never on the machine, so that every machine makes the same PDF.
WHOLE_CHARS = 16_000
PART_CHARS = 60_000


@dataclass(frozen=True)
class Part:
    """One part of a brief laid out in parts: the cover and contents (``front``), or a run of sections."""

    section_ids: frozenset[str]
    front: bool
    first_page: int
    notes_before: int
    title_css: Markup


def plan(rendered: Rendered) -> list[list[str]] | None:
    """Split a brief's sections into runs of about equal length for separate layout; ``None`` for a brief
    laid out whole."""
    sizes = [(part.id, len(part.section.source)) for part in rendered.sections]
    total = sum(size for _, size in sizes)
    if total <= WHOLE_CHARS:
        return None
    count = max(2, -(-total // PART_CHARS))
    runs: list[list[str]] = [[] for _ in range(count)]
    before = 0
    for section_id, size in sizes:  # each section goes to the run its middle falls in
        runs[min(count - 1, (2 * before + size) * count // (2 * total))].append(section_id)
        before += size
    runs = [run for run in runs if run]
    return runs if len(runs) > 1 else None


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


def layout(rendered: Rendered, diags: Diagnostics) -> Layout:
    """Lay the whole brief out in pages, in this process (see ``print_job`` and ``typeset.typeset``)."""
    return typeset(print_job(rendered), diags)


def _cross_part_links(rendered: Rendered, source: str, part: Part, toc_pages: dict[str, int] | None) -> str:
    """Point links to other parts at ``CROSS_PART`` URIs; give the contents' links their page numbers."""
    def link(match: re.Match) -> str:
        target = html_lib.unescape(match.group(1))
        if rendered.id_owner.get(target) in part.section_ids:
            return match.group(0)
        page = f' data-page="{toc_pages.get(target, 0)}"' if toc_pages is not None else ""
        return f'href="{CROSS_PART}{match.group(1)}"{page}'

    return re.sub(r'href="#([^"]*)"', link, source)


def in_parts(rendered: Rendered, diags: Diagnostics, runs: list[list[str]], drawing: bool = True,
             printer: Printer | None = None) -> list[Drawn]:
    """Lay a brief out part by part, the front (cover and contents) first in the result: in the printer
    this build started, if any, else here (see ``parts.py``).

    Each run of sections is laid out starting from the page and note numbers the parts before it reached;
    each section begins a page, so the pages are those the whole brief laid out at once would have.
    """
    title = Markup(_css_string(rendered.brief.metadata.title))
    sections = {part.id: part for part in rendered.sections}
    front = print_job(rendered, Part(frozenset(), True, 1, 0, title), toc_pages={})
    jobs = [print_job(rendered, Part(frozenset(run), False, 1, sections[run[0]].note_offset, title)) for run in runs]
    if printer is not None:  # its memory is freed as it exits
        return printer.parts(front, jobs, drawing, diags, meanwhile=_import_join if drawing else None)
    drawn = lay_out_parts(front, jobs, drawing, diags)
    gc.collect()  # the front's page boxes hold reference cycles: free them before the parts are joined
    return drawn


def _import_join() -> None:
    from . import join  # noqa: F401 -- pikepdf's import (0.1 s), done while the printer lays the parts out


def _css_string(text: str) -> str:
    """``text`` as a CSS string, every character but letters, digits and spaces escaped."""
    return '"' + "".join(c if c.isalnum() and c.isascii() or c == " " else f"\\{ord(c):x} " for c in text) + '"'


def shared_layout(rendered: Rendered, diags: Diagnostics, shared: dict) -> Layout:
    """Lay out once per build, whichever writer asks first."""
    if "layout" not in shared:
        shared["layout"] = layout(rendered, diags)
        shared["pdf_source"] = shared["layout"].job.source  # for the page map's key
    return shared["layout"]


def _printer(shared: dict) -> Printer | None:
    """The printer this build started (``printer.py``), taken for this layout; ``None`` where there is none,
    or where a layout this build already made is reused (it is stopped)."""
    printer = shared.pop("printer", None)
    if printer is not None and "layout" in shared:
        printer.close()
        return None
    return printer


def _whole_by(printer: Printer, rendered: Rendered, diags: Diagnostics, shared: dict,
              target: Path | None) -> tuple[int, list[PageStart]]:
    """Typeset the whole brief in the printer, into ``target`` or for its page starts only."""
    job = print_job(rendered)
    shared["pdf_source"] = job.source  # for the page map's key
    return printer.print(job, target, diags)


def paginate(rendered: Rendered, diags: Diagnostics, shared: dict) -> list[PageStart]:
    """Where each printed page begins, from a layout made for the purpose (or already made in this build)."""
    runs = plan(rendered)
    # A build with a PDF keeps the printer for it, and the layout made here serves the PDF too.
    printer = _printer(shared) if "pdf" not in shared.get("formats", ()) else None
    if runs is not None:
        return [start for part in in_parts(rendered, diags, runs, False, printer) for start in part.starts]
    if printer is not None:
        return _whole_by(printer, rendered, diags, shared, None)[1]
    return starts_of(shared_layout(rendered, diags, shared))


def write_pdf(rendered: Rendered, target: Path, diags: Diagnostics, shared: dict | None = None) -> int:
    """Write the brief as a tagged PDF (PDF/UA-1) to ``target``; return the page count.

    A brief of more than a few pages is written part by part (see ``plan``), and the parts are joined.
    """
    shared = {} if shared is None else shared
    runs = plan(rendered)
    printer = _printer(shared)
    if runs is not None:
        from .join import join_parts

        parts = in_parts(rendered, diags, runs, True, printer)
        starts = [start for part in parts for start in part.starts]
        pages = join_parts([part.pdf for part in parts if part.pdf is not None], target, CROSS_PART)
    elif printer is not None:
        pages, starts = _whole_by(printer, rendered, diags, shared, target)
    else:
        laid_out = shared_layout(rendered, diags, shared)
        starts = starts_of(laid_out)
        draw(laid_out, target, diags)
        pages = len(laid_out.document.pages)
    if "pending_page_map" not in shared:
        remember(rendered, starts, shared)
    return pages


__all__ = ["write_pdf", "font_faces"]
