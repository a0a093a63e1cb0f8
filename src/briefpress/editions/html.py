"""HTML edition: one self-contained file, with CSS inlined, images as data URLs and the design's fonts as
WOFF2 subsets of the faces it uses (``webfonts``)."""

from __future__ import annotations

from ..assemble import Assembler, checked_stylesheets, report_document
from ..policy import html_problems
from ..resources import ResourcePolicy
from .base import EditionInput, EditionResult
from .webfonts import font_faces_css

STYLESHEETS = ("common.css", "html.css")


def write(inp: EditionInput) -> EditionResult:
    """Write the HTML edition; the result counts its sections."""
    rendered = inp.rendered
    policy = ResourcePolicy(rendered.brief.root, rendered.assets)
    css = "\n".join(checked_stylesheets(rendered, STYLESHEETS, inp.diags))
    assembler = Assembler(rendered)
    page = assembler.html(css, policy.data_url)
    # The page drawn, its fonts are subset to the text it sets in each face and put before its styles, where
    # the template placed them (as rendering it again with the fonts first would, at twice the cost).
    fonts = font_faces_css(page, inp.cache)
    at = page.find(css) if css else -1
    if fonts and at >= 0:
        page = f"{page[:at]}{fonts}\n{page[at:]}"
    report_document(rendered, "HTML", html_problems(page), inp.diags)
    inp.target.write_text(page, encoding="utf-8")
    return EditionResult("html", len(rendered.sections))
