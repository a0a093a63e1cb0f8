"""PDF writer: lay the assembled document out with WeasyPrint, reading only allowed files.

WeasyPrint is imported here only, so that builds without a PDF do not pay for its import.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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


def write_pdf(rendered: Rendered, target: Path, diags: Diagnostics) -> int:
    """Write the brief as a PDF to ``target``; return the page count."""
    import weasyprint
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
        html = Assembler(rendered).pdf(font_faces())
        base_url = rendered.brief.root.as_uri() + "/"
        sheets = [weasyprint.CSS(url=stylesheet_path(rendered, name).as_uri(), url_fetcher=fetcher)
                  for name in STYLESHEETS]
        document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(stylesheets=sheets)
        identifier = hashlib.sha256(rendered.brief.metadata.identifier.encode("utf-8")).hexdigest()[:32]
        with _fixed_font_timestamps(rendered):
            document.write_pdf(target, pdf_identifier=identifier.encode("ascii"), pdf_variant="pdf/ua-1")
    finally:
        logger.removeHandler(capture)
    root = rendered.brief.root
    for url, reason in policy.refused:
        diags.error(root, None, f"refused to load {reason}")
    for record in capture.records:
        message = record.getMessage().splitlines()[0]
        if any(noise in message for noise in ENVIRONMENT_NOTICES):
            continue
        if record.levelno >= logging.ERROR:
            if not policy.refused:
                diags.error(root, None, f"PDF: {message}")
        else:
            diags.warning(root, None, f"PDF: {message}")
    return len(document.pages)


__all__ = ["write_pdf", "font_faces", "Refused"]
