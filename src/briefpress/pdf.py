"""PDF writer: lay the assembled document out with WeasyPrint, reading only allowed files.

WeasyPrint is imported here only, so that builds without a PDF do not pay for its import.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import logging
import os
import sys
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .assemble import Assembler, stylesheet_path
from .errors import Diagnostics
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
    and ``ld`` for each miss: about 0.4 s in all. Every name list also holds the Linux soname
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
    """The brief laid out in pages by WeasyPrint, shared by the PDF writer and the EPUB's page list."""

    document: Any
    root: Any  # the laid-out HTML tree, whose elements the page boxes point to


def layout(rendered: Rendered, diags: Diagnostics) -> Layout:
    """Lay the brief out in pages, reading only allowed files; report refusals and WeasyPrint's errors."""
    weasyprint = import_weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

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
        html = weasyprint.HTML(string=Assembler(rendered).pdf(font_faces()),
                               base_url=rendered.brief.root.as_uri() + "/", url_fetcher=fetcher)
        sheets = [weasyprint.CSS(url=stylesheet_path(rendered, name).as_uri(), url_fetcher=fetcher)
                  for name in STYLESHEETS]
        document = html.render(stylesheets=sheets)
    finally:
        logger.removeHandler(capture)
    _report(rendered, policy.refused, capture, diags)
    return Layout(document, html.etree_element)


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


def write_pdf(rendered: Rendered, target: Path, diags: Diagnostics, shared: dict | None = None) -> int:
    """Write the brief as a tagged PDF (PDF/UA-1) to ``target``; return the page count."""
    shared = {} if shared is None else shared
    laid_out = shared_layout(rendered, diags, shared)
    if "pending_page_map" not in shared:
        from .pages import remember
        remember(rendered, laid_out, shared)
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
    return len(laid_out.document.pages)


__all__ = ["write_pdf", "font_faces", "Refused"]
