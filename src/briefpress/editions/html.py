"""HTML edition: one self-contained file, with CSS inlined and images as data URLs."""

from __future__ import annotations

from ..assemble import Assembler, stylesheet
from ..resources import ResourcePolicy
from .base import EditionInput, EditionResult

STYLESHEETS = ("common.css", "html.css")


def write(inp: EditionInput) -> EditionResult:
    """Write the HTML edition; the result counts its sections."""
    rendered = inp.rendered
    policy = ResourcePolicy(rendered.brief.root, rendered.assets)
    css = "\n".join(stylesheet(rendered, name) for name in STYLESHEETS)
    inp.target.write_text(Assembler(rendered).html(css, policy.data_url), encoding="utf-8")
    return EditionResult("html", len(rendered.sections))
