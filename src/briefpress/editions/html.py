"""HTML edition: one self-contained file, with CSS inlined and images as data URLs."""

from __future__ import annotations

from ..assemble import Assembler, checked_stylesheets, report_document
from ..policy import html_problems
from ..resources import ResourcePolicy
from .base import EditionInput, EditionResult

STYLESHEETS = ("common.css", "html.css")


def write(inp: EditionInput) -> EditionResult:
    """Write the HTML edition; the result counts its sections."""
    rendered = inp.rendered
    policy = ResourcePolicy(rendered.brief.root, rendered.assets)
    css = "\n".join(checked_stylesheets(rendered, STYLESHEETS, inp.diags))
    page = Assembler(rendered).html(css, policy.data_url)
    report_document(rendered, "HTML", html_problems(page), inp.diags)
    inp.target.write_text(page, encoding="utf-8")
    return EditionResult("html", len(rendered.sections))
