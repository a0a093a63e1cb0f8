"""PDF writer: lay the assembled document out with WeasyPrint, reading only allowed files.

WeasyPrint is imported here only, so that builds without a PDF do not pay for its import.
"""

from __future__ import annotations

import calendar
import hashlib
import html as html_lib
import io
import logging
import os
import re
import sys
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from markupsafe import Markup

from .assemble import Assembler, stylesheet_path
from .errors import Diagnostics
from .pages import PageStart, remember, starts_of
from .render import Rendered
from .resources import FONT_PACKAGES, Refused, ResourcePolicy, font_dir

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
# Log lines about the machine's libraries rather than the brief: not the author's problem.
ENVIRONMENT_NOTICES = ("HarfBuzz-Subset",)


def font_faces() -> list[dict[str, str]]:
    """Return the ``@font-face`` rules of the design, pointing at the installed font files."""
    return [{"family": family, "url": (font_dir(package) / name).as_uri(), "weight": weight, "style": style}
            for family, package, name, weight, style in FONTS]


def import_weasyprint() -> Any:
    """Import WeasyPrint without the library search that costs a third of its import time.

    WeasyPrint tries several names for each C library (Windows and macOS ones first). cffi sends every name
    that does not load directly to ``ctypes.util.find_library``, which on Linux runs ``ldconfig``, ``gcc``
    and ``ld`` for each miss: about 0.35 s in all. Every name list also holds the Linux soname
    (``libpango-1.0.so.0``), which loads directly, so the search is switched off for the import. Should
    that fail on some system, the import is retried the ordinary way.
    """
    if "weasyprint" in sys.modules:
        return sys.modules["weasyprint"]
    import ctypes.util

    search = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        with redirect_stdout(io.StringIO()):  # WeasyPrint prints advice when a library is missing
            import weasyprint
        return weasyprint
    except OSError:
        for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
            del sys.modules[name]
    finally:
        ctypes.util.find_library = search
    import weasyprint
    return weasyprint


class _LogCapture(logging.Handler):
    """Keeps WeasyPrint's log records, which it otherwise drops, so they become diagnostics."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _fixed_font_timestamps(rendered: Rendered) -> Iterator[None]:
    """Make fontTools stamp subset fonts with the brief's date instead of the clock.

    fontTools reads ``SOURCE_DATE_EPOCH``; without it every build's embedded fonts differ.
    """
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    date = rendered.brief.metadata.last_modified
    os.environ["SOURCE_DATE_EPOCH"] = str(calendar.timegm(date.timetuple()))
    try:
        yield
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


@dataclass
class Layout:
    """The brief, or one part of it, laid out in pages by WeasyPrint."""

    document: Any
    root: Any  # the laid-out HTML tree, whose elements the page boxes point to
    first_page: int  # the printed number of its first page
    source: str  # the HTML it was laid out from


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


def layout(rendered: Rendered, diags: Diagnostics, part: Part | None = None,
           toc_pages: dict[str, int] | None = None, first_page_of: Callable[[int], int] | None = None) -> Layout:
    """Lay the brief (or one part of it) out in pages, reading only allowed files; report refusals and
    WeasyPrint's errors. ``toc_pages`` gives the contents of a separately laid-out front its page numbers.

    With ``first_page_of``, the part's first page number is not known yet: the part is paginated, then
    ``first_page_of(page count)`` gives the number, and the pages are numbered from it.
    """
    weasyprint = import_weasyprint()
    import weasyprint.layout
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    from .hyphenation import preload

    preload(rendered.brief.metadata.lang)
    policy = ResourcePolicy(rendered)

    class BriefFetcher(URLFetcher):
        """Serves the brief's own files and the package's styles and fonts; nothing else."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            data, mime = policy.read_url(url)
            return URLFetcherResponse(url, data, {"Content-Type": mime})

    fetcher = BriefFetcher()
    capture = _LogCapture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(capture)
    try:
        source = Assembler(rendered).pdf(font_faces(), part)
        sheets = [weasyprint.CSS(url=stylesheet_path(rendered, name).as_uri(), url_fetcher=fetcher)
                  for name in STYLESHEETS]
        if part is not None:
            source = _cross_part_links(rendered, source, part, toc_pages)
            if part.front:  # the contents' page numbers are known, not found by target-counter()
                sheets.append(weasyprint.CSS(string=".toc a::after { content: attr(data-page); }"))
        html = weasyprint.HTML(string=source, base_url=rendered.brief.root.as_uri() + "/", url_fetcher=fetcher)
        start = 1 if part is None else part.first_page
        with _numbered_later(weasyprint.layout, first_page_of, start) as shift:
            document = html.render(stylesheets=sheets)
    finally:
        logger.removeHandler(capture)
    _report(rendered, policy.refused, capture, diags)
    return Layout(document, html.etree_element, start + sum(shift), source)


@contextmanager
def _numbered_later(layout_module: Any, first_page_of: Callable[[int], int] | None,
                    start: int) -> Iterator[list[int]]:
    """Number the pages of a layout from the first page ``first_page_of(page count)`` gives, instead of
    ``start``, the number its stylesheet gives.

    WeasyPrint paginates the whole document before it lays out any page's margin boxes, and the page
    counter (which only the margins show) does not change where a page breaks. So the margin boxes are
    made with the page counter shifted, once the count is known. Yields the shift, filled in by then.
    """
    shift: list[int] = []
    if first_page_of is None:
        yield shift
        return
    original = layout_module.make_margin_boxes

    def make_margin_boxes(context: Any, page: Any, state: Any) -> Any:
        if not shift:
            # Pagination has finished: the page maker holds one entry per page, and one past the last.
            shift.append(first_page_of(len(context.page_maker) - 1) - start)
        quote_depth, counters, *rest = state
        counters = {**counters, "page": [value + shift[0] for value in counters.get("page", [])]}
        return original(context, page, (quote_depth, counters, *rest))

    layout_module.make_margin_boxes = make_margin_boxes
    try:
        yield shift
    finally:
        layout_module.make_margin_boxes = original


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


def _drawn(rendered: Rendered, laid_out: Layout, diags: Diagnostics, draw: bool) -> Drawn:
    anchors: dict[str, int] = {}
    for index, laid_page in enumerate(laid_out.document.pages):
        for anchor in laid_page.anchors:
            anchors.setdefault(anchor, laid_out.first_page + index)
    buffer = None
    if draw:
        buffer = io.BytesIO()
        _draw(rendered, laid_out, buffer, diags)
    return Drawn(None if buffer is None else buffer.getvalue(), starts_of(laid_out), anchors)


def in_parts(rendered: Rendered, diags: Diagnostics, runs: list[list[str]], draw: bool = True) -> list[Drawn]:
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
            rendered, layout(rendered, diags, part, first_page_of=first_page_of), diags, draw)

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
    return [_drawn(rendered, laid_out, diags, draw), *parts]


def _css_string(text: str) -> str:
    """``text`` as a CSS string, every character but letters, digits and spaces escaped."""
    return '"' + "".join(c if c.isalnum() and c.isascii() or c == " " else f"\\{ord(c):x} " for c in text) + '"'


def _report(rendered: Rendered, refused: list[tuple[str, str]], capture: _LogCapture, diags: Diagnostics) -> None:
    """Turn refused resources and WeasyPrint's log records into diagnostics."""
    root = rendered.brief.root
    for _url, reason in refused:
        diags.error(root, None, f"refused to load {reason}")
    for record in capture.records:
        message = record.getMessage().splitlines()[0]
        if any(noise in message for noise in ENVIRONMENT_NOTICES):
            continue
        if record.levelno >= logging.ERROR:
            if not refused:
                diags.error(root, None, f"PDF: {message}")
        else:
            diags.warning(root, None, f"PDF: {message}")


def shared_layout(rendered: Rendered, diags: Diagnostics, shared: dict) -> Layout:
    """Lay out once per build, whichever writer asks first."""
    if "layout" not in shared:
        shared["layout"] = layout(rendered, diags)
    return shared["layout"]


def paginate(rendered: Rendered, diags: Diagnostics, shared: dict) -> list[PageStart]:
    """Where each printed page begins, from a layout made for the purpose (or already made in this build)."""
    runs = plan(rendered)
    if runs is None:
        return starts_of(shared_layout(rendered, diags, shared))
    return [start for part in in_parts(rendered, diags, runs, draw=False) for start in part.starts]


def write_pdf(rendered: Rendered, target: Path, diags: Diagnostics, shared: dict | None = None) -> int:
    """Write the brief as a tagged PDF (PDF/UA-1) to ``target``; return the page count.

    A long brief is written part by part (see ``plan``), and the parts are joined into one PDF.
    """
    shared = {} if shared is None else shared
    runs = plan(rendered)
    if runs is None:
        laid_out = shared_layout(rendered, diags, shared)
        starts = starts_of(laid_out)
        _draw(rendered, laid_out, target, diags)
        pages = len(laid_out.document.pages)
    else:
        from .join import join_parts

        parts = in_parts(rendered, diags, runs)
        starts = [start for part in parts for start in part.starts]
        pages = join_parts([part.pdf for part in parts if part.pdf is not None], target, CROSS_PART)
    if "pending_page_map" not in shared:
        remember(rendered, starts, shared)
    return pages


def _draw(rendered: Rendered, laid_out: Layout, target: Path | io.BytesIO, diags: Diagnostics) -> None:
    identifier = hashlib.sha256(rendered.brief.metadata.identifier.encode("utf-8")).hexdigest()[:32]
    capture = _LogCapture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(capture)
    try:
        with _fixed_font_timestamps(rendered):
            laid_out.document.write_pdf(target, pdf_identifier=identifier.encode("ascii"), pdf_variant="pdf/ua-1")
    finally:
        logger.removeHandler(capture)
    _report(rendered, [], capture, diags)


__all__ = ["write_pdf", "font_faces", "Refused"]
