"""PDF edition: the brief's print document, assembled and laid out whole by WeasyPrint (``typeset``), as a
tagged PDF (PDF/UA-1) with the design's fonts embedded once each."""

from __future__ import annotations

from pathlib import Path

from ..assemble import Assembler, FontFace, stylesheet_path
from ..errors import Diagnostics
from ..render import Rendered
from ..resources import FONT_PACKAGES, font_dir
from . import pages
from .base import EditionInput, EditionResult
from .pages import PageMap
from .typeset import PrintJob, Typesetter

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


def font_faces() -> list[FontFace]:
    """The ``@font-face`` rules of the design, pointing at the installed font files."""
    return [FontFace(family, (font_dir(package) / name).as_uri(), weight, style)
            for family, package, name, weight, style in FONTS]


def print_job(rendered: Rendered) -> PrintJob:
    """The brief's print edition, ready to lay out."""
    meta = rendered.brief.metadata
    return PrintJob(rendered.brief.root, dict(rendered.assets), Assembler(rendered).pdf(font_faces()),
                    tuple(stylesheet_path(rendered, name) for name in STYLESHEETS), meta.lang,
                    meta.identifier, meta.last_modified)


def write(inp: EditionInput) -> EditionResult:
    """Write the brief as a tagged PDF; the result carries where each printed page begins."""
    job = print_job(inp.rendered)
    typeset = inp.typesetter.typeset(job, inp.target, inp.diags)
    return EditionResult("pdf", typeset.pages, PageMap(pages.layout_key(job), typeset.starts))


def page_map(rendered: Rendered, typesetter: Typesetter, out_dir: Path, diags: Diagnostics) -> tuple[PageMap, bool]:
    """The PDF edition's page map without writing it: kept from an earlier build into ``out_dir`` if the
    layout would be the same, else laid out now. Also says whether it was laid out (and so is to be kept)."""
    job = print_job(rendered)
    key = pages.layout_key(job)
    kept = pages.load(pages.cache_file(out_dir, rendered.brief.metadata.slug), key,
                      {part.id for part in rendered.sections})
    if kept is not None:
        return kept, False
    return PageMap(key, typesetter.typeset(job, None, diags).starts), True
