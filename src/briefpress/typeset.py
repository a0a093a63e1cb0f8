"""Typesetting: WeasyPrint lays an assembled document out in pages and draws them as a PDF.

A ``PrintJob`` is everything it needs, made by ``pdf.py`` from the rendered brief: the HTML, the
stylesheets and the files the document may read. This module imports neither Jinja nor markdown-it, so
that the printer process (``printer.py``) can import WeasyPrint while the build renders the brief.
WeasyPrint is imported here only, so that builds without a PDF do not pay for its import.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import io
import logging
import os
import re
import sys
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from .errors import Diagnostics
from .resources import ResourcePolicy

if TYPE_CHECKING:
    from .pages import PageStart

# Log lines about the machine's libraries rather than the brief: not the author's problem.
ENVIRONMENT_NOTICES = ("HarfBuzz-Subset",)


@dataclass(frozen=True)
class PrintJob:
    """A document to lay out: the whole brief, or one part of a long one."""

    root: Path  # the brief folder: the document's base, and where its files may come from
    assets: Mapping[str, bytes]  # files made during the build (charts), by path relative to the root
    source: str  # the HTML
    stylesheets: tuple[Path, ...]
    lang: str
    identifier: str  # the brief's identifier, from which the PDF's is made
    modified: dt.date  # stamped into the embedded fonts
    start: int = 1  # the number the document's stylesheet gives its first page
    # The links carry their target's printed page in ``data-page`` (the contents of a brief laid out in
    # parts, whose targets are in other documents): the stylesheets' ``target-counter(attr(href), page)``
    # reads it instead.
    link_pages: bool = False


@dataclass
class Layout:
    """A print job laid out in pages by WeasyPrint."""

    job: PrintJob
    document: Any
    root: Any  # the laid-out HTML tree, whose elements the page boxes point to
    first_page: int  # the printed number of its first page
    fonts: Any  # WeasyPrint's FontConfiguration: the fonts' copies in a temporary folder

    def release(self) -> None:
        """Delete the temporary copies of the fonts, once the layout is drawn or no longer needed.

        WeasyPrint copies each ``@font-face`` font into a new temporary folder per document (1.8 MB for the
        design's fonts), and deletes it only when its font configuration is garbage-collected: never, in a
        build's processes, which run without the cycle collector or end with ``os._exit``.
        """
        self.fonts.__del__()  # FontConfiguration's own clean-up: removes the folder, if any


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

    from .cdefs import install

    install()  # cffi's parses of C declarations served from the package's __pycache__

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
def _captured(root: Path, diags: Diagnostics, refused: list[tuple[str, str]] | None = None) -> Iterator[None]:
    """Turn what WeasyPrint logs meanwhile, and the resources it was refused, into diagnostics."""
    capture = _LogCapture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(capture)
    try:
        yield
    finally:
        logger.removeHandler(capture)
    refused = refused or []
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


def typeset(job: PrintJob, diags: Diagnostics, first_page_of: Callable[[int], int] | None = None) -> Layout:
    """Lay ``job`` out in pages, reading only allowed files; report refusals and WeasyPrint's errors.

    With ``first_page_of``, the document's first page number is not known yet: it is paginated, then
    ``first_page_of(page count)`` gives the number, and the pages are numbered from it.
    """
    weasyprint = import_weasyprint()
    import weasyprint.layout
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    from .hyphenation import preload

    preload(job.lang)
    policy = ResourcePolicy(job.root, job.assets)

    class BriefFetcher(URLFetcher):
        """Serves the brief's own files and the package's styles and fonts; nothing else."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            data, mime = policy.read_url(url)
            return URLFetcherResponse(url, data, {"Content-Type": mime})

    fetcher = BriefFetcher()
    fonts = FontConfiguration()
    try:
        with _captured(job.root, diags, policy.refused):
            sheets = [_stylesheet(weasyprint, path, fetcher, fonts, policy, job.link_pages) for path in job.stylesheets]
            html = weasyprint.HTML(string=job.source, base_url=job.root.as_uri() + "/", url_fetcher=fetcher)
            with _numbered_later(weasyprint.layout, first_page_of, job.start) as shift:
                document = html.render(stylesheets=sheets, font_config=fonts)
    except BaseException:
        fonts.__del__()
        raise
    return Layout(job, document, html.etree_element, job.start + sum(shift), fonts)


def _stylesheet(weasyprint: Any, path: Path, fetcher: Any, fonts: Any, policy: ResourcePolicy,
                link_pages: bool) -> Any:
    if not link_pages:
        return weasyprint.CSS(url=path.as_uri(), url_fetcher=fetcher, font_config=fonts)
    text = _LINK_PAGE.sub("attr(data-page)", policy.read_url(path.as_uri())[0].decode("utf-8"))
    return weasyprint.CSS(string=text, base_url=path.as_uri(), url_fetcher=fetcher, font_config=fonts)


_LINK_PAGE = re.compile(r"target-counter\(\s*attr\(\s*href\s*\)\s*,\s*page\s*(?:,[^)]*)?\)")


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


def draw(laid_out: Layout, target: Path | io.BytesIO, diags: Diagnostics) -> None:
    """Write a layout as a tagged PDF (PDF/UA-1), the same bytes for the same job."""
    job = laid_out.job
    identifier = hashlib.sha256(job.identifier.encode("utf-8")).hexdigest()[:32]
    with _captured(job.root, diags), _fixed_font_timestamps(job.modified):
        laid_out.document.write_pdf(target, pdf_identifier=identifier.encode("ascii"), pdf_variant="pdf/ua-1")


def typeset_whole(job: PrintJob, target: Path | io.BytesIO | None,
                  diags: Diagnostics) -> tuple[int, list[PageStart]]:
    """Typeset a whole document into ``target`` (or only lay it out); return its page count and where each
    page starts."""
    from .pages import starts_of

    laid_out = typeset(job, diags)
    try:
        if target is not None:
            draw(laid_out, target, diags)
        return len(laid_out.document.pages), starts_of(laid_out)
    finally:
        laid_out.release()


@contextmanager
def _fixed_font_timestamps(date: dt.date) -> Iterator[None]:
    """Make fontTools stamp subset fonts with the brief's date instead of the clock.

    fontTools reads ``SOURCE_DATE_EPOCH``; without it every build's embedded fonts differ.
    """
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(calendar.timegm(date.timetuple()))
    try:
        yield
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
