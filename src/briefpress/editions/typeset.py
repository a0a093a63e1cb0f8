"""Typesetting: WeasyPrint lays a print job out in pages and draws them as a tagged PDF.

A ``PrintJob`` is everything a layout needs, made by ``pdf.py`` from the rendered brief: the HTML, the
stylesheets and the files the document may read. A ``Typesetter`` turns a job into a PDF (or only into its
page breaks, for the EPUB's page list). ``InProcess`` is the plain one, in the build's own process; the
command line may hand the build another of the same shape (``briefpress.speedups``), which must give the
same bytes. This module imports neither Jinja nor markdown-it, and WeasyPrint only when a job is laid out,
so that builds without a PDF do not pay for its import.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import io
import logging
import os
import sys
import tempfile
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol

from ..errors import Diagnostics
from ..model import PageStart
from ..resources import ResourcePolicy

# Log lines about the machine's libraries rather than the brief: not the author's problem.
ENVIRONMENT_NOTICES = ("HarfBuzz-Subset",)
#: Elements that count as blocks, in document order, as ``render.markdown`` numbers them for the EPUB.
BLOCK_TAGS = frozenset({"p", "li", "tr", "h2", "h3", "h4", "h5", "h6", "figure", "blockquote", "pre"})


@dataclass(frozen=True)
class PrintJob:
    """A document to lay out: the brief's print edition."""

    root: Path  # the brief folder: the document's base, and where its files may come from
    assets: Mapping[str, bytes]  # files made during the build (charts), by path relative to the root
    source: str  # the HTML
    stylesheets: tuple[Path, ...]
    lang: str
    identifier: str  # the brief's identifier, from which the PDF's is made
    modified: dt.date  # stamped into the embedded fonts


@dataclass(frozen=True)
class Typeset:
    """What a build keeps of a layout: its page count and where each page begins."""

    pages: int
    starts: tuple[PageStart, ...]


class Typesetter(Protocol):
    """Lays out print jobs. Every typesetter gives the same bytes for the same job."""

    def typeset(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
        """Lay ``job`` out and draw it into ``target`` (or, with ``None``, only lay it out)."""
        ...


class InProcess:
    """The plain typesetter: WeasyPrint in the build's own process."""

    def typeset(self, job: PrintJob, target: Path | None, diags: Diagnostics) -> Typeset:
        """Lay ``job`` out here, and draw it into ``target`` if given."""
        return typeset(job, target, diags)


def import_weasyprint() -> Any:
    """Import WeasyPrint, keeping what it prints about missing libraries off the build's output."""
    if "weasyprint" not in sys.modules:
        with redirect_stdout(io.StringIO()):
            import weasyprint  # noqa: F401
    return sys.modules["weasyprint"]


def typeset(job: PrintJob, target: Path | io.BytesIO | None, diags: Diagnostics) -> Typeset:
    """Lay ``job`` out, reading only allowed files, and draw it into ``target`` if given; report refused
    files and what WeasyPrint logs as diagnostics."""
    weasyprint = import_weasyprint()
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    policy = ResourcePolicy(job.root, job.assets)

    class BriefFetcher(URLFetcher):
        """Serves the brief's own files and the package's styles and fonts; nothing else."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            data, mime = policy.read_url(url)
            return URLFetcherResponse(url, data, {"Content-Type": mime})

    fetcher = BriefFetcher()
    with _private_temporary_folder():  # where WeasyPrint copies the fonts, removed with it
        fonts = FontConfiguration()
        with _captured(job.root, diags, policy.refused):
            sheets = [weasyprint.CSS(url=path.as_uri(), url_fetcher=fetcher, font_config=fonts)
                      for path in job.stylesheets]
            html = weasyprint.HTML(string=job.source, base_url=job.root.as_uri() + "/", url_fetcher=fetcher)
            document = html.render(stylesheets=sheets, font_config=fonts)
        starts = _starts(html, document)
        if starts is None:  # WeasyPrint's internals have changed: ask its public anchors instead
            starts = _starts_from_anchors(weasyprint, job, sheets, fonts, fetcher, diags)
        if target is not None:
            identifier = hashlib.sha256(job.identifier.encode("utf-8")).hexdigest()[:32]
            with _captured(job.root, diags), _fixed_font_timestamps(job.modified):
                document.write_pdf(target, pdf_identifier=identifier.encode("ascii"), pdf_variant="pdf/ua-1")
        return Typeset(len(document.pages), starts)


@contextmanager
def _private_temporary_folder() -> Iterator[None]:
    """Point ``tempfile``'s default folder at a new private one for the duration, then remove it.

    WeasyPrint copies each ``@font-face`` font into a temporary folder per document (1.8 MB for the design's
    fonts) and removes it only when its font configuration is garbage-collected. ``tempfile.tempdir`` is the
    documented way to choose where ``mkdtemp`` creates folders, so nothing is left behind.
    """
    saved = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix="briefpress-") as folder:
        tempfile.tempdir = folder
        try:
            yield
        finally:
            tempfile.tempdir = saved


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


def _starts(html: Any, document: Any) -> tuple[PageStart, ...] | None:
    """Where each page begins, read from WeasyPrint's page boxes; ``None`` if its internals have changed.

    WeasyPrint documents a page's anchors, links and bookmarks, but not its boxes: ``HTML.etree_element``,
    ``Page._page_box`` and a box's ``descendants()`` and ``element`` are its own names. They are read here
    only, guarded: any of them missing or different sends the build to ``_starts_from_anchors``, which gives
    the same result from the public ``Page.anchors`` at the cost of a second layout (tested).
    """
    try:
        numbers = {element: place for element, place in _blocks(html.etree_element)}
        starts = []
        seen: set[Any] = set()
        for index, page in enumerate(document.pages):
            first = None
            for box in page._page_box.descendants():
                element = getattr(box, "element", None)
                if element in numbers and element not in seen:
                    seen.add(element)
                    first = first or numbers[element]
            if first is not None:
                starts.append(PageStart(index + 1, *first))
    except (AttributeError, TypeError):
        return None
    if len(seen) != len(numbers):  # some block was found on no page: the boxes no longer say what they did
        return None
    return tuple(starts)


def _blocks(root: Any) -> Iterator[tuple[Any, tuple[str, int]]]:
    """Each section's title (block 0) and blocks (from 1), in document order, with their place."""
    for section in root.iter():
        if _tag(section) != "section" or "section" not in (section.get("class") or "").split():
            continue
        count = 0
        for element in section.iter():
            tag = _tag(element)
            if tag == "h1":
                yield element, (section.get("id"), 0)
            elif tag in BLOCK_TAGS:
                count += 1
                yield element, (section.get("id"), count)


def _starts_from_anchors(weasyprint: Any, job: PrintJob, sheets: list[Any], fonts: Any, fetcher: Any,
                         diags: Diagnostics) -> tuple[PageStart, ...]:
    """Where each page begins, through WeasyPrint's public API only: the job laid out again with an id on
    every block, and each page's ``anchors`` read. Ids change no page break."""
    import lxml.html

    tree = lxml.html.document_fromstring(job.source)
    places: dict[str, tuple[str, int]] = {}
    for element, (section, block) in _blocks(tree):
        places[element.get("id") or f"briefpress-block-{section}-{block}"] = (section, block)
        element.set("id", element.get("id") or f"briefpress-block-{section}-{block}")
    source = lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="unicode")
    html = weasyprint.HTML(string=source, base_url=job.root.as_uri() + "/", url_fetcher=fetcher)
    with _captured(job.root, Diagnostics()):  # the first layout reported everything already
        document = html.render(stylesheets=sheets, font_config=fonts)
    names = list(places)
    order = {name: index for index, name in enumerate(names)}
    seen: set[str] = set()
    starts = []
    for index, page in enumerate(document.pages):
        new = [name for name in page.anchors if name in order and name not in seen]
        seen.update(new)
        if new:
            starts.append(PageStart(index + 1, *places[min(new, key=order.__getitem__)]))
    return tuple(starts)


def _tag(element: Any) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
