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
from typing import TYPE_CHECKING, Callable

from markupsafe import Markup

from .assemble import Assembler, stylesheet_path
from .errors import Diagnostics
from .pages import PageStart, page_map_key, remember
from .parts import CROSS_PART, Drawn, lay_out_parts
from .render import Rendered
from .resources import FONT_PACKAGES, font_dir
from .typeset import PrintJob, typeset_whole

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
#: an eighth less time in two parts than whole (on one, about 15% more); and WeasyPrint keeps every page
#: of a document in memory until it is written, about 1.3 MB a page, so parts keep a long brief's peak
#: down. The split depends on the brief alone, never on the machine, so that every machine makes the
#: same PDF.
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


def print_job(rendered: Rendered, part: Part | None = None) -> PrintJob:
    """The brief's print edition, or one part of it, ready to typeset."""
    source = Assembler(rendered).pdf(font_faces(), part)
    if part is not None:
        source = _cross_part_links(rendered, source, part)
    meta = rendered.brief.metadata
    return PrintJob(rendered.brief.root, dict(rendered.assets), source,
                    tuple(stylesheet_path(rendered, name) for name in STYLESHEETS), meta.lang,
                    meta.identifier, meta.last_modified, 1 if part is None else part.first_page,
                    link_pages=part is not None and part.front)  # the contents' numbers are known


def _cross_part_links(rendered: Rendered, source: str, part: Part) -> str:
    """Point links to other parts at ``CROSS_PART`` URIs. The front's links get a ``data-page`` of 0, which
    ``parts.with_pages`` fills in once the parts are paginated."""
    def link(match: re.Match) -> str:
        target = html_lib.unescape(match.group(1))
        if rendered.id_owner.get(target) in part.section_ids:
            return match.group(0)
        return f'href="{CROSS_PART}{match.group(1)}"' + (' data-page="0"' if part.front else "")

    return re.sub(r'href="#([^"]*)"', link, source)


def in_parts(rendered: Rendered, diags: Diagnostics, runs: list[list[str]], drawing: bool = True,
             printer: Printer | None = None, meanwhile: Callable[[], None] | None = None) -> list[Drawn]:
    """Lay a brief out part by part, the front (cover and contents) first in the result: in the printer
    this build started, if any, while this process runs ``meanwhile``; else here (see ``parts.py``).

    Each run of sections is laid out starting from the page and note numbers the parts before it reached;
    each section begins a page, so the pages are those the whole brief laid out at once would have.
    """
    title = Markup(_css_string(rendered.brief.metadata.title))
    sections = {part.id: part for part in rendered.sections}
    front = print_job(rendered, Part(frozenset(), True, 1, 0, title))
    jobs = [print_job(rendered, Part(frozenset(run), False, 1, sections[run[0]].note_offset, title)) for run in runs]
    if printer is not None:  # its memory is freed as it exits
        return printer.parts(front, jobs, drawing, diags, meanwhile)
    drawn = lay_out_parts(front, jobs, drawing, diags)
    gc.collect()  # the front's page boxes hold reference cycles: free them before the parts are joined
    return drawn


def _css_string(text: str) -> str:
    """``text`` as a CSS string, every character but letters, digits and spaces escaped."""
    return '"' + "".join(c if c.isalnum() and c.isascii() or c == " " else f"\\{ord(c):x} " for c in text) + '"'


def _whole(rendered: Rendered, diags: Diagnostics, shared: dict,
           target: Path | None) -> tuple[int, list[PageStart]]:
    """Typeset the whole brief, in the printer this build started if any, else here, into ``target`` or
    for its page starts only; return the page count and the starts."""
    job = print_job(rendered)
    shared["pdf_source"] = job.source  # for the page map's key
    printer: Printer | None = shared.pop("printer", None)
    return printer.print(job, target, diags) if printer is not None else typeset_whole(job, target, diags)


def paginate(rendered: Rendered, diags: Diagnostics, shared: dict) -> list[PageStart]:
    """Where each printed page begins, from a layout made for the purpose (in the printer, if there is one)."""
    runs = plan(rendered)
    if runs is None:
        return _whole(rendered, diags, shared, None)[1]
    parts = in_parts(rendered, diags, runs, False, shared.pop("printer", None))
    return [start for part in parts for start in part.starts]


def write_pdf(rendered: Rendered, target: Path, diags: Diagnostics, shared: dict | None = None) -> int:
    """Write the brief as a tagged PDF (PDF/UA-1) to ``target``; return the page count.

    A brief of more than a few pages is written part by part (see ``plan``), and the parts are joined.
    """
    shared = {} if shared is None else shared
    runs = plan(rendered)
    if runs is None:
        pages, starts = _whole(rendered, diags, shared, target)
    else:
        def meanwhile() -> None:  # while the printer lays the parts out
            from . import join  # noqa: F401 -- pikepdf's import, 0.1 s
            page_map_key(rendered, shared)  # 20 ms (0.1 s at 287 pages)

        parts = in_parts(rendered, diags, runs, True, shared.pop("printer", None), meanwhile)
        from .join import join_parts

        starts = [start for part in parts for start in part.starts]
        pages = join_parts([part.pdf for part in parts if part.pdf is not None], target, CROSS_PART)
    remember(rendered, starts, shared)
    return pages


__all__ = ["write_pdf", "font_faces"]
